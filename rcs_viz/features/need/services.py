"""The services map: a CPP's table of children's services, checked, and summarised by tier.

A partnership asks "how much of our spend is prevention, and what does a
child's place cost at each tier?" before it can ask what shifting money
upstream would do (``rcs_viz.features.need.whatif``). This module answers the first
question from one services table (one row per service: docs/services.md).

Reading never changes the source and never shows a traceback: every problem
is a ``ServicesError`` naming the file, row, column and problem.

Spend is about services, not people, and is always shown. Counts of
children served are protected by the app's one disclosure gate
(``rcs_viz.engine.disclosure.gate.hide``), with the same rules, audit, work
budget, fail-closed and marker as every other table: a count below the
threshold (zero included) is hidden, per service and in every total, and so is
any further count that would let one be worked out by subtraction. This
module only builds the additive system (services, and every total as their
sum) and reads the gate's answer. A spend per child is never shown beside a
protected count, since spend / (spend per child) would give it back.
Protection is decided once over the whole table (every CPP, tier, sector and
their totals) so that the one-CPP and all-CPP views cannot be subtracted from
each other either.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import math
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from rcs_viz.engine.disclosure import gate
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.disclosure.system import System
from rcs_viz.engine.load import LoadError
from rcs_viz.output.tables import SUPPRESSED

# Tiers of intervention, from prevention to crisis: the order every summary uses.
TIERS = ("Universal", "Early help / targeted", "Intensive", "Specialist / crisis")
PREVENTATIVE = TIERS[:2]
PREVENTATIVE_LABEL = "Preventative (universal and early help)"
ACUTE_LABEL = "Intensive and specialist / crisis"
ALL_CPPS, ALL_TIERS, ALL_SECTORS = "All CPPs", "All tiers", "All sectors"
NOT_STATED = "Not stated"

# SUPPRESSED ("[c]") is the app's one marker for a protected count (rcs_viz.output.tables).
MARKERS = {SUPPRESSED: "protected: fewer than the threshold of children, or hidden so that such a count "
                       "cannot be worked out from the totals"}

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 2_000     # far more services than any CPP runs; keeps the protection check to seconds
MAX_COLUMNS = 200
MAX_AGE = 26         # aftercare support in Scotland runs to a care leaver's 26th birthday
SHOW_PROBLEMS = 5    # a message lists this many problems, then says how many more
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
SHEET = "Services"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    example: str


COLUMNS = (
    Column("service_id", True, "A short code, different for every service (your own, e.g. from a contracts list).",
           "GV-001"),
    Column("cpp", True, "The Community Planning Partnership the service belongs to.", "Glenvarrow"),
    Column("name", True, "The service's name as people in the partnership know it.", "Monmordie youth club"),
    Column("sector", False, "Who runs it, broadly: Education, Health, Social work, Third sector, Leisure and "
           "culture, ... (your own words; blank means 'Not stated').", "Leisure and culture"),
    Column("provider_type", False, "The kind of organisation providing it: Council, NHS board, Voluntary "
           "organisation, Community group, ...", "Community group"),
    Column("tier", True, "Tier of intervention, one of: " + "; ".join(TIERS) + ".", "Universal"),
    Column("age_min", False, "Youngest age served, in whole years (0-26; blank if not known).", "8"),
    Column("age_max", False, "Oldest age served, in whole years (0-26, not below age_min; blank if not known).",
           "18"),
    Column("children_served", True, "Children (or young people) served in a year, a whole number. A child using "
           "two services counts in both.", "79"),
    Column("annual_spend_gbp", True, "Annual spend on the service in pounds, all funders together (no £ sign "
           "needed).", "23500"),
    Column("funding_source", False, "The main funder: Council core, NHS, Scottish Government grant, Pupil "
           "Equity Fund, Lottery / charitable, ...", "Council core"),
)
NAMES = tuple(c.name for c in COLUMNS)
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
TEXT = ("service_id", "cpp", "name", "sector", "provider_type", "tier", "funding_source")

# Other spellings people use for a column, after lower-casing and joining words with "_".
ALIASES = {
    "id": "service_id", "service_code": "service_id", "code": "service_id",
    "community_planning_partnership": "cpp", "cpp_name": "cpp", "partnership": "cpp",
    "service": "name", "service_name": "name",
    "provider": "provider_type", "organisation_type": "provider_type",
    "tier_of_intervention": "tier", "level": "tier",
    "min_age": "age_min", "minimum_age": "age_min", "age_from": "age_min",
    "max_age": "age_max", "maximum_age": "age_max", "age_to": "age_max",
    "children": "children_served", "number_of_children": "children_served", "children_young_people_served": (
        "children_served"),
    "annual_spend": "annual_spend_gbp", "spend": "annual_spend_gbp", "spend_gbp": "annual_spend_gbp",
    "funder": "funding_source", "funding": "funding_source", "main_funder": "funding_source",
}
# Other spellings of a tier, after lower-casing and squeezing spaces.
TIER_ALIASES = {
    "early help": TIERS[1], "targeted": TIERS[1], "early help/targeted": TIERS[1],
    "early help and targeted": TIERS[1], "specialist": TIERS[3], "crisis": TIERS[3],
    "specialist/crisis": TIERS[3], "specialist and crisis": TIERS[3],
}


class ServicesError(LoadError, ValueError):
    """A services table that cannot be used; the message names the file, row, column and problem.

    Shaped like the data loader's error: ``problems`` holds every problem
    found, the message only the first few.
    """


@dataclass(frozen=True)
class Services:
    table: pd.DataFrame  # one row per service, columns NAMES, tiers as in TIERS
    source: str          # the file name
    notes: tuple[str, ...] = field(default=())  # what was assumed while reading (encoding, ignored columns, ...)


# --------------------------------------------------------------------------- reading

def load_services(source: str | Path | bytes, name: str | None = None) -> Services:
    """Read and check a services table (CSV or Excel .xlsx) from a path or, for an upload, its bytes.

    The file is only ever read. Every problem is a ServicesError; nothing
    else escapes, whatever the bytes.
    """
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "uploaded file"
    else:
        path = Path(source)
        name = name or path.name
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ServicesError(f"{name}: the file is larger than {MAX_BYTES // 2**20} MB; "
                                    "a services table is far smaller (is this the right file?)")
            data = path.read_bytes()
        except OSError as exc:
            raise ServicesError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise ServicesError(f"{name}: the file is larger than {MAX_BYTES // 2**20} MB; "
                            "a services table is far smaller (is this the right file?)")
    suffix = Path(name).suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            header, rows, notes = _read_text(name, data, suffix)
        elif suffix == ".xlsx":
            header, rows, notes = _read_xlsx(name, data)
        elif suffix == ".xls":
            raise ServicesError(f"{name}: this is the old Excel .xls format; save it as .xlsx or as CSV UTF-8")
        else:
            raise ServicesError(f"{name}: cannot read '{suffix or 'no extension'}' files; "
                                "use CSV (.csv) or Excel (.xlsx) - the template shows the layout")
        table, more = _check(name, header, rows)
    except ServicesError:
        raise
    except Exception as exc:  # a last guard: whatever the bytes, never a traceback
        raise ServicesError(f"{name}: cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    return Services(table, name, tuple(notes + more))


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


def _decode(name: str, data: bytes) -> tuple[str, list[str]]:
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise ServicesError(f"{name}: the file is empty")
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), [f"{name} was read as {label} text."]
            except UnicodeDecodeError:
                raise ServicesError(f"{name}: the text is not valid {label} (it may be damaged); "
                                    "save it again as 'CSV UTF-8'") from None
    if b"\x00" in data:
        raise ServicesError(f"{name}: the file holds binary data, so it is not a plain-text CSV (an Excel "
                            "workbook needs the .xlsx extension); save it as 'CSV UTF-8' or .xlsx")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), [f"{name} is not UTF-8; it was read as Windows-1252."]
    except UnicodeDecodeError as exc:
        raise ServicesError(f"{name}: the text is in an encoding RCS Explorer cannot tell (byte {exc.start + 1} "
                            "is neither UTF-8 nor Windows-1252); save it again as 'CSV UTF-8'") from None


def _read_text(name: str, data: bytes, suffix: str):
    text, notes = _decode(name, data)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ServicesError(f"{name}: the file is empty")
    first = text.splitlines()[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delim = max(counts, key=lambda d: (counts[d], d == ("\t" if suffix == ".tsv" else ",")))
    if not counts[delim]:
        delim = "\t" if suffix == ".tsv" else ","
    if delim != ",":
        notes.append(f"Columns in {name} are separated by {'semicolons' if delim == ';' else 'tabs'}.")
    header, rows, i = None, [], 1
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True), 1):
            if header is None:
                header = row
            elif any(cell.strip() for cell in row):
                if len(rows) >= MAX_ROWS:
                    raise ServicesError(f"{name}: more than {MAX_ROWS:,} services; RCS Explorer reads at most "
                                        f"{MAX_ROWS:,} (is this the right file?)")
                if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
                    raise ServicesError(f"{name}, row {i}: {len(row)} values but the header has {len(header)} "
                                        "columns (a comma inside a value needs quotes around the value)")
                rows.append((i, row + [""] * (len(header) - len(row))))
    except csv.Error as exc:
        raise ServicesError(f"{name}, row {i + (header is not None)}: the row cannot be read as CSV ({exc}); "
                            "check for an unclosed quote (\")") from None
    return header or [], rows, notes


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _read_xlsx(name: str, data: bytes):
    import openpyxl

    if not data:
        raise ServicesError(f"{name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ServicesError(f"{name}: cannot be read as an Excel .xlsx workbook "
                            "(it may be damaged, or not really .xlsx)") from None
    notes = []
    try:
        if not wb.sheetnames:
            raise ServicesError(f"{name}: the workbook has no sheets")
        sheet = SHEET if SHEET in wb.sheetnames else wb.sheetnames[0]
        if len(wb.sheetnames) > 1:
            notes.append(f"{name}: read the sheet '{sheet}'.")
        header, rows = None, []
        for i, row in enumerate(wb[sheet].iter_rows(values_only=True, max_col=MAX_COLUMNS), 1):
            cells = [_cell(v) for v in row]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                continue
            if len(rows) >= MAX_ROWS:
                raise ServicesError(f"{name}: more than {MAX_ROWS:,} services; RCS Explorer reads at most "
                                    f"{MAX_ROWS:,} (is this the right sheet?)")
            rows.append((i, cells + [""] * (len(header) - len(cells))))
    except ServicesError:
        raise
    except Exception as exc:
        raise ServicesError(f"{name}: the workbook cannot be read; it may be damaged "
                            f"({type(exc).__name__})") from None
    finally:
        wb.close()
    if header is None:
        raise ServicesError(f"{name}: the sheet '{sheet}' is empty")
    while header and not header[-1].strip():
        header.pop()
    return header, [(i, r[:len(header)]) for i, r in rows], notes


def column_key(heading: str) -> str:
    """The column a heading means: case, spaces and punctuation ignored, a few other spellings known."""
    key = re.sub(r"[^0-9a-z£]+", "_", str(heading).casefold()).strip("_").replace("£", "gbp")
    return ALIASES.get(key, key)


def _check(name: str, header: list[str], rows: list[tuple[int, list[str]]]):
    if not any(h.strip() for h in header):
        raise ServicesError(f"{name}: the file has no header row (the first row should name the columns)")
    where: dict[str, int] = {}
    notes, ignored = [], []
    for j, heading in enumerate(header):
        key = column_key(heading)
        if key in NAMES:
            if key in where:
                raise ServicesError(f"{name}: columns '{header[where[key]].strip()}' (column {where[key] + 1}) and "
                                    f"'{heading.strip()}' (column {j + 1}) both give {key}; keep one")
            where[key] = j
        elif heading.strip():
            ignored.append(heading.strip())
    missing = [c for c in REQUIRED if c not in where]
    if missing:
        raise ServicesError(
            f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(the header row has: {', '.join(h.strip() for h in header if h.strip())[:300]}); "
            "the template lists every column")
    if ignored:
        notes.append(f"{name}: ignored column(s) {', '.join(ignored[:10])}"
                     + (f" and {len(ignored) - 10} more" if len(ignored) > 10 else "") + ".")
    absent = [c for c in NAMES if c not in where]
    if absent:
        notes.append(f"{name} has no {', '.join(absent)} column; shown as '{NOT_STATED}' or blank.")
    if not rows:
        raise ServicesError(f"{name}: the file has a header but no services")

    def heading(col: str) -> str:
        text = header[where[col]].strip()
        return f"'{text}'" if column_key(text) == text else f"'{text}' ({col})"

    problems: list[str] = []

    def problem(rownum: int, col: str, text: str) -> None:
        problems.append(f"row {rownum}, column {heading(col)}: {text}")

    out: dict[str, list] = {c: [] for c in NAMES}
    rownums = [r for r, _ in rows]
    for rownum, cells in rows:
        raw = {c: (cells[where[c]].strip() if c in where else "") for c in NAMES}
        for col in TEXT:
            value = re.sub(r"\s+", " ", raw[col])
            if not value and col in REQUIRED:
                problem(rownum, col, "blank; every service needs one")
            out[col].append(value or (NOT_STATED if col not in REQUIRED else ""))
        tier = out["tier"][-1]
        if tier:
            canon = _tier(tier)
            if canon is None:
                problem(rownum, "tier", f"'{_short(tier)}' is not a tier; use one of: {'; '.join(TIERS)}")
            out["tier"][-1] = canon or tier
        if out["sector"][-1].casefold() == ALL_SECTORS.casefold():
            problem(rownum, "sector", f"'{ALL_SECTORS}' is kept for the total; name the sector")
        if out["cpp"][-1].casefold() == ALL_CPPS.casefold():
            problem(rownum, "cpp", f"'{ALL_CPPS}' is kept for the total; name the partnership")
        for col, whole, required in (("children_served", True, True), ("annual_spend_gbp", False, True),
                                     ("age_min", True, False), ("age_max", True, False)):
            value, why = _number(raw[col], whole)
            if why == "blank" and not required:
                why = None
            if why:
                problem(rownum, col, why)
            elif col.startswith("age") and value is not None and value > MAX_AGE:
                problem(rownum, col, f"{_short(raw[col])} is not an age from 0 to {MAX_AGE}")
                value = None
            out[col].append(value)
        lo, hi = out["age_min"][-1], out["age_max"][-1]
        if lo is not None and hi is not None and lo > hi:
            problem(rownum, "age_max", f"{hi:g} is below age_min ({lo:g})")
    seen: dict[str, list[int]] = {}
    for rownum, sid in zip(rownums, out["service_id"]):
        if sid:
            seen.setdefault(sid.casefold(), []).append(rownum)
    for sid, where_rows in seen.items():
        if len(where_rows) > 1:
            text = out["service_id"][rownums.index(where_rows[0])]
            problems.append(f"rows {', '.join(map(str, where_rows[:10]))}, column {heading('service_id')}: "
                            f"'{_short(text)}' is used more than once; every service needs its own id")
    if problems:
        shown = "; ".join(problems[:SHOW_PROBLEMS])
        more = f"; and {len(problems) - SHOW_PROBLEMS} more" if len(problems) > SHOW_PROBLEMS else ""
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise ServicesError(f"{name}: {count}: {shown}{more}", [f"{name}, {p}" for p in problems])
    table = pd.DataFrame({
        **{c: pd.array(out[c], dtype=object) for c in TEXT},
        "age_min": pd.array(out["age_min"], dtype="Int64"),
        "age_max": pd.array(out["age_max"], dtype="Int64"),
        "children_served": np.array(out["children_served"], dtype=np.int64),
        "annual_spend_gbp": np.array(out["annual_spend_gbp"], dtype=float),
    })[list(NAMES)]
    return table, notes


def _tier(text: str) -> str | None:
    key = re.sub(r"\s*/\s*", "/", re.sub(r"\s+", " ", text.casefold().strip()))
    for tier in TIERS:
        if key == re.sub(r"\s*/\s*", "/", tier.casefold()):
            return tier
    return TIER_ALIASES.get(key)


def _number(text: str, whole: bool) -> tuple[float | int | None, str | None]:
    """A figure as people type it (1,250 / £1250 / 1250.00), or why it is not one."""
    if not text:
        return None, "blank"
    clean = re.sub(r"[\s,£]", "", text)
    try:
        value = float(clean)
    except ValueError:
        return None, f"'{_short(text)}' is not a number"
    if not math.isfinite(value):
        return None, f"'{_short(text)}' is not a number"
    if value < 0:
        return None, f"{_short(text)} is negative"
    if whole:
        if not value.is_integer():
            return None, f"{_short(text)} is not a whole number"
        return int(value), None
    return value, None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------- the template

def columns() -> pd.DataFrame:
    """What each column of the services table means, to show beside the upload."""
    return pd.DataFrame([{"column": c.name, "required": "yes" if c.required else "no",
                          "meaning": c.meaning, "example": c.example} for c in COLUMNS])


def template_csv() -> bytes:
    """A blank CSV template: the header only, so that nothing in it can be mistaken for a service."""
    return (",".join(NAMES) + "\r\n").encode("utf-8")


def template_excel() -> bytes:
    """A blank workbook: a 'Services' sheet to fill in (tier as a drop-down) and an 'About' sheet."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False}}) as xl:
        pd.DataFrame(columns=list(NAMES)).to_excel(xl, sheet_name=SHEET, index=False)
        about = columns()
        about.to_excel(xl, sheet_name="About", index=False, startrow=2)
        book, sheet, info = xl.book, xl.sheets[SHEET], xl.sheets["About"]
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        info.write(0, 0, "One row per service on the 'Services' sheet. Save as .xlsx, or as CSV UTF-8 "
                   "with the same header row.", book.add_format({"bold": True}))
        info.set_column(0, 1, 18)
        info.set_column(2, 2, 80, wrap)
        info.set_column(3, 3, 24)
        last = 2 + len(COLUMNS) + 2
        info.write(last, 0, "Tiers:")
        for k, tier in enumerate(TIERS):
            info.write(last + k, 1, tier)
        for j, col in enumerate(COLUMNS):
            sheet.write_comment(0, j, col.meaning, {"x_scale": 2, "y_scale": 1.5})
            sheet.set_column(j, j, max(14, len(col.name) + 4))
        sheet.freeze_panes(1, 0)
        j = NAMES.index
        sheet.data_validation(1, j("tier"), MAX_ROWS, j("tier"),
                              {"validate": "list", "source": list(TIERS),
                               "error_message": "Choose one of the four tiers."})
        for col in ("children_served", "age_min", "age_max"):
            sheet.data_validation(1, j(col), MAX_ROWS, j(col),
                                  {"validate": "integer", "criteria": ">=", "value": 0, "ignore_blank": True,
                                   "error_message": "A whole number, 0 or more."})
        sheet.data_validation(1, j("annual_spend_gbp"), MAX_ROWS, j("annual_spend_gbp"),
                              {"validate": "decimal", "criteria": ">=", "value": 0,
                               "error_message": "Pounds, 0 or more."})
    return buffer.getvalue()


