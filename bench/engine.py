"""Engine benchmark: a safe cross-tab against raw DuckDB and pandas.crosstab.

Prints, at 100 k, 1 M and 10 M rows: the median time of a safe cross-tab
through the engine (query + grid + disclosure gate + statistics), of the same
raw DuckDB CUBE query alone, and of pandas.crosstab on the columns already in
memory, with the ratios; and the peak resident memory of a process holding
the loaded data and the engine. Each size runs in its own process so its
peak memory is its own. Goals: engine ≤ 1.5× raw DuckDB; < 1 GB at 1 M rows.

    python bench/engine.py [--sizes 100000,1000000,10000000] [--repeat 7]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
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
