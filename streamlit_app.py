"""pagegen dashboard: the router and frame. Pages live in pages/ and only call the pagegen package."""

import streamlit as st

from pagegen.llm.foreground import FOREGROUND

st.set_page_config(page_title="pagegen", page_icon=":material/movie:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("pages/insights.py", title="Insights", icon=":material/insights:"),
        st.Page("pages/designer.py", title="Layout designer", icon=":material/dashboard_customize:"),
        st.Page("pages/history.py", title="User history", icon=":material/history:"),
    ]
)
with FOREGROUND.running():  # the background titler waits while a page is drawn
    navigation.run()