# --------------------------------------------------------------------------- protection

def _rules(threshold: int | Rules) -> Rules:
    """The data owner's rules, or a threshold alone with the defaults for the rest."""
    if isinstance(threshold, Rules):
        return threshold
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a whole number of at least 1, not {threshold!r}")
    return Rules(threshold=threshold, min_base=max(threshold, Rules.min_base))


@dataclass(frozen=True)
class _Totals:
    """Every total the summaries can show: cpp x tier x sector, each also as 'all', over the services."""

    keys: list[tuple]          # (cpp, tier, sector), None meaning all
    members: list[np.ndarray]  # service positions in each total
    item: np.ndarray           # each total's item in the system; -1 where it has no service


def _system(table: pd.DataFrame) -> tuple[System, _Totals]:
    """The table as an additive system for the disclosure gate.

    Items: the services (the finest), then every total that has at least one
    service. Lines: each cpp x tier x sector cell is the sum of its services,
    and each 'all' the sum of the cells along that dimension. A total with no
    service is no one's count (its services column says 0): it is left out
    and shown as 0.
    """
    s = len(table)
    axes = [sorted(table["cpp"].unique(), key=str.casefold), [t for t in TIERS if t in set(table["tier"])],
            sorted(table["sector"].unique(), key=str.casefold)]
    shape = tuple(len(v) + 1 for v in axes)  # the last position on each axis is 'all'
    keys = list(itertools.product(*[[*vals, None] for vals in axes]))
    codes = [pd.Categorical(table[c], categories=v).codes.astype(np.int64)
             for c, v in zip(("cpp", "tier", "sector"), axes)]
    # every (total, service) pair: each service sits in one total for each choice of dimensions set to 'all'
    pairs = [np.ravel_multi_index([np.full(s, len(axes[a])) if a in alls else codes[a] for a in range(3)], shape)
             for k in range(4) for alls in itertools.combinations(range(3), k)]
    key_of = np.concatenate(pairs)
    order = np.argsort(key_of, kind="stable")
    members = np.split(np.tile(np.arange(s), len(pairs))[order],
                       np.cumsum(np.bincount(key_of, minlength=len(keys)))[:-1])
    used = np.bincount(key_of, minlength=len(keys)) > 0
    item = np.where(used, s + np.cumsum(used) - 1, -1)
    n = table["children_served"].to_numpy(np.int64)
    sums = np.zeros(len(keys), np.int64)
    np.add.at(sums, key_of, np.tile(n, len(pairs)))
    values = np.concatenate([n, sums[used]])
    grid = item.reshape(shape)
    lines = []
    for k, (key, i) in enumerate(zip(keys, item)):
        if i < 0:
            continue
        if None not in key:
            lines.append((i, members[k]))  # a cell and its services
        at = np.unravel_index(k, shape)
        for a in range(3):
            if key[a] is None:
                index = list(at)
                index[a] = slice(0, -1)
                parts = grid[tuple(index)]
                lines.append((i, parts[parts >= 0]))  # an 'all' and the totals along that dimension
    return System.from_lines(values, lines), _Totals(keys, members, item)


