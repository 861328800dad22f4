"""A fresh server readies what its first page run needs while the first browser is still loading Streamlit's script.

From `/_stcore/health` answering to a browser's first page run there is more than a second in which the browser
loads and starts Streamlit's JavaScript and the server has nothing to do. The first page run then spent 1.5-2 s
of its own importing pandas, Altair, DuckDB and SQLAlchemy (1,600 modules) and opening the data, which is most of
a cold start. `streamlit run app.py` serves app.py's `st.App`, whose lifespan (`lifespan`) starts a thread that
does that work as the server starts (`warm`), through the same imports and cached calls a page makes, so the
first page run finds them done. The router waits (`wait`) until the thread has done the pages' imports, so a page
never imports a module while the thread is half-way through importing it.

Nothing here shows or computes a figure: the data is opened, not queried for counts, so no view is released and
the protection across views records nothing.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import logging
import sys
import threading
import time
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = (ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")))
THREAD = "warm-up"

_log = get_logger(__name__)  # Streamlit's handler and level: the line shows in the server's log like its own
_thread: threading.Thread | None = None
_ready = threading.Event()  # set once the pages' imports are done, or the warm-up stopped
_asked = threading.Event()  # set as the first page run begins


def styler_without_matplotlib() -> None:
    """Import pandas' Styler, which draws every table, without matplotlib.

    The Styler imports matplotlib.pyplot when it is installed (it is, with the test packages), only for colour
    gradients the app never asks for: a quarter to half a second of a fresh server, for nothing. matplotlib stays
    importable by anything else.
    """
    if "pandas.io.formats.style" in sys.modules or "matplotlib" in sys.modules:
        return
    sys.modules["matplotlib"] = None  # `import matplotlib` raises ImportError: the Styler goes without it
    try:
        import pandas.io.formats.style  # noqa: F401
    finally:
        del sys.modules["matplotlib"]


def import_pages() -> None:
    """Run the import statements at the top of app.py and of every page, as the pages' first runs would.

    Read from the files rather than listed here, so a page's new import is warmed as soon as it is written.
    """
    for path in PAGE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(imports, type_ignores=[]), str(path), "exec"), {"__name__": THREAD})  # noqa: S102


def _streamlit_first_times() -> None:
    """What Streamlit does once per process on the way to a page's first elements."""
    import PIL.Image  # noqa: F401 - the page icon (app.py) is read through it, imported on first use

    # The first element a process draws makes Streamlit check, once, whether it runs in a REPL, by walking the
    # stack with `inspect.stack()`, which reads every frame's source: from a page run's deep stack with 1,600
    # modules loaded, 0.1-0.3 s of the first run. Drawn here, outside any page run, it goes nowhere.
    st.empty()


def _imports() -> None:
    """What a page run imports, and what Streamlit does once per process on the way to its first elements."""
    gc.disable()  # some 125,000 new objects: the cycle collector would walk them over and over as they came
    try:
        styler_without_matplotlib()
        import_pages()
        _streamlit_first_times()
    finally:
        gc.enable()


def _outside_page_runs(record: logging.LogRecord) -> bool:
    """Streamlit warns of 'missing ScriptRunContext' on every call this thread makes outside a page run, rightly."""
    return record.threadName != THREAD


def warm() -> None:
    """Do the pages' imports, let pages run (`wait`), then open the data and the server store; say so in the log.

    The data and the store are opened through the pages' own cached calls, so a page that asks for one while the
    warm-up is opening it waits for that call, under the call's spinner ("Opening the data…" while a new data
    file is read in, which can take minutes), rather than on a blank page. A page asks for the data first thing;
    most ask for the store (SQLAlchemy, 0.15-0.4 s of CPU) only after their table and chart, to list the saved
    views: once a page run has begun, the store is left to it, so as not to take CPU from its chart.
    """
    started = time.perf_counter()
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    quiet.addFilter(_outside_page_runs)
    try:
        _imports()
        imported = time.perf_counter() - started
        _ready.set()
        from rcs_viz.engine import service  # imported by the pages: found, not loaded
        from rcs_viz.ui import session

        service.schema(session.dataset())  # the first query opens the DuckDB connection (0.1-0.2 s)
        opened = time.perf_counter() - started
        if not _asked.is_set():
            session.store()
    except Exception:  # the page runs meet the same problem and show it to their users  # noqa: BLE001
        _log.exception("Warm-up stopped; the page runs do the rest")
        return
    finally:
        _ready.set()
        quiet.removeFilter(_outside_page_runs)
    store = "left to the first page run" if _asked.is_set() else f"in {time.perf_counter() - started:.2f} s"
    _log.info("Warmed up: the pages' imports done in %.2f s, the data open in %.2f s, the server store %s "
              "(%d modules)", imported, opened, store, len(sys.modules))


def start() -> None:
    """Start warming up in a thread of its own, once per process."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=warm, name=THREAD, daemon=True)
        _thread.start()


def wait() -> None:
    """Wait until the pages' imports are done (`warm`), if a warm-up was started (under AppTest none is)."""
    _asked.set()
    if _thread is not None:
        _ready.wait()


@contextlib.asynccontextmanager
async def lifespan(_app):
    """The server's lifespan (`st.App`): warm up as it starts, and hand freed memory back to the system
    (`memory.start`); nothing to undo as it stops."""
    from rcs_viz.ui import memory

    memory.start()
    start()
    yield
