"""Accessibility in a real browser: axe-core's WCAG 2.0/2.1 A and AA rules on every page, at a desk and presenting.

axe cannot judge text drawn in an SVG chart (it reports its contrast as "incomplete"), so the test measures that
itself: every piece of chart text against what is behind it (the page, or the bar it is written on) is at least
4.5:1, and every chart has an accessible name that describes it (Vega-Lite's `description`, see
`figures.describe`). A summary of what axe found on each page is printed (pytest -s), and a screenshot of each
page is kept in artifacts/accessibility/ to be looked at.

Streamlit's own chrome (the menu, the sidebar, the grid's canvas) is not ours to fix: a violation in it may be
excluded, but only by rule and selector in STREAMLIT_CHROME, each with the reason it is Streamlit's.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/?",
    "explore": "/explore?rows=simd&cols=sex&",
    "compare": "/compare?",
    "need": "/need?",
    "story": "/story?",
    "dictionary": "/dictionary?",
}
SCREENS = {"desk": ({"width": 1400, "height": 1000}, ""), "present": ({"width": 1280, "height": 800}, "present=1")}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# (rule id, CSS selector of the element axe flags, why it is Streamlit's and not ours). None are needed today:
# an entry goes here only when axe flags Streamlit's own markup, never to silence our content.
STREAMLIT_CHROME: list[tuple[str, str, str]] = []

CHART_TEXT = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const page = rgb(getComputedStyle(document.querySelector("[data-testid='stApp']")).backgroundColor);
  return [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].filter(el => el.getClientRects().length
      && el.getBoundingClientRect().width).map(el => {
    const texts = [...el.querySelectorAll('svg text')].filter(t => t.textContent.trim() && getComputedStyle(t).opacity !== '0');
    const shapes = [...el.querySelectorAll('.role-mark path, .role-mark rect')].filter(e => {
      const s = getComputedStyle(e); return s.fill !== 'none' && s.fillOpacity !== '0' && s.opacity !== '0'; });
    const low = [];
    for (const t of texts) {
      const r = t.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
      // what is behind the text: the last mark drawn under its middle (a bar it is written on), else the page
      const under = shapes.filter(e => { const b = e.getBoundingClientRect();
                                         return b.left <= x && x <= b.right && b.top <= y && y <= b.bottom; }).pop();
      const back = under ? rgb(getComputedStyle(under).fill) : page;
      const c = ratio(rgb(getComputedStyle(t).fill), back);
      if (c < 4.5) low.push(`${JSON.stringify(t.textContent)} ${getComputedStyle(t).fill} on rgb(${back}) is ${c.toFixed(2)}:1`);
    }
    return {name: el.getAttribute('aria-label') || '', role: el.getAttribute('role'), texts: texts.length, low};
  });
}"""


def _ours(page, violation) -> list[str]:
    """The targets of a violation that are not excused as Streamlit's chrome for that rule."""
    excused = [sel for rule, sel, _ in STREAMLIT_CHROME if rule == violation["id"]]
    out = []
    for node in violation["nodes"]:
        target = node["target"][-1] if node["target"] else ""
        if excused and page.evaluate("([t, sels]) => { const e = document.querySelector(t);"
                                     " return !!e && sels.some(s => e.closest(s)); }", [target, excused]):
            continue
        out.append(f"{target}: {node['html'][:140]}")
    return out


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_passes_axe_and_its_charts_are_readable(app_server, browser, wait_for_app, artifacts, screen,
                                                             full):
    if screen == "present" and not full:
        pytest.skip("presenter mode runs with --full (make test-full), to keep make test short")
    viewport, mode = SCREENS[screen]
    folder = artifacts / "accessibility"
    folder.mkdir(exist_ok=True)
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    axe = Axe()
    failures, summary, charts_seen = {}, [], 0
    try:
        for name, link in PAGES.items():
            page.goto(app_server + link + mode)
            wait_for_app(page)
            page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
                .every(el => !el.getClientRects().length || el.querySelector('svg.marks'))""", timeout=20_000)
            page.screenshot(path=str(folder / f"{name}_{screen}.png"), full_page=True)
            found = axe.run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
            problems = []
            for v in found.response["violations"]:
                ours = _ours(page, v)
                summary.append(f"{name}/{screen}: {v['id']} ({v['impact']}) {len(v['nodes'])} node(s), "
                               f"{len(ours)} ours")
                problems += [f"{v['id']} ({v['impact']}): {t}" for t in ours]
            if not found.response["violations"]:
                summary.append(f"{name}/{screen}: no violations")
            for i, chart in enumerate(page.evaluate(CHART_TEXT)):
                charts_seen += 1
                if chart["role"] != "graphics-document" or len(chart["name"]) < 20:
                    problems.append(f"chart {i} has no description: role {chart['role']}, name {chart['name']!r}")
                problems += [f"chart {i}: text contrast {low}" for low in chart["low"][:5]]
            if problems:
                failures[name] = problems
    finally:
        context.close()
    print("\naxe-core " + ", ".join(TAGS) + "\n" + "\n".join(summary))
    assert charts_seen >= 3, f"only {charts_seen} charts were drawn: the pages did not show what they should"
    assert not failures, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in failures.items())
