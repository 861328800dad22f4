"""Need and services page via AppTest: each section from its link, showing exactly the library's protected figures."""

import io
import re

import pandas as pd
import pytest

from rcs_viz import config
from rcs_viz.features.need import model as need, services as services_map, state as need_state, whatif
from rcs_viz.output import export
from rcs_viz.engine import service
from rcs_viz.ui.controls import need as nc
from rcs_viz.features.need import tables as nt

PAGE = "need.py"
TIMEOUT = 120
CFG = config.load()
THRESHOLD = CFG.rules.threshold
SERVICES = services_map.load_services(CFG.services).table
UNMET_COLUMN = "Need without contact"
SDQ = need.Definition((("sdq_total_band", ("3",)),))
SW = need.Definition((("sw_contact", ("1",)),))


def table(at, columns_start: str) -> pd.DataFrame:
    """The dataframe on screen whose first column is headed `columns_start`."""
    for frame in at.dataframe:
        value = frame.value
        if hasattr(value, "data"):  # a Styler
            value = value.data
        if str(value.columns[0]).startswith(columns_start):
            return value.reset_index(drop=True)
    raise AssertionError(f"no table headed {columns_start!r}: {[list(f.value.columns)[:2] for f in at.dataframe]}")


def small_counts(at) -> list[str]:
    """Counts of pupils or children under the threshold in any table on screen.

    Money, %, numbers of services and the what-if's arithmetic (a change of 0 children) are not counts of people.
    """
    bad = []
    for frame in at.dataframe:
        value = frame.value
        for column in value.columns[1:]:
            name = str(column)
            if name in ("Services", "Required", "Example", "Ages", "Change", "Value") \
                    or name.startswith(("Annual", "Spend", "Share", "Cost", "Change in", "95%")):
                continue
            for text in value[column].astype(str):
                match = re.match(r"^([\d,]+)( |$)", text.strip())
                if match and int(match.group(1).replace(",", "")) < THRESHOLD:
                    bad.append(f"{name}: {text}")
    return bad


def qp(at, key: str) -> list[str]:
    """A link setting as a list, however AppTest holds it."""
    value = at.query_params[key]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def fit_of(ds, view):
    return need.fit(ds, view.need, view.contact, view.by, view.query_filters(ds.dictionary), CFG.rules)


def codes_of(ds):
    return lambda name, within=(): service.categories(ds, name, within)


# --------------------------------------------------------------------------- need against contact


def test_default_view_shows_the_library_fit_in_plain_words(ds, run, plain):
    at = run({})
    view = need_state.default_view(ds.dictionary, codes_of(ds))
    fit = fit_of(ds, view)
    pd.testing.assert_frame_equal(table(at, "Need"), nt.square_display(fit))
    pd.testing.assert_frame_equal(table(at, "School cluster"), nt.breakdown_display(fit))
    words = " ".join(m.value for m in at.markdown)
    assert "**Need:** SDQ total difficulties band is Abnormal" in words
    assert "**Service contact:** Social work contact is Yes" in words
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Need without contact (possible unmet need)"] == f"{fit.unmet.pct:.0f}%"
    assert metrics["Contact without reported need"] == f"{fit.unasked.pct:.0f}%"
    captions = plain(" ".join(c.value for c in at.caption))
    assert fit.unmet_text() in captions and fit.unasked_text() in captions
    assert need.LINKED_NOTE in captions
    assert at.segmented_control(key="n_sec").value == "fit"
    assert not small_counts(at)
    assert not at.warning


def test_a_combined_need_by_sex_with_filters_from_a_link(ds, run):
    link = {"need": ["sdq_total_band:3", "young_carer:1"], "contact": ["sw_contact:1", "looked_after_ever:1"],
            "contact_all": "1", "by": "sex", "f.stage": ["5", "6", "7", "8"], "wave": "all"}
    at = run(link)
    view, notes = need_state.parse({k: v if isinstance(v, list) else [v] for k, v in link.items()},
                                   ds.dictionary, codes_of(ds))
    assert not notes
    fit = fit_of(ds, view)
    pd.testing.assert_frame_equal(table(at, "Sex"), nt.breakdown_display(fit))
    pd.testing.assert_frame_equal(table(at, "Need"), nt.square_display(fit))
    words = " ".join(m.value for m in at.markdown)
    assert "Young carer is Yes" in words and "Social work contact is Yes, and Ever looked after is Yes" in words
    assert at.multiselect(key="n_need").value == ["sdq_total_band:3", "young_carer:1"]
    assert at.toggle(key="n_contact_all").value is True
    assert not small_counts(at)