def cells(table: pd.DataFrame, threshold: int | Rules = 10) -> pd.DataFrame:
    """Every total the summaries use, protected: the one result all of them are cut from.

    One row per cpp x tier x sector cell, each also as 'all' (ALL_CPPS,
    ALL_TIERS, ALL_SECTORS): services, annual_spend_gbp, children_served (NaN
    where protected), spend_per_child (NaN where the count is protected or 0)
    and marker ("[c]" where protected). The per-service counts protected with
    it are in ``service_list``. `threshold` is the data owner's ``Rules`` or
    its threshold alone.
    """
    return _protected(table, threshold)[1]


@dataclass(frozen=True)
class _Table:
    """A services table as a cache key: equal when its digest is."""

    digest: str
    table: pd.DataFrame = field(compare=False, hash=False)


def _protected(table: pd.DataFrame, threshold: int | Rules) -> tuple[np.ndarray, pd.DataFrame]:
    rules = _rules(threshold)
    if table.empty:
        raise ValueError("the services table has no services")
    digest = hashlib.sha256(pd.util.hash_pandas_object(
        table[["service_id", "cpp", "tier", "sector", "children_served", "annual_spend_gbp"]],
        index=False).to_numpy().tobytes()).hexdigest()
    hidden, out = _protect(_Table(digest, table), rules.threshold, rules.secondary)
    return hidden.copy(), out.copy()


