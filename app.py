"""RCS Explorer: the router. Each page lives in app_pages/; the logic in rcs_viz/.

The folder is not called pages/: Streamlit would treat that as a legacy
multipage app until this router first runs, and a deep link opened on a
fresh server would run the page without it.
"""

import streamlit as st

from rcs_viz.ui import access, pages

st.set_page_config(page_title="RCS Explorer", page_icon=":bar_chart:", layout="wide")

role = access.who()  # without sign-in configured: everyone, every page; else the signed-in user's role, or None
page = pages.navigation(access.visible(role))
if role is not None and access.admit(role, page.url_path):
    page.run()
