"""rcs_viz.features.need.whatif: shifting spend between tiers, and the cost-avoided estimate, worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rcs_viz.features.need import services as sm, whatif
from rcs_viz.features.need.services import NAMES, TIERS
from rcs_viz.features.need.whatif import WhatIfError, fiscal_return, shift_upstream

U, E, I, S = TIERS


def service(sid, tier, children, spend):
    return {"service_id": sid, "cpp": "Ardmore", "name": sid, "sector": "Education", "provider_type": "Council",
            "tier": tier, "age_min": 5, "age_max": 16, "children_served": children, "annual_spend_gbp": spend,
            "funding_source": "Council core"}


# Three tiers in use. Cost per child: Universal 30,000 / 400 = £75; Early help 60,000 / 100 = £600;
# Specialist 300,000 / 50 = £6,000. Intensive has no services, so no cost per child.
HAND = [service("U1", U, 100, 10_000), service("U2", U, 300, 20_000), service("E1", E, 40, 40_000),
        service("E2", E, 60, 20_000), service("S1", S, 20, 200_000), service("S2", S, 30, 100_000)]


def tiers(rows=HAND) -> pd.DataFrame:
    return sm.by_tier(pd.DataFrame(rows, columns=list(NAMES)))


def test_ten_percent_from_specialist_to_early_help_by_hand():
    sc = shift_upstream(tiers(), S, E, 10)
    # 10% of £300,000 = £30,000 moved: 30,000 / 6,000 = 5 fewer specialist places, 30,000 / 600 = 50 more early help.
    assert sc.moved_gbp == 30_000 and sc.reach_lost == 5 and sc.reach_gained == 50
    t = sc.table.set_index("tier")
    assert list(t.index) == list(TIERS)
    assert t.loc[S, "spend_after"] == 270_000 and t.loc[E, "spend_after"] == 90_000
    assert t.loc[U, "spend_change"] == 0
    assert t.loc[E, "cost_per_child"] == 600 and t.loc[S, "cost_per_child"] == 6_000
    assert t.loc[E, "reach_before"] == 100 and t.loc[E, "reach_after"] == 150 and t.loc[E, "reach_change"] == 50
    assert t.loc[S, "reach_before"] == 50 and t.loc[S, "reach_after"] == 45 and t.loc[S, "reach_change"] == -5
    assert t.loc[U, "reach_before"] == t.loc[U, "reach_after"] == 400
    assert math.isnan(t.loc[I, "reach_before"]) and t.loc[I, "cost_source"].startswith("not known")
    assert t["spend_after"].sum() == t["spend_before"].sum()  # money moves, none appears


def test_the_assumptions_are_written_out_beside_the_numbers():
    text = " ".join(shift_upstream(tiers(), S, E, 10).assumptions)
    assert "Moves 10% of Specialist / crisis spend (£30,000 of £300,000 a year) to Early help / targeted." in text
    assert "A child's place in Early help / targeted costs £600 a year (spend ÷ children served" in text
    assert "Reach = spend ÷ cost per child" in text
    assert "about 5 fewer children" in text and "about 50 more" in text
    assert "places, not people" in text
    assert whatif.CAUTION in text and "a scenario, not a forecast" in text


def test_an_entered_cost_per_child_replaces_the_tables():
    sc = shift_upstream(tiers(), S, E, 10, cost_per_child={E: 1_000})
    t = sc.table.set_index("tier")
    assert sc.reach_gained == 30 and t.loc[E, "reach_before"] == 60 and t.loc[E, "cost_source"] == "your figure"
    assert any("costs £1,000 a year (your figure)" in a for a in sc.assumptions)


def test_a_tier_without_a_cost_needs_one_entered():
    with pytest.raises(WhatIfError, match=r"Intensive has no cost per child .*is zero.*enter a cost per child"):
        shift_upstream(tiers(), S, I, 10)
    sc = shift_upstream(tiers(), S, I, 10, cost_per_child={I: 5_000})
    assert sc.reach_gained == 6 and sc.table.set_index("tier").loc[I, "reach_after"] == 6


def test_a_protected_count_gives_no_cost_per_child():
    # Intensive serves 6: protected, and Specialist (the smallest other tier) with it, or the
    # all-tiers total minus the other tiers would give the 6 back.
    rows = HAND + [service("I1", I, 6, 50_000)]
    t = tiers(rows).set_index("tier")
    assert list(t.loc[list(TIERS), "marker"]) == ["", "", "[c]", "[c]"]
    with pytest.raises(WhatIfError, match="Intensive has no cost per child .*its children served count is protected"):
        shift_upstream(tiers(rows), E, I, 10)
    sc = shift_upstream(tiers(rows), I, E, 12, cost_per_child={I: 5_000})
    # 12% of £50,000 = £6,000: 6,000 / 5,000 = 1.2 fewer intensive places, 6,000 / 600 = 10 more early help
    assert sc.moved_gbp == 6_000 and sc.reach_lost == pytest.approx(1.2) and sc.reach_gained == 10
    out = sc.table.set_index("tier")
    assert out.loc[I, "reach_before"] == 10  # 50,000 / 5,000: the entered cost, not the protected count
    assert math.isnan(out.loc[S, "reach_before"])


def test_moving_spend_downstream_is_said_plainly():
    sc = shift_upstream(tiers(), E, S, 50)
    assert sc.moved_gbp == 30_000 and sc.reach_lost == 50 and sc.reach_gained == 5
    assert "away from prevention" in sc.assumptions[0]


def test_nothing_moved_changes_nothing():
    sc = shift_upstream(tiers(), S, U, 0)
    assert sc.moved_gbp == 0 and (sc.table["reach_change"].fillna(0) == 0).all()


@pytest.mark.parametrize("args,kwargs,words", [
    ((S, E, 101), {}, "percent must be from 0 to 100"),
    ((S, E, -1), {}, "percent must be from 0 to 100"),
    ((S, E, float("nan")), {}, "percent must be"),
    ((S, E, "10"), {}, "percent must be a number"),
    ((S, S, 10), {}, "the same tier"),
    (("Crisis", E, 10), {}, "from_tier must be one of"),
    ((S, E, 10), {"cost_per_child": {E: 0}}, "must be more than 0"),
    ((S, E, 10), {"cost_per_child": {"Tier 2": 500}}, "a tier in cost_per_child must be one of"),
])
def test_bad_inputs_are_clear(args, kwargs, words):
    with pytest.raises(WhatIfError, match=words):
        shift_upstream(tiers(), *args, **kwargs)


def test_the_sample_shift_runs_for_every_cpp(sample_dir):
    table = sm.load_services(sample_dir / "services.csv").table
    for cpp in (None, "Glenvarrow", "Firthmuir", "Kinmorven"):
        sc = shift_upstream(sm.by_tier(table, cpp), S, E, 10)
        assert sc.reach_gained > sc.reach_lost > 0  # early help places cost less than specialist ones


# --------------------------------------------------------------------------- cost avoided

def test_fiscal_return_by_hand():
    r = fiscal_return(50, 30_000, proportion_avoided=0.1, unit_cost=40_000, years=1)
    # 50 x 10% = 5 outcomes avoided x £40,000 = £200,000; net £170,000; £6.67 per £1
    assert r.outcomes_avoided == 5 and r.costs_avoided == 200_000 and r.net == 170_000
    assert r.return_per_pound == pytest.approx(200 / 30)
    assert r.placeholders == ()
    assert not any("placeholder" in a for a in r.assumptions)
    assert whatif.CAUTION in r.assumptions


def test_fiscal_return_over_years_is_discounted():
    r = fiscal_return(50, 30_000, proportion_avoided=0.1, unit_cost=40_000, years=3, discount_rate=0.035)
    assert r.costs_avoided == pytest.approx(5 * 40_000 * (1 + 1 / 1.035 + 1 / 1.035 ** 2))
    assert any("discounted at 3.5% a year (the HM Treasury Green Book rate)" in a for a in r.assumptions)
    flat = fiscal_return(50, 30_000, proportion_avoided=0.1, unit_cost=40_000, years=3, discount_rate=0)
    assert flat.costs_avoided == 600_000


def test_placeholders_are_flagged_wherever_they_are_used():
    r = fiscal_return(50, 30_000)
    assert r.placeholders == ("proportion_avoided", "unit_cost")
    assert r.unit_cost == whatif.PLACEHOLDER_UNIT_COST and r.proportion_avoided == whatif.PLACEHOLDER_PROPORTION
    flagged = [a for a in r.assumptions if whatif.PLACEHOLDER in a]
    assert len(flagged) == 2 and all("not a real statistic" in a for a in flagged)
    only_one = fiscal_return(50, 30_000, unit_cost=61_000)
    assert only_one.placeholders == ("proportion_avoided",)
    assert any("£61,000 a year (your figure)" in a for a in only_one.assumptions)


def test_fiscal_return_table_and_a_free_intervention():
    r = fiscal_return(10, 0, proportion_avoided=0.5, unit_cost=1_000, outcome="an exclusion")
    assert math.isnan(r.return_per_pound) and r.net == 5_000
    t = r.table()
    assert list(t.columns) == ["measure", "value"] and len(t) == 10
    assert "Cost of an exclusion (£ a year)" in set(t["measure"])
    assert any(a.startswith("An exclusion costs £1,000 a year") for a in r.assumptions)


@pytest.mark.parametrize("kwargs,words", [
    ({"proportion_avoided": 1.5}, "proportion_avoided must be from 0 to 1"),
    ({"years": 0}, "years must be a whole number from 1 to 50"),
    ({"years": 2.5}, "years must be a whole number"),
    ({"unit_cost": -1}, "unit_cost must be 0 or more"),
    ({"discount_rate": 0.5}, "discount_rate must be from 0 to 0.2"),
    ({"outcome": " "}, "outcome must name"),
])
def test_fiscal_return_bad_inputs(kwargs, words):
    with pytest.raises(WhatIfError, match=words):
        fiscal_return(50, 30_000, **kwargs)
    with pytest.raises(WhatIfError, match="intervention_cost must be 0 or more"):
        fiscal_return(50, -5)
