"""Shared by the Compare page tests (tests/app is on sys.path): the configured rules and national figures, an
indicator by name, and what a page says and draws, read as a reader and a chart would."""

import pandas as pd
import pyarrow as pa

from rcs_viz import config
from rcs_viz.data import comparators
from rcs_viz.features.compare import model as compare
from rcs_viz.output.markdown import JOINER

CFG = config.load()
COMPS = comparators.read(CFG.comparators)


def ind(ds, name):
    return next(i for i in compare.indicators(ds.dictionary) if i.name == name)


def charts(at) -> list[tuple[str, list[pd.DataFrame]]]:
    """Each chart as Streamlit sends it: its spec, and its data sets (Arrow, sent beside the spec)."""
    out = []
    for c in at.get("vega_lite_chart"):
        frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in c.proto.datasets]
        out.append((c.proto.spec, frames))
    return out


def said(at) -> str:
    """Everything written on the page, as a reader sees it."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "warning")
             for e in getattr(at, kind)]
    parts += [d.value.to_string() for d in at.dataframe] + [t.value.to_string() for t in at.table]
    for spec, frames in charts(at):
        parts += [spec] + [f.to_csv(index=False) for f in frames]
    return " ".join(parts).replace("\\", "").replace(JOINER, "").replace("**", "")
