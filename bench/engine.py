"""Engine benchmark: a safe cross-tab against raw DuckDB and pandas.crosstab.

Prints, at 100 k, 1 M and 10 M rows: the median time of a safe cross-tab
through the engine (query + grid + disclosure gate + statistics), of the same
raw DuckDB CUBE query alone, and of pandas.crosstab on the columns already in
memory, with the ratios; and the peak resident memory of a process holding
the loaded data and the engine. Each size runs in its own process so its
peak memory is its own. Goals: engine ≤ 1.5× raw DuckDB; < 1 GB at 1 M rows.

    python bench/engine.py [--sizes 100000,1000000,10000000] [--repeat 7]

With --audit it times instead the disclosure gate on the big tables of the
synthetic sample (school-level 3-D tables): per table its time through the
gate (wall and CPU, the median of --repeat runs), the LP work it spent
against the budget, whether it answered or failed closed, and the share of
its inner cells hidden, also with no budget at all (what the table costs when
it is allowed to finish). Goal: school x SIMD x sex answers in under 1 s.

    python bench/engine.py --audit [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / ".cache" / "bench"

QUESTIONS = [  # (label, rows, cols, filters, measure)
    ("simd × sex, S2–S4, row %", "simd", "sex", (("stage", ("S2", "S3", "S4")),), "row_pct"),
    ("school × SDQ band, count", "school", "sdq_total_band", (), "count"),
]


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _ensure_sample(rows: int) -> Path:
    out = DATA / f"rows_{rows}"
    if not (out / "respondents.parquet").exists():
        from rcs_viz.data.sample import write_sample
        print(f"  generating {rows:,} rows…", file=sys.stderr, flush=True)
        write_sample(out, rows=rows)
    return out


def measure(rows: int, repeat: int) -> dict:
    """Runs in a child process: one dataset size, all three contenders."""
    import pandas as pd

    from rcs_viz.engine import db
    from rcs_viz.engine.sql import views
    from rcs_viz.engine import service
    from rcs_viz.engine.disclosure.gate import Rules
    from rcs_viz.engine.load import load_dataset
    from rcs_viz.engine.sql.views import CrossTab

    folder = _ensure_sample(rows)
    t = time.perf_counter()
    ds = load_dataset(folder / "respondents.parquet", folder / "dictionary.yaml", cache_dir=DATA / "db")
    load_s = time.perf_counter() - t
    schema = service.schema(ds)
    rules = Rules()
    result = {"rows": rows, "columns": len(schema), "load_s": round(load_s, 2), "questions": []}
    for label, r, c, filters, m in QUESTIONS:
        codes = {n: tuple(ds.dictionary[n].code_of(v) for v in vals) for n, vals in filters}
        q = CrossTab(rows=r, cols=c, filters=tuple(codes.items()))
        sql, params = views.crosstab(q, schema)
        engine = _median_ms(lambda: service.crosstab(ds, q, m, rules), repeat)
        raw = _median_ms(lambda: db.run(ds.db_path, sql, params), repeat)
        result["questions"].append({"label": label, "engine_ms": engine, "raw_ms": raw})
    result["peak_rss_mb_engine"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for question in result["questions"]:
        label, r, c, filters, _ = next(x for x in QUESTIONS if x[0] == question["label"])
        cols = sorted({r, c} | {n for n, _ in filters})
        frame = db.cursor(ds.db_path).execute(
            "SELECT " + ", ".join(views.quote(x, schema) for x in cols) + " FROM respondents").df()
        keep = pd.Series(True, index=frame.index)
        for n, vals in filters:
            keep &= frame[n].astype(str).isin(ds.dictionary[n].code_of(v) for v in vals)
        sub = frame[keep]
        question["pandas_ms"] = _median_ms(lambda: pd.crosstab(sub[r], sub[c], margins=True, dropna=False), repeat)
    return result


AUDIT_TABLES = [("school", "simd", "sex"), ("school", "sex", "stage"), ("school", "stage", None),
                ("school", "simd", None), ("cluster", "simd", "sex"), ("school", "sdq_total_band", "sex")]


def audit(repeat: int) -> None:
    """The gate alone (`gate.hide` on the table's true counts), as every view calls it, on the sample."""
    import numpy as np

    from rcs_viz import config
    from rcs_viz.engine import db, service
    from rcs_viz.engine.disclosure import gate, system
    from rcs_viz.engine.load import load_dataset
    from rcs_viz.engine.sql import views
    from rcs_viz.engine.sql.views import CrossTab

    cfg = config.load()
    ds = load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt())
    rules = gate.Rules()
    spent = []
    real = system.Ranges.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        spent.append(self)

    system.Ranges.__init__ = spy
    print(f"{'table (rows x cols x panel)':<34} {'cells':>6} {'small':>6} {'empty':>6} {'wall':>8} {'cpu':>8} {'LP work':>8} "
          f"{'answer':>12} {'hidden':>13} {'no budget: wall':>16} {'hidden':>13}")
    for rows, cols, panel in AUDIT_TABLES:
        q = CrossTab(rows=rows, cols=cols, panel=panel)
        sql, params = views.crosstab(q, service.schema(ds))
        grid = service._fill_grid(ds, q, db.run(ds.db_path, sql, params))
        cube = gate._Cube(grid)
        s = cube.system()
        empty = service.structurally_empty(ds, q, grid)  # structural zeros, as the gate gets them
        flags = np.zeros(s.size, bool)
        if empty is not None:
            flags[cube.flat] = empty
        public = cube.structural(flags)
        inner = np.ones(cube.shape, bool)
        for axis in range(len(cube.shape)):
            inner[(slice(None),) * axis + (-1,)] = False
        inner = inner.ravel()

        def run(budget, times):
            walls, cpus = [], []
            for _ in range(times):
                spent.clear()
                t, c = time.perf_counter(), time.process_time()
                hidden = system.suppress(s, rules.threshold, budget, public=public)
                walls.append(time.perf_counter() - t)
                cpus.append(time.process_time() - c)
            used = budget - spent[0].budget if spent else 0.0
            closed = np.array_equal(hidden, s.closed(rules.threshold) & ~public)
            return (statistics.median(walls), statistics.median(cpus), used, closed,
                    f"{hidden[inner].mean():.1%}/{hidden[inner & ~public].mean():.1%}")

        wall, cpu, used, closed, share = run(gate.WORK_BUDGET, repeat)
        free_wall, _, _, free_closed, free_share = run(1e12, 1) if closed else (wall, cpu, used, closed, share)
        label = " x ".join(x for x in (rows, cols, panel) if x)
        small = int(((s.values < rules.threshold) & ~public).sum())
        print(f"{label:<34} {s.size:>6} {small:>6} {int(public.sum()):>6} {wall:>7.2f}s {cpu:>7.2f}s "
              f"{used:>8.0f} {'FAILED CLOSED' if closed else 'answered':>12} {share:>13} "
              f"{free_wall:>15.2f}s {free_share:>13}")
    print(f"LP work in the gate's units (budget {gate.WORK_BUDGET}); hidden = share of inner cells (margins excluded) / of those not empty; "
          f"'no budget' = the same table allowed to finish (run once), shown only where the gate failed closed; "
          f"empty = structural zeros (place/stage combinations the data never holds), shown as 0 and not counted small.")
    system.Ranges.__init__ = real


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--audit", action="store_true", help="time the disclosure gate on the sample's big tables")
    args = ap.parse_args()
    if args.audit:
        audit(args.repeat)
        return
    if args.child:
        print(json.dumps(measure(args.child, args.repeat)))
        return
    print(f"{'rows':>11} {'question':<28} {'engine':>9} {'raw duckdb':>11} {'pandas':>9} "
          f"{'engine/raw':>11} {'pandas/raw':>11} {'peak RSS':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--repeat", str(args.repeat)],
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            print(f"{size:>11,} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        for q in r["questions"]:
            print(f"{r['rows']:>11,} {q['label']:<28} {q['engine_ms']:>7.1f}ms {q['raw_ms']:>9.1f}ms "
                  f"{q['pandas_ms']:>7.1f}ms {q['engine_ms'] / q['raw_ms']:>10.2f}× "
                  f"{q['pandas_ms'] / q['raw_ms']:>10.2f}× {r['peak_rss_mb_engine']:>7.0f}MB")
    print("engine = query + grid + disclosure gate + statistics; raw = the same CUBE query alone;"
          " pandas = pd.crosstab on columns already in memory. Peak RSS: data loaded + engine, before pandas.")


if __name__ == "__main__":
    main()
