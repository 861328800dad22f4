"""What a grid (st.dataframe) shows a reader, read from AppTest's element (tests/app is on sys.path)."""

import json
import math

import pandas as pd
import pyarrow as pa


def _js_number(value: float) -> str:
    """A number as JavaScript's String() writes it (shortest digits, no ".0"), for the magnitudes a table holds."""
    return repr(value).removesuffix(".0")


# The printf formats the grid's browser applies (sprintf-js, as Streamlit documents them), written out here apart
# from the app's own table of them, so a format that wrote other text than the table's would show as a difference.
PRINTF = {
    "%,d": lambda v: f"{int(v):,}",
    "%.1f": lambda v: ("-" if v < 0 else "") + f"{abs(v):.1f}",
    "%g": _js_number,
}


def shown_text(element) -> pd.DataFrame:
    """The grid's cells as read on screen: the Styler's display text ("1,273", "[c]", "73.9 (70.1–77.2)") where
    it has one, else its values as its columns' number formats write them, a cell without a figure as the grid's
    placeholder."""
    proto = getattr(element, "proto", None)
    styler = proto.arrow_data.styler if proto is not None else None
    if styler is not None and styler.display_values:
        return pa.ipc.open_stream(styler.display_values).read_pandas().reset_index(drop=True)
    frame = element.value
    columns = getattr(proto, "columns", "")  # a grid's column configuration (st.table has none)
    if not columns:
        return frame
    frame = frame.copy()
    for column, config in json.loads(columns).items():
        fmt = config.get("type_config", {}).get("format")
        if column in frame.columns and fmt is not None:
            write = PRINTF[fmt]
            frame[column] = [proto.placeholder if v is None or math.isnan(v) else write(v) for v in frame[column]]
    return frame


def as_drawn(frame: pd.DataFrame) -> pd.DataFrame:
    """The text a Compare table of text shows in its grid (its body, in order): figures blank where the table
    wrote a marker, and the markers in a column of their own (`tables.sortable`)."""
    from rcs_viz.output import tables

    g = tables.sortable(frame)
    return g.text.iloc[g.body].reset_index(drop=True)
