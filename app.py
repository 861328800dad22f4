"""RCS Explorer: the router. Each page lives in app_pages/; the logic in rcs_viz/.

The folder is not called pages/: Streamlit would treat that as a legacy
multipage app until this router first runs, and a deep link opened on a
fresh server would run the page without it.
"""

import streamlit as st

st.set_page_config(page_title="RCS Explorer", page_icon=":bar_chart:", layout="wide")

st.navigation([
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dataset:", default=True),
    st.Page("app_pages/explore.py", title="Explore", icon=":material/table_chart:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/leaderboard:"),
    st.Page("app_pages/need.py", title="Need and services", icon=":material/diversity_3:"),
    st.Page("app_pages/story.py", title="Saved views and story", icon=":material/slideshow:"),
]).run()
