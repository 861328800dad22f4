"""The Need and services page's figures laid out for people and files: text for the screen, numbers for CSV/Excel.

Pure (no Streamlit), like `compare_tables`: every function takes a protected
result of `need`, `services_map` or `whatif` and returns a table or notes, so
the screen and the downloads show the same figures with the same markers.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rcs_viz.features.need import services as services_map, whatif
from rcs_viz.features.need.model import Fit
from rcs_viz.engine.sql.views import NO, YES
from rcs_viz.features.need.services import ALL_SECTORS, SUPPRESSED
from rcs_viz.output.tables import LOW_BASE, MARKERS, count_text

NEED_ROWS = {YES: "With the need", NO: "Without the need", None: "All"}
CONTACT_COLS = {YES: "Contact", NO: "No contact", None: "All"}
UNMET, UNASKED = "Need without contact", "Contact without need"
UNMET_COLOUR, UNASKED_COLOUR = "#F9D3BF", "#FCE6B8"  # light vermillion and orange, as in the charts


def _pct(value) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.1f}%"


def _count_pct(count, pct) -> str:
    """'2,044 (85.8%)'; '[c]' where the count is protected; '2,044 [b]' where its % may not be shown."""
    if count is None or pd.isna(count):
        return SUPPRESSED
    return f"{int(count):,} " + (f"({float(pct):.1f}%)" if not pd.isna(pct) else LOW_BASE)


def _ci(low, high) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{float(low):.1f}–{float(high):.1f}"


def square_display(f: Fit, code: str | None = None) -> pd.DataFrame:
    """The 2×2 with margins as text: counts with the % of each need row ('of those with the need')."""
    counts, pcts = f.square(code, "count"), f.square(code, "row_pct")
    out = pd.DataFrame(index=counts.index, columns=counts.columns, dtype=object)
    for r in counts.index:
        for c in counts.columns:
            n = counts.at[r, c]
            out.at[r, c] = count_text(n) if c == "All" else _count_pct(n, pcts.at[r, c])
    out.columns.name = None
    return out.reset_index()


def style_square(frame: pd.DataFrame):
    """The two cells the page is about, highlighted as in the charts."""
    def paint(table: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=table.index, columns=table.columns)
        css.iloc[0, 2] = f"background-color: {UNMET_COLOUR}; font-weight: bold"
        css.iloc[1, 1] = f"background-color: {UNASKED_COLOUR}; font-weight: bold"
        return css
    return frame.style.apply(paint, axis=None)


def breakdown_display(f: Fit) -> pd.DataFrame:
    """One row per category and All: the figures of the breakdown as text, markers where protected."""
    b = f.breakdown
    return pd.DataFrame({
        f.by_label or "Group": b["label"],
        "Pupils": b["pupils"].map(count_text),
        "With the need": [_count_pct(n, p) for n, p in zip(b["need"], b["need_pct"])],
        "With contact": [_count_pct(n, p) for n, p in zip(b["contact"], b["contact_pct"])],
        UNMET: [_count_pct(n, p) for n, p in zip(b["unmet"], b["unmet_pct"])],
        "95% CI": [_ci(lo, hi) for lo, hi in zip(b["unmet_low"], b["unmet_high"])],
        UNASKED: [_count_pct(n, p) for n, p in zip(b["unasked"], b["unasked_pct"])],
        "95% CI ": [_ci(lo, hi) for lo, hi in zip(b["unasked_low"], b["unasked_high"])],
    })


BREAKDOWN_HELP = {
    "With the need": "Pupils with the need, and in brackets their % of the group's pupils.",
    "With contact": "Pupils with a service contact, and in brackets their % of the group's pupils.",
    "Need without contact": "Pupils with the need and no service contact recorded (possible unmet need), and in "
                            "brackets their % of those with the need.",
    "Contact without need": "Pupils with a service contact and no reported need, and in brackets their % of those "
                            "with contact.",
}
BREAKDOWN_CAPTION = ("In brackets: with the need and with contact as a % of the group's pupils; need without "
                     "contact as a % of those with the need; contact without need as a % of those with contact. "
                     "95% CI: the range the % would probably fall in with a different set of pupils.")


def breakdown_tidy(f: Fit) -> pd.DataFrame:
    """The breakdown as numbers for files: blanks where protected."""
    b = f.breakdown
    out = pd.DataFrame({
        (f.by_label or "group"): b["label"], "pupils": b["pupils"],
        "with_need": b["need"], "with_need_pct": b["need_pct"],
        "with_contact": b["contact"], "with_contact_pct": b["contact_pct"],
        "need_without_contact": b["unmet"], "need_without_contact_pct_of_need": b["unmet_pct"],
        "need_without_contact_ci_low": b["unmet_low"], "need_without_contact_ci_high": b["unmet_high"],
        "contact_without_need": b["unasked"], "contact_without_need_pct_of_contact": b["unasked_pct"],
        "contact_without_need_ci_low": b["unasked_low"], "contact_without_need_ci_high": b["unasked_high"],
    })
    return _rounded(out)


def cells_tidy(f: Fit) -> pd.DataFrame:
    c = f.cells
    out = pd.DataFrame({
        (f.by_label or "group"): c["by_label"].where(c["by"].notna(), "All"),
        "need": [NEED_ROWS[k if isinstance(k, str) else None] for k in c["need"]],
        "service_contact": [CONTACT_COLS[k if isinstance(k, str) else None] for k in c["contact"]],
        "count": c["count"], "status": c["status"],
        "pct_of_need_row": c["row_pct"], "row_ci_low": c["row_low"], "row_ci_high": c["row_high"],
        "pct_of_contact_column": c["col_pct"], "col_ci_low": c["col_low"], "col_ci_high": c["col_high"],
    })
    return _rounded(out)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in frame.columns if frame[c].dtype.kind == "f"]
    frame[numeric] = frame[numeric].round(4)
    return frame.reset_index(drop=True)


def markers_used(*frames: pd.DataFrame) -> str:
    """The legend of the markers that appear in these tables."""
    text = " ".join(str(x) for fr in frames for x in fr.to_numpy().ravel())
    return " · ".join(f"{m} {meaning}" for m, meaning in MARKERS.items() if m in text)


def _produced() -> tuple[str, str]:
    return ("Produced", dt.datetime.now().strftime("%Y-%m-%d %H:%M") + " by RCS Explorer")


def fit_notes(f: Fit, source: str) -> list[tuple[str, str]]:
    ctx = f.context
    rows = [
        ("Data", ctx.dataset_title + (" (synthetic sample: not real statistics)" if ctx.synthetic else "")),
        ("Source file", source),
        ("View", "Need against service contact"),
        ("Need", f.need_text), ("Service contact", f.contact_text),
        ("Breakdown", f.by_label or "none"),
        ("Wave and filters", "; ".join(ctx.filters_text) or "none"),
        ("Need without contact", f.unmet_text()),
        ("Contact without reported need", f.unasked_text()),
        ("Disclosure rules", ctx.rules.describe()),
        ("Markers", "; ".join(f"{k} {v}" for k, v in MARKERS.items())),
        _produced(),
    ]
    return [(k, v) for k, v in rows if v != ""] + [("Note", n) for n in ctx.notes]


def money(x) -> str:
    return "" if x is None or pd.isna(x) else f"£{float(x):,.0f}"


def signed_money(x) -> str:
    return ("+" if x > 0 else "−") + money(abs(x))


def _served(children, marker) -> str:
    return SUPPRESSED if marker == SUPPRESSED or pd.isna(children) else f"{int(children):,}"


def _per_child(value, marker) -> str:
    if marker == SUPPRESSED:
        return SUPPRESSED
    return "" if pd.isna(value) else money(value)


def _summary_display(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """A by-tier or by-sector summary as text, protected children served shown as the marker."""
    return pd.DataFrame({
        by.capitalize(): frame[by], "Services": frame["services"],
        "Annual spend": frame["annual_spend_gbp"].map(money), "Share of spend": frame["spend_pct"].map(_pct),
        "Children served": [_served(n, m) for n, m in zip(frame["children_served"], frame["marker"])],
        "Spend per child": [_per_child(v, m) for v, m in zip(frame["spend_per_child"], frame["marker"])],
    })


def tier_display(tiers: pd.DataFrame) -> pd.DataFrame:
    return _summary_display(tiers, "tier")


def sector_display(sectors: pd.DataFrame) -> pd.DataFrame:
    return _summary_display(sectors, "sector")


def grid_display(tier_sector: pd.DataFrame) -> pd.DataFrame:
    """Spend by tier × sector with each tier's sector shares: which sectors carry each tier."""
    spend = services_map.grid(tier_sector, "annual_spend_gbp")
    share = services_map.grid(tier_sector, "tier_spend_pct")
    out = spend.copy().astype(object)
    for r in spend.index:
        for c in spend.columns:
            v = spend.at[r, c]
            out.at[r, c] = "" if pd.isna(v) else money(v) + ("" if c == ALL_SECTORS or pd.isna(share.at[r, c])
                                                              else f" ({share.at[r, c]:.0f}%)")
    out.index.name = "Tier"
    return out.reset_index()


