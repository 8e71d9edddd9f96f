"""Everything the current user watched, with ratings and times: what their page is built from."""

import polars as pl
import streamlit as st

from pagegen import data
from pagegen.app.sidebar import sidebar

context = sidebar("history")
st.title("User history")
user_id = context.request.user_id
if user_id is None:
    st.info("A new user has no history yet: their page comes from the genres and films picked in the sidebar.")
    st.stop()
dataset = context.service.dataset
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
