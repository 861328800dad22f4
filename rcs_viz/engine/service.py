"""What pages, exports and the CLI call: a question in, a protected table out.

This is the one route from the data to any output: build the query, run it,
fill the grid, pass every cell through the disclosure gate, and only then
compute percentages, means and intervals from what the gate let through.
True counts are dropped here; nothing downstream ever sees them.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from rcs_viz.engine import db
from rcs_viz.engine.disclosure import gate as disclosure
from rcs_viz.engine.sql import views
from rcs_viz.engine import stats
from rcs_viz.engine.stats import MEASURES
from rcs_viz.data.dictionary import MISSING, Dictionary, Variable
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.disclosure.ledger import COLUMNS as LEDGER_COLUMNS, Ledger
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import NO, PTABLE_SIZE, YES, CrossTab, Flag, QueryError

DERIVED = "derived"  # the role of a flag made in a view; a data file's dictionary cannot claim it

PERCENT_BASES = {"row_pct": ("panel", "row"), "col_pct": ("panel", "col"), "total_pct": ("panel",)}
DIMS = ("panel", "row", "col")
SUM_COLUMNS = ("w_sum", "w_sumsq", "v_n", "v_sum", "v_sumsq", "vw_sum", "vw_sumsq", "vw_ysum", "vw_yysum")


@dataclass(frozen=True)
class Protected:
    """A disclosure-controlled table: the only shape in which data leaves this package.

    `cells` holds, per cell: the keys (codes) and labels of panel/row/col
    (None and "All" for margins), `count` (perturbed, or <NA> when
    suppressed), `value`, `ci_low`, `ci_high` (NaN when protected), `status`
    and `reason`. It holds no true count.
    """

    query: CrossTab
    measure: str
    cells: pd.DataFrame
    rules: Rules
    summary: dict
    dataset_title: str
    synthetic: bool
    filters_text: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    titles: dict = field(default_factory=dict)  # variable name → its label, for headings

    def _title(self, name: str | None) -> str | None:
        return self.titles.get(name, name) if name else None

    @property
    def row_title(self) -> str:
        return self._title(self.query.rows)

    @property
    def col_title(self) -> str | None:
        return self._title(self.query.cols)

    @property
    def panel_title(self) -> str | None:
        return self._title(self.query.panel)

    @property
    def measure_label(self) -> str:
        if self.measure in ("mean", "median"):
            return f"{MEASURES[self.measure]} of {self._title(self.query.value)}"
        return MEASURES[self.measure]


def schema(dataset: Dataset) -> dict[str, str]:
    """The allowlist: dictionary variables that exist in the loaded table (or a view derives), with their types."""
    derived = {v.name: "VARCHAR" for v in dataset.dictionary.variables if v.role == DERIVED}
    return _schema(dataset.db_path, dataset.dictionary) | derived


@lru_cache(maxsize=16)
def _schema(db_path: Path, dictionary: Dictionary) -> dict[str, str]:
    sql, params = views.columns()
    types = dict(db.run(db_path, sql, params).itertuples(index=False, name=None))
    return {name: types[name] for name in dictionary.names if name in types}


def with_flags(dataset: Dataset, flags: tuple[Flag, ...]) -> Dataset:
    """The dataset as a view sees it: its dictionary plus the view's derived yes/no variables.

    Each flag's conditions are checked against the real variables first, so a
    tampered definition is refused in words before any SQL is written.
    """
    if not flags:
        return dataset
    d = dataset.dictionary
    allowed = schema(dataset)
    for flag in flags:
        if flag.name in d:
            raise QueryError(f"'{flag.name}' is already a variable: give the derived one another name")
        for name, codes in flag.conditions:
            if name not in allowed:
                raise QueryError(f"'{flag.label}' uses unknown variable '{name}'")
            var = d[name]
            if not var.is_categorical:
                if len(codes) != 1 or views.numeric_condition(codes[0]) is None:
                    raise QueryError(f"'{flag.label}': compare '{var.label}' with a number, e.g. <41")
            elif var.values:
                known = {c for c, _ in var.values} | {MISSING} | set(categories(dataset, name))
                unknown = [c for c in codes if c not in known]
                if unknown:
                    raise QueryError(f"'{flag.label}': '{unknown[0]}' is not a value of '{var.label}'")
    derived = tuple(Variable(name=f.name, label=f.label, type="flag", group="Derived", role=DERIVED,
                             values=((YES, "Yes"), (NO, "No"))) for f in flags)
    return dataclasses.replace(dataset, dictionary=dataclasses.replace(d, variables=d.variables + derived))


STRUCTURE = ("cpp", "cluster", "school", "stage")  # roles that describe places, not pupils


@lru_cache(maxsize=1024)
def _codes_in_data(db_path: Path, dictionary: Dictionary, name: str, within: tuple = ()) -> frozenset[str]:
    sql, params = views.distinct_codes(name, _schema(db_path, dictionary), within)
    return frozenset(db.run(db_path, sql, params)["code"])


def structural(dictionary: Dictionary, filters) -> tuple:
    """The filters on places and stages: public structure (which schools a cluster has), not facts about pupils.

    Not one that keeps 'no answer': who left their stage or school blank, and where, is about pupils.
    """
    return tuple((n, c) for n, c in filters
                 if n in dictionary and dictionary[n].role in STRUCTURE and MISSING not in c)


def categories(dataset: Dataset, name: str, within: tuple = ()) -> list[str]:
    """A categorical variable's codes in display order: dictionary order, then any others.

    Which codes exist is a fact about the file, never about who is in a view.
    For a place or stage variable, `within` narrows that to the places and
    stages a view is filtered to (the schools of one cluster, the stages of a
    secondary), because that structure is public; waves and every other
    filter never change which categories appear.
    """
    var = dataset.dictionary[name]
    if var.role == DERIVED:
        return [code for code, _ in var.values]
    within = within if var.role in STRUCTURE else ()
    present = _codes_in_data(dataset.db_path, dataset.dictionary, name, within)
    listed = [c for c, _ in var.values if c in present or not present]
    extra = sorted(present - set(listed) - {MISSING}, key=_natural)
    return listed + extra


def _natural(code: str):
    try:
        return (0, float(code), code)
    except ValueError:
        return (1, 0.0, code)


def validate(dataset: Dataset, query: CrossTab, measure: str) -> None:
    """Refuse a question the data cannot answer, in words a user can act on."""
    d = dataset.dictionary
    if measure not in MEASURES:
        raise QueryError(f"unknown measure '{measure}'; choose one of {', '.join(MEASURES)}")
    allowed = schema(dataset)
    for dim in query.dims:
        if dim is None:
            continue
        if dim not in allowed:
            raise QueryError(f"unknown variable '{dim}'")
        if d[dim].role == "id":
            raise QueryError(f"'{dim}' is the respondent id: it is never used as rows, columns or a panel")
        if not d[dim].is_categorical:
            raise QueryError(f"'{dim}' is numeric: use it as the value of a mean or median, not as rows or columns")
    if measure in ("mean", "median"):
        if query.value is None:
            raise QueryError(f"the {MEASURES[measure].lower()} needs a numeric variable")
        if query.value not in allowed or d[query.value].is_categorical:
            raise QueryError(f"'{query.value}' is not a numeric variable")
    if query.weight is not None:
        weight = d.by_role("weight")
        if weight is None or weight.name != query.weight:
            raise QueryError("this dataset has no survey weight" if weight is None
                             else f"'{query.weight}' is not the survey weight")
        if weight.role_guessed:
            raise QueryError(f"'{weight.name}' is only guessed to be the survey weight ({weight.guessed}); "
                             "declare it in the dictionary (role: weight, without 'guessed') to weight by it")
    for name, codes in query.filters:
        if name not in allowed:
            raise QueryError(f"unknown variable '{name}'")
        if d[name].role == "id":
            raise QueryError(f"'{name}' is the respondent id: it cannot filter a table")
        if d[name].is_categorical and d[name].values:
            known = {c for c, _ in d[name].values} | {MISSING} | set(categories(dataset, name))
            unknown = [c for c in codes if c not in known]
            if unknown:
                raise QueryError(f"'{unknown[0]}' is not a value of '{name}'")


def crosstab(dataset: Dataset, query: CrossTab, measure: str = "count", rules: Rules = Rules(),
             level: float = 0.95) -> Protected:
    """The protected table for a question: the same object feeds screen, export and CLI.

    Where the dataset carries a ledger (the server's memory of what it
    released) and the rules ask for protection across views, the gate also
    keeps what other views decided: see `_protect`.
    """
    dataset = with_flags(dataset, query.flags)
    validate(dataset, query, measure)
    sql, params = views.crosstab(query, _schema(dataset.db_path, dataset.dictionary), _judged(dataset, rules))
    raw = db.run(dataset.db_path, sql, params)
    grid = _fill_grid(dataset, query, raw)
    cells = _protect(grid, rules, dataset.ledger, structurally_empty(dataset, query, grid))
    cells = _measure(cells, query, measure, rules, level)
    cells = _label(cells, dataset.dictionary, query)
    summary = disclosure.public_summary(disclosure.summary(cells))
    notes = _notes(query, dataset.dictionary) + _routing_notes(dataset, query) \
        + _place_hint(query, dataset.dictionary, summary)
    return Protected(
        query=query,
        measure=measure,
        cells=disclosure.public_columns(cells),
        rules=rules,
        summary=summary,
        dataset_title=dataset.dictionary.title,
        synthetic=dataset.dictionary.synthetic,
        filters_text=describe_filters(dataset.dictionary, query.filters),
        notes=notes,
        titles={n: dataset.dictionary[n].label for n in (*query.dims, query.value) if n},
    )


def _judged(dataset: Dataset, rules: Rules) -> bool:
    """Whether the ledger judges this dataset's views under these rules (`_protect`): then, and only then, the
    queries fetch each cell's fingerprints."""
    return dataset.ledger is not None and rules.across_views


