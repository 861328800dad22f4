"""Need and services in a real browser: define a need, read the unmet-need table, move spend in the what-if."""

import re

import pytest

from rcs_viz import config
from rcs_viz.features.need import model as need, services as services_map, state as need_state, whatif
from rcs_viz.engine import service
from rcs_viz.features.need import tables as nt
from rcs_viz.engine.load import load_dataset

pytestmark = pytest.mark.browser
CFG = config.load()
THRESHOLD = CFG.rules.threshold
UNMET = "Need without contact"
URL_HAS = """(text) => window.location.search.includes(text)
  && document.querySelector("[data-testid='stApp']").getAttribute('data-test-script-state') === 'notRunning'"""


def tables(page) -> list[list[list[str]]]:
    """Every dataframe's cells as the browser holds them, read in one go so a rerender cannot split them.

    The grid draws only the rows in view, so a long table gives its first rows.
    """
    return page.evaluate("""() => [...document.querySelectorAll("[data-testid='stDataFrame'] table")]
        .map(t => [...t.querySelectorAll('tr')].map(r => [...r.querySelectorAll('th, td')]
        .map(c => c.innerText.trim())))""")


def headed(page, first: str) -> list[list[str]]:
    for t in tables(page):
        if t and t[0] and t[0][0].startswith(first):
            return t
    raise AssertionError(f"no table headed {first!r}")


def assert_no_small_count(rows):
    for row in rows[1:]:
        for text in row[1:]:
            m = re.match(r"^([\d,]+)( |$)", text)
            assert not (m and int(m.group(1).replace(",", "")) < THRESHOLD), f"{text} shown in {row}"


def move_slider(page, target: int, wait_for_app, tries: int = 5):
    """Arrow keys on the slider until it reads `target` (a rerun between key presses may swallow some)."""
    for _ in range(tries):
        slider = page.locator("[data-testid='stSlider'] input[type='range']").first
        now = int(slider.input_value())
        if now == target:
            return
        slider.focus()
        for _ in range(abs(target - now)):
            page.keyboard.press("ArrowRight" if target > now else "ArrowLeft")
        page.wait_for_timeout(600)
        wait_for_app(page)
    raise AssertionError(f"the slider did not reach {target}")


def shoot(page, path):
    """The whole page: Streamlit scrolls inside its own container, so the window is made tall enough first."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 6000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(300)


def settle(page, text: str, wait_for_app):
    page.wait_for_function(URL_HAS, arg=text, timeout=60_000)
    wait_for_app(page)


def test_define_a_need_see_unmet_need_and_move_spend(app_server, page, wait_for_app, artifacts):
    ds = load_dataset(CFG.data, CFG.dictionary, cache_dir=CFG.cache_dir, salt=CFG.salt())
    d = ds.dictionary
    codes = lambda name, within=(): service.categories(ds, name, within)  # noqa: E731
    page.goto(app_server + "/need")
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame'] table").first.wait_for(state="attached")
    assert "Need without contact (possible unmet need)" in page.locator("[data-testid='stMain']").inner_text()

    # Define a need: SDQ abnormal, or a young carer.
    need_box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
    need_box.locator("input").click()
    page.get_by_role("option", name="Young carer").click()
    page.keyboard.press("Escape")
    settle(page, "need=", wait_for_app)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(state="visible")
    assert "young_carer%3A1" in page.url or "young_carer:1" in page.url
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "Need: SDQ total difficulties band is Abnormal, or Young carer is Yes" in main

    # The unmet-need table is the library's, cell for cell, and shows nothing small.
    view, notes = need_state.parse({"need": ["sdq_total_band:3", "young_carer:1"]}, d, codes)
    assert not notes
    fit = need.fit(ds, view.need, view.contact, view.by, view.query_filters(d), CFG.rules)
    want = nt.breakdown_display(fit)
    shown = headed(page, "School cluster")
    assert shown[0][:5] == list(want.columns[:5]) and UNMET in shown[0]
    assert len(shown) > 3
    by_label = {r[0]: r for r in shown[1:]}
    for _, row in want.iterrows():  # the grid draws the rows and columns in view
        if row.iloc[0] in by_label:
            cells = by_label[row.iloc[0]]
            assert len(cells) >= 6 and cells == [str(x) for x in row][:len(cells)], row.iloc[0]
    square = headed(page, "Need")
    assert square[1][2] == nt.square_display(fit).iloc[0, 2]  # with the need, no contact
    for t in tables(page):
        assert_no_small_count(t)
    assert page.locator("[data-testid='stException']").count() == 0
    shoot(page, artifacts / "need_fit.png")

    # Move spend in the what-if: 10% → 25% of specialist spend into early help.
    page.locator("[data-testid='stButtonGroup'] button", has_text="What if").click()
    settle(page, "sec=whatif", wait_for_app)
    assert "need=" in page.url  # the need travels with the section
    move_slider(page, 25, wait_for_app)
    settle(page, "shift=25", wait_for_app)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(state="visible")
    tiers = services_map.by_tier(services_map.load_services(CFG.services).table, None, THRESHOLD)
    scenario = whatif.shift_upstream(tiers, "Specialist / crisis", "Early help / targeted", 25)
    shown = headed(page, "Tier")
    want = nt.scenario_display(scenario)
    width = len(shown[0])  # the columns in view
    assert width >= 6 and shown[0] == list(want.columns)[:width]
    assert shown[1:] == [[str(x) for x in r][:width] for r in want.itertuples(index=False)]
    main = page.locator("[data-testid='stMain']").inner_text()
    assert f"+{scenario.reach_gained:,.0f}" in main and nt.money(scenario.moved_gbp) in main
    assert whatif.CAUTION in main
    assert "Synthetic sample — fictional services" in main
    assert page.locator("[data-testid='stException']").count() == 0
    shoot(page, artifacts / "need_whatif.png")