@lru_cache(maxsize=16)
def _protect(key: _Table, threshold: int, secondary: bool) -> tuple[np.ndarray, pd.DataFrame]:
    """The gate's decision for a table: hidden services, and every total with its marker.

    Counts of children are not records with cell keys, so there is no noise
    to add: what is shown is the table's own figure.
    """
    table = key.table
    system, totals = _system(table)
    _, hidden = gate.hide(system, Rules(threshold=threshold, min_base=max(threshold, Rules.min_base),
                                        secondary=secondary, perturbation=False))
    s = len(table)
    item = totals.item
    total_hidden = np.where(item >= 0, hidden[np.maximum(item, 0)], False)
    total_n = np.where(item >= 0, system.values[np.maximum(item, 0)], 0)
    spend = table["annual_spend_gbp"].to_numpy(float)
    out = pd.DataFrame({
        "cpp": [k[0] if k[0] is not None else ALL_CPPS for k in totals.keys],
        "tier": [k[1] if k[1] is not None else ALL_TIERS for k in totals.keys],
        "sector": [k[2] if k[2] is not None else ALL_SECTORS for k in totals.keys],
        "services": [len(m) for m in totals.members],
        "annual_spend_gbp": [spend[m].sum() for m in totals.members],
        "children_served": np.where(total_hidden, np.nan, total_n.astype(float)),
        "marker": np.where(total_hidden, SUPPRESSED, ""),
    })
    out["spend_per_child"] = _per_child(out["annual_spend_gbp"], out["children_served"])
    return hidden[:s].copy(), out