def _protect(cells: pd.DataFrame, rules: Rules, ledger: Ledger | None, empty=None) -> pd.DataFrame:
    """The gate; where the rules ask for protection across views, judged against every view the ledger holds
    and then recorded in it.

    Cells whose records another judged view hid stay hidden, cells within a
    small group of a shown one are hidden, both protected like small cells;
    cells another judged view showed are public and never relied on as partners.
    A view judged before gets the answer it got then. `empty`: the structural
    zeros (`structurally_empty`), shown as 0 in every case and never recorded
    as released (they hold no records).
    """
    if ledger is None or not rules.across_views:
        return disclosure.protect(cells, rules, empty=empty)
    answered = ledger.answer(cells, rules.threshold)
    if answered is not None:
        return disclosure.protect(cells, rules, decided=~answered, empty=empty)
    judged = ledger.judge(cells, rules.threshold)
    out = disclosure.protect(cells, rules, sensitive=judged.must_hide, known=judged.known, empty=empty)
    released = (out["status"] == disclosure.SHOWN) & (out["reason"] != disclosure.NO_SUCH_PUPILS)
    ledger.record(cells, released.to_numpy(), rules.threshold)
    return out


@lru_cache(maxsize=256)
def _combinations(db_path: Path, dictionary: Dictionary, names: tuple[str, ...]) -> frozenset[tuple]:
    sql, params = views.code_combinations(names, _schema(db_path, dictionary))
    return frozenset(db.run(db_path, sql, params).itertuples(index=False, name=None))