def prevent_display(prevent: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Group": prevent["group"], "Tiers": prevent["tiers"], "Services": prevent["services"],
                         "Annual spend": prevent["annual_spend_gbp"].map(money),
                         "Share of spend": prevent["spend_pct"].map(_pct)})


def funders_display(shares: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Tier": shares["tier"], "Main funder": shares["funding_source"],
                         "Services": shares["services"], "Annual spend": shares["annual_spend_gbp"].map(money),
                         "Share of the tier's spend": shares["tier_spend_pct"].map(_pct)})


def service_list_display(services_: pd.DataFrame) -> pd.DataFrame:
    s = services_
    ages = [("" if pd.isna(a) else f"{int(a)}") + "–" + ("" if pd.isna(b) else f"{int(b)}")
            for a, b in zip(s["age_min"], s["age_max"])]
    return pd.DataFrame({
        "Tier": s["tier"], "Service": s["name"], "CPP": s["cpp"], "Sector": s["sector"],
        "Provider": s["provider_type"], "Ages": [a if a != "–" else "" for a in ages],
        "Children served": [_served(n, m) for n, m in zip(s["children_served"], s["marker"])],
        "Annual spend": s["annual_spend_gbp"].map(money),
        "Spend per child": [_per_child(v, m) for v, m in zip(s["spend_per_child"], s["marker"])],
        "Main funder": s["funding_source"],
    })


