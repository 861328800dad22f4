"""Compare in a real browser: a spine chart, a click through to a rank chart, and nothing protected in the DOM."""

import re

import duckdb
import pytest

from rcs_viz import config

pytestmark = pytest.mark.browser
CFG = config.load()
THRESHOLD = CFG.rules.threshold
SPINE = "/compare?view=spine&level=school&cluster=101&unit=10105"  # a small primary: most of its figures are protected
SETTLED = """(before) => {
  const app = document.querySelector("[data-testid='stApp']");
  const head = document.querySelector("h3");
  return app.getAttribute('data-test-script-state') === 'notRunning' && head && head.innerText !== before;
}"""


def table_rows(page) -> list[list[str]]:
    """The first dataframe's cells as the browser holds them, read in one go so a rerender cannot split them."""
    return page.evaluate("""() => [...document.querySelectorAll("[data-testid='stDataFrame'] table tr")]
        .map(r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim()))""")


def true_rates(indicator: str, positive: tuple[str, ...]) -> dict[str, tuple[int, float]]:
    """Each school's real count and % with the indicator in 2019 (the test's own check, never shown)."""
    df = duckdb.sql(f"""
        SELECT CAST(school AS VARCHAR) AS school, SUM(CASE WHEN {indicator} IN ({', '.join(positive)}) THEN 1 ELSE 0 END) AS x,
               COUNT({indicator}) AS n
        FROM read_parquet('{CFG.data}') WHERE wave = 2019 AND cpp = 1 GROUP BY ALL""").df()
    return {r.school: (int(r.x), 100 * r.x / r.n if r.n else float("nan")) for r in df.itertuples()}


def assert_no_small_count(rows):
    for row in rows[1:]:
        for text in row[1:]:
            plain = text.replace(",", "")
            assert not (plain.isdigit() and int(plain) < THRESHOLD), f"{text} shown in {row}"


def test_spine_click_through_to_rank_shows_nothing_protected(app_server, page, wait_for_app, artifacts):
    page.goto(app_server + SPINE)
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame'] table").first.wait_for(state="attached")
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(state="visible")
    spine = table_rows(page)
    assert spine[0][:3] == ["Domain", "Indicator", "Auchyarrow Primary"]
    protected = [r for r in spine[1:] if r[2] in ("[c]", "[b]")]
    assert protected, "the small school should have protected figures"
    for row in protected:
        assert row[3] == "" and row[-1] == "not compared", row
    assert_no_small_count(spine)
    page.screenshot(path=str(artifacts / "compare_spine.png"), full_page=True)

    before = page.locator("h3").first.inner_text()
    page.get_by_text("Open an indicator's rank chart").click()
    # labels come from the dictionary, escaped: invisible word joiners may sit inside the accessible name
    page.get_by_role("button", name=re.compile("Bullied in the last year:\u2060? % Monthly or Weekly or more")).click()
    page.wait_for_function(SETTLED, arg=before)
    page.wait_for_function("""() => document.querySelector("[data-testid='stDataFrame'] table th")
        ?.innerText.trim() === 'School'""")  # the grid redraws a moment after the run ends
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(state="visible")
    assert "ind=bullied" in page.url and "cluster=101" in page.url and "view=" not in page.url
    rank = table_rows(page)
    assert rank[0][0] == "School"
    assert_no_small_count(rank)
    truth = true_rates("bullied", ("3", "4"))
    labels = {r[0]: r for r in rank[1:]}
    hidden = [r for r in rank[1:] if r[2] in ("[c]", "[b]")]
    assert hidden, "some schools are too small to show"
    body = page.locator("[data-testid='stMain']").inner_text()
    for row in hidden:
        assert row[3] == "" and row[-1] == "not compared", row
    # A protected school's real figure is nowhere in its row, and its small count nowhere on the page.
    codes = {"Auchyarrow Primary": "10105"}
    for label, code in codes.items():
        if label in labels and labels[label][2] in ("[c]", "[b]"):
            x, pct = truth[code]
            assert f"{pct:.1f}" not in " ".join(labels[label])
            if 0 < x < THRESHOLD:
                assert f" {x} " not in f" {body} ".replace("\n", " ")
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "compare_rank.png"), full_page=True)


def test_a_report_pack_downloads_as_html_from_the_spine(app_server, page, wait_for_app, artifacts):
    page.goto(app_server + "/compare?view=spine&unit=102")
    wait_for_app(page)
    page.get_by_role("button", name="Report pack").click()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="HTML", exact=True).click()
    html = open(info.value.path(), encoding="utf-8").read()
    assert "Dunyarrow cluster" in html and "Synthetic sample" in html
    assert "Counts below 10 are suppressed" in html
    (artifacts / "report_cluster.html").write_text(html, encoding="utf-8")