def _per_child(spend: pd.Series, children: pd.Series) -> pd.Series:
    return (spend / children.where(children > 0)).astype(float)


# --------------------------------------------------------------------------- summaries

def _scope(table: pd.DataFrame, cpp: str | None) -> str:
    if cpp is None:
        return ALL_CPPS
    if cpp not in set(table["cpp"]):
        raise ValueError(f"no services for CPP '{cpp}'; the table has: {', '.join(sorted(set(table['cpp'])))}")
    return cpp


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    tier_rank = {t: i for i, t in enumerate((*TIERS, ALL_TIERS))}
    return frame.assign(_t=frame["tier"].map(tier_rank),
                        _s=frame["sector"].eq(ALL_SECTORS), _n=frame["sector"].str.casefold()) \
        .sort_values(["_t", "_s", "_n"]).drop(columns=["_t", "_s", "_n"]).reset_index(drop=True)


def service_list(table: pd.DataFrame, cpp: str | None = None, threshold: int | Rules = 10) -> pd.DataFrame:
    """The services themselves, in tier order, with small (and linked) counts protected."""
    hidden, _ = _protected(table, threshold)
    scope = _scope(table, cpp)
    out = table.copy()
    out["children_served"] = out["children_served"].astype(float).where(~hidden)
    out["marker"] = np.where(hidden, SUPPRESSED, "")
    out["spend_per_child"] = _per_child(out["annual_spend_gbp"], out["children_served"])
    if scope != ALL_CPPS:
        out = out[out["cpp"].eq(scope)]
    rank = out["tier"].map({t: i for i, t in enumerate(TIERS)})
    return out.assign(_t=rank).sort_values(["_t", "cpp", "service_id"], kind="stable") \
        .drop(columns="_t").reset_index(drop=True)


