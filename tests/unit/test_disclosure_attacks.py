"""Disclosure under attack, on the synthetic sample through the real engine.

1. Random views (variables, filters, measures): no shown count is below the
   threshold and every table passes the LP audit. 60 views by default,
   10 000 with `pytest --full`.
2. Differencing: a view (a cluster, a wave, perhaps a stage) minus the same
   view with one school, one stage, one sex or one small group removed.
   Prints how often the published difference equals a true small difference
   exactly. Three stages by default, all eight with `--full`.
"""

import random

import numpy as np

from rcs_viz.engine import db
from rcs_viz.engine.disclosure import gate as disclosure
from rcs_viz.engine.sql import views
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine.disclosure.ptable import perturb
from rcs_viz.engine.sql.views import CrossTab

RULES = Rules()


def random_view(rng: random.Random, ds) -> tuple[CrossTab, str]:
    d = ds.dictionary
    cats = [v.name for v in d.variables if v.is_categorical and v.role not in ("id",)]
    small = [n for n in cats if len(service.categories(ds, n)) <= 8]
    nums = [v.name for v in d.variables if not v.is_categorical and v.role is None]
    dims = rng.sample(small, 3)
    rows = rng.choice(cats) if rng.random() < 0.15 else dims[0]  # now and then, school or cluster
    cols = dims[1] if rng.random() < 0.7 else None
    panel = dims[2] if cols and rng.random() < 0.2 else None
    if rows in (cols, panel):
        rows = dims[0]
    filters = []
    for name in rng.sample(cats, rng.randint(0, 3)):
        codes = service.categories(ds, name) + [MISSING]
        filters.append((name, tuple(rng.sample(codes, rng.randint(1, min(3, len(codes)))))))
    measure = rng.choice(["count", "row_pct", "col_pct", "total_pct", "mean", "median"])
    value = rng.choice(nums) if measure in ("mean", "median") else None
    return CrossTab(rows=rows, cols=cols, panel=panel, filters=tuple(filters), value=value,
                    include_missing=rng.random() < 0.8), measure


# Views whose tables hold structural zeros (a school under another CPP's column): the random views reach them
# only with --full, where one of them was found.
STRUCTURAL_VIEWS = [
    (CrossTab(rows="school", cols="cpp", filters=(("wave", (MISSING, "2016")), ("cluster", ("205", "204", "305")),
                                                  ("young_carer", ("0",))), value="sdq_prosocial"), "mean"),
    (CrossTab(rows="school", cols="stage", filters=(("sex", ("1",)),)), "count"),
    (CrossTab(rows="cluster", cols="stage", panel="cpp"), "row_pct"),
]


def _check_view(ds, query: CrossTab, measure: str) -> tuple[bool, int]:
    """One view's published table against its true counts: whether it was LP-audited, and its structural zeros."""
    result = service.crosstab(ds, query, measure, RULES)
    cells = result.cells
    shown = cells["status"].eq("shown").to_numpy()
    public_zero = shown & cells["reason"].eq(disclosure.NO_SUCH_PUPILS).to_numpy()
    assert (cells["count"].to_numpy()[shown & ~public_zero] >= RULES.threshold).all(), query
    assert cells.loc[~shown, ["count", "value"]].isna().all().all()
    # The audit needs the true counts, which never leave the engine: rebuild them here.
    sql, params = views.crosstab(query, service.schema(ds))
    grid = service._fill_grid(ds, query, db.run(ds.db_path, sql, params))
    empty = service.structurally_empty(ds, query, grid)
    if public_zero.any():
        assert (grid["n"].to_numpy()[public_zero] == 0).all(), query
        # An inner cell shown as "no such pupils" holds nobody in the whole data under the view's public filters
        # only: those on places and stages, and "answered" for a filter on answers to a routed question (a
        # question asked at some stages only). Whatever else the view filters on is about pupils.
        d = ds.dictionary
        answered = tuple((name, tuple(service.categories(ds, name))) for name, codes in query.filters
                         if MISSING not in codes and service.routing(ds.db_path, d, name))
        unfiltered = CrossTab(rows=query.rows, cols=query.cols, panel=query.panel,
                              filters=service.structural(d, query.filters) + answered)
        everyone = service._fill_grid(ds, unfiltered, db.run(ds.db_path, *views.crosstab(unfiltered, service.schema(ds))))
        dims = [d for d, name in zip(service.DIMS, query.dims) if name is not None]
        anyone = set(map(tuple, everyone.loc[everyone["n"].gt(0), dims].to_numpy().tolist()))
        inner = cells.loc[public_zero, dims].dropna()
        assert not anyone & set(map(tuple, inner.to_numpy().tolist())), query
    hidden = disclosure.protect(grid, RULES, empty=empty)["status"].ne("shown").to_numpy()
    assert list(hidden) == list(~shown), query
    audited = bool(hidden.any() and len(grid) <= 400)
    if audited:
        assert disclosure.audit(grid, hidden, RULES.threshold, empty=empty) == [], query
    return audited, int(public_zero.sum())


