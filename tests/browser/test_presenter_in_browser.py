"""Presenter mode in a real browser: no sidebar, large type, a plain table; Escape leaves it."""

import pytest

pytestmark = pytest.mark.browser


def test_presenter_mode_on_a_projector(app_server, page, wait_for_app, artifacts):
    page.set_viewport_size({"width": 1280, "height": 800})  # a projector, not a desk monitor
    page.goto(app_server + "/explore?rows=simd&cols=sex&f.stage=6&f.stage=7&f.stage=8&present=1")
    wait_for_app(page)
    page.locator("[data-testid='stTable']").first.wait_for(state="visible")
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    cell_size = page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector("[data-testid='stTable'] td")).fontSize)""")
    assert cell_size >= 20, cell_size
    assert "Filters:" in page.locator("[data-testid='stMain']").inner_text()
    page.screenshot(path=str(artifacts / "presenter_explore.png"))

    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('present=1')")
    wait_for_app(page)
    page.locator("[data-testid='stSidebar']").wait_for(state="visible")
    assert "rows=simd" in page.url
