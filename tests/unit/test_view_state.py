"""URL ↔ view: round trips, non-defaults only, and tampered links that never raise."""

import random
import string

import pytest

from rcs_viz.data.dictionary import MISSING
from rcs_viz.features.explore.state import ExploreView, default_view, parse, to_params


@pytest.fixture(scope="module")
def listed(dic):
    """A variable's codes as the dictionary lists them: the `codes` callback of default_view and parse."""
    return lambda name: [c for c, _ in dic[name].values]


@pytest.fixture(scope="module")
def default(dic, listed):
    return default_view(dic, listed)


def as_params(d):
    return {k: v if isinstance(v, list) else [v] for k, v in d.items()}


def test_default_is_a_pupil_characteristic_in_the_latest_wave(dic, listed, default):
    assert default.rows == "sector" or dic[default.rows].role is None
    assert default.wave == listed("wave")[-1]
    assert to_params(default, default) == {}


@pytest.mark.parametrize("view", [
    ExploreView(rows="sex", cols="simd", measure="row_pct", wave="2016", ci=True),
    ExploreView(rows="simd", cols="bullied", measure="row_pct", wave="2019", stacked=True),
    ExploreView(rows="simd", panel="sex", measure="mean", value="wemwbs", wave=None, missing=False),
    ExploreView(rows="bullied", cols="sex", measure="col_pct", weighted=True, wave="2019",
                filters=(("stage", ("5", "6")), ("sex", ("2", MISSING)))),
])
def test_round_trip(view, dic, listed, default):
    view = ExploreView(**{**view.__dict__, "filters": tuple(
        (n, tuple(c for c in listed(n) + [MISSING] if c in kept)) for n, kept in view.filters)})
    params = to_params(view, default)
    back, notes = parse(as_params(params), dic, listed)
    assert notes == []
    assert back == view


def test_only_non_defaults_are_written(default):
    view = ExploreView(rows=default.rows, wave=default.wave, ci=True)
    assert to_params(view, default) == {"ci": "1"}


def test_query_adds_the_wave_as_a_filter(dic):
    q = ExploreView(rows="sex", wave="2019", filters=(("simd", ("1",)),)).query(dic)
    assert q.filters == (("wave", ("2019",)), ("simd", ("1",)))


def test_a_plain_link_has_no_notes(dic, listed):
    assert parse({"rows": ["sex"], "cols": ["simd"]}, dic, listed)[1] == []


@pytest.mark.parametrize("params,expect_note", [
    ({"rows": ["nope"]}, "not a variable"),
    ({"rows": ["wemwbs"]}, "cannot be used as rows"),
    ({"rows": ["respondent_id"]}, "cannot be used as rows"),
    ({"cols": ["sex"], "rows": ["sex"]}, "same variable"),
    ({"measure": ["sum"]}, "not a measure"),
    ({"measure": ["mean"]}, "needs a numeric"),
    ({"measure": ["mean"], "value": ["sex"]}, "needs a numeric"),
    ({"wave": ["1999"]}, "no wave"),
    ({"f.sex": ["9"]}, "unknown value"),
    ({"f.nope": ["1"]}, "not a variable to filter"),
    ({"f.wemwbs": ["50"]}, "numeric"),
    ({"ci": ["yes"]}, "0 or 1"),
    ({"zzz": ["1"]}, "Ignored unknown"),
    ({"rows": ["sex", "simd"]}, "more than once"),
    ({"rows": ["sex"], "panel": ["sex"]}, "panel repeated"),
])
def test_tampered_links_fall_back_with_a_note(params, expect_note, dic, listed):
    view, notes = parse(params, dic, listed)
    assert any(expect_note in n for n in notes), notes
    assert view.rows in dic and dic[view.rows].is_categorical


def test_random_garbage_never_raises_and_always_gives_a_valid_view(dic, listed):
    rng = random.Random(11)
    keys = ["rows", "cols", "panel", "measure", "value", "wave", "missing", "ci", "weighted",
            "f.sex", "f.stage", "f.wemwbs", "f.", "f.'; DROP TABLE x; --", "x" * 500]
    alphabet = string.printable + "∅é\x00"
    names = dic.names + ["", "'", '"', "<script>alert(1)</script>", "1 OR 1=1", "∅", "9" * 300]
    for _ in range(500):
        params = {}
        for key in rng.sample(keys, rng.randint(1, 6)):
            params[key] = [rng.choice(names) if rng.random() < .6 else
                           "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
                           for _ in range(rng.randint(1, 40))]
        view, notes = parse(params, dic, listed)
        assert view.rows in dic and dic[view.rows].is_categorical
        for name, kept in view.filters:
            assert set(kept) <= set(listed(name)) | {MISSING}
        assert all(len(n) < 400 for n in notes)
