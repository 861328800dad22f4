"""Saved views and story in a real browser: save two views, play them with the arrow keys, and check each step.

The first test moves between pages with the app's own navigation, as a
presenter does. The list is kept on the server for the browser (a cookie), so
the second reloads, opens a new page, and asks a second server process.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

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
    expect(page.get_by_label("View 1")).to_have_value("Deprivation by sex", timeout=15_000)
    expect(page.get_by_label("View 2")).to_have_value("Cluster spine", timeout=15_000)
    page.get_by_label("Step title (optional)").nth(1).fill("Dunyarrow at a glance")
    page.get_by_label("Step title (optional)").nth(1).press("Enter")
    settle(page, "/story")
    note = page.get_by_label("Note for the audience (optional)").nth(1)
    note.fill("Green is better than the CPP average; grey is protected.")
    note.press("Control+Enter")
    settle(page, "/story")
    sid = page.get_by_test_id("stCode").inner_text().strip().rsplit("id=", 1)[1]
    page.get_by_role("button", name="Play story").click()

    def step_one():
        settle(page, "/explore", "story=1")
        assert where(page) == ("/explore", {"rows": ["simd"], "cols": ["sex"], "present": ["1"], "story": ["1"],
                                            "sid": [sid]})
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
    assert where(page) == ("/compare", {"view": ["spine"], "unit": ["102"], "present": ["1"], "story": ["2"],
                                        "sid": [sid]})
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


def test_saved_views_survive_a_reload_a_new_page_and_another_server(app_server, second_server, page, wait_for_app,
                                                                     artifacts, browser):
    page.goto(app_server + "/explore?rows=simd&cols=sex")
    wait_for_app(page)
    save_view(page, "Kept over a reload", 1)
    page.reload()
    wait_for_app(page)
    page.get_by_role("button", name="Save this view").click()
    page.get_by_test_id("stPopoverBody").get_by_text("(1 saved)").wait_for()  # still there after F5
    page.keyboard.press("Escape")

    page.goto(app_server + "/story")  # a new page load in the same browser
    settle(page, "/story")
    # the field is filled as the browser draws the run's last delta, which can trail the run's end on a busy machine
    expect(page.get_by_label("View 1")).to_have_value("Kept over a reload", timeout=15_000)
    link = page.get_by_test_id("stCode").inner_text().strip()
    assert link.startswith(app_server + "/story?id=")
    page.screenshot(path=str(artifacts / "story_kept_after_reload.png"), full_page=True)

    other = page.context.new_page()  # the same browser on another server process, sharing the store
    other.goto(second_server + "/story")
    settle(other, "/story")
    expect(other.get_by_label("View 1")).to_have_value("Kept over a reload", timeout=15_000)
    other.close()

    colleague = browser.new_context(viewport={"width": 1400, "height": 1000})  # another browser: the link only
    try:
        theirs = colleague.new_page()
        theirs.goto(link.replace(app_server, second_server))
        settle(theirs, "/story")
        theirs.get_by_text("A shared story of 1 view(s)").wait_for()
        assert "Kept over a reload" in theirs.get_by_test_id("stMain").inner_text()
        assert theirs.get_by_label("View 1").count() == 0  # nothing to edit
        theirs.screenshot(path=str(artifacts / "story_shared_link.png"), full_page=True)
        theirs.get_by_role("button", name="Play story").click()
        settle(theirs, "/explore", "story=1")
        assert step_bar(theirs) == "Step 1 of 1 · Kept over a reload"
        theirs.goto(second_server + "/story")  # their own list is still empty
        settle(theirs, "/story")
        theirs.get_by_text("No saved views yet").wait_for()
    finally:
        colleague.close()
