"""`make run`'s server answers, warms itself up unasked, and the overview renders in a real browser."""

import time
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


def test_a_fresh_server_warms_up_before_any_page_is_opened(serving, server_env, tmp_path):
    """`streamlit run app.py` serves app.py's st.App, whose lifespan imports what the pages need and opens the data
    as the server starts (rcs_viz.ui.warm), not when the first browser asks: here no browser ever connects."""
    log = tmp_path / "streamlit.log"
    with serving(log, server_env):
        for _ in range(600):  # the warm-up takes a second or two; on a busy machine more
            if "Warmed up:" in log.read_text() or "Warm-up stopped" in log.read_text():
                break
            time.sleep(0.1)
        text = log.read_text()
    assert "Warmed up: the pages' imports done in" in text and "the data open in" in text, text[-3000:]
    assert "Warm-up stopped" not in text and "Traceback" not in text, text[-3000:]
