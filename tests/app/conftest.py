"""Shared by the AppTest modules: the configured dataset, runners that open the app or one of its pages, and
`plain`, the text a reader sees in Markdown the app escaped.

A page is named by its file: "app.py" is the router, any other name a file in app_pages/.
A module names the page its `run` opens with PAGE, and sets TIMEOUT when its runs need
more than the default seconds.
"""

import re

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from rcs_viz import config
from rcs_viz.engine.load import load_dataset
from rcs_viz.output.markdown import JOINER

TIMEOUT = 60  # seconds a run may take, unless the module sets its own TIMEOUT


def pytest_generate_tests(metafunc):
    """A test taking `app_page` runs once for every page file in app_pages/ (by file name)."""
    if "app_page" in metafunc.fixturenames:
        # rootpath: the folder of pyproject.toml, i.e. the repo's root (the `root` fixture, at collection time)
        metafunc.parametrize("app_page", sorted(p.name for p in (metafunc.config.rootpath / "app_pages").glob("*.py")))


@pytest.fixture(autouse=True)
def server_store(tmp_path, monkeypatch):
    """Each test's server store is its own SQLite file (saved views and stories never reach the repo's .cache).

    A module that sets its own configuration (RCS_EXPLORER_CONFIG) replaces this one. Returns the file's path.
    """
    path = tmp_path / "store.sqlite"
    cfg = tmp_path / "rcs_explorer_store.yaml"
    cfg.write_text(f"store: sqlite:///{path}\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    return path


@pytest.fixture(scope="module")
def ds():
    """The dataset the pages show (the configured one), loaded as the app loads it."""
    cfg = config.load()
    return load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt())


@pytest.fixture
def app_test(request, root):
    """A new AppTest of a page, not yet run: app_test(page, timeout=None)."""
    default = getattr(request.module, "TIMEOUT", TIMEOUT)

    def make(page: str, timeout: int | None = None) -> AppTest:
        path = root / page if page == "app.py" else root / "app_pages" / page
        return AppTest.from_file(str(path), default_timeout=timeout or default)

    return make


@pytest.fixture
def open_page(app_test):
    """Run a page on a link: open_page(page, params=None, timeout=None). It must finish without an exception."""

    def run(page: str, params: dict | None = None, timeout: int | None = None) -> AppTest:
        at = app_test(page, timeout)
        for k, v in (params or {}).items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, at.exception
        return at

    return run


@pytest.fixture
def run(request, open_page):
    """Run the module's PAGE on a link: run(params)."""
    page = request.module.PAGE
    return lambda params: open_page(page, params)


@pytest.fixture(scope="session")
def plain():
    """plain(markdown): the text as a reader sees it where the app escaped it (backslashes and joiners gone)."""
    return lambda text: re.sub(r"\\(.)", r"\1", str(text)).replace(JOINER, "")


@pytest.fixture
def downloads(monkeypatch):
    """What each download button would give the browser, by file name."""
    got: dict[str, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            got[filename] = path_or_data
        return real(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return got


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """The planted CPP of tests/fairdata.py (one very small school) as the configured data: its config file."""
    from tests import fairdata

    _, cfg = fairdata.write(tmp_path)
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    return cfg
