"""The Need page's URL: round trips, and a tampered or stale link falls back with a note."""

from dataclasses import replace

import pytest

from rcs_viz.features.need.model import Definition
from rcs_viz.features.need.state import MAX_CONDITIONS, NeedView, default_view, encode, parse, to_params


def params(view: NeedView, default: NeedView) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in to_params(view, default).items()}


SDQ = (("sdq_total_band", ("3",)),)
SW = (("sw_contact", ("1",)),)


def test_default_is_sdq_abnormal_against_social_work_by_cluster_latest_wave(d, codes):
    view = default_view(d, codes)
    assert view.need == Definition(SDQ) and view.contact == Definition(SW)
    assert (view.by, view.wave, view.section) == ("cluster", "2019", "fit")
    assert (view.shift_from, view.shift_to) == ("Specialist / crisis", "Early help / targeted")
    assert parse({}, d, codes) == (view, [])
    assert to_params(view, view) == {}
    assert view.query_filters(d) == (("wave", ("2019",)),)


@pytest.mark.parametrize("change", [
    dict(need=Definition(SDQ + (("young_carer", ("1",)), ("wemwbs", ("<41",))))),
    dict(need=Definition(SDQ + (("wemwbs", ("<41",)),), answered_only=True)),
    dict(need=Definition(SDQ + (("safe_home", ("3", "4")),), "all"), contact=Definition(SW, "all")),
    dict(contact=Definition(SW + (("looked_after_ever", ("1",)), ("cp_register", ("1",)), ("asn", ("1",))))),
    dict(need=Definition((("wemwbs", ("<=40.5",)),)), by="simd", wave="2016"),
    dict(by=None, wave=None, filters=(("sex", ("2",)), ("stage", ("5", "6")))),
    dict(by="stage", filters=(("simd", ("1", "∅")),), section="services"),
    dict(section="whatif", shift_from="Intensive", shift_to="Universal", shift_pct=25, avoided_pct=7.5,
         outcome_cost=62_500.0, years=10),
    dict(shift_pct=0, avoided_pct=0.0, outcome_cost=0.0, years=50),
])
def test_a_view_survives_its_own_link(d, codes, change):
    default = default_view(d, codes)
    view = replace(default, **change)
    back, notes = parse(params(view, default), d, codes)
    assert notes == []
    assert back == view


def test_links_are_short_and_readable(d, codes):
    default = default_view(d, codes)
    view = replace(default, need=Definition(SDQ + (("safe_home", ("3", "4")), ("wemwbs", ("<41",)))),
                   by=None, section="whatif", outcome_cost=40_000.0)
    assert to_params(view, default) == {
        "need": ["sdq_total_band:3", "safe_home:3|4", "wemwbs:<41"], "by": "none", "sec": "whatif",
        "cost": "40000"}
    assert encode(Definition(SW)) == ["sw_contact:1"]


def test_codes_are_put_in_dictionary_order_and_numbers_written_plainly(d, codes):
    view, notes = parse({"need": ["safe_home:4|3", "wemwbs:< 41.0"]}, d, codes)
    assert notes == []
    assert view.need.conditions == (("safe_home", ("3", "4")), ("wemwbs", ("<41",)))