@lru_cache(maxsize=256)
def routing(db_path: Path, dictionary: Dictionary, name: str) -> frozenset[str]:
    """The stage codes a question is asked at (its `asked_at`), when the whole table agrees: empty when the
    question is asked at every stage, or when anyone answered it at another stage or with no stage recorded.

    Routing is public (the questionnaire says who is asked), so the cells it leaves empty are structural
    zeros; but only while no answer contradicts it, since a cell marked structural must count nobody. Whether
    a question was ever answered off its routing, anywhere in the data, is one fact about the whole table.
    """
    var, stage = dictionary[name], dictionary.by_role("stage")
    if not var.asked_at or stage is None or var.role is not None:
        return frozenset()
    sql, params = views.answered_stages(name, stage.name, _schema(db_path, dictionary))
    answered = set(db.run(db_path, sql, params)["c0"])
    return frozenset(var.asked_at) if answered <= set(var.asked_at) else frozenset()


def structurally_empty(dataset: Dataset, query: CrossTab, cells: pd.DataFrame) -> np.ndarray | None:
    """Per cell, whether it holds nobody by the data's public structure: its place and stage codes (cpp,
    cluster, school, stage) occur together nowhere in the data (a primary school's S1-S4, a secondary's
    P4-P7), or it counts answers to a question (`routing`) none of its stages is asked (a primary school's
    answers to an S2-S4 question, or any of its cells in a view filtered on such answers). None when the view
    has no such dimension or filter.

    Read from the whole table (every wave, no filter but those on places and stages), so it is public
    structure that no link can change: a stage left empty by a filter on pupils' answers is not structural
    (telling it would disclose those answers), and nor is a 'no answer' code. The gate shows these cells as 0
    (docs/disclosure.md).
    """
    d = dataset.dictionary
    places = [(dim, name) for dim, name in zip(DIMS, query.dims)
              if name is not None and name in d and d[name].role in STRUCTURE]
    routed_dims, routed_filters = _routed(dataset, query)
    if not places and not routed_dims and not routed_filters:
        return None
    column = {name: dim for dim, name in places}
    names = tuple(column)
    keys = list(zip(*(cells[column[n]].to_numpy(object) for n in names))) if names else [()] * len(cells)
    # a margin (the gate works those out) or 'no answer' (which is about pupils) is never read as structural
    coded = np.logical_and.reduce([_coded(cells[column[n]]) for n in names] + [np.ones(len(cells), bool)])
    stages = _stages_of(dataset.db_path, d, names, structural(d, query.filters))
    # the stages any cell may hold; a cell of answers to a routed question holds only the stages asked it
    asked_of_all = functools.reduce(operator.and_, (asked for _, asked in routed_filters),
                                    frozenset().union(*stages.values()))

    def holds_nobody(key: tuple, answers: tuple[bool, ...]) -> bool:
        asked = functools.reduce(operator.and_, (a for yes, (_, _, a) in zip(answers, routed_dims) if yes),
                                 asked_of_all)
        return not stages.get(key, frozenset()) & asked

    answers = list(zip(*(_coded(cells[dim]).tolist() for dim, _, _ in routed_dims))) or [()] * len(cells)
    cells_of = list(zip(keys, answers))
    nobody = {cell: holds_nobody(*cell) for cell in set(cells_of)}  # the cells of a big table share a few hundred
    return coded & np.fromiter(map(nobody.__getitem__, cells_of), bool, len(cells))


