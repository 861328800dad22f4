"""Need against service contact: who has a need, who has contact with a service, and who has one without the other.

A need ("SDQ abnormal, or a young carer") and a service contact ("social work
contact, or looked after") are each a derived yes/no variable made from the
dictionary's own answers. One cross-tab of need × contact, optionally by a
breakdown (cluster, stage, sex, SIMD), goes through `service.crosstab`, so
every count shown has passed the disclosure gate and every percentage is
computed from protected counts by the same code as everywhere else. Two
figures are picked out:

- **need without contact** (possible unmet need): pupils with the need and no
  contact, as a % of those with the need;
- **contact without reported need**: pupils with contact and no need, as a %
  of those with contact.

A cell the gate hides stays hidden: no figure is worked out from it, and a
percentage whose base is hidden or under the minimum base is not shown.
Pupils whose answers cannot decide the need or the contact (not asked the
question, no answer) are left out of every figure, and the result says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from rcs_viz.engine import service
from rcs_viz.features.compare.model import Context
from rcs_viz.data.dictionary import MISSING, Dictionary
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import NO, YES, CrossTab, Flag, numeric_condition, QueryError

NEED, CONTACT = "__need", "__contact"
COMBINES = ("any", "all")
OP_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}
WELLBEING_CUTOFF = "<41"
CUTOFF_NOTE = ("A WEMWBS score below 41 is an illustrative cut-off for low wellbeing, "
               "not a clinical threshold: set one that suits local use.")
LINKED_NOTE = ("'No contact' means none recorded in the linked social work and education records: "
               "help from health, the third sector or school pastoral staff is not in these data, "
               "so need without contact is possible unmet need, not proof of it.")
UNDECIDED_NOTE = ("Pupils whose answers cannot decide the need or the contact (for example, not asked "
                  "the question) are left out of every figure.")
ANSWERED_NOTE = ("{what} is judged on the questions each pupil answered: a pupil not asked one of them (for "
                 "example, a primary pupil and a secondary-only scale) is decided by the others.")
PARTLY_ASKED = {
    "any": ("{what} combines conditions by 'any': a pupil with no answer to one of them (for example, a question "
            "asked of secondary pupils only) is counted only if another condition holds, and is otherwise left "
            "out, which can make {what_lower} look commoner than it is. Filter to the stages asked every question, "
            "or judge each pupil on the questions they answered."),
    "all": ("{what} combines conditions by 'all': a pupil with no answer to one of them is counted only if "
            "another condition already fails, and is otherwise left out. Filter to the stages asked every "
            "question to avoid this."),
}
NON_ANSWERS = ("prefer not", "don't know", "dont know", "do not know", "not sure", "refused")


@dataclass(frozen=True)
class Definition:
    """A need or a service contact: conditions on answers, combined by 'any' (or) or 'all' (and).

    A condition is (variable, codes kept) for a categorical variable, or
    (variable, ("<41",)) comparing a numeric one with a number.
    """

    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    combine: str = "any"
    answered_only: bool = False  # judge each pupil on the conditions they answered (see queries.Flag)

    def to_flag(self, name: str, label: str) -> Flag:
        return Flag(name, label, tuple((v, tuple(c)) for v, c in self.conditions), self.combine,
                    self.answered_only)

    def describe(self, dictionary: Dictionary) -> str:
        """In plain words: "SDQ total difficulties band is Abnormal, or Young carer is Yes"."""
        if not self.conditions:
            return "no conditions chosen"
        joiner = ", and " if self.combine == "all" else ", or "
        words = joiner.join(_condition_words(dictionary, name, codes) for name, codes in self.conditions)
        if self.answered_only and len(self.conditions) > 1:
            words += " (each pupil judged on the questions they answered)"
        return words

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.conditions)


def _condition_words(d: Dictionary, name: str, codes: tuple[str, ...]) -> str:
    var = d[name] if name in d else None
    label = var.label if var is not None else name
    if var is not None and not var.is_categorical and len(codes) == 1:
        compared = numeric_condition(codes[0])
        if compared is not None:
            op, number = compared
            return f"{label} {OP_WORDS[op]} {number:g}"
    words = [var.label_of(c) if var is not None else c for c in codes]
    if len(words) > 1:
        words = [", ".join(words[:-1]) + " or " + words[-1]]
    return f"{label} is {words[0]}" if words else f"{label} (no values chosen)"


# --------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """A named need or contact the dictionary supports, ready to pick or combine."""

    key: str
    label: str
    definition: Definition
    note: str = ""


@dataclass(frozen=True)
class Presets:
    needs: tuple[Preset, ...] = ()
    contacts: tuple[Preset, ...] = ()


def _find(d: Dictionary, names: tuple[str, ...], words: tuple[str, ...], categorical: bool | None = None):
    """A pupil variable by one of its usual names, else by words in its label."""
    pool = [v for v in d.variables if v.role is None
            and (categorical is None or v.is_categorical == categorical)]
    for name in names:
        hit = next((v for v in pool if v.name == name), None)
        if hit is not None:
            return hit
    return next((v for v in pool if all(w in v.label.lower() for w in words)), None)


def _codes_labelled(var, *labels: str) -> tuple[str, ...]:
    wanted = [w.lower() for w in labels]
    return tuple(c for c, lab in var.values if lab.strip().lower() in wanted)


def _yes(var) -> tuple[str, ...]:
    return tuple(var.positive) or _codes_labelled(var, "yes")


def presets(d: Dictionary) -> Presets:
    """Needs and contacts found in the dictionary: only those whose variables (and codes) exist."""
    needs, contacts = [], []
    sdq = _find(d, ("sdq_total_band",), ("sdq", "total", "band"), categorical=True)
    if sdq is not None and (abnormal := _codes_labelled(sdq, "abnormal", "high", "very high")):
        needs.append(Preset("sdq_abnormal", "SDQ abnormal", Definition(((sdq.name, abnormal),))))
    wemwbs = _find(d, ("wemwbs",), ("wemwbs",), categorical=False)
    if wemwbs is not None:
        needs.append(Preset("low_wellbeing", "Low wellbeing (WEMWBS below 41)",
                            Definition(((wemwbs.name, (WELLBEING_CUTOFF,)),)), CUTOFF_NOTE))
    home = _find(d, ("safe_home",), ("safe", "home"), categorical=True)
    if home is not None:
        unsafe = tuple(c for c, _ in home.values if c not in home.positive) if home.positive else \
            _codes_labelled(home, "sometimes", "rarely", "never", "hardly ever")
        if unsafe:
            needs.append(Preset("unsafe_home", "Not always safe at home", Definition(((home.name, unsafe),))))
    carer = _find(d, ("young_carer",), ("young carer",), categorical=True)
    if carer is not None and _yes(carer):
        needs.append(Preset("young_carer", "Young carer", Definition(((carer.name, _yes(carer)),))))
    for key, label, names, words in (
        ("sw_contact", "Social work contact", ("sw_contact", "social_work_contact"), ("social work", "contact")),
        ("looked_after", "Looked after (ever)", ("looked_after_ever", "looked_after"), ("looked after",)),
        ("cp_register", "Child protection register", ("cp_register",), ("child protection",)),
        ("asn", "Additional support needs recorded", ("asn",), ("additional support",)),
    ):
        var = _find(d, names, words, categorical=True)
        if var is not None and _yes(var):
            contacts.append(Preset(key, label, Definition(((var.name, _yes(var)),))))
    return Presets(tuple(needs), tuple(contacts))


# --------------------------------------------------------------------------- the fit


@dataclass(frozen=True)
class Figure:
    """One protected count with its percentage: None / NaN wherever the gate hides it."""

    count: int | None  # protected (perturbed) count; None when suppressed
    pct: float  # NaN when the count or its base is protected, or the base is under the minimum
    ci_low: float
    ci_high: float
    base: int | None  # the protected count the % is of; None when suppressed
    level: float = 0.95

    @property
    def shown(self) -> bool:
        return self.count is not None

    def words(self, of: str) -> str:
        """"412 pupils, 62% of those with the need (95% CI 58% to 66%)"; or why not."""
        if self.count is None:
            return "protected (a small count, or hidden so that one cannot be worked out)"
        text = f"{self.count:,} pupils"
        if math.isnan(self.pct):
            return text + f" (no % shown: the number of {of} is too small or protected)"
        text += f", {self.pct:.0f}% of {of}"
        if not (math.isnan(self.ci_low) or math.isnan(self.ci_high)):
            text += f" ({self.level:.0%} CI {self.ci_low:.0f}% to {self.ci_high:.0f}%)"
        return text


CELL_COLUMNS = ["by", "by_label", "need", "contact", "count", "status",
                "row_pct", "row_low", "row_high", "col_pct", "col_low", "col_high"]
BREAKDOWN_COLUMNS = ["code", "label", "pupils", "need", "need_pct", "contact", "contact_pct",
                     "unmet", "unmet_pct", "unmet_low", "unmet_high",
                     "unasked", "unasked_pct", "unasked_low", "unasked_high"]
SIDE = {YES: 0, NO: 1, None: 2}


@dataclass(frozen=True)
class Fit:
    """Need × contact, overall and per category of a breakdown, as the gate lets it be seen."""

    need_text: str  # the need in plain words
    contact_text: str
    by: str | None
    by_label: str | None
    cells: pd.DataFrame  # CELL_COLUMNS: every (category, need, contact) incl. margins (None = all)
    unmet: Figure  # need without contact, % of those with the need
    unasked: Figure  # contact without reported need, % of those with contact
    breakdown: pd.DataFrame  # BREAKDOWN_COLUMNS, one row per category in order, then "All" (code None)
    context: Context
    summary: dict = field(default_factory=dict)

    @property
    def definitions(self) -> tuple[str, str]:
        return (f"Need: {self.need_text}", f"Service contact: {self.contact_text}")

    def square(self, code: str | None = None, value: str = "count") -> pd.DataFrame:
        """The 2×2 with margins for one category (None: everyone): `value` is count, row_pct or col_pct."""
        c = self.cells[self.cells["by"].isna()] if code is None else self.cells[self.cells["by"].eq(code)]
        if c.empty:
            raise QueryError(f"'{code}' is not a category of {self.by_label or 'this breakdown'}")
        keys = (YES, NO, None)
        found = {(_key(n), _key(k)): v for n, k, v in zip(c["need"], c["contact"], c[value])}
        out = pd.DataFrame([[found.get((n, k)) for k in keys] for n in keys],
                           index=pd.Index(["With the need", "Without the need", "All"], name="Need"),
                           columns=pd.Index(["Contact", "No contact", "All"], name="Service contact"))
        return out.astype("Int64") if value == "count" else out.astype(float)

    def unmet_text(self) -> str:
        return "Need without contact: " + self.unmet.words("those with the need")

    def unasked_text(self) -> str:
        return "Contact without reported need: " + self.unasked.words("those with contact")


def fit(ds: Dataset, need: Definition, contact: Definition, by: str | None = None, filters=(),
        rules: Rules = Rules(), level: float = 0.95) -> Fit:
    """One cross-tab of need × contact (by a breakdown), through the disclosure gate; figures from its cells."""
    d = ds.dictionary
    for what, definition in (("need", need), ("service contact", contact)):
        if not isinstance(definition, Definition) or not definition.conditions:
            raise QueryError(f"choose at least one condition for the {what}")
    if by in (NEED, CONTACT):
        raise QueryError(f"'{by}' is not a variable to break down by")
    flags = (need.to_flag(NEED, "Need"), contact.to_flag(CONTACT, "Service contact"))
    decided = ((NEED, (YES, NO)), (CONTACT, (YES, NO)))  # undecided pupils left out; a breakdown keeps 'No answer'
    query = CrossTab(rows=NEED, cols=CONTACT, panel=by, filters=tuple(filters) + decided, flags=flags)
    by_row = service.crosstab(ds, query, "row_pct", rules, level)
    by_col = service.crosstab(ds, query, "col_pct", rules, level)
    a, b = by_row.cells, by_col.cells
    if not (a["count"].equals(b["count"]) and a["status"].equals(b["status"])):  # same cells, same gate
        raise RuntimeError("the two readings of one table disagree")
    cells = pd.DataFrame({
        "by": a["panel"], "by_label": a["panel_label"] if by else "All",
        "need": a["row"], "contact": a["col"],
        "count": a["count"].astype("Int64"), "status": a["status"],
        "row_pct": a["value"].astype(float), "row_low": a["ci_low"].astype(float),
        "row_high": a["ci_high"].astype(float),
        "col_pct": b["value"].astype(float), "col_low": b["ci_low"].astype(float),
        "col_high": b["ci_high"].astype(float),
    })[CELL_COLUMNS].reset_index(drop=True)
    order = list(dict.fromkeys(cells["by"]))  # the grid's own order: categories, No answer, then all
    cells = cells.assign(_o=[order.index(k) for k in cells["by"]],
                         _n=[SIDE[_key(k)] for k in cells["need"]],
                         _c=[SIDE[_key(k)] for k in cells["contact"]])
    cells = cells.sort_values(["_o", "_n", "_c"], kind="stable").drop(columns=["_o", "_n", "_c"])
    cells = cells.reset_index(drop=True)
    breakdown = _breakdown(cells, order)
    overall = breakdown.iloc[-1]
    unmet = _figure(overall, "unmet", "need", level)
    unasked = _figure(overall, "unasked", "contact", level)
    return Fit(need.describe(d), contact.describe(d), by, d[by].label if by else None, cells, unmet, unasked,
               breakdown, _context(d, need, contact, by if MISSING in order else None, filters, rules,
                                   by_row.summary), by_row.summary)


def _key(value) -> str | None:
    return value if isinstance(value, str) else None


def _cell(cells: pd.DataFrame, code, need, contact) -> pd.Series:
    def match(column, key):
        return cells[column].isna() if key is None else cells[column].eq(key)
    return cells[match("by", code) & match("need", need) & match("contact", contact)].iloc[0]


def _count(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _breakdown(cells: pd.DataFrame, order: list) -> pd.DataFrame:
    rows = []
    for code in order:
        total = _cell(cells, code, None, None)
        with_need = _cell(cells, code, YES, None)
        with_contact = _cell(cells, code, None, YES)
        unmet = _cell(cells, code, YES, NO)
        unasked = _cell(cells, code, NO, YES)
        rows.append({
            "code": code if isinstance(code, str) else None,
            "label": total["by_label"] if isinstance(code, str) else "All",
            "pupils": _count(total["count"]),
            "need": _count(with_need["count"]), "need_pct": with_need["col_pct"],  # of the category's pupils
            "contact": _count(with_contact["count"]), "contact_pct": with_contact["row_pct"],
            "unmet": _count(unmet["count"]), "unmet_pct": unmet["row_pct"],
            "unmet_low": unmet["row_low"], "unmet_high": unmet["row_high"],
            "unasked": _count(unasked["count"]), "unasked_pct": unasked["col_pct"],
            "unasked_low": unasked["col_low"], "unasked_high": unasked["col_high"],
        })
    out = pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)
    for column in ("pupils", "need", "contact", "unmet", "unasked"):
        out[column] = out[column].astype("Int64")
    for column in BREAKDOWN_COLUMNS[2:]:
        if column.endswith(("_pct", "_low", "_high")):
            out[column] = out[column].astype(float)
    return out


def _figure(row: pd.Series, name: str, base: str, level: float) -> Figure:
    return Figure(_count(row[name]), float(row[f"{name}_pct"]), float(row[f"{name}_low"]),
                  float(row[f"{name}_high"]), _count(row[base]), level)


def _context(d: Dictionary, need: Definition, contact: Definition, unanswered_by: str | None, filters,
             rules: Rules, summary: dict) -> Context:
    notes = [UNDECIDED_NOTE]
    if unanswered_by is not None:
        notes.append(f"Pupils with no answer for {d[unanswered_by].label} appear as 'No answer' in the breakdown "
                     "and are counted in the overall figures.")
    for what, definition in (("The need", need), ("The service contact", contact)):
        if len(definition.conditions) > 1:
            note = ANSWERED_NOTE if definition.answered_only else PARTLY_ASKED[definition.combine]
            notes.append(note.format(what=what, what_lower=what.lower()))
        for name, codes in definition.conditions:
            var = d[name] if name in d else None
            if var is None:
                continue
            wemwbs = not var.is_categorical and "wemwbs" in (name + var.label).lower()
            if wemwbs and tuple(codes) == (WELLBEING_CUTOFF,):
                notes.append(CUTOFF_NOTE)
            if var.is_categorical:
                set_aside = [lab for c, lab in var.values
                             if c not in codes and any(w in lab.lower() for w in NON_ANSWERS)]
                if set_aside:
                    notes.append(f"'{set_aside[0]}' to {var.label} counts as not meeting that condition, "
                                 "not as no answer.")
    notes.append(LINKED_NOTE)
    if summary.get("advice"):
        notes.append(summary["advice"])
    if d.synthetic:
        notes.append("Synthetic sample: fictional places and pupils, not real statistics.")
    return Context(d.title, d.synthetic, rules, service.describe_filters(d, filters),
                   tuple(dict.fromkeys(notes)))


def describe_definitions(d: Dictionary, need: Definition, contact: Definition) -> tuple[str, str]:
    """The two definitions in plain words, for the line above the results."""
    return (f"Need: {need.describe(d)}", f"Service contact: {contact.describe(d)}")


__all__ = ["BREAKDOWN_COLUMNS", "CELL_COLUMNS", "CONTACT", "Definition", "Figure", "Fit", "NEED", "Preset",
           "Presets", "describe_definitions", "fit", "presets"]

