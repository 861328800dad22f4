"""How long a story deck takes to make: a six-step story on the synthetic sample, counted, drawn and written.

    python bench/deck.py            # prints seconds: counting (gated calls), drawing (charts to PNG), pptx, pdf,
                                    # and how many slides and chart pictures the deck holds

Prints figures, asserts nothing. The first build opens the data and counts cold; the second finds DuckDB warm.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from rcs_viz.data import comparators  # noqa: E402
from rcs_viz.engine.disclosure.gate import Rules  # noqa: E402
from rcs_viz.engine.load import load_dataset  # noqa: E402
from rcs_viz.features.story import deck  # noqa: E402
from rcs_viz.features.story.model import SavedView  # noqa: E402
from rcs_viz.output import deck as slides  # noqa: E402

PAGES = {"": "Overview", "explore": "Explore", "compare": "Compare", "need": "Need and services"}
STORY = (
    SavedView("Deprivation by sex", "explore", (("rows", ("simd",)), ("cols", ("sex",))), note="Most live here."),
    SavedView("Bullying by stage", "explore", (("rows", ("stage",)), ("cols", ("bullied",)), ("measure", ("row_pct",)))),
    SavedView("Clusters ranked", "compare", (("view", ("rank",)),)),
    SavedView("Over time", "compare", (("view", ("trend",)),)),
    SavedView("By deprivation", "compare", (("view", ("gradient",)),)),
    SavedView("Need and contact", "need", ()),
)


def main() -> None:
    data = ROOT / "data_samples"
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        ds = load_dataset(data / "respondents.parquet", data / "dictionary.yaml", cache_dir=Path(cache))
        print(f"open the sample: {time.perf_counter() - t:.1f} s")
        comps = comparators.read(data / "comparators.csv")
        for run in ("cold", "warm"):
            timings: dict = {}
            t = time.perf_counter()
            built = deck.build(ds, STORY, Rules(), title="Bench story", source="respondents.parquet",
                               page_titles=PAGES, comps=comps, timings=timings)
            total = time.perf_counter() - t
            t = time.perf_counter()
            pptx = slides.to_pptx(built)
            t_pptx = time.perf_counter() - t
            t = time.perf_counter()
            pdf = slides.to_pdf(built)
            t_pdf = time.perf_counter() - t
            laid = slides.pages(built)
            charts = sum(isinstance(b, slides.Picture) for page in laid for b in page.boxes)
            print(f"{run}: {len(STORY)} steps built in {total:.1f} s (counting {timings['counting']:.1f} s, "
                  f"charts to PNG {timings['drawing']:.1f} s); {len(laid)} slides, {charts} chart pictures; "
                  f"pptx {t_pptx:.1f} s ({len(pptx) // 1024} KB), pdf {t_pdf:.1f} s ({len(pdf) // 1024} KB)")


if __name__ == "__main__":
    main()
