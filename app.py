"""RCS Explorer: the router. Each page lives in app_pages/; the logic in rcs_viz/.

The folder is not called pages/: Streamlit would treat that as a legacy
multipage app until this router first runs, and a deep link opened on a
fresh server would run the page without it.
"""

import streamlit as st

from rcs_viz.ui import pages

st.set_page_config(page_title="RCS Explorer", page_icon=":bar_chart:", layout="wide")

pages.navigation().run()