def by_tier_sector(table: pd.DataFrame, cpp: str | None = None, threshold: int | Rules = 10) -> pd.DataFrame:
    """Spend and children served by tier x sector, with tier totals, for one CPP or all.

    spend_pct is the share of the CPP's (or all CPPs') spend; tier_spend_pct
    the share of that tier's spend, i.e. which sectors carry the tier.
    Combinations with no service are left out.
    """
    scope = _scope(table, cpp)
    c = cells(table, threshold)
    c = c[c["cpp"].eq(scope) & c["services"].gt(0)].drop(columns="cpp")
    total = c.loc[c["tier"].eq(ALL_TIERS) & c["sector"].eq(ALL_SECTORS), "annual_spend_gbp"].iloc[0]
    tier_spend = c[c["sector"].eq(ALL_SECTORS)].set_index("tier")["annual_spend_gbp"]
    c["spend_pct"] = 100 * c["annual_spend_gbp"] / total if total else np.nan
    c["tier_spend_pct"] = 100 * c["annual_spend_gbp"] / c["tier"].map(tier_spend).replace(0, np.nan)
    return _order(c)[["tier", "sector", "services", "annual_spend_gbp", "spend_pct", "tier_spend_pct",
                      "children_served", "spend_per_child", "marker"]]


def by_tier(table: pd.DataFrame, cpp: str | None = None, threshold: int | Rules = 10) -> pd.DataFrame:
    """One row per tier (all four, in order) and the total: spend, its share, children, spend per child."""
    t = by_tier_sector(table, cpp, threshold)
    t = t[t["sector"].eq(ALL_SECTORS)].drop(columns=["sector", "tier_spend_pct"]).set_index("tier")
    empty = {"services": 0, "annual_spend_gbp": 0.0, "spend_pct": 0.0, "children_served": 0.0,
             "spend_per_child": np.nan, "marker": ""}
    rows = [t.loc[k].to_dict() if k in t.index else empty for k in (*TIERS, ALL_TIERS)]
    out = pd.DataFrame(rows, index=pd.Index([*TIERS, ALL_TIERS], name="tier")).reset_index()
    out["services"] = out["services"].astype(int)
    return out