def _coded(codes: pd.Series) -> np.ndarray:
    """Whether each code is a category's: neither a margin (None) nor 'no answer'."""
    return codes.notna().to_numpy() & codes.ne(MISSING).to_numpy()


def _routed(dataset: Dataset, query: CrossTab) -> tuple[list[tuple[str, str, frozenset]], list[tuple[str, frozenset]]]:
    """The view's questions asked at some stages only (`routing`): as dimensions (dimension, name, stages asked),
    and as filters that keep only answers, no 'no answer', and so only pupils at the stages asked (name, stages)."""
    d, db_path = dataset.dictionary, dataset.db_path
    dims = [(dim, name, asked) for dim, name in zip(DIMS, query.dims)
            if name is not None and name in d and (asked := routing(db_path, d, name))]
    filters = [(name, asked) for name, codes in query.filters
               if name in d and MISSING not in codes and (asked := routing(db_path, d, name))]
    return dims, filters


@lru_cache(maxsize=16)
def _stages_of(db_path: Path, d: Dictionary, names: tuple[str, ...], within: tuple) -> dict[tuple, frozenset[str]]:
    """For each combination of the place and stage codes `names` in the data (within the structural
    filters `within`), the stage codes found with it; 'no answer' stands for a stage not recorded.

    Kept for the last 16 questions only: keyed by the filters' codes as well, it meets a new key with almost every
    filter on places, and a school by stage holds 150 KB (on the sample; more with more schools), where working it
    out again from the kept `_combinations` takes 0.25 ms. With 256 kept, 20 sessions of random views added some 20
    a minute, still growing after eight minutes."""
    stage = d.by_role("stage")
    extra = tuple(n for n in dict.fromkeys([*(n for n, _ in within), *([stage.name] if stage else [])])
                  if n not in names)
    present = _combinations(db_path, d, names + extra)
    position = {n: i for i, n in enumerate(names + extra)}
    kept = [(position[n], set(codes)) for n, codes in within]
    at = position.get(stage.name) if stage else None
    out: dict[tuple, set] = {}
    for combo in present:
        if all(combo[i] in codes for i, codes in kept):
            out.setdefault(combo[:len(names)], set()).add(combo[at] if at is not None else MISSING)
    return {key: frozenset(found) for key, found in out.items()}