def test_defining_a_need_with_the_widgets_writes_the_link(ds, run):
    at = run({})
    at.multiselect(key="n_need").set_value(["young_carer:1", "safe_home:3|4"]).run()
    assert qp(at, "need") == ["young_carer:1", "safe_home:3|4"]
    at.toggle(key="n_need_all").set_value(True).run()
    assert qp(at, "need_all") == ["1"]
    at.selectbox(key="n_by").set_value("simd").run()
    assert qp(at, "by") == ["simd"]
    assert not at.exception
    view, _ = need_state.parse({k: qp(at, k) for k in at.query_params}, ds.dictionary, codes_of(ds))
    assert view.need.conditions == (("young_carer", ("1",)), ("safe_home", ("3", "4")))
    pd.testing.assert_frame_equal(table(at, "SIMD"), nt.breakdown_display(fit_of(ds, view)))
    words = " ".join(m.value for m in at.markdown)
    assert "**Need:** " + view.need.describe(ds.dictionary) in words and ", and " in view.need.describe(ds.dictionary)


def test_a_condition_of_ones_own_joins_the_need(run, plain):
    at = run({})
    at.selectbox(key="n_add_var").set_value("wemwbs").run()
    at.selectbox(key="n_add_op").set_value("<").run()
    at.number_input(key="n_add_num").set_value(35).run()
    at.button(key="n_add").click().run()
    assert not at.exception
    assert qp(at, "need") == ["sdq_total_band:3", "wemwbs:<35"]
    words = plain(" ".join(m.value for m in at.markdown))
    assert "SDQ total difficulties band is Abnormal, or Mental wellbeing (WEMWBS, 14-70) below 35" in words


def test_a_filter_leaving_few_pupils_protects_rather_than_shows(ds, run):
    at = run({"f.sex": ["3"], "f.stage": ["1"], "by": "cluster"})
    assert not small_counts(at)
    text = " ".join(w.value for w in at.warning) + " ".join(str(f.value.to_numpy()) for f in at.dataframe)
    assert "[c]" in text or "too few" in text


# --------------------------------------------------------------------------- services map


def test_services_section_shows_the_library_summaries_and_says_synthetic(run):
    at = run({"sec": "services"})
    tiers = services_map.by_tier(SERVICES, None, THRESHOLD)
    pd.testing.assert_frame_equal(table(at, "Tier").iloc[:5], nt.tier_display(tiers), check_dtype=False)
    pd.testing.assert_frame_equal(table(at, "Sector"), nt.sector_display(services_map.by_sector(SERVICES, None,
                                                                                                THRESHOLD)),
                                  check_dtype=False)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Annual spend"] == "£66,626,200"
    prevent = services_map.preventative_share(SERVICES)
    assert metrics["Spent on prevention"] == f"{prevent['spend_pct'].iloc[0]:.0f}%"
    assert "Synthetic sample — fictional services" in " ".join(m.value for m in at.markdown)
    listed = next(f.value for f in at.dataframe if "Service" in f.value.columns)
    assert (listed["Children served"] == "[c]").any(), "the sample's small services are protected"
    assert not small_counts(at)
    labels = [b.label for b in at.get("download_button")]
    assert "Blank template (CSV)" in labels and "Blank template (Excel)" in labels


def test_one_partnership_from_the_cpp_filter_and_the_picker(run):
    at = run({"sec": "services", "f.cpp": "1"})
    pd.testing.assert_frame_equal(table(at, "Tier").iloc[:5],
                                  nt.tier_display(services_map.by_tier(SERVICES, "Glenvarrow", THRESHOLD)),
                                  check_dtype=False)
    assert at.selectbox(key="n_scope").value == "1"
    at.selectbox(key="n_scope").set_value("2").run()
    assert qp(at, "f.cpp") == ["2"] and qp(at, "sec") == ["services"]
    pd.testing.assert_frame_equal(table(at, "Tier").iloc[:5],
                                  nt.tier_display(services_map.by_tier(SERVICES, "Firthmuir", THRESHOLD)),
                                  check_dtype=False)
    at.selectbox(key="n_scope").set_value(nc.ALL_CPPS).run()
    assert "f.cpp" not in at.query_params


GOOD = ("service_id,cpp,name,sector,provider_type,tier,age_min,age_max,children_served,annual_spend_gbp,"
        "funding_source\n"
        "A1,Glenvarrow,=HYPERLINK(\"x\"),Education,Council,Universal,5,12,400,40000,Council core\n"
        "A2,Glenvarrow,Family support,Social work,Council,Early help,0,17,60,120000,Council core\n"
        "A3,Glenvarrow,Crisis team,Social work,Council,Specialist,0,17,4,90000,Council core\n"
        "A4,Glenvarrow,Residential care,Social work,Council,Specialist / crisis,8,17,25,900000,Council core\n"
        "A5,Glenvarrow,Youth work,Third sector,Voluntary organisation,Intensive,10,17,80,160000,Lottery\n").encode()
