"""What a grid (st.dataframe) shows a reader, read from AppTest's element (tests/app is on sys.path)."""

import pandas as pd
import pyarrow as pa


def shown_text(element) -> pd.DataFrame:
    """The grid's cells as read on screen: the Styler's display text ("1,273", "[c]", "73.9 (70.1–77.2)") where
    it has one, else its values."""
    proto = getattr(element, "proto", None)
    styler = proto.arrow_data.styler if proto is not None else None
    if styler is not None and styler.display_values:
        return pa.ipc.open_stream(styler.display_values).read_pandas().reset_index(drop=True)
    return element.value


def as_drawn(frame: pd.DataFrame) -> pd.DataFrame:
    """The text a Compare table of text shows in its grid (its body, in order): figures blank where the table
    wrote a marker, and the markers in a column of their own (`tables.sortable`)."""
    from rcs_viz.output import tables

    g = tables.sortable(frame)
    return g.text.iloc[g.body].reset_index(drop=True)