def by_sector(table: pd.DataFrame, cpp: str | None = None, threshold: int | Rules = 10) -> pd.DataFrame:
    """One row per sector and the total: spend, its share, children, spend per child."""
    scope = _scope(table, cpp)
    c = cells(table, threshold)
    c = c[c["cpp"].eq(scope) & c["tier"].eq(ALL_TIERS) & c["services"].gt(0)]
    total = c.loc[c["sector"].eq(ALL_SECTORS), "annual_spend_gbp"].iloc[0]
    c = c.assign(spend_pct=100 * c["annual_spend_gbp"] / total if total else np.nan)
    return _order(c)[["sector", "services", "annual_spend_gbp", "spend_pct", "children_served",
                      "spend_per_child", "marker"]]


def preventative_share(table: pd.DataFrame, cpp: str | None = None) -> pd.DataFrame:
    """Spend on prevention (universal and early help) against intensive and specialist / crisis.

    Spend only: it is about services, not children, so nothing here is protected.
    """
    scope = _scope(table, cpp)
    t = table if scope == ALL_CPPS else table[table["cpp"].eq(scope)]
    prevent = t["tier"].isin(PREVENTATIVE)
    spend = [t.loc[prevent, "annual_spend_gbp"].sum(), t.loc[~prevent, "annual_spend_gbp"].sum()]
    total = sum(spend)
    return pd.DataFrame({
        "group": [PREVENTATIVE_LABEL, ACUTE_LABEL, "Total"],
        "tiers": ["; ".join(PREVENTATIVE), "; ".join(TIERS[2:]), "; ".join(TIERS)],
        "services": [int(prevent.sum()), int((~prevent).sum()), len(t)],
        "annual_spend_gbp": [*spend, total],
        "spend_pct": [100 * x / total if total else np.nan for x in (*spend, total)],
    })


