"""Two app processes behind nginx, started by `python -m rcs_viz serve` as a data owner would (docs/serving.md).

The proxy routes by a cookie of its own (rcs_route) and logs, for every
request, the route and the process that served it. So the test can put two
browsers on different processes (it finds a route for each by asking once
per candidate and reading the log), save a story through one and open it
through the other, and check from the log that every WebSocket of a route,
across reloads, went to one process. Needs Debian's nginx (`make nginx`,
which `make test` runs); it is skipped without it. The store is the SQLite
file of one machine; with --full the same runs on a PostgreSQL store, as
processes on several machines would share it.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.unit import pg_server
from test_open_data import open_file  # tests/browser is on sys.path
from test_story_in_browser import save_view, settle

pytestmark = pytest.mark.browser
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) .* route=(?P<route>\S+) '
                  r'upstream=(?P<upstream>\S+)')


def _free_ports(n: int) -> int:
    """The first of `n` consecutive free ports on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n < 65535 and all(_free(first + i) for i in range(1, n)):
            return first
    pytest.fail("no free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def _get(url: str, cookie: str | None = None) -> urllib.request.addinfourl:
    req = urllib.request.Request(url, headers={"Cookie": f"rcs_route={cookie}"} if cookie else {})
    return urllib.request.urlopen(req, timeout=5)


class Proxy:
    def __init__(self, url: str, ports: list[int], log: Path):
        self.url, self.upstreams, self.log = url, [f"127.0.0.1:{p}" for p in ports], log

    def requests(self) -> list[dict]:
        return [m.groupdict() for m in map(LINE.search, self.log.read_text().splitlines()) if m]

    def streams(self, route: str, closed: int) -> list[str]:
        """The processes that held each WebSocket of this route, in order, once `closed` of them are logged (nginx
        logs a WebSocket when it closes, a moment after the browser has gone)."""
        deadline = time.monotonic() + 10
        while True:
            found = [r["upstream"] for r in self.requests() if r["route"] == route and r["path"] == "/_stcore/stream"]
            if len(found) >= closed or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def route_to(self, upstream: str) -> str:
        """A route cookie the proxy sends to `upstream`: tried one request each, read back from the access log."""
        for i in range(64):
            route = f"test{i}"
            _get(self.url + "/", route).read()
            served = [r["upstream"] for r in self.requests() if r["route"] == route]
            if served and served[-1] == upstream:
                return route
        pytest.fail(f"no route found to {upstream}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_env(request, full, server_env, tmp_path_factory):
    """The processes' environment: the browser tests' own SQLite store, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield server_env
        return
    if not full:
        pytest.skip("the PostgreSQL store runs with --full (make test-full), to keep make test short")
    with pg_server.running() as server:
        cfg = tmp_path_factory.mktemp("pg") / "rcs_explorer.yaml"
        cfg.write_text(f"store: {server.database()}\n", encoding="utf-8")
        yield {**server_env, "RCS_EXPLORER_CONFIG": str(cfg)}


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, root, store_env):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: `make test` installs it with apt-get")
        pytest.skip("nginx is not installed (`make nginx` installs Debian's; `make test` does it)")
    run_dir = tmp_path_factory.mktemp("serve")
    first, port = _free_ports(2), _free_ports(1)
    out = open(run_dir / "serve.out", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcs_viz", "serve", "--processes", "2", "--port", str(port),
         "--backend-port", str(first), "--run-dir", str(run_dir)],
        cwd=root, env=store_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while "RCS Explorer: " + url not in (run_dir / "serve.out").read_text():
            if proc.poll() is not None or time.monotonic() - started > 120:
                logs = "\n".join(p.read_text()[-1500:] for p in sorted(run_dir.glob("**/*.log")))
                pytest.fail("serve did not start:\n" + (run_dir / "serve.out").read_text() + logs)
            time.sleep(0.3)
        yield Proxy(url, [first, first + 1], run_dir / "logs" / "access.log")
    finally:
        proc.send_signal(signal.SIGTERM)  # the launcher stops its processes and nginx
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        out.close()
    for p in (first, first + 1, port):  # and nothing is left listening
        assert not _listening(p), f"something still listens on port {p} after serve stopped"


def _context(browser, proxy: Proxy, route: str | None):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if route:
        context.add_cookies([{"name": "rcs_route", "value": route, "url": proxy.url}])
    return context


def test_a_story_saved_through_one_process_opens_through_the_other(proxy, browser, wait_for_app, artifacts):
    one, two = proxy.upstreams
    route_one, route_two = proxy.route_to(one), proxy.route_to(two)
    owner, colleague = _context(browser, proxy, route_one), _context(browser, proxy, route_two)
    try:
        page = owner.new_page()
        page.goto(proxy.url + "/explore?rows=simd&cols=sex")
        wait_for_app(page)
        save_view(page, "Saved through process one", 1)
        page.goto(proxy.url + "/story")
        settle(page, "/story")
        link = page.get_by_test_id("stCode").inner_text().strip()
        assert link.startswith(proxy.url + "/story?id=")
        expect(page.get_by_label("View 1")).to_have_value("Saved through process one", timeout=15_000)

        theirs = colleague.new_page()
        theirs.goto(link)
        settle(theirs, "/story")
        theirs.get_by_text("A shared story of 1 view(s)").wait_for()
        assert "Saved through process one" in theirs.get_by_test_id("stMain").inner_text()
        theirs.screenshot(path=str(artifacts / "story_through_the_other_process.png"), full_page=True)
    finally:
        owner.close()
        colleague.close()
    assert proxy.streams(route_one, 2) == [one] * 2  # Explore, then the story page: both on process one
    assert proxy.streams(route_two, 1) == [two]  # the colleague's session ran on process two


def test_a_new_browser_gets_a_route_and_keeps_it_for_reloads_and_uploads(proxy, browser, wait_for_app, tmp_path):
    own = tmp_path / "my_cpp.csv"
    own.write_text("pupil_id,school\n" + "".join(f"{i},{'Hill' if i % 2 else 'Glen'}\n" for i in range(60)))
    context = _context(browser, proxy, None)
    try:
        page = context.new_page()
        page.goto(proxy.url + "/")
        wait_for_app(page)
        page.reload()  # a new WebSocket, which must find the same process
        wait_for_app(page)
        open_file(page, own, wait_for_app)  # the upload must reach the process that holds the session
        page.get_by_text("a dictionary inferred from the data").first.wait_for(timeout=60_000)
        assert "From my_cpp.csv" in page.locator("body").inner_text()
        route = {c["name"]: c["value"] for c in context.cookies()}.get("rcs_route")
        assert route, "the proxy set no route cookie"
    finally:
        context.close()
    streams = proxy.streams(route, 2)
    mine = [r for r in proxy.requests() if r["route"] == route]
    assert [r["status"] for r in mine if r["path"].startswith("/_stcore/upload_file/")] == ["204"]
    served = {r["upstream"] for r in mine}
    assert len(streams) == 2 and len(served) == 1, served  # the page, its assets, WebSockets, upload: one process
