"""Inequality measures on a deprivation gradient, from the quintile figures the gate let through.

The maths is `engine.fairness.inequality_measures` (ScotPHO's signs, PHE's
interval); this module decides when the measures may be given and says what
they mean in words that follow the indicator's polarity.

Only when every quintile is shown. Two reasons: a measure over four of five
quintiles misstates the gradient, and, more importantly for disclosure, the
SII and PAR are fixed weighted sums of the five figures, so with four shown
figures and the measures a reader could work back towards the hidden one.
So a protected quintile blanks every measure, and the result says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rcs_viz.engine import fairness

METHOD = ("SII: the modelled gap between the most and least deprived ends of a population-weighted least-squares "
          "line through the quintile figures against their relative rank (the midpoint of each quintile's share "
          "of pupils), signed as ScotPHO signs it: positive means higher among the more deprived (ScotPHO "
          "calculate_inequality_measures; Low & Low, J Public Health 2004). 95% interval: normal, from each "
          "quintile's own 95% interval, as the limit of PHEindicatormethods phe_sii's simulation. RII: SII ÷ the "
          "overall figure (the population-weighted mean of the quintiles), interval likewise. PAR: (overall − "
          "least deprived) ÷ overall, the share of the overall figure that would go if every quintile had the "
          "least deprived quintile's figure (ScotPHO); no interval. Ranges: most deprived − least deprived, and "
          "most ÷ least.")
COLUMNS = ["measure", "value", "ci_low", "ci_high", "reading"]


@dataclass(frozen=True)
class Measures:
    """The measures as rows (COLUMNS), or none with `reason` in words; `method` states how they were made."""

    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    reason: str = ""
    method: str = METHOD
    sii_reading: str = ""  # the one sentence a chart or a room needs

    @property
    def given(self) -> bool:
        return len(self.rows) > 0


def _direction(low: float, high: float) -> str | None:
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return None


def _judged(direction: str | None, polarity: str) -> str:
    """What "higher/lower among the more deprived" means for this indicator."""
    if direction is None:
        return "no clear gradient: the 95% interval includes zero"
    if polarity not in ("higher_is_better", "lower_is_better"):
        return f"{direction} among the more deprived"
    good = (direction == "higher") == (polarity == "higher_is_better")
    return f"{direction} among the more deprived: the more deprived fare {'better' if good else 'worse'}"


def _par_words(par: float, polarity: str) -> str:
    if par == 0 or pd.isna(par):
        return "the overall figure equals the least deprived quintile's"
    way = "lower" if par > 0 else "higher"
    words = f"the overall figure would be {abs(par) * 100:.1f}% {way} if every quintile had the least deprived's"
    if polarity in ("higher_is_better", "lower_is_better"):
        better = (way == "higher") == (polarity == "higher_is_better")
        words += f" ({'better' if better else 'worse'})"
    return words


def inequality(groups: pd.DataFrame, statistic: str, polarity: str, complete: bool = True,
               why_incomplete: str = "") -> Measures:
    """Measures across `groups` (the gradient's rows: label, base, value, ci_low, ci_high; most deprived first).

    `complete` False (a filter keeps only some quintiles) gives no measures, with `why_incomplete` as the reason.
    """
    if not complete:
        return Measures(reason=why_incomplete or "The inequality measures need every deprivation quintile.")
    if len(groups) < 3:
        return Measures(reason="The inequality measures need at least three deprivation groups.")
    hidden = list(groups.loc[groups["value"].isna() | groups["base"].isna(), "label"].astype(str))
    if hidden:
        which = ", ".join(hidden)
        return Measures(reason=(f"The inequality measures (SII, RII, PAR, ranges) are not given: {which} "
                                f"{'is' if len(hidden) == 1 else 'are'} protected. They need every quintile: "
                                "over the others they would misstate the gradient, and beside the shown figures "
                                "they could be worked back towards a hidden one."))
    rate = groups["value"].astype(float).to_numpy()
    m = fairness.inequality_measures(rate, groups["base"].astype(float).to_numpy(),
                                     groups["ci_low"].astype(float).to_numpy(),
                                     groups["ci_high"].astype(float).to_numpy())
    if np.isnan(m.sii):
        return Measures(reason="The inequality measures cannot be computed here: a quintile has no interval.")
    most, least = str(groups["label"].iloc[0]), str(groups["label"].iloc[-1])
    pts = " points" if statistic == "pct" else ""
    sii_words = _judged(_direction(float(m.sii_low), float(m.sii_high)), polarity)
    rows = [
        ("Absolute range", float(m.abs_range), np.nan, np.nan, f"{most} minus {least}, in{pts or ' units'}"),
        ("Relative range", float(m.rel_range), np.nan, np.nan, f"{most} ÷ {least}"),
        ("SII (slope index of inequality)", float(m.sii), float(m.sii_low), float(m.sii_high),
         f"modelled gap, most minus least deprived end{pts and ', in points'}: {sii_words}"),
        ("RII (relative index of inequality)", float(m.rii), float(m.rii_low), float(m.rii_high),
         f"the SII as a share of the overall figure: {float(m.rii) * 100:+.0f}% of it"),
        ("PAR (population attributable risk, %)", float(m.par) * 100, np.nan, np.nan, _par_words(float(m.par), polarity)),
        ("Overall (population-weighted)", float(m.overall), np.nan, np.nan, "the figure the RII and PAR divide by"),
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return Measures(rows=frame, sii_reading=f"SII {float(m.sii):+.1f}{pts} (95% CI {float(m.sii_low):+.1f} to "
                                            f"{float(m.sii_high):+.1f}): {sii_words}.")
