"""The Compare page's URL: round trips, and a tampered or stale link falls back with a note."""

from dataclasses import replace

import pytest

from rcs_viz.features.compare.state import CompareView, default_view, parse, to_params


def params(view: CompareView, default: CompareView) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in to_params(view, default).items()}


def test_default_is_clusters_of_the_first_cpp_in_the_latest_wave(d, codes):
    view = default_view(d, codes)
    assert (view.view, view.level, view.vs, view.cpp, view.wave) == ("rank", "cluster", "cpp", "1", "2019")
    assert view.unit == codes("cluster", (("cpp", ("1",)),))[0]
    assert parse({}, d, codes) == (view, [])
    assert to_params(view, view) == {}


@pytest.mark.parametrize("change", [
    dict(view="spine", level="school", unit="10101"),
    dict(view="rank", level="school", cluster="102", unit="10201", vs="previous", indicator="wemwbs"),
    dict(view="map", cpp="2", cluster="201", unit="201", wave="2016"),
    dict(view="funnel", level="school", cluster="102", unit="10201", vs="national", indicator="bullied"),
    dict(view="trend", indicator="bullied", filters=(("sex", ("2",)), ("stage", ("6", "7")))),
    dict(view="gradient", vs="national", filters=(("simd", ("1", "∅")),)),
])
def test_a_view_survives_its_own_link(d, codes, change):
    default = default_view(d, codes)
    view = replace(default, **change)
    back, notes = parse(params(view, default), d, codes)
    assert notes == []
    assert back == view


@pytest.mark.parametrize("link, words", [
    ({"view": ["pie"]}, "not a Compare view"),
    ({"ind": ["respondent_id"]}, "not an indicator"),
    ({"ind": ["<script>alert(1)</script>"]}, "not an indicator"),
    ({"level": ["street"]}, "not a level"),
    ({"vs": ["scotland"]}, "not a comparator"),
    ({"cpp": ["9"]}, "not a CPP"),
    ({"cluster": ["201"]}, "not a cluster of this CPP"),  # a cluster of another CPP
    ({"level": ["school"], "unit": ["20101"]}, "not a school here"),
    ({"wave": ["1999"]}, "no wave '1999'"),
    ({"f.school": ["10101"]}, "place controls"),
    ({"f.nope": ["1"]}, "not a variable to filter on"),
    ({"zzz": ["1"]}, "unknown link setting"),
    ({"view": ["rank", "map"]}, "more than once"),
])
def test_a_tampered_link_falls_back_with_a_note(d, codes, link, words):
    view, notes = parse(link, d, codes)
    assert any(words in n for n in notes), notes
    default = default_view(d, codes)
    (key, values), = list(link.items())[:1]
    field = {"ind": "indicator"}.get(key, key)
    if len(link) == 1 and field in ("view", "indicator", "level", "vs", "cpp", "cluster", "wave"):
        assert getattr(view, field) == (getattr(default, field) if len(values) == 1 else values[0])
    assert all(name != "school" for name, _ in view.filters)


def test_a_unit_left_over_from_another_cpp_gives_way_to_the_new_cpps_first(d, codes):
    view, notes = parse({"cpp": ["2"], "unit": ["101"]}, d, codes)
    assert view.cpp == "2" and view.unit == codes("cluster", (("cpp", ("2",)),))[0]
    assert notes
