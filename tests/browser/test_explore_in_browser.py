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
NOT_SHOWN = "Not shown"


def table_cells(page) -> list[list[str]]:
    """The grids' cells as a screen reader gets them (their accessible tables), body then margins.

    A cell without a figure is empty and its row's "Not shown" cell names the markers of the row (the canvas draws
    them, see render._styled): read back here as its marker where the row has one kind, the column left out."""
    rows = [[c.inner_text().strip() for c in r.locator("th, td").all()]
            for r in page.locator("[data-testid='stDataFrame'] table tr").all()]
    out, at = [], None
    for row in rows:
        if NOT_SHOWN in row:  # a grid's header
            at = row.index(NOT_SHOWN)
            out.append(row[:at] + row[at + 1:])
        elif at is not None and len(row) > at:
            why = row[at].split()
            out.append([why[0] if text == "" and len(why) == 1 else text for text in row[:at] + row[at + 1:]])
        else:
            out.append(row)
    return out


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


def test_a_screen_reader_hears_why_a_cell_has_no_figure(app_server, page, wait_for_app, artifacts):
    """Means of schools by stage: small bases ([b]) and stages a school does not teach ([z], no such pupils). The
    grid's accessible table reads a cell's number: no cell may read "-Infinity" (as [b] did, drawn as -inf) or any
    other stand-in number; an empty cell's marker is read in its row's Not shown cell, which the caption explains."""
    page.goto(app_server + "/explore?rows=school&cols=stage&measure=mean&value=wemwbs")
    wait_for_app(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("table").wait_for(state="attached")
    rows = [[c.inner_text().strip() for c in r.locator("th, td").all()] for r in grid.locator("table tr").all()]
    read = [text for row in rows for text in row]
    assert not [t for t in read if "Infinity" in t or t == "NaN"], "a marker read out as a number"
    header = rows[0]
    assert header[:2] == ["School", NOT_SHOWN]
    why = {row[0]: row[1].split() for row in rows[1:]}
    assert why["Monmordie High School"] == ["[z]"]  # a secondary: no pupils in P4-P7 anywhere, nothing held back
    assert any("[b]" in w for w in why.values()) and all(set(w) <= {"[c]", "[b]", "[z]"} for w in why.values())
    for row in rows[1:]:
        assert all(t == "" or t[0].isdigit() for t in row[2:]), row  # figures or empty, never a stand-in
    captions = " ".join(page.locator("[data-testid='stCaptionContainer']").all_inner_texts())
    assert "[z] none" in captions and "no such pupils" in captions
    grid.scroll_into_view_if_needed()
    (artifacts / "grid_access").mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "grid_access" / "mean_by_stage.png"))