def test_random_views_never_show_a_small_count_and_pass_the_audit(sample_dataset, full, capsys):
    rng = random.Random(2024)
    n_views = 10_000 if full else 60
    views_ = [random_view(rng, sample_dataset) for _ in range(n_views)] + STRUCTURAL_VIEWS
    checked = [_check_view(sample_dataset, query, measure) for query, measure in views_]
    audited, structural = sum(a for a, _ in checked), sum(z for _, z in checked)
    assert structural > 0  # the structural views above do hold some
    with capsys.disabled():
        print(f"\n[attacks] {len(checked)} views checked ({n_views} random), {audited} with hidden cells "
              f"LP-audited, {structural} structural zeros shown")


def _a_and_b(ds, a_filters, removal) -> tuple:
    """Published and true counts of view A and of A with one more filter (B), from one query.

    A total of one cell is protected by primary suppression and perturbation
    alone (there is nothing to hide it behind), exactly as the engine does.
    """
    cells = service.base_cells(ds, a_filters + (removal,))
    k = len(a_filters)
    out = []
    for i in (k, k + 1):
        n, key = int(cells["n"][i]), int(cells["ckey"][i])
        out += [perturb(n, key, RULES.threshold) if n >= RULES.threshold else None, n]
    return tuple(out)


def test_differencing_attacks_rarely_recover_a_small_group(sample_dataset, capsys, full):
    """View A (a cluster, a wave) minus view B (A without one school / stage / sex / small group)."""
    d = sample_dataset.dictionary
    tried = recovered = 0
    by_kind: dict[str, list[int]] = {}
    all_stages = service.categories(sample_dataset, "stage")
    stages = [None] + (all_stages if full else all_stages[::3])
    for cluster, _ in d["cluster"].values:
        for wave, stage in [(w, s) for w in ("2016", "2019") for s in stages]:
            a_filters = (("cluster", (cluster,)), ("wave", (wave,))) + ((("stage", (stage,)),) if stage else ())
            schools = service.categories(sample_dataset, "school", (("cluster", (cluster,)),))
            removals = {f"school {s}": ("school", tuple(x for x in schools if x != s)) for s in schools}
            if stage is None:
                removals.update({f"stage {s}": ("stage", tuple(x for x in all_stages if x != s)) for s in all_stages})
            removals.update({"sex other": ("sex", ("1", "2", MISSING)), "not young carer": ("young_carer", ("0", "9", MISSING)),
                             "not looked after": ("looked_after_ever", ("0",))})
            for kind, (name, kept) in removals.items():
                if not kept:
                    continue
                a_count, a_true, b_count, b_true = _a_and_b(sample_dataset, a_filters, (name, kept))
                small = a_true - b_true
                if not (0 < small < RULES.threshold) or a_count is None or b_count is None:
                    continue
                tried += 1
                hit = (a_count - b_count) == small
                recovered += hit
                by_kind.setdefault(kind.split()[0], []).append(hit)
    rate = recovered / tried
    with capsys.disabled():
        print(f"\n[attacks] differencing on the sample: {recovered} of {tried} attacks recovered a true "
              f"group of 1–9 exactly ({rate:.1%}); by kind: "
              + ", ".join(f"{k} {np.mean(v):.0%} of {len(v)}" for k, v in sorted(by_kind.items())))
    assert tried >= (500 if full else 150)
    assert rate <= 0.25
