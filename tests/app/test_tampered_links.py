"""Tampered and stale links, generated: no traceback, no small count, a note when something was set aside."""

import random

import pytest
from grids import shown_text

from rcs_viz import config

THRESHOLD = config.load().rules.threshold
HOSTILE = ["", " ", "'", '"', "\\", "%00", "\x00", "∅", "../../etc/passwd", "<script>alert(1)</script>",
           "1 OR 1=1", "sex; DROP TABLE respondents", "__rkey", "respondent_id", "wemwbs", "NaN", "-1",
           "1e309", "9" * 300, "x" * 5000, "sex", "simd", "school", "mean", "row_pct", "1", "0", "2019",
           "all", "🙂", "Boy", "f.sex", "rows"]
KEYS = ["rows", "cols", "panel", "measure", "value", "wave", "missing", "ci", "weighted", "stacked",
        "f.sex", "f.simd", "f.stage", "f.school", "f.wemwbs", "f.__rkey", "f.", "f.nope", "page",
        "present", "zzz", "rows "]
COMPARE_KEYS = ["view", "ind", "level", "cpp", "cluster", "unit", "vs", "wave", "f.sex", "f.stage", "f.school",
                "f.cluster", "f.__indicator", "f.wemwbs", "f.", "zzz", "present"]
COMPARE_HOSTILE = HOSTILE + ["rank", "spine", "trend", "gradient", "map", "school", "cluster", "previous",
                             "national", "101", "10105", "201", "2", "3", "bullied", "__indicator"]


def tampered_links(seed: int, n: int, keys=KEYS, hostile=HOSTILE) -> list[dict]:
    rng = random.Random(seed)
    links = []
    for _ in range(n):
        link = {}
        for key in rng.sample(keys, rng.randint(1, 6)):
            values = [rng.choice(hostile) for _ in range(rng.choice([1, 1, 2, 3, 60]))]
            link[key] = values if key.startswith("f.") or len(values) > 1 else values[0]
        links.append(link)
    return links


def small_counts(at) -> list[str]:
    """Any whole number below the threshold in a data cell of any table on the page."""
    bad = []
    for frame in at.dataframe:
        table = shown_text(frame)
        data = table.iloc[:, 1:] if table.shape[1] > 1 else table
        for text in data.astype(str).to_numpy().ravel():
            plain = text.replace(",", "")
            if plain.isdigit() and int(plain) < THRESHOLD:
                bad.append(text)
    return bad


def assert_safe_and_noted(at, link: dict, known: set[str]) -> None:
    """No small count on screen, and a note whenever the link carries a setting the page does not know."""
    assert not small_counts(at)
    if any(k not in known and not k.startswith("f.") for k in link):
        assert "Ignored unknown" in " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("page", ["explore.py", "overview.py"])
@pytest.mark.parametrize("link", tampered_links(seed=20, n=50), ids=lambda l: "&".join(sorted(l))[:40])
def test_tampered_link(page, link, open_page):
    at = open_page(page, link)
    if page == "explore.py":
        assert_safe_and_noted(at, link, {"rows", "cols", "panel", "measure", "value", "wave", "missing", "ci",
                                         "weighted", "stacked", "page", "present"})


@pytest.mark.parametrize("link", tampered_links(seed=5, n=50, keys=COMPARE_KEYS, hostile=COMPARE_HOSTILE),
                         ids=lambda l: "&".join(sorted(l))[:40])
def test_tampered_compare_link(link, open_page):
    at = open_page("compare.py", link, timeout=90)
    assert_safe_and_noted(at, link, {"view", "ind", "level", "cpp", "cluster", "unit", "vs", "wave", "present"})


NEED_KEYS = ["need", "need_all", "contact", "contact_all", "by", "wave", "sec", "from", "to", "shift", "avoid",
             "cost", "years", "f.sex", "f.stage", "f.cpp", "f.__need", "f.", "zzz", "present"]
NEED_HOSTILE = HOSTILE + ["sdq_total_band:3", "wemwbs:<41", "wemwbs:<", "wemwbs:<1e400", "young_carer:1|9",
                          "sw_contact:1", "sw_contact:", ":1", "nope:1", "fit", "services", "whatif", "Universal",
                          "Specialist / crisis", "101", "-5", "nan", "inf", "1e9", "cluster", "none", "all"]


@pytest.mark.parametrize("link", tampered_links(seed=6, n=50, keys=NEED_KEYS, hostile=NEED_HOSTILE),
                         ids=lambda l: "&".join(sorted(l))[:40])
def test_tampered_need_link(link, open_page):
    at = open_page("need.py", link, timeout=90)
    assert_safe_and_noted(at, link, set(NEED_KEYS) - {"zzz"} | {"page", "story"})
