"""Presenter mode in a real browser: no sidebar, large type on every page, the map whole, a filter bar that keeps
presenting, and the keys (Escape leaves, F fills the screen, ← and → step a story); Explore by keyboard alone."""

import io

import pytest
from PIL import Image

from rcs_viz import config
from rcs_viz.engine.store import Store
from rcs_viz.features.story import kept
from rcs_viz.features.story.model import SavedView

pytestmark = pytest.mark.browser

DESK_CHART_TEXT = 13  # px: the smallest chart text at a desk (axis labels); presenting scales it by 1.5

# What the room sees on each page: (screenshot name, link, charts drawn, headline figures shown); the last three
# run with --full (make test-full), to keep make test short
VIEWS = [
    ("need_fit", "/need?f.sex=2", True, True),
    ("need_services", "/need?sec=services", True, True),
    ("compare_map", "/compare?view=map", False, False),
    ("need_whatif", "/need?sec=whatif", True, True),
    ("compare_rank", "/compare?view=rank", True, False),
    ("overview", "/", False, True),
]
QUICK = 3

SIZES = """() => {
  const px = (els) => [...els].map((e) => parseFloat(getComputedStyle(e).fontSize));
  return {
    chart: px(document.querySelectorAll("[data-testid='stVegaLiteChart'] svg text")).filter((s) => s > 0),
    value: px(document.querySelectorAll("[data-testid='stMetricValue'] p")),
    label: px(document.querySelectorAll("[data-testid='stMetricLabel'] p")),
  };
}"""


def drawn_to_the_edge(png: bytes) -> list[str]:
    """The edges of an element's screenshot where something other than the white background is drawn."""
    img = Image.open(io.BytesIO(png)).convert("L")
    w, h = img.size
    edges = {"top": [(x, 1) for x in range(w)], "bottom": [(x, h - 2) for x in range(w)],
             "left": [(1, y) for y in range(h)], "right": [(w - 2, y) for y in range(h)]}
    return [name for name, points in edges.items() if any(img.getpixel(p) < 235 for p in points)]


def focused(page) -> str:
    """The accessible name of the element with the keyboard focus (its label, or a button's text)."""
    return page.evaluate("""() => { const e = document.activeElement;
      const text = ["BUTTON", "A", "SUMMARY"].includes(e.tagName) ? e.innerText : "";
      return (e.getAttribute("aria-label") || text || e.tagName).replace(/\\s+/g, " ").trim(); }""")


