"""RCS Explorer: the router. Each page lives in app_pages/; the logic in rcs_viz/.

The folder is not called pages/: Streamlit would treat that as a legacy
multipage app until this router first runs, and a deep link opened on a
fresh server would run the page without it.
"""

import gc
import sys
from pathlib import Path

import streamlit as st

from rcs_viz.ui import pages


def _styler_without_matplotlib() -> None:
    """Import pandas' Styler, which draws every table, without matplotlib.

    The Styler imports matplotlib.pyplot when it is installed (it is, with the test packages), only for colour
    gradients the app never asks for: a quarter to half a second of a fresh server's first page run, under the
    interpreter lock the browser's first requests wait on. matplotlib stays importable by anything else.
    """
    if "pandas.io.formats.style" in sys.modules or "matplotlib" in sys.modules:
        return
    sys.modules["matplotlib"] = None  # `import matplotlib` raises ImportError: the Styler goes without it
    try:
        import pandas.io.formats.style  # noqa: F401
    finally:
        del sys.modules["matplotlib"]


# The process's first page run imports pandas, Altair, DuckDB and the rest (some 125,000 objects): the cycle collector
# walked them over and over as they came (three full collections and thirty of the middle generation, 0.3-0.6 s of
# a 1.5 s run, under the interpreter lock the browser's first requests wait on). It is held off until that run ends,
# and then collects as usual. (Freezing those objects out of later collections, `gc.freeze`, made every rerun
# slower by a third, for less than it saved in collections.)
first_run = pages.first_run()
if first_run:
    gc.disable()
try:
    _styler_without_matplotlib()

    from rcs_viz.engine.store_error import StoreError
    from rcs_viz.output.markdown import escape
    from rcs_viz.ui import access

    # A small SVG of our own rather than an emoji: an emoji page icon makes Streamlit import its table of every emoji
    # (40-55 ms of a fresh server's first run) to check it is one; an SVG file is read and sent as it is.
    ICON = Path(__file__).parent / "app_pages" / "icon.svg"
    st.set_page_config(page_title="RCS Explorer", page_icon=ICON, layout="wide")

    role = access.who()  # without sign-in configured: everyone, every page; else the signed-in user's role, or None
    page = pages.navigation(access.visible(role))
    if role is not None and access.admit(role, page.url_path):
        try:
            page.run()
        except StoreError as err:  # a presented view is judged against the server store: without it, nothing is shown
            st.error("This view is not shown: presented views are checked against what the server showed before, "
                     f"and the server store cannot be opened ({escape(str(err))}). Ask the data owner.",
                     icon=":material/visibility_off:")
finally:
    if first_run:
        gc.enable()