def _fill_grid(dataset: Dataset, query: CrossTab, raw: pd.DataFrame) -> pd.DataFrame:
    """Every combination of categories and margins, so empty cells are counted as zeros.

    A dimension's categories are those the dataset holds — not those this view
    happens to hold, so which rows appear never depends on who is in them —
    or, where the view filters on that same variable, the values it keeps.
    """
    kept = dict(query.filters)
    axes = []
    for dim, name in zip(DIMS, query.dims):
        if name is None:
            axes.append([None])
            continue
        if name in kept:
            order = categories(dataset, name) + [MISSING]
            cats = [c for c in order if c in kept[name]] + [c for c in kept[name] if c not in order]
        else:
            cats = categories(dataset, name, structural(dataset.dictionary, query.filters))
            if query.include_missing and (raw[dim] == MISSING).any():
                cats = cats + [MISSING]
        axes.append(cats + [None])
    grid = pd.DataFrame(list(itertools.product(*axes)), columns=list(DIMS), dtype=object)
    raw = raw.astype({d: object for d in DIMS} | {c: object for c in LEDGER_COLUMNS if c in raw})  # 64-bit hashes
    merged = grid.merge(raw, on=list(DIMS), how="left")
    merged["n"] = merged["n"].fillna(0).astype("int64")
    merged["ckey"] = merged["ckey"].fillna(0).astype("int64")
    for col in SUM_COLUMNS:
        if col in merged:
            merged[col] = merged[col].astype(float).fillna(0.0)
    return merged


def _base_rows(cells: pd.DataFrame, dims: tuple[str, ...]) -> np.ndarray:
    """For each cell, the row of its base: the same keys on `dims`, the margin elsewhere."""
    keys = [tuple(k if isinstance(k, str) else None for k in key)
            for key in zip(*(cells[d] for d in DIMS))]
    row_of = {key: i for i, key in enumerate(keys)}
    keep = [d in dims for d in DIMS]
    return np.array([row_of[tuple(k if kept else None for k, kept in zip(key, keep))] for key in keys])


def _lookup(cells: pd.DataFrame, rows: np.ndarray, column: str) -> pd.Series:
    return pd.Series(cells[column].to_numpy()[rows], index=cells.index)


def _measure(cells: pd.DataFrame, query: CrossTab, measure: str, rules: Rules, level: float) -> pd.DataFrame:
    """Values and CIs computed from protected counts only; hidden wherever the gate says so."""
    cells = cells.copy()
    shown = cells["count"].astype("float")
    value = pd.Series(np.nan, index=cells.index)
    low = high = value
    if measure == "count":
        value = shown
    elif measure in PERCENT_BASES:
        rows = _base_rows(cells, PERCENT_BASES[measure])
        base = _lookup(cells, rows, "count").astype("float")
        base_n = _lookup(cells, rows, "n")
        base_shown = _lookup(cells, rows, "status").eq("shown")
        if query.weight:  # weighted sums carry the same relative noise as their counts
            noise = (shown / cells["n"].where(cells["n"] > 0)).fillna(1.0)
            cells["w_sum"] = cells["w_sum"] * noise
            w_base = _lookup(cells, rows, "w_sum")
            w_sq = _lookup(cells, rows, "w_sumsq")
            w_cell = np.minimum(cells["w_sum"], w_base)
            est = stats.weighted_proportion_ci(w_cell, w_base, w_sq, level)
            p, lo, hi = est.p, est.low, est.high
        else:
            x = np.minimum(shown.fillna(0), base.fillna(0))  # perturbed cells may exceed a perturbed margin
            lo, hi = stats.wilson_ci(x, base.fillna(0), level)
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(base > 0, x / base, np.nan)
        value, low, high = (pd.Series(100 * np.asarray(a, float), index=cells.index) for a in (p, lo, hi))
        own = rows == np.arange(len(cells))  # a cell that is its own base is 100 % by definition: no interval
        low, high = low.where(~own), high.where(~own)
    else:
        base_n = cells["v_n"].astype("int64")
        base_shown = cells["status"].eq("shown")
        if measure == "mean":
            if query.weight:
                est = stats.weighted_mean_ci(cells["vw_sum"], cells["vw_ysum"], cells["vw_yysum"], cells["vw_sumsq"], level)
            else:
                est = stats.mean_ci(cells["v_n"], cells["v_sum"], cells["v_sumsq"], level)
            value, low, high = (pd.Series(np.asarray(a, float), index=cells.index) for a in est)
        else:
            value = cells["v_median"].astype(float)
    if measure == "count":
        ok, why = cells["status"].eq("shown"), cells["reason"]
    else:
        ok, why = disclosure.value_allowed(cells["status"], base_n, base_shown, rules)
    cells["value"] = value.where(ok)
    sampled = ok & cells["reason"].ne(disclosure.NO_SUCH_PUPILS)  # a structural zero is no estimate: no interval
    cells["ci_low"] = pd.Series(low, index=cells.index).where(sampled)
    cells["ci_high"] = pd.Series(high, index=cells.index).where(sampled)
    cells["reason"] = cells["reason"].where(cells["reason"].notna(), why.where(~ok))
    return cells


