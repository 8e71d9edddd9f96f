"""pagegen dashboard: the router and frame. Pages live in pages/ and only call the pagegen package."""

import streamlit as st

st.set_page_config(page_title="pagegen", page_icon="🎬", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/compare.py", title="Compare", icon="⚖️"),
        st.Page("pages/insights.py", title="Insights", icon="📊"),
        st.Page("pages/designer.py", title="Layout designer", icon="📐"),
        st.Page("pages/history.py", title="User history", icon="🕘"),
    ]
)
navigation.run()
