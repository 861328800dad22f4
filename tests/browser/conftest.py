"""A real Streamlit server and Debian's chromium, driven by Playwright.

The server is started the way `make run` starts it and polled until
/_stcore/health answers (as Streamlit's own e2e suite does).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rcs_viz import cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serving(root: Path, log: Path, env: dict, port: int | None = None, args: tuple[str, ...] = ()):
    """A Streamlit server on app.py, started as `make run` starts it (on `port`, with more options `args`);
    yields its URL once it answers."""
    port = port or _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", *args],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://localhost:{port}"
    started = time.monotonic()
    try:
        while True:
            if cli.answers(url + "/_stcore/health"):
                break
            if proc.poll() is not None or time.monotonic() - started > 90:
                pytest.fail("the server did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server_env(tmp_path_factory) -> dict:
    """The servers' environment: unless a configuration is given, the sample with a server store of the run's own
    (saved views and stories made by tests never reach the repo's .cache)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if "RCS_EXPLORER_CONFIG" not in env:
        folder = tmp_path_factory.mktemp("store")
        cfg = folder / "rcs_explorer.yaml"
        cfg.write_text(f"store: sqlite:///{folder / 'store.sqlite'}\n", encoding="utf-8")
        env["RCS_EXPLORER_CONFIG"] = str(cfg)
    return env


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, root, server_env):
    with _serving(root, tmp_path_factory.mktemp("server") / "streamlit.log", server_env) as url:
        yield url


@pytest.fixture
def second_server(tmp_path_factory, root, server_env):
    """Another server process on the same configuration and store (a restart, or the next machine)."""
    with _serving(root, tmp_path_factory.mktemp("server2") / "streamlit.log", server_env) as url:
        yield url


@pytest.fixture(scope="session")
def serving(root):
    """A server of a test's own: `with serving(log, env, port=None, args=()) as url`; and `serving.free_port()`."""
    def start(log: Path, env: dict, port: int | None = None, args: tuple[str, ...] = ()):
        return _serving(root, log, env, port, args)

    start.free_port = _free_port
    return start


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make test` installs it with apt-get")
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def _wait_for_app(page, timeout=60_000):
    """Wait until the script has finished running (Streamlit's e2e idiom)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_timeout(300)


@pytest.fixture
def wait_for_app():
    return _wait_for_app


@pytest.fixture(scope="session")
def artifacts(root) -> Path:
    """Screenshots and downloads kept after the run, to be looked at."""
    folder = root / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder
