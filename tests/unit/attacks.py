"""Attacks across views, as a viewer with links would make them: the families docs/disclosure.md defends against.

Each family takes a small group G (1–9 pupils: one school's pupils giving one
answer in one wave), asks the engine for views the way links would — a view
is `ask(query, measure) -> Protected` — and returns its estimate of |G| (or,
for means, of the sum of a score over G). The attacker is informed (worst
case): it knows which filters keep G whole, from the data itself.

- unions: (school X plus other schools Y) minus (Y alone), a new Y each time;
- filter variants: school X under a filter that keeps G, minus the same
  without G's answer;
- derived flags: the same, the filter a derived yes/no variable (the Need
  page's conditions);
- sums: school X's total under a filter, minus every other answer's cell read
  from views of their own;
- means: (X plus Y) minus Y, in sums of a score (mean × shown count);
- "No answer" toggled: G is instead one school's pupils who left the answer
  out; the table of answers with "No answer" shown minus the same without it
  (its total holds G, the other's does not), under filters that keep G;
- linked tables (no averaging): two everyday views, all clusters and one
  CPP's (or all schools and one cluster's), their shown cells put into each
  other's equations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine import db, service
from rcs_viz.engine.disclosure import gate
from rcs_viz.engine.disclosure.system import System
from rcs_viz.engine.sql import views
from rcs_viz.engine.sql.views import YES, CrossTab, Flag

ANSWER = "bullied"
SCORE = "sdq_total"


@dataclass(frozen=True)
class Target:
    wave: str
    school: str
    answer: str  # G: this school's pupils giving this answer in this wave
    n: int
    score_sum: float  # of SCORE over G (nan where someone in G has none)


def _frame(ds) -> pd.DataFrame:
    return db.run(ds.db_path, "SELECT * FROM respondents", {})  # the truth, for the test only


def _answers(f: pd.DataFrame) -> pd.Series:
    """Each pupil's answer as a view's code: the answer, or MISSING where they left it out."""
    return f[ANSWER].map(lambda a: MISSING if pd.isna(a) else str(int(a)))


def _group(f: pd.DataFrame, t: Target) -> pd.DataFrame:
    return f[(f["school"].astype(str) == t.school) & (_answers(f) == t.answer)]


def targets(ds, k: int, seed: int, frame: pd.DataFrame | None = None, missing: bool = False) -> list[Target]:
    """k small groups (1–9) of (school, answer) in the latest wave, chosen at random; with `missing`, of
    (school, no answer)."""
    f = _frame(ds) if frame is None else frame
    wave = sorted(f["wave"].dropna().astype(str).unique())[-1]
    f = f[f["wave"].astype(str) == wave]
    sizes = f.assign(answer=_answers(f)).groupby(["school", "answer"]).size()
    small = sorted((str(int(s)), a, int(n)) for (s, a), n in sizes.items()
                   if 1 <= n <= 9 and (a == MISSING) == missing)
    rng = random.Random(seed)
    out = []
    for school, answer, n in rng.sample(small, min(k, len(small))):
        g = _group(f, Target(wave, school, answer, n, 0.0))
        score = g[SCORE]
        out.append(Target(wave, school, answer, n, float(score.sum()) if score.notna().all() else float("nan")))
    return out


def _cell(result, row=None, col=None) -> float | None:
    c = result.cells
    pick = c[(c["row"].isna() if row is None else c["row"] == row) & (c["col"].isna() if col is None else c["col"] == col)]
    if pick.empty or pick["status"].iloc[0] != "shown":
        return None
    return float(pick["count"].iloc[0])


def _value(result, row=None) -> float | None:
    c = result.cells
    pick = c[(c["row"].isna() if row is None else c["row"] == row) & c["col"].isna()]
    if pick.empty or pick["status"].iloc[0] != "shown" or pd.isna(pick["value"].iloc[0]):
        return None
    return float(pick["value"].iloc[0])


def _schools(ds, frame, t: Target) -> list[str]:
    return sorted(set(frame["school"].dropna().astype(int).astype(str)) - {t.school})


def _keeping(frame: pd.DataFrame, t: Target, rng: random.Random) -> tuple:
    """A filter (one or two variables, codes kept) that every member of G passes, and that drops somebody."""
    f = frame[frame["wave"].astype(str) == t.wave]
    g = _group(f, t)
    names = ["sex", "simd", "stage", "urban_rural", "fsm", "asn", "sw_contact", "clubs", "trusted_adult",
             "fruit_veg_daily", "safe_home", "safe_school", "safe_area", "young_carer", "looked_after_ever"]
    filters = []
    for name in rng.sample(names, rng.choice((1, 2))):
        have = g[name].dropna()
        if len(have) < len(g):
            continue  # someone in G did not answer: a code filter would drop them
        codes = set(f[name].dropna().astype(int).astype(str))
        need = set(have.astype(int).astype(str))
        extra = sorted(codes - need)
        keep = need | set(rng.sample(extra, rng.randint(0, len(extra)))) if extra else need
        if keep != codes:
            filters.append((name, tuple(sorted(keep))))
    return tuple(filters)


def _others(frame, t: Target) -> tuple[str, ...]:
    codes = sorted(set(frame[ANSWER].dropna().astype(int).astype(str)))
    return tuple(c for c in codes if c != t.answer)


def _mean(pairs: list[float]) -> float | None:
    return float(np.mean(pairs)) if pairs else None


def unions(ask, frame, t: Target, views: int, rng: random.Random) -> float | None:
    others = _schools(None, frame, t)
    diffs = []
    for _ in range(views // 2):
        y = tuple(sorted(rng.sample(others, rng.randint(2, 6))))
        base = (("wave", (t.wave,)),)
        a = _cell(ask(CrossTab(rows=ANSWER, filters=base + (("school", tuple(sorted(y + (t.school,)))),)), "count"),
                  t.answer)
        b = _cell(ask(CrossTab(rows=ANSWER, filters=base + (("school", y),)), "count"), t.answer)
        if a is not None and b is not None:
            diffs.append(a - b)
    return _mean(diffs)


def filter_variants(ask, frame, t: Target, views: int, rng: random.Random) -> float | None:
    diffs = []
    for _ in range(views // 2):
        keep = _keeping(frame, t, rng)
        base = (("wave", (t.wave,)), ("school", (t.school,))) + keep
        a = _cell(ask(CrossTab(rows="sex", filters=base), "count"))
        b = _cell(ask(CrossTab(rows="sex", filters=base + ((ANSWER, _others(frame, t)),)), "count"))
        if a is not None and b is not None:
            diffs.append(a - b)
    return _mean(diffs)


def derived_flags(ask, frame, t: Target, views: int, rng: random.Random) -> float | None:
    diffs = []
    for i in range(views // 2):
        keep = _keeping(frame, t, rng)
        if not keep:
            continue
        flag = Flag(name=f"need_{i}", label="A need", conditions=keep, combine="all")
        base = (("wave", (t.wave,)), ("school", (t.school,)), (flag.name, (YES,)))
        a = _cell(ask(CrossTab(rows="sex", filters=base, flags=(flag,)), "count"))
        b = _cell(ask(CrossTab(rows="sex", filters=base + ((ANSWER, _others(frame, t)),), flags=(flag,)), "count"))
        if a is not None and b is not None:
            diffs.append(a - b)
    return _mean(diffs)


def sums(ask, frame, t: Target, views: int, rng: random.Random) -> float | None:
    others = _others(frame, t)
    estimates = []
    per = 1 + len(others)
    for _ in range(max(1, views // per)):
        keep = _keeping(frame, t, rng)
        base = (("wave", (t.wave,)), ("school", (t.school,))) + keep
        total = _cell(ask(CrossTab(rows="sex", filters=base), "count"))
        parts = [_cell(ask(CrossTab(rows="sex", filters=base + ((ANSWER, (o,)),)), "count")) for o in others]
        # 'No answer' is part of the total too: the attacker reads it from the answer table itself
        missing = _cell(ask(CrossTab(rows=ANSWER, filters=base), "count"), "∅")
        if total is not None and all(p is not None for p in parts):
            estimates.append(total - sum(parts) - (missing or 0))
    return _mean(estimates)


def means(ask, frame, t: Target, views: int, rng: random.Random) -> float | None:
    others = _schools(None, frame, t)
    diffs = []
    for _ in range(views // 4):
        y = tuple(sorted(rng.sample(others, rng.randint(2, 6))))
        base = (("wave", (t.wave,)),)
        got = []
        for schools in (tuple(sorted(y + (t.school,))), y):
            q = CrossTab(rows=ANSWER, filters=base + (("school", schools),), value=SCORE)
            m, n = _value(ask(q, "mean"), t.answer), _cell(ask(q, "count"), t.answer)
            got.append(None if m is None or n is None else m * n)
        if None not in got:
            diffs.append(got[0] - got[1])
    return _mean(diffs)


def no_answer_toggled(ask, frame, t: Target, views: int, rng: random.Random) -> float | None:
    """G = one school's non-answers: the answers' total with "No answer" shown, minus the total without."""
    diffs = []
    for _ in range(views // 2):
        base = (("wave", (t.wave,)), ("school", (t.school,))) + _keeping(frame, t, rng)
        a = _cell(ask(CrossTab(rows=ANSWER, filters=base, include_missing=True), "count"))
        b = _cell(ask(CrossTab(rows=ANSWER, filters=base, include_missing=False), "count"))
        if a is not None and b is not None:
            diffs.append(a - b)
    return _mean(diffs)


FAMILIES = {"unions of places": unions, "filter variants": filter_variants, "derived flags": derived_flags,
            "sums of several cells": sums, "means": means, "no answer toggled": no_answer_toggled}


def recovery(ask, ds, family: str, k: int, views: int, seed: int) -> dict:
    """Run one family against k targets with `views` views each: the shares recovered exactly and within ±1."""
    frame = _frame(ds)
    rng = random.Random(seed)
    exact = near = tried = 0
    for t in targets(ds, k, seed, frame, missing=FAMILIES[family] is no_answer_toggled):
        truth = t.score_sum if family == "means" else t.n
        if family == "means" and np.isnan(truth):
            continue
        est = FAMILIES[family](ask, frame, t, views, rng)
        tried += 1
        if est is None:
            continue
        exact += int(round(est) == round(truth))
        near += int(abs(round(est) - round(truth)) <= 1)
    return {"targets": tried, "exact": exact / max(tried, 1), "within_1": near / max(tried, 1)}


# --------------------------------------------------------------------------- linked tables

def _truth(ds, query: CrossTab, result) -> pd.DataFrame:
    """The view's cells with their true counts and record-set identity (the test's privilege, not the attacker's)."""
    sql, params = views.crosstab(query, service.schema(ds))
    raw = db.run(ds.db_path, sql, params)[["panel", "row", "col", "n", "fp"]].astype({"fp": object})
    cells = result.cells[["panel", "row", "col", "status"]].astype({k: object for k in ("panel", "row", "col")})
    merged = cells.merge(raw.astype({k: object for k in ("panel", "row", "col")}), on=["panel", "row", "col"],
                         how="left")
    merged["n"] = merged["n"].fillna(0).astype("int64")
    merged["fp"] = merged["fp"].where(merged["n"] > 0, 0)
    return merged


def linked(ask, ds, rows: str, whole: tuple, part: tuple) -> dict:
    """Two views of the same rows (all units, and the units of one CPP or cluster): put their shown cells
    into one system of equations (cells of the same records are one item) and count the hidden small
    cells the two together pin to less than the threshold.
    """
    items: dict = {}
    values, hidden_any, shown_any, lines = [], [], [], []
    for view, filters in enumerate((whole, part)):
        query = CrossTab(rows=rows, cols=ANSWER, filters=filters)
        cells = _truth(ds, query, ask(query, "count"))
        idx = []
        for pos, (fp, n, status) in enumerate(zip(cells["fp"], cells["n"], cells["status"])):
            key = (int(n), int(fp)) if n else (view, pos)  # empty cells: each its own zero
            if key not in items:
                items[key] = len(values)
                values.append(int(n))
                hidden_any.append(False)
                shown_any.append(False)
            i = items[key]
            idx.append(i)
            shown_any[i] |= status == "shown"
            hidden_any[i] |= status != "shown"
        cube = gate._Cube(cells)
        grid = np.empty(cube.n.size, np.int64)
        grid[cube.flat] = idx
        for block in cube.system().blocks:
            mapped = grid[block]
            lines += [(int(row[-1]), [int(x) for x in row[:-1]]) for row in mapped]
    system = System.from_lines(values, lines)
    hidden = np.array(hidden_any) & ~np.array(shown_any)  # a cell either view shows is known
    failures = system_audit(system, hidden)
    small_hidden = int(((np.array(values) < 10) & hidden).sum())
    return {"small_hidden": small_hidden, "identified": len(failures)}


def system_audit(system: System, hidden: np.ndarray) -> list:
    from rcs_viz.engine.disclosure import system as engine

    return engine.audit(system, hidden, 10)
