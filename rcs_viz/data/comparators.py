"""National comparator figures: read, checked, and matched to a view.

A comparator is only honest when it describes the same population as the
view: the same indicator counted the same way (its positive codes), the same
wave and the same stages. `national` therefore answers None rather than the
nearest figure, and the page says why nothing is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("indicator", "statistic", "positive", "stage", "wave", "value")
ALL_STAGES, ALL_PRIMARY, ALL_SECONDARY = "All stages", "All primary", "All secondary"


class ComparatorError(ValueError):
    """A comparator table that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class Comparators:
    table: pd.DataFrame  # one row per indicator, stage and wave; codes as text
    source: str = ""
    note: str = ""  # e.g. "Illustrative national figure (synthetic)"

    def national(self, indicator: str, statistic: str, positive: tuple[str, ...], wave: str | None,
                 stage: str | None) -> float | None:
        """The figure for exactly this indicator, definition, wave and stage scope, or None."""
        if wave is None or stage is None:
            return None
        t = self.table
        hit = t[(t["indicator"] == indicator) & (t["statistic"] == statistic) & (t["wave"] == wave)
                & (t["stage"] == stage)]
        if statistic == "pct":
            hit = hit[hit["positive"].map(lambda p: set(p.split(";")) == set(positive))]
        return float(hit["value"].iloc[0]) if len(hit) else None

    def waves(self, indicator: str) -> list[str]:
        return sorted(set(self.table.loc[self.table["indicator"] == indicator, "wave"]))


EMPTY = Comparators(pd.DataFrame(columns=list(COLUMNS)), source="none")


def read(path: str | Path | None) -> Comparators:
    """The comparator CSV, or EMPTY when none is configured; a broken file raises ComparatorError."""
    if path is None:
        return EMPTY
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ComparatorError(f"{path.name}: cannot be read as a UTF-8 CSV ({type(err).__name__})") from None
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ComparatorError(f"{path.name}: missing column(s) {', '.join(missing)}")
    table = raw[list(COLUMNS)].apply(lambda s: s.str.strip())
    value = pd.to_numeric(table["value"], errors="coerce")
    bad = value.isna() | ~table["statistic"].isin(["pct", "mean"])
    if bad.any():
        row = int(bad.idxmax())
        raise ComparatorError(f"{path.name}: row {row + 2}: 'value' must be a number and 'statistic' "
                              f"pct or mean (got {table.at[row, 'value']!r}, {table.at[row, 'statistic']!r})")
    impossible = ~np.isfinite(value) | ((table["statistic"] == "pct") & ~value.between(0, 100))
    if impossible.any():
        row = int(impossible.idxmax())
        raise ComparatorError(f"{path.name}: row {row + 2}: 'value' {table.at[row, 'value']!r} is not a possible "
                              f"{'percentage (0 to 100)' if table.at[row, 'statistic'] == 'pct' else 'figure'}")
    table["value"] = value
    table["positive"] = table["positive"].map(lambda p: ";".join(sorted(c.strip() for c in p.split(";") if c.strip())))
    key = ["indicator", "statistic", "positive", "stage", "wave"]
    twice = table.duplicated(key, keep=False)
    if twice.any():
        rows = [str(i + 2) for i in table.index[twice][:2]]
        raise ComparatorError(f"{path.name}: rows {' and '.join(rows)} give two figures for the same indicator, "
                              "codes, stage and wave; keep one")
    note = raw["note"].iloc[0] if "note" in raw.columns and len(raw) else ""
    return Comparators(table, source=path.name, note=note)


def stage_scope(stage_labels: dict[str, str], kept: tuple[str, ...] | None) -> str | None:
    """Which national stage figure matches a view's stage filter: all, primary, secondary or one stage.

    Stage labels are read as Scottish stages ("P4", "S2"): a filter keeping
    exactly the primary (or secondary) stages the data has matches "All
    primary" (or "All secondary"); a single stage matches its own label;
    any other mix has no national figure.
    """
    if not kept:
        return ALL_STAGES
    labels = {stage_labels.get(c, c) for c in kept}
    primary = {label for label in stage_labels.values() if label.upper().startswith("P")}
    secondary = {label for label in stage_labels.values() if label.upper().startswith("S")}
    if labels == set(stage_labels.values()):
        return ALL_STAGES
    if labels == primary:
        return ALL_PRIMARY
    if labels == secondary:
        return ALL_SECONDARY
    if len(labels) == 1:
        return next(iter(labels))
    return None
