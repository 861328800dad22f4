"""Saved views and story in a real browser: save two views, play them with the arrow keys, and check each step.

Everything happens in one browser session: the saved list lives in it, so the
test moves between pages with the app's own navigation, as a presenter does,
never by loading a new URL.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser
SETTLED = """(want) => {
  const app = document.querySelector("[data-testid='stApp']");
  return app.getAttribute('data-test-script-state') === 'notRunning'
         && want.every(w => (location.pathname + location.search).includes(w));
}"""


def settle(page, *want: str) -> None:
    """Wait until the URL holds every `want` and the script has finished its run."""
    page.wait_for_function(SETTLED, arg=list(want), timeout=60_000)
    page.wait_for_timeout(400)
    page.wait_for_function(SETTLED, arg=list(want), timeout=60_000)


def where(page) -> tuple[str, dict[str, list[str]]]:
    url = urlsplit(page.url)
    return url.path, parse_qs(url.query)


def save_view(page, name: str, count: int) -> None:
    page.get_by_role("button", name="Save this view").click()
    body = page.get_by_test_id("stPopoverBody")
    body.get_by_label("Name").fill(name)
    body.get_by_label("Name").press("Enter")  # submits the form
    body.get_by_text(f"({count} saved)").wait_for()
    page.keyboard.press("Escape")
    body.wait_for(state="hidden")


def nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()


def step_bar(page) -> str:
    return page.locator("[data-testid='story-step']").inner_text()


def test_build_two_views_and_play_them_with_the_keyboard(app_server, page, wait_for_app, artifacts):
    page.goto(app_server + "/explore?rows=simd&cols=sex")
    wait_for_app(page)
    save_view(page, "Deprivation by sex", 1)

    nav(page, "Compare")
    settle(page, "/compare")
    page.get_by_test_id("stButtonGroup").get_by_text("Spine", exact=True).click()
    settle(page, "view=spine")
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="School cluster").click()
    page.get_by_role("option", name="Dunyarrow cluster").click()
    settle(page, "view=spine", "unit=102")
    assert where(page) == ("/compare", {"view": ["spine"], "unit": ["102"]})
    save_view(page, "Cluster spine", 2)

    nav(page, "Saved views and story")
    settle(page, "/story")
    assert [page.get_by_label("View 1").input_value(), page.get_by_label("View 2").input_value()] == \
        ["Deprivation by sex", "Cluster spine"]
    page.get_by_label("Step title (optional)").nth(1).fill("Dunyarrow at a glance")
    page.get_by_label("Step title (optional)").nth(1).press("Enter")
    settle(page, "/story")
    note = page.get_by_label("Note for the audience (optional)").nth(1)
    note.fill("Green is better than the CPP average; grey is protected.")
    note.press("Control+Enter")
    settle(page, "/story")
    page.get_by_role("button", name="Play story").click()

    def step_one():
        settle(page, "/explore", "story=1")
        assert where(page) == ("/explore", {"rows": ["simd"], "cols": ["sex"], "present": ["1"], "story": ["1"]})
        assert page.locator("h1").first.inner_text() == "Explore"
        assert step_bar(page) == "Step 1 of 2 · Deprivation by sex"
        header = page.locator("[data-testid='stTable'] thead").first.inner_text()
        assert "SIMD quintile" in header and "Boy" in header  # the SIMD-by-sex table, as saved
        assert page.get_by_test_id("stSidebar").count() == 0 or not page.get_by_test_id("stSidebar").is_visible()

    step_one()
    page.keyboard.press("ArrowLeft")  # nothing before the first step
    page.wait_for_timeout(800)
    assert where(page)[1]["story"] == ["1"]

    page.keyboard.press("ArrowRight")
    settle(page, "/compare", "story=2")
    assert where(page) == ("/compare", {"view": ["spine"], "unit": ["102"], "present": ["1"], "story": ["2"]})
    assert page.locator("h1").first.inner_text() == "Compare"
    assert page.locator("h3").first.inner_text().startswith("Dunyarrow cluster: every indicator against the CPP")
    assert step_bar(page) == "Step 2 of 2 · Dunyarrow at a glance"
    assert page.get_by_text("Green is better than the CPP average; grey is protected.").is_visible()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(state="visible")
    page.screenshot(path=str(artifacts / "story_step2.png"), full_page=False)

    page.keyboard.press("ArrowRight")  # nothing after the last step
    page.wait_for_timeout(800)
    assert where(page)[1]["story"] == ["2"]

    page.keyboard.press("ArrowLeft")
    step_one()
    assert page.locator("[data-testid='stException']").count() == 0

    page.get_by_role("button", name="End story").click()
    settle(page, "/explore")
    assert where(page) == ("/explore", {"rows": ["simd"], "cols": ["sex"]})
    assert page.locator("[data-testid='story-step']").count() == 0
