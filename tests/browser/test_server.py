"""`make run`'s server answers and the overview renders in a real browser."""

import urllib.request

import pytest

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_health_answers(app_server):
    with urllib.request.urlopen(app_server + "/_stcore/health", timeout=5) as r:
        assert r.status == 200
        assert r.read().decode().strip() == "ok"


def test_overview_renders_without_exception(app_server, page, wait_for_app, artifacts):
    page.goto(app_server)
    wait_for_app(page)
    page.get_by_text("Respondents by survey wave").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Synthetic sample", exact=False).count() > 0
    page.screenshot(path=str(artifacts / "overview.png"), full_page=True)
