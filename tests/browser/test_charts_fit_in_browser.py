"""Charts that fit: over a matrix of views, at a desk and presenting, nothing a chart draws is cut.

For every chart on the page the test reads the drawn SVG in the browser and compares boxes: the SVG with
the chart's element and the column it sits in, every piece of text (title, axis labels, legend) with both,
each bar with the last value written on its axis; then that every small multiple has an x-axis with values of its own, that
no legend or title text was truncated, and that the legend names every series the marks draw ("No answer"
included). A screenshot of each view is kept in artifacts/charts_fit/ to be looked at.
"""

import re

import pytest

pytestmark = pytest.mark.browser

VIEWS = {
    "cluster_schools": "/explore?rows=school&f.cluster=101",
    "ci_legend": "/explore?rows=cluster&cols=safe_home&measure=row_pct&ci=1&f.cpp=1",
    "panels": "/explore?rows=simd&cols=fsm&panel=stage&measure=row_pct",
    "all_schools": "/explore?rows=school",
    "long_labels": "/explore?rows=school&cols=sex&measure=row_pct&f.cluster=101",
    "panels_ci": "/explore?rows=sex&cols=safe_school&panel=urban_rural&measure=row_pct&ci=1",
    "compare_rank": "/compare?view=rank",
    "compare_trend": "/compare?view=trend",
    "compare_gradient": "/compare?view=gradient",
    "compare_funnel": "/compare?view=funnel&level=school",
    "compare_spine": "/compare?view=spine",
    "compare_similar": "/compare?view=similar&level=school",
    "need_fit": "/need?sec=fit",
    "need_services": "/need?sec=services",
    "need_whatif": "/need?sec=whatif",
}
SCREENS = {"desk": ({"width": 1400, "height": 1000}, ""), "narrow": ({"width": 1000, "height": 900}, ""),
           "present": ({"width": 1280, "height": 800}, "&present=1")}

MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  return [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].map(el => {
    const svg = el.querySelector('svg.marks');
    if (!el.getClientRects().length || !el.getBoundingClientRect().width) return {hidden: true};  // an unopened tab
    if (!svg) return {missing: true};
    const column = el.closest("[data-testid='stVerticalBlock']");
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
      .map(t => ({text: t.textContent, box: box(t),
                  role: (t.closest('.role-legend, .role-title, .role-axis, .role-mark') || {classList: ['other']})
                        .classList[1] || 'other'}));
    const xAxes = [...svg.querySelectorAll(".role-axis[aria-label^='X-axis']")];
    const labelledX = xAxes.filter(a => a.querySelectorAll('.role-axis-label text').length >= 2).length;
    const cells = svg.querySelectorAll('.cell').length;
    const overruns = [];
    // where each tick label says its value is: its anchor (a flushed last label ends at its tick)
    const at = t => { const r = box(t), a = t.getAttribute('text-anchor');
                      return a === 'end' ? r.r : a === 'start' ? r.l : (r.l + r.r) / 2; };
    for (const m of svg.querySelectorAll('.role-mark path, .role-mark line')) {
      let g = m.parentElement, axis = null;
      while (g && g !== svg && !axis) { axis = g.querySelector(".role-axis[aria-label^='X-axis']"); g = g.parentElement; }
      // a bar or point on a categorical x (waves, quintiles) sits around its label: only a scale of values has an end
      if (!axis || /discrete/.test(axis.getAttribute('aria-label') || '')) continue;
      const labels = [...axis.querySelectorAll('.role-axis-label text')];
      // an axis of positions written in words (the spine's worst…best) has no last value: a mark past it is meant
      if (!labels.some(t => /[0-9]/.test(t.textContent))) continue;
      const ticks = labels.map(at);
      if (!ticks.length) continue;
      const end = Math.max(...ticks), mark = box(m);
      if (mark.r > end + 2) overruns.push((m.getAttribute('aria-label') || '').slice(0, 80) + ` ends ${mark.r - end}px past the last value on its axis`);
    }
    const series = new Set();
    for (const m of svg.querySelectorAll('.role-mark [aria-label]')) {
      const found = /col_label: ([^;]*)/.exec(m.getAttribute('aria-label'));
      if (found) series.add(found[1].trim());
    }
    const marks = svg.querySelectorAll('.role-mark [aria-label]').length;
    return {el: box(el), svg: box(svg), column: column ? box(column) : box(el), texts, labelledX, cells, marks,
            overruns: overruns.slice(0, 5), series: [...series]};
  });
}"""


def _inside(inner, outer, slack=1.5) -> bool:
    return (inner["l"] >= outer["l"] - slack and inner["t"] >= outer["t"] - slack
            and inner["r"] <= outer["r"] + slack and inner["b"] <= outer["b"] + slack)


def cut(charts) -> list[str]:
    """Everything drawn that a reader would not see whole, in words."""
    problems = []
    legend = set()
    series = set()
    for i, c in enumerate(charts):
        if c.get("hidden"):  # drawn when its tab is opened
            continue
        if c.get("missing"):
            problems.append(f"chart {i}: nothing drawn")
            continue
        if not _inside(c["svg"], c["el"]):
            problems.append(f"chart {i}: drawing {c['svg']} larger than its element {c['el']}")
        if not _inside(c["el"], c["column"]):
            problems.append(f"chart {i}: element {c['el']} wider than its column {c['column']}")
        for t in c["texts"]:
            if not (_inside(t["box"], c["svg"]) and _inside(t["box"], c["el"]) and _inside(t["box"], c["column"])):
                problems.append(f"chart {i}: {t['role']} text {t['text']!r} cut at {t['box']}")
            if t["role"] in ("role-legend", "role-title") and t["text"].endswith("…"):
                problems.append(f"chart {i}: {t['role']} text {t['text']!r} truncated")
        if c["marks"] and c["labelledX"] < max(c["cells"], 1):  # a chart that draws data has an x-axis per panel
            problems.append(f"chart {i}: {c['cells']} panels but {c['labelledX']} x-axes with values")
        problems += [f"chart {i}: {o}" for o in c["overruns"]]
        legend |= {t["text"] for t in c["texts"] if t["role"] == "role-legend"}
        series |= set(c["series"])
    if series - legend:
        problems.append(f"series drawn but not in any legend: {sorted(series - legend)}")
    return problems


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_chart_fits_its_container(app_server, browser, wait_for_app, artifacts, screen, full):
    if screen != "desk" and not full:
        pytest.skip("the narrow and presenting screens run with --full (make test-full), to keep make test short")
    viewport, suffix = SCREENS[screen]
    folder = artifacts / "charts_fit"
    folder.mkdir(exist_ok=True)
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    failures = {}
    try:
        for name, link in VIEWS.items():
            page.goto(app_server + link + suffix)
            wait_for_app(page)
            chart = page.locator("[data-testid='stVegaLiteChart']").first
            chart.wait_for(state="visible")
            page.wait_for_timeout(800)  # vega lays out after the element appears
            chart.scroll_into_view_if_needed()
            page.screenshot(path=str(folder / f"{name}_{screen}.png"), full_page=True)
            problems = cut(page.evaluate(MEASURE))
            if problems:
                failures[name] = problems[:6] + ([f"... and {len(problems) - 6} more"] if len(problems) > 6 else [])
    finally:
        context.close()
    assert not failures, "\n".join(f"{name} ({screen}):\n  " + "\n  ".join(p) for name, p in failures.items())


def test_the_measure_finds_what_is_cut():
    """The checker itself: a legend entry past the drawing, a bar past its axis and a missing series are caught."""
    box = {"l": 0, "t": 0, "r": 500, "b": 400}
    chart = {"el": box, "svg": box, "column": box, "labelledX": 1, "cells": 0, "marks": 3, "overruns": [], "series": ["Never"],
             "texts": [{"text": "Nev", "box": {"l": 480, "t": 10, "r": 520, "b": 20}, "role": "role-legend"}]}
    problems = cut([chart])
    assert any("cut at" in p for p in problems) and any("not in any legend" in p for p in problems)
    assert re.search("panels but", " ".join(cut([{**chart, "cells": 4}])))


TITLE_LINES = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].map(el => {
  const svg = el.querySelector('svg.marks');
  if (!svg || !el.getBoundingClientRect().width) return null;
  const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const column = el.closest("[data-testid='stVerticalBlock']") || el;
  // a title of several lines is one text element with a tspan a line
  const lines = [...svg.querySelectorAll('.role-title text')]
    .flatMap(t => t.querySelectorAll('tspan').length ? [...t.querySelectorAll('tspan')] : [t])
    .filter(t => t.textContent.trim())
    .map(t => ({text: t.textContent, box: box(t), subtitle: !!t.closest('.role-title-subtitle')}));
  return {el: box(el), svg: box(svg), column: box(column), lines};
}).filter(c => c)"""

# Views whose titles and subtitles are long: a sentence of figures (gradient), several lines (trend), a filter and a
# note (need), a long school-cluster title (explore); the need page draws two of its charts side by side.
NARROW_VIEWS = ["/compare?view=gradient", "/compare?view=trend", "/need?sec=services", "/explore?rows=school&f.cluster=101"]


