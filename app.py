"""RCS Explorer: the router. Each page lives in pages/; the logic in rcs_viz/."""

import streamlit as st

st.set_page_config(page_title="RCS Explorer", page_icon=":bar_chart:", layout="wide")

st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/dataset:", default=True),
]).run()
