"""Pick a user and see what they watched: the first look at a dataset."""

import polars as pl
import streamlit as st

from pagegen import data
from pagegen.app.state import PageState, parse_user_id
from pagegen.errors import PagegenError


@st.cache_resource(show_spinner="Loading dataset…", max_entries=4)
def load(name: str, data_dir: str, version: str) -> data.Dataset:
    """One load per dataset version: ``version`` (its fingerprint) changes when it is prepared again."""
    return data.load_dataset(name, data.resolve_data_dir(data_dir))


data_dir = str(data.resolve_data_dir())
state = PageState.from_query(st.query_params)
prepared = data.prepared_datasets(data.resolve_data_dir(data_dir))

with st.sidebar:
    choices = prepared or [data.DEFAULT_DATASET]
    dataset_name = st.selectbox(
        "Dataset", choices, index=choices.index(state.dataset) if state.dataset in choices else 0, key="dataset"
    )

try:
    dataset = load(dataset_name, data_dir, data.store.dataset_version(data.resolve_data_dir(data_dir), dataset_name))
except PagegenError as error:
    st.error(str(error))
    st.stop()

users = data.user_ids(dataset)
chosen = parse_user_id(state.user, users)
if state.user is not None and chosen is None:
    st.warning(f"Unknown user {state.user!r} in dataset {dataset_name!r}: pick one below.")

st.title("User history")
user_id = st.selectbox("User", users, index=users.index(chosen) if chosen is not None else 0, key="user")
st.query_params.from_dict(PageState(dataset=dataset_name, user=str(user_id)).to_query())

history = data.user_history(dataset, user_id)
profile = data.user_profile(dataset, user_id)
summary = f"{history.height} ratings, mean {history['rating'].mean():.2f}"
if profile:
    summary += f" · age {profile['age']}, {profile['gender']}, {profile['occupation']}"
st.caption(summary)
st.dataframe(
    history.with_columns(pl.col("genres").list.join(", ")),
    hide_index=True,
    width="stretch",
    column_config={
        "item_id": st.column_config.NumberColumn("Item", format="%d"),
        "title": st.column_config.TextColumn("Title", width="large"),
        "year": st.column_config.NumberColumn("Year", format="%d"),
        "genres": "Genres",
        "rating": st.column_config.NumberColumn("Rating", format="%.1f ★"),
        "watched_at": st.column_config.DatetimeColumn("Watched", format="YYYY-MM-DD HH:mm"),
    },
)