def _label(cells: pd.DataFrame, dictionary: Dictionary, query: CrossTab) -> pd.DataFrame:
    cells = cells.copy()
    for dim, name in zip(DIMS, query.dims):
        var: Variable | None = dictionary[name] if name else None
        keys = cells[dim].tolist()
        labels = {k: var.label_of(k) for k in set(keys)} if var else {}  # a school's label once, not per cell
        cells[f"{dim}_label"] = [labels.get(k) for k in keys]
    return cells


def describe_filters(dictionary: Dictionary, filters) -> tuple[str, ...]:
    """Filters in plain words, for captions, exports and presenter mode."""
    out = []
    for name, codes in filters:
        var = dictionary[name] if name in dictionary else None
        labels = [var.label_of(c) for c in codes] if var else list(codes)
        out.append(f"{var.label if var else name}: {', '.join(labels)}")
    return tuple(out)


def _notes(query: CrossTab, dictionary: Dictionary) -> tuple[str, ...]:
    notes = []
    if not query.include_missing:
        notes.append("Respondents with no answer to the table's variables are left out of every base.")
    if query.weight:
        notes.append("Percentages and means are weighted; intervals use the Kish effective base.")
    if dictionary.synthetic:
        notes.append("Synthetic sample: fictional places and pupils, not real statistics.")
    return tuple(notes)


def _routing_notes(dataset: Dataset, query: CrossTab) -> tuple[str, ...]:
    """Which of the view's questions are asked at some stages only (`_routed`), so that a reader takes a row
    of 0s, or a stage all under 'No answer', for the questionnaire's routing and not for a finding."""
    d = dataset.dictionary
    stage = d.by_role("stage")

    def stages(name: str) -> str:
        return ", ".join(stage.label_of(c) for c in d[name].asked_at)

    dims, filters = _routed(dataset, query)
    notes = [f"{d[name].label} is asked at {stages(name)} only: its answers elsewhere are 0 (no such pupils), and "
             "pupils at other stages are counted under No answer." for name in dict.fromkeys(n for _, n, _ in dims)]
    notes += [f"The filter on {d[name].label} keeps pupils at {stages(name)} only, the stages asked it."
              for name, _ in filters if name not in query.dims]
    return tuple(notes)


def _place_hint(query: CrossTab, dictionary: Dictionary, summary: dict) -> tuple[str, ...]:
    """A hint when a mostly hidden table may be hiding zeros of places a filter leaves out.

    Without place roles, filtering to one cluster still lists every school of
    the data, as zeros, and zeros are protected like any small count.
    """
    undeclared = [role for role in ("cpp", "cluster", "school") if dictionary.by_role(role) is None]
    plain = [n for n, _ in query.filters if n in dictionary and dictionary[n].role is None]
    if not (summary.get("mostly_protected") and undeclared and plain):
        return ()
    return (f"If '{plain[0]}' is a place, declare the place columns' roles ({', '.join(undeclared)}) in the "
            "dictionary: then a filter to one place leaves other places out of the table instead of showing "
            "them as protected zeros.",)


def coverage_question(dictionary: Dictionary) -> CrossTab:
    """What the overview counts: respondents by wave and CPP, or the nearest the data allows."""
    rows = dictionary.by_role("wave") or dictionary.by_role("stage") or dictionary.by_role("school")
    if rows is None:
        rows = next(v for v in dictionary.variables if v.is_categorical and v.role != "id")
    cols = dictionary.by_role("cpp")
    return CrossTab(rows=rows.name, cols=cols.name if cols is not None and cols.name != rows.name else None)


