"""RCS Explorer: the router, and the server that runs it. Each page lives in app_pages/; the logic in rcs_viz/.

`streamlit run app.py` reads this file in two ways. It imports it as a module (named `app`) to find the server:
`app`, an `st.App` whose lifespan warms the process up while the first browser loads (`rcs_viz.ui.warm`). Every
page run then executes the same file as its script (named `__main__`), and there it is the router.

The folder is not called pages/: Streamlit would treat that as a legacy
multipage app until this router first runs, and a deep link opened on a
fresh server would run the page without it.
"""

import gc
from pathlib import Path

import streamlit as st

from rcs_viz.ui import pages, warm

# A small SVG of our own rather than an emoji: an emoji page icon makes Streamlit import its table of every emoji
# (40-55 ms of a fresh server's first run) to check it is one; an SVG file is read and sent as it is.
ICON = Path(__file__).parent / "app_pages" / "icon.svg"


def route() -> None:
    """The menu of the pages this user may see, and the page the link names if they may see it."""
    from rcs_viz.engine.store_error import StoreError
    from rcs_viz.output.markdown import escape
    from rcs_viz.ui import access

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


if __name__ == "__main__":  # a page run
    warm.wait()
    # A process's first page run without a warm-up (under AppTest) imports pandas, Altair, DuckDB and the rest (some
    # 125,000 objects), and even after one it makes thousands: the cycle collector walked them over and over as they
    # came (three full collections and thirty of the middle generation, 0.3-0.6 s of a 1.5 s run, under the
    # interpreter lock the browser's requests wait on). It is held off until that run ends, and then collects as
    # usual. (Freezing those objects out of later collections, `gc.freeze`, made every rerun slower by a third.)
    first_run = pages.first_run()
    if first_run:
        gc.disable()
    try:
        warm.styler_without_matplotlib()
        route()
    finally:
        if first_run:
            gc.enable()
else:  # imported by `streamlit run app.py`: the server
    app = st.App(__file__, lifespan=warm.lifespan)