BAD = b"service_id,cpp,name,tier,children_served,annual_spend_gbp\nB1,Glenvarrow,X,Sideways,-3,lots\n"


def test_an_uploaded_table_replaces_the_sample_and_a_bad_one_changes_nothing(run, plain):
    at = run({"sec": "services"})
    at.file_uploader(key="n_upload").set_value(("ours.csv", GOOD, "text/csv")).run()
    assert not at.exception
    ours = services_map.load_services(GOOD, "ours.csv").table
    tiers = services_map.by_tier(ours, None, THRESHOLD)
    shown = table(at, "Tier").iloc[:5]
    pd.testing.assert_frame_equal(shown, nt.tier_display(tiers), check_dtype=False)
    listed = next(f.value for f in at.dataframe if "Service" in f.value.columns).set_index("Service")
    assert listed.at["Crisis team", "Children served"] == "[c]", "4 children served is protected"
    assert (listed["Children served"] == "[c]").sum() >= 2, "and a partner, so that it cannot be worked out"
    assert "=HYPERLINK" in " ".join(listed.index)  # on screen as typed; exports neutralise it
    assert not small_counts(at)
    assert "Synthetic sample — fictional services" not in " ".join(m.value for m in at.markdown)
    assert any("ours.csv" in plain(c.value) for c in at.caption)

    at.file_uploader(key="n_upload").set_value(("bad.csv", BAD, "text/csv")).run()
    assert not at.exception
    errors = plain(" ".join(e.value for e in at.error))
    assert "bad.csv could not be used" in errors and "Sideways" in errors
    pd.testing.assert_frame_equal(table(at, "Tier").iloc[:5], nt.tier_display(tiers), check_dtype=False)

    at.button(key="n_forget").click().run()
    pd.testing.assert_frame_equal(table(at, "Tier").iloc[:5],
                                  nt.tier_display(services_map.by_tier(SERVICES, None, THRESHOLD)),
                                  check_dtype=False)


def test_exports_hold_the_screens_figures_with_formulas_neutralised(ds):
    ours = services_map.load_services(GOOD, "ours.csv")
    listed = services_map.service_list(ours.table, None, THRESHOLD)
    book = export.workbook({"Services": nt.services_tidy(listed)},
                           nt.services_notes(ours.source, False, "All", THRESHOLD, ours.notes))
    sheet = pd.read_excel(io.BytesIO(book), sheet_name="Services")
    assert sheet["name"].iloc[0] == "'=HYPERLINK(\"x\")"
    crisis = sheet[sheet["service_id"].eq("A3")].iloc[0]
    assert pd.isna(crisis["children_served"]) and crisis["marker"] == "[c]" and pd.isna(crisis["spend_per_child"])
    notes = pd.read_excel(io.BytesIO(book), sheet_name="Notes", header=None)
    assert "protected" in " ".join(notes[1].astype(str))
    csv = pd.read_csv(io.BytesIO(export.frame_csv(nt.services_tidy(listed))))
    assert csv["name"].iloc[0].startswith("'=")

    view = need_state.default_view(ds.dictionary, codes_of(ds))
    fit = fit_of(ds, view)
    tidy, shown = nt.breakdown_tidy(fit), nt.breakdown_display(fit)
    hidden = shown[UNMET_COLUMN].eq("[c]")
    assert hidden.any() and tidy.loc[hidden, "need_without_contact"].isna().all()
    book = export.workbook({"Breakdown": tidy, "Cells": nt.cells_tidy(fit)}, nt.fit_notes(fit, "respondents"))
    notes = dict(pd.read_excel(io.BytesIO(book), sheet_name="Notes", header=None).iloc[:, :2].values)
    assert notes["Need"] == "SDQ total difficulties band is Abnormal" and "synthetic" in notes["Data"]


# --------------------------------------------------------------------------- the what-if


def test_whatif_shows_the_library_scenario_with_its_assumptions(run, plain):
    at = run({"sec": "whatif", "from": "Intensive", "to": "Universal", "shift": "30", "cost": "60000", "years": "3"})
    scenario = whatif.shift_upstream(services_map.by_tier(SERVICES, None, THRESHOLD), "Intensive", "Universal", 30)
    pd.testing.assert_frame_equal(table(at, "Tier"), nt.scenario_display(scenario))
    fr = whatif.fiscal_return(scenario.reach_gained, scenario.moved_gbp, unit_cost=60000.0, years=3)
    pd.testing.assert_frame_equal(table(at, "Measure"), nt.fiscal_display(fr))
    words = plain(" ".join(m.value for m in at.markdown))
    for sentence in scenario.assumptions + fr.assumptions:
        assert sentence in words
    warnings = " ".join(w.value for w in at.warning)
    assert whatif.CAUTION in warnings and "placeholder" in warnings  # the proportion is still the placeholder
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Universal"] == f"{scenario.reach_gained:+,.0f}"
    assert metrics["Intensive"] == f"{-scenario.reach_lost:+,.0f}"


