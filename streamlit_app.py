"""pagegen dashboard: the router and frame. Pages live in pages/ and only call the pagegen package."""

import streamlit as st

st.set_page_config(page_title="pagegen", page_icon="🎬", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/history.py", title="User history", icon="🕘", default=True),
    ]
)
navigation.run()