def services_tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """A services summary for files: numbers, blanks where protected, the marker column kept."""
    out = frame.copy()
    return _rounded(out)


def services_notes(source: str, synthetic: bool, where: str, threshold: int, notes=()) -> list[tuple[str, str]]:
    rows = [
        ("Data", "Services table" + (" (synthetic sample: fictional services, not real spend)" if synthetic else "")),
        ("Source file", source), ("Partnership", where),
        ("Children served", f"Counts of children served below {threshold}, zeros included, are protected ({SUPPRESSED}), "
                            "in every total too, with any count that would let one be worked out; no spend per "
                            "child is given beside a protected count."),
        ("Spend per child", "Spend ÷ children served: a cost per place, as a child using two services counts in "
                            "both."),
        ("Markers", "; ".join(f"{k} {v}" for k, v in services_map.MARKERS.items())),
        _produced(),
    ]
    return rows + [("Note", n) for n in notes]


def scenario_display(sc: whatif.Scenario) -> pd.DataFrame:
    t = sc.table
    known = t["cost_per_child"].notna()
    return pd.DataFrame({
        "Tier": t["tier"],
        "Spend now": t["spend_before"].map(money), "Spend after": t["spend_after"].map(money),
        "Change in spend": [signed_money(v) if v else "" for v in t["spend_change"]],
        "Cost per child": [money(v) if k else SUPPRESSED for v, k in zip(t["cost_per_child"], known)],
        "Reach now": [f"{v:,.0f}" if k else SUPPRESSED for v, k in zip(t["reach_before"], known)],
        "Reach after": [f"{v:,.0f}" if k else SUPPRESSED for v, k in zip(t["reach_after"], known)],
        "Change in reach": [(f"{v:+,.0f}" if abs(v) >= 0.5 else "0") if k else SUPPRESSED
                            for v, k in zip(t["reach_change"], known)],
    })


SCENARIO_CAPTION = ("Reach: children who could be served a year at the tier's cost per child (spend ÷ children "
                    "served in the table, a cost per place). " + SUPPRESSED + " no cost per child: the tier's "
                    "children served is protected or zero.")


def fiscal_display(fr: whatif.FiscalReturn) -> pd.DataFrame:
    t = fr.table()
    text = []
    for measure, value in zip(t["measure"], t["value"]):
        if pd.isna(value):
            text.append("— (the help costs nothing)")
        elif "(£" in measure:
            text.append(money(value))
        elif measure.startswith("Proportion") or measure == "Discount rate":
            text.append(f"{100 * value:.1f}%")
        elif measure == "Return per £1":
            text.append(f"£{value:,.2f}")
        elif measure == "Outcomes avoided":
            text.append(f"{value:,.1f}")
        else:
            text.append(f"{value:,.0f}")
    return pd.DataFrame({"Measure": t["measure"], "Value": text})


def whatif_notes(sc: whatif.Scenario, source: str, synthetic: bool, where: str,
                 fr: whatif.FiscalReturn | None) -> list[tuple[str, str]]:
    rows = [
        ("Data", "Services table" + (" (synthetic sample: fictional services, not real spend)" if synthetic else "")),
        ("Source file", source), ("Partnership", where), ("View", "Shift upstream: what if"),
        ("Caution", whatif.CAUTION),
        _produced(),
    ]
    rows += [("Assumption", a) for a in sc.assumptions]
    if fr is not None:
        rows += [("Cost-avoided assumption", a) for a in fr.assumptions]
    return rows


def assumptions_frame(sc: whatif.Scenario, fr: whatif.FiscalReturn | None) -> pd.DataFrame:
    rows = [("Shift", a) for a in sc.assumptions] + [("Cost avoided", a) for a in (fr.assumptions if fr else ())]
    return pd.DataFrame(rows, columns=["part", "assumption"])