@pytest.mark.parametrize("link, words", [
    ({"need": ["nope:1"]}, "does not name a variable"),
    ({"need": ["sdq_total_band"]}, "does not name a variable"),
    ({"need": ["sdq_total_band:7"]}, "'7' is not one of its values"),
    ({"need": ["sdq_total_band:3' OR 1=1 --"]}, "is not one of its values"),
    ({"need": ["sdq_total_band:∅"]}, "'No answer' cannot be part"),
    ({"need": ["wemwbs:41"]}, "not a comparison with a number"),
    ({"need": ["wemwbs:<41; DROP TABLE respondents"]}, "not a comparison with a number"),
    ({"need": ["wemwbs:<nan"]}, "not a usable number"),
    ({"need": ["wemwbs:<inf"]}, "not a usable number"),
    ({"need": ["wemwbs:<1e999"]}, "not a usable number"),
    ({"need": ["wemwbs:<41|>60"]}, "not a comparison with a number"),
    ({"need": ["cluster:101"]}, "describes places or the survey"),
    ({"need": ["respondent_id:<5"]}, "describes places or the survey"),
    ({"need": ["sdq_total_band:3", "sdq_total_band:2"]}, "appeared twice"),
    ({"need": ["sdq_total_band:" + "3|" * 500]}, "too long to be real"),
    ({"contact": ["<script>alert(1)</script>:1"]}, "does not name a variable"),
    ({"need_all": ["yes"]}, "should be 0 or 1"),
    ({"by": ["wemwbs"]}, "cannot be a breakdown"),
    ({"by": ["respondent_id"]}, "cannot be a breakdown"),
    ({"by": ["'; DROP TABLE respondents; --"]}, "not a variable in this data"),
    ({"wave": ["1999"]}, "no wave '1999'"),
    ({"f.nope": ["1"]}, "not a variable to filter on"),
    ({"f.sex": ["7"]}, "unknown value"),
    ({"sec": ["admin"]}, "not a part of this page"),
    ({"from": ["Everything"]}, "not a tier"),
    ({"to": ["\x00Universal"]}, "not a tier"),
    ({"from": ["Universal"], "to": ["universal"]}, "from a tier to itself"),
    ({"shift": ["150"]}, "'shift' should be a whole % from 0 to 100"),
    ({"shift": ["12.5"]}, "'shift' should be a whole %"),
    ({"shift": ["-1"]}, "'shift' should be"),
    ({"avoid": ["NaN"]}, "'avoid' should be a % from 0 to 100"),
    ({"avoid": ["1e309"]}, "'avoid' should be"),
    ({"cost": ["inf"]}, "'cost' should be an amount"),
    ({"cost": ["1e12"]}, "'cost' should be an amount"),
    ({"cost": ["£50,000"]}, "'cost' should be an amount"),
    ({"years": ["0"]}, "'years' should be a whole number of years"),
    ({"years": ["51"]}, "'years' should be"),
    ({"years": ["2.5"]}, "'years' should be"),
    ({"zzz": ["1"]}, "unknown link setting"),
    ({"sec": ["fit", "whatif"]}, "more than once"),
])
def test_a_tampered_link_falls_back_with_a_note(d, codes, link, words):
    default = default_view(d, codes)
    view, notes = parse(link, d, codes)
    assert any(words in n for n in notes), notes
    assert isinstance(view, NeedView)
    # whatever was refused is the default again
    for key, field_name in (("by", "by"), ("wave", "wave"), ("sec", "section"), ("shift", "shift_pct"),
                            ("avoid", "avoided_pct"), ("cost", "outcome_cost"), ("years", "years")):
        if key in link and link[key][0] not in ("fit",):
            assert getattr(view, field_name) == getattr(default, field_name)


def test_a_need_with_no_usable_condition_falls_back_to_the_default(d, codes):
    default = default_view(d, codes)
    view, notes = parse({"need": ["nope:1", "wemwbs:bad"]}, d, codes)
    assert view.need == default.need
    assert any("No usable condition was left for the need" in n for n in notes)


def test_a_good_condition_survives_beside_a_bad_one(d, codes):
    view, notes = parse({"need": ["nope:1", "young_carer:1"], "contact": ["asn:1"], "contact_all": ["1"]},
                        d, codes)
    assert view.need.conditions == (("young_carer", ("1",)),)
    assert view.contact == Definition((("asn", ("1",)),), "all")
    assert len(notes) == 1


def test_a_huge_link_is_cut_down_with_a_note(d, codes):
    link = {"need": [f"sdq_total_band:{i % 3 + 1}" for i in range(10_000)],
            **{f"f.v{i}": ["1"] for i in range(100)}}
    view, notes = parse(link, d, codes)
    assert len(view.need.conditions) <= MAX_CONDITIONS
    assert any(f"first {MAX_CONDITIONS} conditions" in n for n in notes)
    assert any("Only the first" in n and "filters" in n for n in notes)


def test_notes_echo_untrusted_text_short_and_printable(d, codes):
    _, notes = parse({"need": ["\x1b[31m" + "x" * 150 + ":1"], "by": ["\n" * 10 + "y" * 300]}, d, codes)
    assert notes and all(n.isprintable() and len(n) < 300 for n in notes)


def test_a_tier_is_matched_whatever_its_case_and_spacing(d, codes):
    view, notes = parse({"from": ["  intensive "], "to": ["UNIVERSAL"]}, d, codes)
    assert notes == []
    assert (view.shift_from, view.shift_to) == ("Intensive", "Universal")