def test_moving_spend_with_the_widgets_writes_the_link(run):
    at = run({"sec": "whatif"})
    at.slider(key="n_shift").set_value(25).run()
    assert qp(at, "shift") == ["25"] and qp(at, "sec") == ["whatif"]
    at.selectbox(key="n_from").set_value("Early help / targeted").run()  # the 'to' tier: the two swap
    assert qp(at, "from") == ["Early help / targeted"] and qp(at, "to") == ["Specialist / crisis"]
    at.number_input(key="n_avoid").set_value(7.5).run()
    assert qp(at, "avoid") == ["7.5"]
    scenario = whatif.shift_upstream(services_map.by_tier(SERVICES, None, THRESHOLD), "Early help / targeted",
                                     "Specialist / crisis", 25)
    pd.testing.assert_frame_equal(table(at, "Tier"), nt.scenario_display(scenario))
    assert any("away from prevention" in m.value for m in at.markdown)


def test_a_tier_without_a_cost_per_child_gets_a_plain_warning(run):
    small = ("service_id,cpp,name,tier,children_served,annual_spend_gbp\n"
             "A1,Ayr,Sport,Universal,500,50000\nA2,Ayr,Family help,Early help,80,90000\n"
             "A3,Ayr,Youth work,Intensive,40,120000\nA4,Ayr,Crisis,Specialist,4,200000\n").encode()
    at = run({"sec": "services"})
    at.file_uploader(key="n_upload").set_value(("small.csv", small, "text/csv")).run()
    at.segmented_control(key="n_sec").set_value("whatif").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "This move cannot be worked out" in warnings and "protected" in warnings
    assert not small_counts(at) and "£50,000 a year" not in " ".join(m.value for m in at.markdown)


def test_switching_sections_keeps_the_need(run):
    at = run({"need": "young_carer:1"})
    at.segmented_control(key="n_sec").set_value("whatif").run()
    assert qp(at, "sec") == ["whatif"] and qp(at, "need") == ["young_carer:1"]
    at.segmented_control(key="n_sec").set_value("fit").run()
    assert "sec" not in at.query_params and qp(at, "need") == ["young_carer:1"]


# --------------------------------------------------------------------------- tampered links


@pytest.mark.parametrize("link", [
    {"need": "nope:1", "by": "respondent_id"},
    {"need": ["sdq_total_band:∅", "wemwbs:<<41", "cpp:1"], "contact": "x" * 500},
    {"sec": "<script>", "from": "Nowhere", "to": "Universal", "shift": "150"},
    {"sec": "whatif", "from": "Universal", "to": "Universal", "cost": "-1", "years": "1e309"},
    {"sec": "services", "f.cpp": "9", "avoid": "NaN", "zzz": "1"},
    {"wave": "1999", "f.wemwbs": "1", "need_all": "yes", "by": "wemwbs"},
], ids=lambda link: "&".join(sorted(link))[:40])
def test_a_tampered_link_gets_a_note_and_no_traceback(link, run):
    at = run(link)
    notes = " ".join(w.value for w in at.warning)
    assert "Parts of this link could not be used" in notes
    assert not small_counts(at)


def test_judging_on_the_questions_answered_is_one_toggle_kept_in_the_link(ds, run):
    at = run({"need": ["sdq_total_band:3", "wemwbs:<41"]})
    at.toggle(key="n_need_answered").set_value(True).run()
    assert qp(at, "need_answered") == ["1"]
    view, _ = need_state.parse({k: qp(at, k) for k in at.query_params}, ds.dictionary, codes_of(ds))
    assert view.need.answered_only
    words = " ".join(m.value for m in at.markdown)
    assert "judged on the questions they answered" in words


def test_the_presented_need_square_has_no_row_numbers(run):
    """On a projector the 2×2 is a plain table (st.table of a styled frame): its first column names the rows, and
    no 0/1 index is drawn beside it."""
    at = run({"present": "1"})
    square = next(t for t in at.table if str(t.value.columns[0]).startswith("Need"))
    assert square.proto.hide_index, "the 2×2's 0, 1 row numbers are hidden"