def units(dataset: Dataset) -> dict[str, int]:
    """How many CPPs, clusters, schools, stages and waves the data covers (places, not people)."""
    out = {}
    for role in ("cpp", "cluster", "school", "stage", "wave"):
        var = dataset.dictionary.by_role(role)
        if var is not None and var.name in schema(dataset):
            out[role] = len(categories(dataset, var.name))
    return out


def school_places(dataset: Dataset) -> pd.DataFrame:
    """code, cluster, lon, lat per school; empty when the data has no coordinates.

    Coordinates are drawn only if every pupil of a school carries the same
    ones: coordinates that vary within a school describe pupils, not places,
    and are refused.
    """
    d = dataset.dictionary
    names = [getattr(d.by_role(r), "name", None) for r in ("school", "cluster", "x", "y")]
    if None in names or any(n not in schema(dataset) for n in names):
        return pd.DataFrame(columns=["code", "cluster", "lon", "lat"])
    sql, params = views.places(*names, schema(dataset))
    found = db.run(dataset.db_path, sql, params)
    located = found["lon"].notna() & found["lat"].notna()  # a school with no coordinates is simply not drawn
    if (located & ((found["lon"] != found["lon_max"]) | (found["lat"] != found["lat_max"]))).any():
        raise QueryError("the map needs one location per school, but the coordinates vary within a school")
    return found.dropna(subset=["lon", "lat"])[["code", "cluster", "lon", "lat"]].reset_index(drop=True)


@dataclass(frozen=True)
class Base:
    """How many respondents a set of filters leaves, as it may be shown."""

    count: int | None  # protected (perturbed) count; None when too few to show
    reason: str | None

    @property
    def too_small(self) -> bool:
        return self.count is None


def base_cells(dataset: Dataset, filters, fingerprinted: bool = True) -> pd.DataFrame:
    """The bases left by no filter, then each filter added in turn, as one-cell tables' cells (true counts);
    with the ledger's fingerprints if `fingerprinted` (`views.base_counts`)."""
    return _as_cells(_base_records(dataset, filters, fingerprinted))


def _as_cells(rows: list[dict]) -> pd.DataFrame:
    """Base records as the gate's cells: counts and cell keys as integers, the ledger's hashes as they are."""
    return pd.DataFrame(rows, dtype=object).astype({"n": "int64", "ckey": "int64"})


def _base_records(dataset: Dataset, filters, fingerprinted: bool) -> list[dict]:
    sql, params = views.base_counts(filters, schema(dataset), fingerprinted)
    groups = db.run(dataset.db_path, sql, params).astype(object).to_dict("list")  # a few rows: plain lists
    depth = [int(d) for d in groups["depth"]]
    rows = []
    for i in range(len(filters) + 1):  # the base after i filters: every record that passes at least the first i
        deeper = [j for j, d in enumerate(depth) if d >= i]
        row = {"panel": None, "row": None, "col": None, "n": int(sum(groups["n"][j] for j in deeper)),
               "ckey": int(sum(int(groups["k"][j] or 0) for j in deeper)) % PTABLE_SIZE}
        if fingerprinted:
            hashes = {c: [int(groups[c][j]) for j in deeper] for c in LEDGER_COLUMNS}
            row |= {"fp": functools.reduce(operator.xor, hashes["fp"], 0),
                    **{c: min(hashes[c], default=None) for c in LEDGER_COLUMNS if c != "fp"}}
        rows.append(row)
    return rows


def bases(dataset: Dataset, filters, rules: Rules = Rules()) -> list[Base]:
    """The base left by no filter, then by each filter added in turn: one query, one gate (and the ledger)."""
    judged = _judged(dataset, rules)
    rows = _base_records(dataset, filters, judged)
    if judged:  # each base a table of its own, judged and recorded one by one
        cells = [_protect(_as_cells([row]), rules, dataset.ledger).iloc[0] for row in rows]
    else:
        cells = [cell for _, cell in disclosure.protect_each(_as_cells(rows), rules).iterrows()]
    out = []
    for cell in cells:
        shown = cell["status"] == "shown"
        out.append(Base(int(cell["count"]) if shown else None, None if shown else disclosure.PUBLIC_REASON))
    return out
