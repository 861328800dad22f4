"""URL ↔ view: round trips, non-defaults only, and tampered links that never raise."""

import random
import string
from pathlib import Path

import pytest

from rcs_viz.data.dictionary import MISSING, read
from rcs_viz.features.explore.state import ExploreView, default_view, parse, to_params

D = read(Path(__file__).resolve().parents[2] / "data_samples" / "dictionary.yaml")


def codes(name):
    return [c for c, _ in D[name].values]


DEFAULT = default_view(D, codes)


def as_params(d):
    return {k: v if isinstance(v, list) else [v] for k, v in d.items()}


def test_default_is_a_pupil_characteristic_in_the_latest_wave():
    assert DEFAULT.rows == "sector" or D[DEFAULT.rows].role is None
    assert DEFAULT.wave == codes("wave")[-1]
    assert to_params(DEFAULT, DEFAULT) == {}


@pytest.mark.parametrize("view", [
    ExploreView(rows="sex", cols="simd", measure="row_pct", wave="2016", ci=True),
    ExploreView(rows="simd", cols="bullied", measure="row_pct", wave="2019", stacked=True),
    ExploreView(rows="simd", panel="sex", measure="mean", value="wemwbs", wave=None, missing=False),
    ExploreView(rows="bullied", cols="sex", measure="col_pct", weighted=True, wave="2019",
                filters=(("stage", ("5", "6")), ("sex", ("2", MISSING)))),
])
def test_round_trip(view):
    view = ExploreView(**{**view.__dict__, "filters": tuple(
        (n, tuple(c for c in codes(n) + [MISSING] if c in kept)) for n, kept in view.filters)})
    params = to_params(view, DEFAULT)
    back, notes = parse(as_params(params), D, codes)
    assert notes == []
    assert back == view


def test_only_non_defaults_are_written():
    view = ExploreView(rows=DEFAULT.rows, wave=DEFAULT.wave, ci=True)
    assert to_params(view, DEFAULT) == {"ci": "1"}


def test_query_adds_the_wave_as_a_filter():
    q = ExploreView(rows="sex", wave="2019", filters=(("simd", ("1",)),)).query(D)
    assert q.filters == (("wave", ("2019",)), ("simd", ("1",)))


def test_a_plain_link_has_no_notes():
    assert parse({"rows": ["sex"], "cols": ["simd"]}, D, codes)[1] == []


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
def test_tampered_links_fall_back_with_a_note(params, expect_note):
    view, notes = parse(params, D, codes)
    assert any(expect_note in n for n in notes), notes
    assert view.rows in D and D[view.rows].is_categorical


def test_random_garbage_never_raises_and_always_gives_a_valid_view():
    rng = random.Random(11)
    keys = ["rows", "cols", "panel", "measure", "value", "wave", "missing", "ci", "weighted",
            "f.sex", "f.stage", "f.wemwbs", "f.", "f.'; DROP TABLE x; --", "x" * 500]
    alphabet = string.printable + "∅é\x00"
    names = D.names + ["", "'", '"', "<script>alert(1)</script>", "1 OR 1=1", "∅", "9" * 300]
    for _ in range(500):
        params = {}
        for key in rng.sample(keys, rng.randint(1, 6)):
            params[key] = [rng.choice(names) if rng.random() < .6 else
                           "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
                           for _ in range(rng.randint(1, 40))]
        view, notes = parse(params, D, codes)
        assert view.rows in D and D[view.rows].is_categorical
        for name, kept in view.filters:
            assert set(kept) <= set(codes(name)) | {MISSING}
        assert all(len(n) < 400 for n in notes)