def tab_to(page, name: str, limit: int = 40) -> int:
    """Press Tab until `name` has the focus; how many presses it took."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if name in focused(page):
            return n
    raise AssertionError(f"{name!r} not reached by Tab in {limit} presses (last: {focused(page)!r})")


def settled(page, wait_for_app, has: str) -> None:
    page.wait_for_function("(s) => location.search.includes(s)", arg=has)
    wait_for_app(page)


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


@pytest.mark.parametrize("name, link, charts, metrics", VIEWS, ids=[v[0] for v in VIEWS])
def test_every_page_presenting_reads_from_the_back_and_shows_the_map_whole(app_server, page, wait_for_app, artifacts,
                                                                           full, name, link, charts, metrics):
    if [v[0] for v in VIEWS].index(name) >= QUICK and not full:
        pytest.skip("runs with --full (make test-full), to keep make test short")
    page.set_viewport_size({"width": 1280, "height": 800})
    (artifacts / "presenter").mkdir(exist_ok=True)
    page.goto(app_server + link + ("&" if "?" in link else "?") + "present=1")
    wait_for_app(page)
    if charts:
        page.locator("[data-testid='stVegaLiteChart'] svg text").first.wait_for(state="attached")
    sizes = page.evaluate(SIZES)
    if charts:
        assert min(sizes["chart"]) >= DESK_CHART_TEXT * 1.4, (name, min(sizes["chart"]))
    if metrics:
        assert sizes["value"] and min(sizes["value"]) >= 40, (name, sizes["value"])
        assert max(sizes["label"]) <= min(sizes["value"]) / 1.5, (name, sizes)  # figures above their labels
    if name == "compare_map":
        deck = page.locator("[data-testid='stDeckGlJsonChart']")
        deck.wait_for(state="visible")
        page.wait_for_timeout(800)  # deck.gl draws after the element is laid out
        box = deck.bounding_box()
        assert box["height"] >= 560, box
        assert drawn_to_the_edge(deck.screenshot()) == [], "the map is cut at its element's edge"
        deck.screenshot(path=str(artifacts / "presenter" / "compare_map_element.png"))
    page.screenshot(path=str(artifacts / "presenter" / f"{name}.png"))


def test_explore_by_keyboard_alone_then_the_filter_bar_while_presenting(app_server, page, wait_for_app, artifacts):
    """Tab to the controls, change the view, present, add a filter from the bar, fill the screen, leave: no mouse."""
    page.goto(app_server + "/explore?rows=simd&cols=sex")
    wait_for_app(page)
    tab_to(page, "Rows")
    page.keyboard.type("School cluster")
    page.keyboard.press("Enter")
    settled(page, wait_for_app, "rows=cluster")
    tab_to(page, "Confidence intervals")
    page.keyboard.press("Space")
    settled(page, wait_for_app, "ci=1")
    tab_to(page, "Present")
    page.keyboard.press("Enter")
    settled(page, wait_for_app, "present=1")
    assert not page.locator("[data-testid='stSidebar']").is_visible()

    tab_to(page, "Filter")
    page.keyboard.press("Enter")  # the popover opens with the focus in its first field
    page.wait_for_function("() => document.activeElement.getAttribute('aria-label') === 'Filter on'")
    page.keyboard.type("Sex")
    page.keyboard.press("Enter")
    page.get_by_test_id("stPopoverBody").get_by_label("Sex", exact=True).wait_for()
    tab_to(page, "Sex", limit=6)
    page.keyboard.type("Girl")
    page.keyboard.press("Enter")
    settled(page, wait_for_app, "f.sex=2")
    assert "present=1" in page.url and "rows=cluster" in page.url and "ci=1" in page.url
    assert focused(page) == "Sex"  # the chip the filter adds to the bar does not take the field away
    page.keyboard.press("ArrowLeft")  # in a field: no story step, no harm
    page.keyboard.press("Escape")  # in a field: closes its list, not presenter mode
    page.locator("[role='listbox']").wait_for(state="hidden")
    assert page.get_by_test_id("stPopoverBody").is_visible()
    page.keyboard.press("Escape")  # closes the popover
    page.get_by_test_id("stPopoverBody").wait_for(state="hidden")
    assert "present=1" in page.url
    bar = page.locator(".st-key-present_filter_bar")
    assert "Sex: Girl" in bar.inner_text().replace("\u2060", "")  # the app joins escaped Markdown with U+2060
    chip_size = page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector('.st-key-present_filter_bar button p')).fontSize)""")
    assert chip_size >= 20, chip_size
    page.screenshot(path=str(artifacts / "presenter" / "explore_filter_bar.png"))

    wait_for_app(page)  # the filter's run has ended: the keys go to the page it drew
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement !== null")
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement === null")
    page.keyboard.press("Escape")  # leaves presenter mode, keeps the view
    page.wait_for_function("() => !location.search.includes('present=1')")
    wait_for_app(page)
    assert "f.sex=2" in page.url and "rows=cluster" in page.url


def test_arrows_step_a_story_while_presenting(app_server, server_env, page, wait_for_app):
    cfg = config.load(server_env["RCS_EXPLORER_CONFIG"])
    sid = kept.new_id()
    kept.keep(Store.open(cfg.store, cfg.store_path), sid, kept.new_id(), (
        SavedView("By deprivation", "explore", (("rows", ("simd",)),)),
        SavedView("By sex", "explore", (("rows", ("sex",)),))))
    page.goto(app_server + f"/explore?rows=simd&present=1&story=1&sid={sid}")
    wait_for_app(page)
    page.get_by_test_id("story-step").wait_for()
    page.keyboard.press("ArrowRight")
    settled(page, wait_for_app, "story=2")
    assert "rows=sex" in page.url and "Step 2 of 2" in page.get_by_test_id("story-step").inner_text()
    page.keyboard.press("ArrowLeft")
    settled(page, wait_for_app, "story=1")
    assert "rows=simd" in page.url and "present=1" in page.url