def tier_shares(table: pd.DataFrame, by: str = "funding_source", cpp: str | None = None) -> pd.DataFrame:
    """Who carries each tier: spend by tier x sector, provider type or funder, as a share of the tier.

    Spend only, so nothing is protected.
    """
    if by not in ("sector", "provider_type", "funding_source"):
        raise ValueError(f"by must be sector, provider_type or funding_source, not {by!r}")
    scope = _scope(table, cpp)
    t = table if scope == ALL_CPPS else table[table["cpp"].eq(scope)]
    g = t.groupby(["tier", by], sort=False).agg(services=("service_id", "size"),
                                                 annual_spend_gbp=("annual_spend_gbp", "sum")).reset_index()
    tier_total = g.groupby("tier")["annual_spend_gbp"].transform("sum")
    g["tier_spend_pct"] = 100 * g["annual_spend_gbp"] / tier_total.replace(0, np.nan)
    g["_t"] = g["tier"].map({t: i for i, t in enumerate(TIERS)})
    return g.sort_values(["_t", "annual_spend_gbp", by], ascending=[True, False, True]) \
        .drop(columns="_t").reset_index(drop=True)


def grid(long: pd.DataFrame, value: str = "annual_spend_gbp") -> pd.DataFrame:
    """A by_tier_sector table laid out tier x sector for the screen; protected counts read "[c]"."""
    g = long.copy()
    if value in ("children_served", "spend_per_child"):
        g[value] = g[value].astype(object).where(g["marker"].eq(""), SUPPRESSED)
    wide = g.pivot(index="tier", columns="sector", values=value)
    rows = [t for t in (*TIERS, ALL_TIERS) if t in wide.index]
    cols = [c for c in dict.fromkeys(g["sector"]) if c != ALL_SECTORS] + [ALL_SECTORS]
    wide = wide.loc[rows, [c for c in cols if c in wide.columns]]
    wide.columns.name = None
    return wide


__all__ = [
    "ALL_CPPS", "ALL_SECTORS", "ALL_TIERS", "COLUMNS", "MARKERS", "PREVENTATIVE", "SUPPRESSED", "TIERS",
    "Column", "Services", "ServicesError", "by_sector", "by_tier", "by_tier_sector", "cells", "column_key",
    "columns", "grid", "load_services", "preventative_share", "service_list", "template_csv",
    "template_excel", "tier_shares",
]


@dataclass(frozen=True)
class Summary:
    """Everything the services map shows for one partnership (or all), protected under one threshold."""

    where: str
    tiers: pd.DataFrame
    sectors: pd.DataFrame
    tier_sector: pd.DataFrame
    prevent: pd.DataFrame
    funders: pd.DataFrame
    services: pd.DataFrame


def summarise(table: pd.DataFrame, cpp: str | None, threshold: int | Rules) -> Summary:
    """The services map of `cpp` (None: every partnership in the table): the figures a page, file or report shows."""
    return Summary(where=cpp or "All partnerships in the table",
                   tiers=by_tier(table, cpp, threshold), sectors=by_sector(table, cpp, threshold),
                   tier_sector=by_tier_sector(table, cpp, threshold), prevent=preventative_share(table, cpp),
                   funders=tier_shares(table, "funding_source", cpp), services=service_list(table, cpp, threshold))
