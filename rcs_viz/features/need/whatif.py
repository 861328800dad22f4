"""Shift upstream: the arithmetic of moving spend from crisis services towards prevention.

A partnership considering such a move wants a rough sense of scale: how many
fewer places in one tier, how many more in another, and whether outcomes
avoided could repay it. The figures are only as good as the assumptions, so
every function returns its assumptions as plain sentences beside the numbers,
each of them something the user can change. Nothing here is a forecast.

Pure arithmetic on figures from ``rcs_viz.features.need.services.by_tier``; docs/services.md
explains the method and its caveats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcs_viz.features.need.services import TIERS

CAUTION = ("This is a scenario, not a forecast: it works through the assumptions listed, "
           "and is only as good as they are.")
PLACES = "Children served counts places, not people: a child using two services counts in both."
PLACEHOLDER = "an illustrative placeholder, not a real statistic: replace it with a local figure"

# Defaults for the cost-avoided estimate, so the page opens with something to edit.
# They are round, made-up numbers, flagged as placeholders wherever they are used.
PLACEHOLDER_PROPORTION = 0.05       # share of extra children whose costly outcome is avoided
PLACEHOLDER_UNIT_COST = 50_000.0    # £ a year of the outcome avoided
DEFAULT_OUTCOME = "a year in care"
DISCOUNT_RATE = 0.035               # HM Treasury Green Book discount rate (3.5% a year)
MAX_YEARS = 50


class WhatIfError(ValueError):
    """A scenario that cannot be worked out; the message says which input and why."""


@dataclass(frozen=True)
class Scenario:
    table: pd.DataFrame     # one row per tier: spend and reach before and after, cost per child and its source
    from_tier: str
    to_tier: str
    percent: float          # share of from_tier's spend moved, 0-100
    moved_gbp: float        # a year
    reach_lost: float       # fewer children reached in from_tier
    reach_gained: float     # more children reached in to_tier
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class FiscalReturn:
    extra_children: float
    proportion_avoided: float
    outcomes_avoided: float
    outcome: str
    unit_cost: float
    years: int
    discount_rate: float
    intervention_cost: float
    costs_avoided: float
    net: float
    return_per_pound: float  # NaN when the intervention costs nothing
    placeholders: tuple[str, ...]  # inputs left at an illustrative placeholder
    assumptions: tuple[str, ...]

    def table(self) -> pd.DataFrame:
        """The figures as rows to show or export beside the assumptions."""
        return pd.DataFrame({"measure": [
            "Extra children reached", "Proportion whose outcome is avoided", "Outcomes avoided",
            f"Cost of {self.outcome} (£ a year)", "Years each outcome is avoided", "Discount rate",
            "Cost of the extra help (£)", "Costs avoided (£)", "Net (£)", "Return per £1",
        ], "value": [
            self.extra_children, self.proportion_avoided, self.outcomes_avoided, self.unit_cost, self.years,
            self.discount_rate, self.intervention_cost, self.costs_avoided, self.net, self.return_per_pound,
        ]})


def _number(name: str, value, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise WhatIfError(f"{name} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        bound = f"from {low:g} to {high:g}" if math.isfinite(high) else f"{low:g} or more"
        raise WhatIfError(f"{name} must be {bound}, not {value:g}")
    return value


def _tier(name: str, value) -> str:
    if value not in TIERS:
        raise WhatIfError(f"{name} must be one of {'; '.join(TIERS)}, not {value!r}")
    return value


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def shift_upstream(tiers: pd.DataFrame, from_tier: str, to_tier: str, percent: float,
                   cost_per_child: Mapping[str, float] | None = None) -> Scenario:
    """Move `percent` of one tier's spend to another and see how many children each could reach.

    `tiers` is ``services_map.by_tier`` (for one CPP or all). A tier's cost per
    child is its spend / children served there, unless `cost_per_child` gives
    one; where the count is protected or zero the table gives none, and the
    two tiers involved then need one entered. Reach = spend / cost per child.
    """
    from_tier, to_tier = _tier("from_tier", from_tier), _tier("to_tier", to_tier)
    if from_tier == to_tier:
        raise WhatIfError("from_tier and to_tier are the same tier; choose two different tiers")
    share = _number("percent", percent, 0, 100) / 100
    overrides = dict(cost_per_child or {})
    for tier, cost in overrides.items():
        _tier("a tier in cost_per_child", tier)
        if _number(f"the cost per child for {tier}", cost) <= 0:
            raise WhatIfError(f"the cost per child for {tier} must be more than 0")
    base = tiers.set_index("tier")
    missing = [t for t in TIERS if t not in base.index]
    if missing:
        raise WhatIfError(f"the tier table has no row for {', '.join(missing)}; pass services_map.by_tier(...)")
    spend = {t: float(base.at[t, "annual_spend_gbp"]) for t in TIERS}
    cost, source = {}, {}
    for t in TIERS:
        if t in overrides:
            cost[t], source[t] = float(overrides[t]), "your figure"
        elif pd.notna(base.at[t, "spend_per_child"]):
            cost[t], source[t] = float(base.at[t, "spend_per_child"]), "spend ÷ children served in the table"
        else:
            cost[t], source[t] = math.nan, "not known: enter a cost per child"
    for t in (from_tier, to_tier):
        if math.isnan(cost[t]):
            why = "is protected" if base.at[t, "marker"] else "is zero"
            raise WhatIfError(f"{t} has no cost per child from the table (its children served count {why}); "
                              "enter a cost per child for it")
    moved = share * spend[from_tier]
    after = dict(spend)
    after[from_tier] -= moved
    after[to_tier] += moved
    table = pd.DataFrame({
        "tier": list(TIERS),
        "spend_before": [spend[t] for t in TIERS],
        "spend_after": [after[t] for t in TIERS],
        "spend_change": [after[t] - spend[t] for t in TIERS],
        "cost_per_child": [cost[t] for t in TIERS],
        "cost_source": [source[t] for t in TIERS],
        "reach_before": [spend[t] / cost[t] for t in TIERS],
        "reach_after": [after[t] / cost[t] for t in TIERS],
    })
    table["reach_change"] = table["reach_after"] - table["reach_before"]
    lost, gained = moved / cost[from_tier], moved / cost[to_tier]
    direction = TIERS.index(to_tier) < TIERS.index(from_tier)
    assumptions = [
        f"Moves {percent:g}% of {from_tier} spend ({_money(moved)} of {_money(spend[from_tier])} a year) "
        f"to {to_tier}" + ("." if direction else "; note this moves spend away from prevention, not towards it."),
        *(f"A child's place in {t} costs {_money(cost[t])} a year ({source[t]})." for t in (from_tier, to_tier)),
        "Reach = spend ÷ cost per child: each place added or lost costs what a place costs on average today "
        "(no savings or extra costs of scale, no set-up or closing-down costs, no wait before new places fill).",
        f"{from_tier} would reach about {lost:,.0f} fewer children a year and {to_tier} about {gained:,.0f} more. "
        f"This assumes the {lost:,.0f} are helped some other way, for instance by earlier help; in practice need "
        "for crisis services does not fall as soon as their spend does, and statutory duties must still be met.",
        PLACES,
        CAUTION,
    ]
    return Scenario(table, from_tier, to_tier, float(percent), moved, lost, gained, tuple(assumptions))


def fiscal_return(extra_children: float, intervention_cost: float, *, proportion_avoided: float | None = None,
                  unit_cost: float | None = None, years: int = 1, discount_rate: float = DISCOUNT_RATE,
                  outcome: str = DEFAULT_OUTCOME) -> FiscalReturn:
    """A rough cost-avoided estimate: the cost of extra help set against costly outcomes it might avoid.

    Of `extra_children` reached for `intervention_cost`, a proportion avoid an
    outcome costing `unit_cost` a year, for `years` years, discounted yearly
    (the first year undiscounted). Left out, `proportion_avoided` and
    `unit_cost` take round placeholder values that are flagged as such.
    """
    extra = _number("extra_children", extra_children)
    cost = _number("intervention_cost", intervention_cost)
    placeholders = []
    if proportion_avoided is None:
        proportion_avoided = PLACEHOLDER_PROPORTION
        placeholders.append("proportion_avoided")
    if unit_cost is None:
        unit_cost = PLACEHOLDER_UNIT_COST
        placeholders.append("unit_cost")
    p = _number("proportion_avoided", proportion_avoided, 0, 1)
    unit = _number("unit_cost", unit_cost)
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or not 1 <= years <= MAX_YEARS:
        raise WhatIfError(f"years must be a whole number from 1 to {MAX_YEARS}, not {years!r}")
    years = int(years)
    r = _number("discount_rate", discount_rate, 0, 0.2)
    if not isinstance(outcome, str) or not outcome.strip():
        raise WhatIfError("outcome must name the outcome avoided, e.g. 'a year in care'")
    outcome = outcome.strip()
    avoided = extra * p
    factor = sum((1 + r) ** -y for y in range(years))
    saved = avoided * unit * factor
    net = saved - cost
    per_pound = saved / cost if cost else math.nan
    flag = {k: f" ({PLACEHOLDER})" if k in placeholders else " (your figure)" for k in ("proportion_avoided",
                                                                                        "unit_cost")}
    assumptions = [
        f"The extra help reaches {extra:,.0f} more children for {_money(cost)}.",
        f"{p:.1%} of them avoid {outcome} they would otherwise have had{flag['proportion_avoided']}: "
        f"{avoided:,.1f} outcomes avoided.",
        f"{outcome[0].upper() + outcome[1:]} costs {_money(unit)} a year{flag['unit_cost']}.",
        f"Each outcome avoided saves that cost for {years} year{'s' if years > 1 else ''}"
        + (f", later years discounted at {r:.1%} a year" + (" (the HM Treasury Green Book rate)"
                                                             if r == DISCOUNT_RATE else "")
           if years > 1 else "") + ".",
        "The cost of the help is counted once, in the year it is given; any extra cost of it later is left out.",
        "Only this outcome is counted: other benefits (to health, education, justice, the child) and other costs "
        "are left out.",
        "Costs avoided are not cash released: a place in care not needed frees capacity, not a budget line, "
        "unless a service is actually reduced.",
        CAUTION,
    ]
    return FiscalReturn(extra, p, avoided, outcome, unit, years, r, cost, saved, net, per_pound,
                        tuple(placeholders), tuple(assumptions))


__all__ = ["CAUTION", "DISCOUNT_RATE", "FiscalReturn", "PLACEHOLDER", "PLACEHOLDER_PROPORTION",
           "PLACEHOLDER_UNIT_COST", "Scenario", "WhatIfError", "fiscal_return", "shift_upstream"]
