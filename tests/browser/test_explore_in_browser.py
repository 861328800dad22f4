"""Explore in a real browser: a deep link, a filter change, the DOM and the download."""

import io

import duckdb
import pandas as pd
import pytest

from rcs_viz import config

pytestmark = pytest.mark.browser
CFG = config.load()
THRESHOLD = CFG.rules.threshold
SETTLED = """(before) => {
  const app = document.querySelector("[data-testid='stApp']");
  const table = document.querySelector("[data-testid='stDataFrame'] table");
  return app.getAttribute('data-test-script-state') === 'notRunning' && table && table.innerText !== before;
}"""
LINK = "/explore?rows=simd&cols=sex&f.stage=6&f.stage=7&f.stage=8&f.young_carer=1"


def _marker(text: str) -> str:
    """A grid's accessible table holds a cell's number, not its drawn text: a protected cell is missing (read as an
    empty cell) and [b] the lowest number (the canvas draws "[c]" and "[b]"; see render._styled)."""
    return "[c]" if text == "" else "[b]" if text == "-Infinity" else text


def table_cells(page) -> list[list[str]]:
    """The grids' cells as the browser holds them (their accessible tables), body then margins."""
    rows = page.locator("[data-testid='stDataFrame'] table tr").all()
    return [[_marker(c.inner_text().strip()) for c in r.locator("th, td").all()] for r in rows]


def chart_image(page) -> bytes:
    return page.locator("[data-testid='stVegaLiteChart']").first.screenshot()


def true_counts(filters: dict) -> pd.DataFrame:
    """The real counts behind the view, computed here only to check none of the small ones leak."""
    where = " AND ".join(f"{k} IN ({', '.join(v)})" for k, v in filters.items())
    return duckdb.sql(f"SELECT simd, sex, COUNT(*) AS n FROM read_parquet('{CFG.data}') "
                      f"WHERE {where} GROUP BY ALL").df()


def assert_nothing_small_shown(cells):
    for row in cells[1:]:
        for text in row[1:]:
            plain = text.replace(",", "")
            assert not (plain.isdigit() and int(plain) < THRESHOLD), f"{text} shown in {row}"


def test_deep_link_filter_change_dom_and_download(app_server, page, wait_for_app, artifacts):
    page.goto(app_server + LINK)
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame'] table").first.wait_for(state="attached")
    before, chart_before = table_cells(page), chart_image(page)
    assert before[0][:4] == ["SIMD quintile", "Boy", "Girl", "Other or prefer not to say"]
    assert_nothing_small_shown(before)
    # Young carers who are "Other" in one quintile are few: those cells must be markers.
    small = true_counts({"stage": ["6", "7", "8"], "young_carer": ["1"], "wave": ["2019"]})
    assert (small.n < THRESHOLD).any()
    assert any("[c]" in row for row in before)

    old_text = page.locator("[data-testid='stDataFrame'] table").first.inner_text()
    page.get_by_role("button", name="✕ Young carer").click()
    page.wait_for_function(SETTLED, arg=old_text)
    after, chart_after = table_cells(page), chart_image(page)
    assert after != before and chart_after != chart_before
    assert "young_carer" not in page.url and "f.stage=6" in page.url
    assert_nothing_small_shown(after)
    assert page.locator("[data-testid='stException']").count() == 0

    with page.expect_download() as info:
        page.get_by_role("button", name="CSV", exact=True).click()
    data = open(info.value.path(), "rb").read()
    name = info.value.suggested_filename
    assert name.startswith("rcs_simd-quintile_by_sex_count_2019_synthetic_") and name.endswith(".csv"), name
    head = [line.split(",", 1)[0] for line in data.decode().splitlines() if line.startswith("# ")]
    assert {"# Title", "# Source file", "# Filters", "# Wave", "# Measure", "# Disclosure rules", "# Produced",
            "# Synthetic"} <= set(head)
    csv = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, comment="#")
    on_screen = {(r[0], col): text for r in after[1:] for col, text in zip(after[0][1:], r[1:])}
    for _, c in csv.iterrows():
        text = on_screen[(c["row"], c["col"] if c["col"] != "All" else "All")]
        assert text.replace(",", "") == (c["count"] if c["count"] else "[c]")
    page.screenshot(path=str(artifacts / "explore.png"), full_page=True)


def test_the_grid_sorts_numbers_keeps_all_below_and_offers_no_bare_download(app_server, page, wait_for_app,
                                                                             artifacts):
    page.goto(app_server + "/explore?rows=cluster&cols=sex")
    wait_for_app(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("table").wait_for(state="attached")
    grid.hover()
    page.wait_for_timeout(500)
    bare = page.locator("button[aria-label^='Download']").evaluate_all(
        "es => es.filter(e => e.offsetParent !== null).length")
    assert bare == 0  # the grid's and the chart's own downloads carry no context: only the download row is offered
    header = grid.locator("table tr").first.locator("th").nth(4)  # "All"
    box = grid.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 60, box["y"] + 18)  # sort by All
    page.wait_for_timeout(800)
    rows = table_cells(page)
    body = [r for r in rows[1:] if r and r[0] not in ("School cluster", "All")]
    totals = [int(r[-1].replace(",", "")) for r in body]
    assert totals == sorted(totals) or totals == sorted(totals, reverse=True), totals  # as numbers
    assert any(t < 1000 for t in totals) and any(t >= 1000 for t in totals)  # where text order would differ
    margins = page.locator("[data-testid='stDataFrame']").nth(1).locator("table tr").all()
    assert margins[-1].locator("td, th").first.inner_text().strip() == "All"
    assert header.count() >= 0
    page.screenshot(path=str(artifacts / "explore_sorted_by_all.png"), full_page=False)