def test_titles_and_subtitles_fit_a_narrow_column_and_use_a_wide_one(app_server, browser, wait_for_app, artifacts):
    """A chart's title and subtitle are written in lines for the width its container has (Vega-Lite cannot wrap
    them): on a phone (360 px, a column of about 330) no line runs past the chart, and on a desk the lines are not
    those of a narrow column (a long sentence takes more than half the chart's width)."""
    folder = artifacts / "subtitles"
    folder.mkdir(exist_ok=True)
    problems = []
    for width, links in ((360, NARROW_VIEWS), (1400, NARROW_VIEWS[:1])):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            for i, link in enumerate(links):
                page.goto(app_server + link)
                wait_for_app(page)
                page.locator("[data-testid='stVegaLiteChart'] svg.marks").first.wait_for(state="visible")
                page.wait_for_timeout(800)  # vega lays out after the element appears
                page.locator("[data-testid='stVegaLiteChart']").first.scroll_into_view_if_needed()
                page.screenshot(path=str(folder / f"view{i}_{width}.png"))
                charts = page.evaluate(TITLE_LINES)
                assert charts and all(c["lines"] for c in charts), f"{link}: no chart title drawn"
                for c in charts:
                    for line in c["lines"]:
                        if not (_inside(line["box"], c["svg"]) and _inside(line["box"], c["el"])
                                and _inside(line["box"], c["column"])):
                            problems.append(f"{link} at {width} px: {line['text']!r} runs past its chart")
                    subtitle = [line["box"]["r"] - line["box"]["l"] for line in c["lines"] if line["subtitle"]]
                    drawn = c["svg"]["r"] - c["svg"]["l"]
                    if width > 1000 and subtitle and len(subtitle) > 2 and max(subtitle) < drawn / 2:
                        problems.append(f"{link} at {width} px: subtitle lines at most {max(subtitle):.0f} px "
                                        f"on a chart {drawn:.0f} px wide")
        finally:
            context.close()
    assert not problems, "\n".join(problems)


# Views with legends of several long entries: answers beside long school names (explore), verdicts beside long names
# (compare), a stacked bar's parts and the sectors of the spend chart (need); with --full, answers with intervals and
# the heading of small multiples (explore), the series of a trend (compare) and the what-if's heading (need).
LEGEND_VIEWS = {
    "explore_long_rows": "/explore?rows=school&cols=safe_school&measure=row_pct&f.cluster=101",
    "compare_similar": "/compare?view=similar&level=school",
    "need_fit": "/need?sec=fit",
    "need_services": "/need?sec=services",
}
MORE_LEGEND_VIEWS = {
    "explore_answers": "/explore?rows=cluster&cols=safe_home&measure=row_pct&ci=1&f.cpp=1",
    "explore_panels": "/explore?rows=sex&cols=safe_school&panel=urban_rural&measure=row_pct",
    "compare_trend": "/compare?view=trend",
    "compare_rank": "/compare?view=rank",
    "need_whatif": "/need?sec=whatif",
}


def test_legends_are_whole_on_a_phone(app_server, browser, wait_for_app, artifacts, full):
    """On a phone (360 px, a column of about 330) every legend entry is inside its chart, its column and the
    window, none is shortened, and the legend names every series the marks draw: a legend of fixed columns, laid out
    for a desk's 480 px, ran past the right edge of the screen. The rest of each chart is checked as at a desk
    (`cut`): the labels that give the legend its room are shortened, not cut."""
    folder = artifacts / "legends"
    folder.mkdir(exist_ok=True)
    failures = {}
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        for name, link in (LEGEND_VIEWS | (MORE_LEGEND_VIEWS if full else {})).items():
            page.goto(app_server + link)
            wait_for_app(page)
            chart = page.locator("[data-testid='stVegaLiteChart'] svg.marks").first
            chart.wait_for(state="visible")
            page.wait_for_timeout(800)  # vega lays out after the element appears
            page.locator("[data-testid='stVegaLiteChart']").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(folder / f"{name}_360.png"))
            charts = page.evaluate(MEASURE)
            window = {"l": 0, "t": -1e9, "r": 360, "b": 1e9}
            problems = cut(charts)
            problems += [f"legend text {t['text']!r} past the window at {t['box']}" for c in charts
                         for t in c.get("texts", ()) if t["role"] == "role-legend" and not _inside(t["box"], window)]
            if not any(t["role"] == "role-legend" for c in charts for t in c.get("texts", ())):
                problems.append("no legend drawn")
            if problems:
                failures[name] = problems[:6]
    finally:
        context.close()
    assert not failures, "\n".join(f"{name}:\n  " + "\n  ".join(p) for name, p in failures.items())
