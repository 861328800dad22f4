"""A hostile-file corpus for ``rcs_viz.engine.load.load_dataset``, generated here (no committed binaries).

Every case builds a data file (and maybe a dictionary) in a fresh folder and
loads it. Whatever the case, the loader must:

1. succeed (only where succeeding is right) or raise ``LoadError``, never any
   other exception, and never hang;
2. say what is wrong in one short line naming the file, the column where there
   is one, and the problem in words;
3. leave the data file and the dictionary byte-for-byte as they were;
4. after a failure, leave nothing in ``cache_dir`` that a later load could pick
   up, and a later load of a good file into the same cache still works.

The cases are a table (``CASES``) of small builders; the numbers tried and
passed are printed at the end of the session.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import signal
import stat
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
import yaml

from rcs_viz.engine.load import Dataset, LoadError, load_dataset

CASE_SECONDS = 60  # a case still running after this long counts as a hang (the slowest takes ~7 s alone, ~20 s on a loaded machine)
MESSAGE_MAX = 600  # "one clear line": no newlines and not a wall of text

# --------------------------------------------------------------------------- the base data set

N = 12
DICT_YAML = """\
dataset: {title: Hostile corpus}
variables:
  - {name: resp_id, role: id}
  - {name: wave, role: wave, type: ordinal}
  - {name: school, role: school}
  - {name: sex, label: Sex of pupil, values: {1: Female, 2: Male}}
  - {name: attendance, type: numeric, missing: [-9]}
"""


def frame(n: int = N) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({
        "resp_id": i + 1,
        "wave": np.where(i % 2 == 0, 2024, 2022),
        "school": [["Ashdale High", "Birch Primary", "Cairn Academy"][k % 3] for k in i],
        "sex": 1 + i % 2,
        "attendance": [80.0 + k if k % 5 else -9.0 for k in i],
    })


def csv_text(df: pd.DataFrame | None = None, sep: str = ",") -> str:
    return (frame() if df is None else df).to_csv(index=False, sep=sep)


def with_cell(col: str, value, row: int = 3) -> pd.DataFrame:
    """The base frame with one cell replaced (the column becomes text when needed)."""
    return with_cells(col, {row: value})


def with_cells(col: str, values: dict[int, object]) -> pd.DataFrame:
    """The base frame with cells of one column replaced: {row index: value}."""
    df = frame().astype({col: "object"})
    for row, value in values.items():
        df.loc[row, col] = value
    return df


# --------------------------------------------------------------------------- cases

@dataclass
class Input:
    data: Path
    dictionary: Path | None = None


Builder = Callable[[Path], Input]


@dataclass(frozen=True)
class Expect:
    ok: bool
    words: tuple[str, ...] = ()  # in the error message; or, for a good load, in some note
    column: str | None = None  # an error must name this column, in quotes
    names: str = "data"  # the file an error must name: "data" or "dictionary"
    check: Callable[[Dataset], None] | None = None  # more checks on a good load


def ok(*notes: str, check: Callable[[Dataset], None] | None = None) -> Expect:
    return Expect(True, notes, check=check)


def err(*words: str, column: str | None = None, names: str = "data") -> Expect:
    return Expect(False, words, column, names)


@dataclass(frozen=True)
class Case:
    id: str
    build: Builder
    expect: Expect
    skip: Callable[[], str | None] = field(default=lambda: None)  # a reason to skip, or None


def put(folder: Path, name: str, content: bytes | str) -> Path:
    p = folder / name
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return p


def dict_file(folder: Path, text: str = DICT_YAML, name: str = "dictionary.yaml") -> Path:
    return put(folder, name, text)


# ---- text files: bytes as given

def raw(content: bytes | str, name: str = "pupils.csv", dictionary: str | None = None) -> Builder:
    def build(d: Path) -> Input:
        return Input(put(d, name, content), dict_file(d, dictionary) if dictionary is not None else None)
    return build


def encoded(codec: str, *, bom: bytes = b"", text: str | None = None, cut: int = 0, dictionary: bool = True) -> Builder:
    def build(d: Path) -> Input:
        body = bom + (csv_text() if text is None else text).encode(codec)
        return Input(put(d, "pupils.csv", body[: len(body) - cut]), dict_file(d) if dictionary else None)
    return build


def table_csv(df: pd.DataFrame, *, sep: str = ",", name: str = "pupils.csv", dictionary: str | None = DICT_YAML) -> Builder:
    def build(d: Path) -> Input:
        return Input(put(d, name, df.to_csv(index=False, sep=sep)), dict_file(d, dictionary) if dictionary else None)
    return build


# ---- binary formats

def write_format(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix == ".xlsx":
        df.to_excel(path, index=False)
    elif path.suffix == ".sav":
        pyreadstat.write_sav(df, str(path), column_labels={"sex": "Sex of pupil"},
                             variable_value_labels={"sex": {1: "Female", 2: "Male"}})
    else:
        raise ValueError(path.suffix)
    return path


def binary(suffix: str, df: pd.DataFrame | None = None, dictionary: str | None = DICT_YAML) -> Builder:
    def build(d: Path) -> Input:
        path = write_format(frame() if df is None else df, d / f"pupils{suffix}")
        return Input(path, dict_file(d, dictionary) if dictionary else None)
    return build


def truncated(suffix: str, keep: float | int) -> Builder:
    """A valid file cut short: ``keep`` bytes, or that fraction of the file (negative: bytes off the end)."""
    def build(d: Path) -> Input:
        whole = write_format(frame(), d / f"whole{suffix}").read_bytes()
        (d / f"whole{suffix}").unlink()
        n = int(len(whole) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(whole) + keep)
        return Input(put(d, f"cut{suffix}", whole[:n]))
    return build


def renamed(make: Callable[[Path], bytes], name: str) -> Builder:
    """Bytes of one kind of file saved under another kind's extension."""
    def build(d: Path) -> Input:
        return Input(put(d, name, make(d)))
    return build


def _parquet_bytes(d: Path) -> bytes:
    return write_format(frame(), d / "x.parquet").read_bytes()


def _xlsx_bytes(d: Path) -> bytes:
    return write_format(frame(), d / "x.xlsx").read_bytes()


def _sav_bytes(d: Path) -> bytes:
    return write_format(frame(), d / "x.sav").read_bytes()


def _dta_bytes(d: Path) -> bytes:
    pyreadstat.write_dta(frame(), str(d / "x.dta"))
    return (d / "x.dta").read_bytes()


def _zip_bytes(_: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a workbook")
        z.writestr("data.csv", csv_text())
    return buf.getvalue()


def _png_bytes(_: Path) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def parquet_table(table: pa.Table, dictionary: str | None = None) -> Builder:
    def build(d: Path) -> Input:
        path = d / "pupils.parquet"
        pq.write_table(table, path)
        return Input(path, dict_file(d, dictionary) if dictionary else None)
    return build


def xlsx_cells(rows: list[list], *, text_cells: tuple[tuple[int, int], ...] = (), cached: dict[str, str] | None = None,
               dictionary: str | None = DICT_YAML, patch: Callable[[str], str] | None = None) -> Builder:
    """An .xlsx written cell by cell. ``text_cells`` (row, col, 1-based) are stored as text even when they
    start with '='; ``cached`` gives formula cells (by reference, e.g. "C3") a saved value, as Excel would."""
    def build(d: Path) -> Input:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                cell = ws.cell(r, c)
                cell.value = value
                if (r, c) in text_cells:
                    cell.data_type = "s"
        path = d / "pupils.xlsx"
        wb.save(path)
        if cached or patch:
            rewrite_zip_member(path, "xl/worksheets/sheet1.xml", lambda xml: _cache(xml, cached or {}, patch))
        return Input(path, dict_file(d, dictionary) if dictionary else None)
    return build


def _cache(xml: str, cached: dict[str, str], patch: Callable[[str], str] | None) -> str:
    for ref, value in cached.items():
        start = xml.index(f'<c r="{ref}"')
        end = xml.index("</c>", start)
        cell = xml[start:end].replace("<v></v>", f"<v>{value}</v>").replace("<v />", f"<v>{value}</v>")
        cell = cell.replace(f'<c r="{ref}"', f'<c r="{ref}" t="str"', 1)
        xml = xml[:start] + cell + xml[end:]
    return patch(xml) if patch else xml


def rewrite_zip_member(path: Path, member: str, change: Callable[[str], str]) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {info.filename: z.read(info.filename) for info in z.infolist()}
    parts[member] = change(parts[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)


def base_rows() -> list[list]:
    df = frame()
    return [list(df.columns)] + [[v.item() if hasattr(v, "item") else v for v in row] for row in df.itertuples(index=False)]


# ---- dictionaries

def with_dictionary(text: str, name: str = "dictionary.yaml", data: Builder | None = None) -> Builder:
    def build(d: Path) -> Input:
        base = (data or raw(csv_text()))(d)
        return Input(base.data, put(d, name, text))
    return build


def dict_bytes(content: bytes) -> Builder:
    def build(d: Path) -> Input:
        return Input(put(d, "pupils.csv", csv_text()), put(d, "dictionary.yaml", content))
    return build


def laughs(levels: int, width: int, where: str) -> str:
    """A "billion laughs" YAML: each level is ``width`` aliases of the one before."""
    lines = ['l0: &l0 "lol"']
    for k in range(1, levels + 1):
        lines.append(f"l{k}: &l{k} [{', '.join(f'*l{k - 1}' for _ in range(width))}]")
    top = f"*l{levels}"
    body = {
        "label": f"variables:\n  - {{name: resp_id, role: id}}\n  - {{name: school, label: {top}}}\n",
        "name": f"variables:\n  - {{name: {top}}}\n",
        "values": f"variables:\n  - {{name: sex, values: {{1: {top}, 2: Male}}}}\n",
        "question": f"variables:\n  - {{name: sex, question: {top}}}\n",
        "variables": f"variables: {top}\n",
        "title": f"dataset: {{title: {top}}}\nvariables:\n  - {{name: sex}}\n",
    }[where]
    return "\n".join(lines) + "\n" + body


# ---- the file system

def folder_named(name: str) -> Builder:
    def build(d: Path) -> Input:
        (d / name).mkdir()
        (d / name / "inside.csv").write_text(csv_text())
        return Input(d / name)
    return build


def absent(name: str = "nowhere.csv") -> Builder:
    return lambda d: Input(d / name)


def unreadable(d: Path) -> Input:
    p = put(d, "locked.csv", csv_text())
    p.chmod(0)
    return Input(p)


def symlink_loop(d: Path) -> Input:
    (d / "a.csv").symlink_to(d / "b.csv")
    (d / "b.csv").symlink_to(d / "a.csv")
    return Input(d / "a.csv")


def dangling_link(d: Path) -> Input:
    (d / "gone.csv").symlink_to(d / "deleted.csv")
    return Input(d / "gone.csv")


def link_to_good(d: Path) -> Input:
    put(d, "real.csv", csv_text())
    (d / "link.csv").symlink_to(d / "real.csv")
    return Input(d / "link.csv", dict_file(d))


def fifo(d: Path) -> Input:
    os.mkfifo(d / "pipe.csv")
    return Input(d / "pipe.csv")


def dictionary_special(kind: str) -> Builder:
    def build(d: Path) -> Input:
        data = put(d, "pupils.csv", csv_text())
        target = d / "dictionary.yaml"
        if kind == "missing":
            pass
        elif kind == "folder":
            target.mkdir()
        elif kind == "loop":
            target.symlink_to(d / "other.yaml")
            (d / "other.yaml").symlink_to(target)
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "unreadable":
            dict_file(d).chmod(0)
        return Input(data, target)
    return build


def as_root() -> str | None:
    return "running as root, so a file without read permission is still readable" if os.geteuid() == 0 else None


# ---- checks on good loads

def fetch(ds: Dataset, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ds.db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def stored(column: str, value) -> Callable[[Dataset], None]:
    """The table holds ``value`` in ``column``, exactly (text is data, kept verbatim)."""
    def check(ds: Dataset) -> None:
        got = [r[0] for r in fetch(ds, f'SELECT "{column.replace(chr(34), chr(34) * 2)}" FROM respondents')]
        assert value in got, f"{value!r} not stored verbatim in {column!r}"
    return check


def label_is(variable: str, text: str, code: str | None = None) -> Callable[[Dataset], None]:
    def check(ds: Dataset) -> None:
        v = ds.dictionary[variable]
        assert (v.value_labels[code] if code else v.label) == text
    return check


def rows_are(n: int) -> Callable[[Dataset], None]:
    def check(ds: Dataset) -> None:
        assert ds.rows == n and fetch(ds, "SELECT count(*) FROM respondents") == [(n,)]
    return check


def both(*checks: Callable[[Dataset], None]) -> Callable[[Dataset], None]:
    def check(ds: Dataset) -> None:
        for c in checks:
            c(ds)
    return check


# --------------------------------------------------------------------------- the table of cases

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(1)">'
DDE = "=cmd|' /C calc'!A0"
LONG = "L" * 100_000
UTF16_TEXT = "resp_id,school\n1,Caf\u00e9 \u00c9cole\n2,Birch\n"
WIDE = 100_000
WIDE_OK = 160
ONE_COL_DICT = "variables:\n  - {name: resp_id, role: id}\n"
NUMERIC_DICT = "variables:\n  - {name: resp_id, role: id}\n  - {name: attendance, type: numeric, missing: [-9]}\n"


def numeric_text(value: str, **kw) -> Case:
    """A numeric column holding ``value`` in one row (row 5 counting the header as row 1)."""
    return Case(f"numeric-{value!r}", table_csv(with_cell("attendance", value)),
                err("should be numeric", repr(value), "row 5", column="attendance", **kw))


def dict_contradiction(id: str, variables: str, expect: Expect, data: Builder | None = None) -> Case:
    return Case(id, with_dictionary("variables:\n" + variables, data=data), expect)


CASES: list[Case] = [
    # ---- encodings
    Case("utf16-le-bom", encoded("utf-16-le", bom=codecs.BOM_UTF16_LE), ok("UTF-16", check=rows_are(N))),
    Case("utf16-be-bom", encoded("utf-16-be", bom=codecs.BOM_UTF16_BE), ok("UTF-16", check=rows_are(N))),
    Case("utf16-le-no-bom", encoded("utf-16-le"), err("binary data", "NUL", "UTF-16")),
    Case("utf16-be-no-bom", encoded("utf-16-be"), err("binary data", "UTF-8")),
    Case("utf16-bom-odd-length", encoded("utf-16-le", bom=codecs.BOM_UTF16_LE, cut=1), err("not valid UTF-16")),
    Case("utf16-bom-lone-surrogate",
         raw(codecs.BOM_UTF16_LE + UTF16_TEXT.encode("utf-16-le") + b"\x00\xd8\x41\x00"), err("not valid UTF-16")),
    Case("utf16-bom-header-only", encoded("utf-16-le", bom=codecs.BOM_UTF16_LE, text="resp_id,school\n", dictionary=False),
         err("header row but no data rows")),
    Case("utf16-bom-only", raw(codecs.BOM_UTF16_LE), err("the file is empty")),
    Case("utf32-bom", encoded("utf-32-le", bom=codecs.BOM_UTF32_LE), ok("UTF-32", check=rows_are(N))),
    Case("latin1-accents", encoded("latin-1", text=UTF16_TEXT, dictionary=False),
         ok("not UTF-8", check=stored("school", "Caf\u00e9 \u00c9cole"))),
    Case("latin1-header-names", encoded("latin-1", text="resp_id,\u00e9cole\n1,x\n2,y\n", dictionary=False),
         ok("not UTF-8", check=stored("\u00e9cole", "x"))),
    Case("cp1252-smart-quotes", encoded("cp1252", text="resp_id,school\n1,\u2018Cairn\u2019 \u20ac\n2,x\n", dictionary=False),
         ok("Windows-1252", check=stored("school", "\u2018Cairn\u2019 \u20ac"))),
    Case("latin1-byte-undefined-in-cp1252", raw(b"resp_id,school\n1,A\x81B\n2,x\n"),
         ok("Latin-1", check=stored("school", "A\x81B"))),
    Case("shift-jis", encoded("shift_jis", text="resp_id,\u5b66\u6821\n1,\u7537\n2,\u5973\n", dictionary=False),
         ok("not UTF-8", check=rows_are(2))),
    Case("invalid-utf8-mid-row", raw(b"resp_id,school\n1,Ash\xc3\x28dale\n2,Birch\n"), ok("not UTF-8", check=rows_are(2))),
    Case("invalid-utf8-after-first-mb",
         raw(("resp_id,school\n" + "".join(f"{i},Ashdale High School {i:07d}\n" for i in range(1, 40_001))).encode()
             + b"40001,Caf\xe9\n"),
         ok("not UTF-8", check=both(rows_are(40_001), stored("school", "Caf\u00e9")))),
    Case("utf8-cut-mid-character", raw("resp_id,school\n1,Caf\u00e9\n2,\u20ac".encode()[:-1]), ok("not UTF-8")),
    Case("utf8-bom-then-cp1252", raw(codecs.BOM_UTF8 + b"resp_id,school\n1,Caf\xe9\n"), err("not valid UTF-8", "byte-order mark")),
    # ---- byte-order marks
    Case("utf8-bom", raw(codecs.BOM_UTF8 + csv_text().encode(), dictionary=DICT_YAML), ok(check=rows_are(N))),
    Case("utf8-bom-twice", raw(codecs.BOM_UTF8 * 2 + csv_text().encode(), dictionary=DICT_YAML), ok(check=rows_are(N))),
    Case("utf8-bom-only", raw(codecs.BOM_UTF8), err("the file is empty")),
    Case("utf8-bom-header-only", raw(codecs.BOM_UTF8 + b"resp_id,school\n"), err("header row but no data rows")),
    Case("utf8-bom-in-dictionary", with_dictionary("\ufeff" + DICT_YAML), ok(check=rows_are(N))),
    # ---- separators
    Case("comma-header-semicolon-rows", raw("resp_id,school,sex\n1;Ashdale;1\n2;Birch;2\n"),
         err("row 2 has 1 value but the header has 3 columns")),
    Case("semicolon-header-comma-rows", raw("resp_id;school;sex\n1,Ashdale,1\n2,Birch,2\n"),
         err("row 2 has 1 value but the header has 3 columns")),
    Case("tab-header-comma-rows", raw("resp_id\tschool\tsex\n1,Ashdale,1\n"), err("row 2 has 1 value")),
    Case("semicolon-file", table_csv(frame(), sep=";"), ok("separated by semicolons", check=rows_are(N))),
    Case("tabs-in-csv", table_csv(frame(), sep="\t"), ok("separated by tabs", check=rows_are(N))),
    Case("tabs-in-tsv", table_csv(frame(), sep="\t", name="pupils.tsv"), ok("separated by tabs")),
    Case("commas-in-tsv", table_csv(frame(), name="pupils.tsv"), ok(check=rows_are(N))),
    Case("extra-unquoted-separator", raw("resp_id,school\n1,Ashdale, High\n2,Birch\n"),
         err("row 2 has 3 values but the header has 2 columns", "unquoted separator")),
    Case("semicolons-and-decimal-commas", raw("resp_id;attendance\n1;12,5\n2;80\n", dictionary=NUMERIC_DICT),
         err("should be numeric", "'12,5'", column="attendance")),
    Case("unclosed-quote", raw('resp_id,school\n1,Ashdale\n2,"Birch\n3,Cairn\n'), err("row 3", "quote")),
    Case("header-unclosed-quote", raw('"resp_id,school\n1,Ashdale\n2,Birch\n'), err("quote", "never closed")),
    Case("old-mac-line-endings", raw(csv_text().replace("\n", "\r"), dictionary=DICT_YAML), ok(check=rows_are(N))),
    Case("windows-line-endings", raw(csv_text().replace("\n", "\r\n"), dictionary=DICT_YAML), ok(check=rows_are(N))),
    # ---- empty and nearly empty
    Case("empty-csv", raw(b""), err("the file is empty")),
    Case("whitespace-only", raw(" \t \n   \n\t\n"), err("the file is empty")),
    Case("newlines-only-crlf", raw("\r\n" * 50), err("the file is empty")),
    Case("header-only", raw("resp_id,wave,school,sex,attendance\n", dictionary=DICT_YAML), err("header row but no data rows")),
    Case("header-only-no-newline", raw("resp_id,school"), err("header row but no data rows")),
    Case("header-then-blank-lines", raw("resp_id,school\n\n\n\n"), err("header row but no data rows")),
    Case("empty-parquet", raw(b"", name="empty.parquet"), err("the file is empty")),
    Case("empty-xlsx", raw(b"", name="empty.xlsx"), err("cannot be read as an Excel .xlsx workbook")),
    Case("empty-sav", raw(b"", name="empty.sav"), err("cannot be read as an SPSS .sav file")),
    Case("header-only-parquet", binary(".parquet", frame().iloc[:0]), err("no data rows")),
    Case("header-only-xlsx", binary(".xlsx", frame().iloc[:0]), err("no data rows")),
    Case("blank-xlsx-sheet", xlsx_cells([], dictionary=None), err("first sheet is empty")),
    # ---- wide files and long names
    Case("100k-columns-header-only", raw(",".join(f"c{i}" for i in range(WIDE)) + "\n"),
         err("100,000 columns", "at most 2,000")),
    Case("100k-columns-one-row",
         raw(",".join(f"c{i}" for i in range(WIDE)) + "\n" + ",".join("1" for _ in range(WIDE)) + "\n"),
         err("100,000 columns", "at most 2,000")),
    Case(f"{WIDE_OK}-columns-inferred",  # each column has a -9 code and a few values to list (once out of memory)
         raw(",".join(["id"] + [f"q{k}" for k in range(WIDE_OK - 1)]) + "\n"
             + "".join(",".join([str(r)] + [str(-9 if (r + k) % 7 == 0 else (r * k) % 5) for k in range(WIDE_OK - 1)])
                       + "\n" for r in range(1, 21))),
         ok("No dictionary given", "-9 treated as missing",
            check=both(rows_are(20), lambda ds: ds.dictionary["q150"].missing == ("-9",) or pytest.fail("no -9")))),
    Case("100k-char-column-name", raw(f"resp_id,{LONG}\n1,2\n2,3\n"), ok(check=stored(LONG, 2))),
    Case("100k-char-duplicate-names", raw(f"resp_id,{LONG},{LONG}\n1,2,3\n"), err("used more than once")),
    Case("dictionary-names-100k-char-column", with_dictionary(f"variables:\n  - {{name: {LONG}}}\n"),
         err("not in the file")),
    Case("100k-char-cell", table_csv(with_cell("school", LONG)), ok(check=stored("school", LONG))),
    Case("100k-char-label", with_dictionary(DICT_YAML.replace("Sex of pupil", LONG)), ok(check=label_is("sex", LONG))),
    Case("100k-char-value-label", with_dictionary(DICT_YAML.replace("Female", LONG)), ok(check=label_is("sex", LONG, "1"))),
    # ---- duplicate headers
    Case("duplicate-header", raw("resp_id,sex,age,sex\n1,1,10,2\n"), err("used more than once", "'sex' (columns 2 and 4")),
    Case("duplicate-header-capitals", raw("resp_id,Sex,sex\n1,1,2\n"), err("used more than once", "differ only in capitals")),
    Case("duplicate-header-spaces", raw("resp_id,sex , sex\n1,1,2\n"), err("used more than once", "'sex'")),
    Case("duplicate-blank-made-name", raw("column2,,x\n1,2,3\n"), err("used more than once", "'column2'")),
    Case("duplicate-header-xlsx", xlsx_cells([["resp_id", "sex", "SEX"], [1, 1, 2]], dictionary=None),
         err("used more than once", "'sex' (columns 2 and 3")),
    Case("duplicate-header-parquet",
         parquet_table(pa.Table.from_arrays([pa.array([1, 2]), pa.array([1, 2]), pa.array([3, 4])],
                                            names=["resp_id", "sex", "sex"])),
         err("used more than once", "'sex'")),
    # ---- duplicate respondent ids
    Case("duplicate-id-in-wave", table_csv(with_cell("resp_id", 1, row=2)),
         err("more than once in the same wave", "id '1'", column="resp_id")),
    Case("duplicate-id-no-wave", table_csv(with_cell("resp_id", 5, row=2),
                                           dictionary="variables:\n  - {name: resp_id, role: id}\n  - {name: sex}\n"),
         err("more than once", "id '5'", column="resp_id")),
    Case("duplicate-id-1-and-1.0", raw("resp_id,sex\n1,1\n1.0,2\n2,1\n", dictionary=ONE_COL_DICT),
         err("more than once", "id '1'", column="resp_id")),
    Case("duplicate-id-padded", raw("resp_id,sex\n7,1\n 7 ,2\n", dictionary=ONE_COL_DICT),
         err("more than once", "id '7'", column="resp_id")),
    Case("duplicate-id-parquet", binary(".parquet", with_cell("resp_id", 1, row=4).astype({"resp_id": "int64"})),
         err("more than once in the same wave", column="resp_id")),
    Case("duplicate-id-xlsx", binary(".xlsx", with_cell("resp_id", 1, row=2)),
         err("more than once in the same wave", column="resp_id")),
    Case("same-id-two-waves", table_csv(with_cell("resp_id", 1, row=1)), ok(check=rows_are(N))),
    Case("empty-id", table_csv(with_cell("resp_id", None)), err("is empty in 1 row", "row 5", column="resp_id")),
    # ---- numeric columns holding text
    Case("numeric-'n/a'", table_csv(with_cell("attendance", "n/a")),  # a missing-text marker: no answer
         ok("Text read as no answer", "'n/a'", check=rows_are(N))),
    numeric_text("n.a."),
    numeric_text("12,5"),
    numeric_text("1e309"),
    numeric_text("-1e999"),
    numeric_text("NaN"),
    numeric_text("inf"),
    numeric_text("--"),
    numeric_text("12%"),
    numeric_text("1.2.3"),
    numeric_text("0x1A"),
    numeric_text("\u0661\u0662"),  # Arabic-Indic digits
    Case("numeric-text-declared-missing", table_csv(with_cell("attendance", "not known"),
                                                    dictionary=DICT_YAML.replace("missing: [-9]",
                                                                                 "missing: [-9, not known]")),
         ok(check=rows_are(N))),
    Case("numeric-padded", table_csv(with_cell("attendance", "  81.5  ")), ok(check=stored("attendance", 81.5))),
    # ---- dates where numbers are expected
    numeric_text("2024-01-05"),
    numeric_text("05/01/2024"),
    numeric_text("5-Jan"),
    Case("date-in-coded-column", table_csv(with_cell("sex", "2024-01-05")),
         err("not in its value labels", "'2024-01-05'", column="sex")),
    Case("timestamps-in-parquet-numeric",
         binary(".parquet", frame().assign(attendance=pd.date_range("2024-01-01", periods=N))),
         err("should be numeric", "not numbers", column="attendance")),
    Case("dates-in-xlsx-numeric",
         xlsx_cells(base_rows()[:3] + [[3, 2024, "Cairn Academy", 1, pd.Timestamp("2024-01-05").to_pydatetime()]]),
         err("should be numeric", "2024-01-05", "row 4", column="attendance")),
    Case("excel-error-values", xlsx_cells(base_rows()[:3] + [[3, 2024, "Cairn Academy", 1, "#DIV/0!"]],
                                          text_cells=((4, 5),)),
         err("should be numeric", "'#DIV/0!'", column="attendance")),
    # ---- formulas: data, never evaluated
    Case("csv-formula-cells", table_csv(with_cells("school", {1: DDE, 2: "+1", 4: "@SUM(1)"})),
         ok(check=both(stored("school", DDE), stored("school", "+1"), stored("school", "@SUM(1)")))),
    Case("csv-formula-header", raw(f'resp_id,"{DDE}",+1,@SUM(1)\n1,a,b,c\n2,d,e,f\n'),
         ok(check=both(stored(DDE, "a"), stored("+1", "b"), stored("@SUM(1)", "c")))),
    Case("csv-formula-in-coded-column", table_csv(with_cell("sex", "=1+1")),
         err("not in its value labels", "'=1+1'", column="sex")),
    Case("dictionary-formula-labels",
         with_dictionary(DICT_YAML.replace("1: Female, 2: Male", f"1: \"{DDE}\", 2: '+1'").replace("Sex of pupil", "'@SUM(1)'")),
         ok(check=both(label_is("sex", DDE, "1"), label_is("sex", "+1", "2"), label_is("sex", "@SUM(1)")))),
    Case("xlsx-formula-text-cells",
         xlsx_cells(base_rows()[:2] + [[2, 2022, DDE, 2, 81.0], [3, 2024, "@SUM(1)", 1, 82.0]],
                    text_cells=((3, 3), (4, 3))),
         ok(check=both(stored("school", DDE), stored("school", "@SUM(1)")))),
    Case("xlsx-formula-with-saved-value",
         xlsx_cells(base_rows()[:2] + [[2, 2022, DDE, 2, "=SUM(40,41)"]], cached={"C3": "Birch Primary", "E3": "81"}),
         ok(check=both(stored("school", "Birch Primary"), stored("attendance", 81.0)))),
    Case("xlsx-formula-id-without-saved-value",
         xlsx_cells(base_rows()[:2] + [["=1+1", 2022, "Birch Primary", 2, 81.0]]),
         err("is empty", "row 3", column="resp_id")),
    Case("xlsx-formula-header", xlsx_cells([["resp_id", "+1"], [1, "a"], [2, "b"]], text_cells=((1, 2),), dictionary=None),
         ok(check=stored("+1", "a"))),
    # ---- truncated binary files
    Case("sav-cut-64-bytes", truncated(".sav", 64), err("cannot be read as an SPSS .sav file")),
    Case("sav-cut-in-half", truncated(".sav", 0.5), err("cannot be read as an SPSS .sav file")),
    Case("sav-cut-last-8-bytes", truncated(".sav", -8), err("cannot be read as an SPSS .sav file")),
    Case("parquet-cut-4-bytes", truncated(".parquet", 4), err("not a complete Parquet file")),
    Case("parquet-cut-in-half", truncated(".parquet", 0.5), err("not a complete Parquet file")),
    Case("parquet-cut-last-byte", truncated(".parquet", -1), err("not a complete Parquet file")),
    Case("xlsx-cut-30-bytes", truncated(".xlsx", 30), err("cannot be read as an Excel .xlsx workbook")),
    Case("xlsx-cut-in-half", truncated(".xlsx", 0.5), err("cannot be read as an Excel .xlsx workbook")),
    Case("xlsx-cut-last-byte", truncated(".xlsx", -1), err("cannot be read as an Excel .xlsx workbook")),
    Case("xlsx-broken-sheet-xml", xlsx_cells(base_rows(), patch=lambda xml: xml[: len(xml) // 2]),
         err("cannot be read", "damaged")),
    Case("parquet-magic-but-garbage", raw(b"PAR1" + bytes(range(256)) * 8 + b"PAR1", name="junk.parquet"),
         err("Parquet", "damaged")),
    # ---- one kind of file under another's extension
    Case("zip-renamed-xlsx", renamed(_zip_bytes, "book.xlsx"), err("cannot be read as an Excel .xlsx workbook")),
    Case("csv-renamed-parquet", renamed(lambda d: csv_text().encode(), "data.parquet"), err("not a complete Parquet file")),
    Case("csv-renamed-xlsx", renamed(lambda d: csv_text().encode(), "data.xlsx"), err("cannot be read as an Excel .xlsx workbook")),
    Case("csv-renamed-sav", renamed(lambda d: csv_text().encode(), "data.sav"), err("cannot be read as an SPSS .sav file")),
    # ... a known format is read as what its content says, with a note
    Case("parquet-renamed-csv", renamed(_parquet_bytes, "data.csv"), ok("is a Parquet file", check=rows_are(N))),
    Case("xlsx-renamed-csv", renamed(_xlsx_bytes, "data.csv"), ok("is an Excel .xlsx workbook", check=rows_are(N))),
    Case("sav-renamed-parquet", renamed(_sav_bytes, "data.parquet"), ok("is an SPSS .sav file", check=rows_are(N))),
    Case("parquet-renamed-sav", renamed(_parquet_bytes, "data.sav"), ok("is a Parquet file", check=rows_are(N))),
    Case("sav-renamed-dat", renamed(_sav_bytes, "data.dat"), ok("is an SPSS .sav file", check=rows_are(N))),
    Case("dta-renamed-csv", renamed(_dta_bytes, "data.csv"), ok("is a Stata .dta file", check=rows_are(N))),
    Case("xlsx-renamed-xls", renamed(_xlsx_bytes, "data.xls"), err("unsupported file type '.xls'", ".xlsx")),
    # ... another kind of file gets advice about what it is, not about text encodings
    Case("old-xls-renamed-csv", raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), name="old.csv"),
         err("old Excel .xls", "save it as .xlsx")),
    Case("zip-renamed-csv", renamed(_zip_bytes, "data.csv"), err("zip archive", "unzip")),
    Case("gzip-renamed-csv", raw(b"\x1f\x8b\x08\x00" + bytes(64), name="data.csv"), err("gzip")),
    Case("csv-renamed-dta", renamed(lambda d: csv_text().encode(), "data.dta"),
         err("cannot be read as a Stata .dta file", "name it .csv")),
    Case("html-renamed-xlsx", renamed(lambda d: f"<html><body>{SCRIPT}</body></html>".encode(), "page.xlsx"),
         err("cannot be read as an Excel .xlsx workbook")),
    Case("png-renamed-csv", renamed(_png_bytes, "picture.csv"), err("an image, not a data file")),
    Case("old-xls-extension", raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), name="old.xls"),
         err("unsupported file type '.xls'", ".xlsx")),
    Case("no-extension", raw(csv_text(), name="pupils"), err("unsupported file type")),
    # ---- a dictionary that contradicts the data
    dict_contradiction("dict-names-missing-column", "  - {name: resp_id, role: id}\n  - {name: simd}\n",
                       err("not in the file", "'simd'")),
    dict_contradiction("dict-near-miss-column", "  - {name: resp_id, role: id}\n  - {name: schol}\n",
                       err("not in the file", "did you mean 'school'")),
    dict_contradiction("dict-numeric-on-text", "  - {name: resp_id, role: id}\n  - {name: school, type: numeric}\n",
                       err("should be numeric", "'Ashdale High'", column="school")),
    dict_contradiction("dict-value-outside-labels", "  - {name: resp_id, role: id}\n  - {name: sex, values: {1: Female}}\n",
                       err("not in its value labels", "'2'", "first in row 3", column="sex")),
    dict_contradiction("dict-text-codes-int-data", "  - {name: sex, values: {F: Female, M: Male}}\n",
                       err("not in its value labels", "'1', '2'", column="sex")),
    dict_contradiction("dict-int-codes-text-data", "  - {name: school, values: {1: One, 2: Two}}\n",
                       err("not in its value labels", "'Ashdale High'", column="school")),
    dict_contradiction("dict-quoted-int-codes", "  - {name: sex, values: {'1': Female, 2.0: Male}}\n", ok(check=rows_are(N))),
    dict_contradiction("dict-flag-on-text-yes-no", "  - {name: sex, type: flag}\n",
                       err("not in its value labels", column="sex"),
                       data=raw("sex\nyes\nno\n")),
    dict_contradiction("dict-id-on-blank-column", "  - {name: note, role: id}\n",
                       err("the respondent id", "is empty in 2 rows", column="note"), data=raw("note,x\n,1\n,2\n")),
    dict_contradiction("dict-variable-twice", "  - {name: sex}\n  - {name: sex}\n",
                       err("listed twice", "sex", names="dictionary")),
    dict_contradiction("dict-unknown-type", "  - {name: sex, type: nominal}\n", err("'sex'", "nominal", names="dictionary")),
    dict_contradiction("dict-unknown-role", "  - {name: sex, role: gender}\n", err("'sex'", "gender", names="dictionary")),
    dict_contradiction("dict-positive-without-label", "  - {name: sex, values: {1: F}, positive: [3]}\n",
                       err("'positive'", "3", names="dictionary")),
    dict_contradiction("dict-values-is-a-list", "  - {name: sex, values: [1, 2]}\n",
                       err("'values' must map codes to labels", names="dictionary")),
    dict_contradiction("dict-variable-without-name", "  - {label: Sex}\n", err("needs at least a 'name'", names="dictionary")),
    dict_contradiction("dict-number-as-name", "  - {name: 2024}\n", ok(check=stored("2024", "a")),
                       data=raw("2024,x\na,1\nb,2\n")),
    dict_contradiction("dict-reserved-name", "  - {name: __rkey}\n", err("reserved", names="dictionary"), data=raw("__rkey\n1\n")),
    # ---- dictionaries that are not (good) YAML
    Case("yaml-malformed", with_dictionary("variables: [unclosed\n"), err("not valid YAML", "line", names="dictionary")),
    Case("yaml-bad-indentation", with_dictionary("variables:\n  - name: sex\n   type: ordinal\n    label: x\n"),
         err("not valid YAML", names="dictionary")),
    Case("yaml-tab-indented", with_dictionary("variables:\n\t- name: sex\n"), err("not valid YAML", names="dictionary")),
    Case("yaml-a-list", with_dictionary("- {name: sex}\n- {name: school}\n"),
         err("expected a mapping with a 'variables' list", names="dictionary")),
    Case("yaml-a-scalar", with_dictionary("just some text\n"), err("expected a mapping", names="dictionary")),
    Case("yaml-empty", with_dictionary(""), err("expected a mapping", names="dictionary")),
    Case("yaml-only-comments", with_dictionary("# nothing here\n"), err("expected a mapping", names="dictionary")),
    Case("yaml-variables-a-mapping", with_dictionary("variables: {sex: {type: flag}}\n"),
         err("'variables' list", names="dictionary")),
    Case("yaml-dataset-a-list", with_dictionary("dataset: [a]\nvariables:\n  - {name: sex}\n"),
         err("'dataset' must be a mapping", names="dictionary")),
    Case("yaml-python-tag", with_dictionary("variables: !!python/object/apply:os.system ['touch PWNED']\n"),
         err("not valid YAML", names="dictionary")),
    Case("yaml-nul-byte", dict_bytes(b"variables:\n  - {name: sex\x00}\n"), err("not valid YAML", names="dictionary")),
    Case("yaml-not-utf8", dict_bytes("variables:\n  - {name: sex, label: Caf\u00e9}\n".encode("latin-1")),
         err("dictionary", names="dictionary")),
    Case("yaml-deep-nesting", with_dictionary("variables: " + "[" * 50_000 + "]" * 50_000 + "\n"),
         err("dictionary", names="dictionary")),
    Case("yaml-self-reference", with_dictionary("variables: &v [*v]\n"), err("dictionary", names="dictionary")),
    Case("yaml-laughs-small-in-label", with_dictionary(laughs(4, 4, "label")), ok(check=rows_are(N))),
    Case("yaml-laughs-in-label", with_dictionary(laughs(9, 9, "label")), err("aliases", names="dictionary")),
    Case("yaml-laughs-in-name", with_dictionary(laughs(9, 9, "name")), err("aliases", names="dictionary")),
    Case("yaml-laughs-in-values", with_dictionary(laughs(9, 9, "values")), err("aliases", names="dictionary")),
    Case("yaml-laughs-in-question", with_dictionary(laughs(9, 9, "question")), err("aliases", names="dictionary")),
    Case("yaml-laughs-as-variables", with_dictionary(laughs(9, 9, "variables")), err("aliases", names="dictionary")),
    Case("yaml-laughs-in-title", with_dictionary(laughs(9, 9, "title")), err("aliases", names="dictionary")),
    # ---- HTML and script in labels and data: loaded and kept verbatim (escaping is the renderer's job)
    Case("html-in-value-labels", with_dictionary(DICT_YAML.replace("1: Female, 2: Male", f"1: '{SCRIPT}', 2: '{IMG}'")),
         ok(check=both(label_is("sex", SCRIPT, "1"), label_is("sex", IMG, "2")))),
    Case("html-in-variable-label", with_dictionary(DICT_YAML.replace("Sex of pupil", f"'{SCRIPT}'")),
         ok(check=label_is("sex", SCRIPT))),
    Case("html-in-title", with_dictionary(DICT_YAML.replace("Hostile corpus", f"'{SCRIPT}'")),
         ok(check=lambda ds: (ds.dictionary.title == SCRIPT) or pytest.fail("title changed"))),
    Case("html-in-cells", table_csv(with_cells("school", {3: SCRIPT, 5: IMG})),
         ok(check=both(stored("school", SCRIPT), stored("school", IMG)))),
    Case("html-in-header", raw(f"resp_id,{SCRIPT}\n1,a\n2,b\n"), ok(check=stored(SCRIPT, "a"))),
    Case("html-as-code", with_dictionary(f"variables:\n  - {{name: school, values: {{'{SCRIPT}': Script}}}}\n",
                                         data=raw(f"school\n{SCRIPT}\n{SCRIPT}\n")),
         ok(check=stored("school", SCRIPT))),
    Case("html-in-sav-labels",
         lambda d: Input(_sav_with_labels(d / "pupils.sav", {1: SCRIPT, 2: IMG}, SCRIPT)),
         ok(check=both(label_is("sex", SCRIPT, "1"), label_is("sex", IMG, "2"), label_is("sex", SCRIPT)))),
    Case("terminal-escapes-in-cells", table_csv(with_cell("school", "\x1b[31mred\x1b[0m \u202eevil")),
         ok(check=stored("school", "\x1b[31mred\x1b[0m \u202eevil"))),
    # ---- NUL bytes
    Case("nul-in-first-row", raw(b"resp_id,school\n1,Ash\x00dale\n"), err("binary data", "NUL")),
    Case("nul-after-first-mb",
         raw(("resp_id,school\n" + "".join(f"{i},Ashdale High School {i:07d}\n" for i in range(1, 40_001))).encode()
             + b"40001,Ash\x00dale\n"),
         err("binary data", "NUL")),
    Case("nul-in-parquet-text",
         parquet_table(pa.table({"resp_id": [1, 2], "school": ["Ash\x00dale", "Birch"]})),
         ok(check=stored("school", "Ash\x00dale"))),
    # ---- the file system
    Case("a-folder", folder_named("pupils.csv"), err("is a folder")),
    Case("missing-file", absent(), err("file not found")),
    Case("no-read-permission", unreadable, err("cannot be opened", "ermission"), skip=as_root),
    Case("symlink-loop", symlink_loop, err("cannot be opened", "symbolic links")),
    Case("dangling-symlink", dangling_link, err("file not found")),
    Case("symlink-to-good-file", link_to_good, ok(check=rows_are(N))),
    Case("named-pipe", fifo, err("not a regular file")),
    Case("dictionary-missing", dictionary_special("missing"), err("cannot read the dictionary", names="dictionary")),
    Case("dictionary-a-folder", dictionary_special("folder"), err("cannot read the dictionary", names="dictionary")),
    Case("dictionary-symlink-loop", dictionary_special("loop"), err("cannot read the dictionary", names="dictionary")),
    Case("dictionary-named-pipe", dictionary_special("fifo"), err("not a regular file", names="dictionary")),
    Case("dictionary-no-read-permission", dictionary_special("unreadable"),
         err("cannot read the dictionary", names="dictionary"), skip=as_root),
]


def _sav_with_labels(path: Path, value_labels: dict, column_label: str) -> Path:
    pyreadstat.write_sav(frame(), str(path), column_labels={"sex": column_label},
                         variable_value_labels={"sex": value_labels}, variable_measure={"sex": "nominal"})
    return path


# --------------------------------------------------------------------------- running a case

@dataclass
class Tally:
    tried: int = 0
    passed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")


@pytest.fixture(scope="session")
def tally(request):
    t = Tally()
    yield t
    line = (
        f"hostile files: {t.tried} cases tried, {t.passed} passed, {t.tried - t.passed} failed, "
        f"{t.skipped} skipped; loading took {t.seconds:.1f}s (slowest {t.slowest[1]}: {t.slowest[0]:.1f}s)"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + line)
    else:
        print("\n" + line)


class Hang(BaseException):  # not an Exception, so the loader cannot turn it into a LoadError
    pass


def _alarm(signum, frame):
    raise Hang(f"still loading after {CASE_SECONDS}s")


def fingerprint(folder: Path) -> dict[str, object]:
    """Every entry of the input folder (links not followed): bytes' sha256, link target or kind."""
    out: dict[str, object] = {}
    for p in sorted(folder.rglob("*")) if folder.exists() else []:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            out[p.name] = ("link", os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            try:
                out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
            except PermissionError:
                out[p.name] = ("unreadable", st.st_size, st.st_mtime_ns, st.st_mode)
        else:
            out[p.name] = ("other", stat.S_IFMT(st.st_mode), st.st_mtime_ns)
    return out


def _good_file(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return put(folder, "good.csv", "resp_id,sex\n1,1\n2,2\n3,1\n")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file(case: Case, tmp_path: Path, tally: Tally, monkeypatch):
    reason = case.skip()
    if reason:
        tally.skipped += 1
        pytest.skip(reason)
    tally.tried += 1
    inputs, cache = tmp_path / "in", tmp_path / "cache"
    inputs.mkdir()
    monkeypatch.chdir(tmp_path)  # where a YAML payload such as 'touch PWNED' would run
    got = case.build(inputs)
    before = fingerprint(inputs)

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    start = time.perf_counter()
    result: Dataset | LoadError
    try:
        result = load_dataset(got.data, got.dictionary, cache_dir=cache)
    except LoadError as exc:
        result = exc
    finally:  # any other exception type fails the test as it propagates
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        took = time.perf_counter() - start
        tally.seconds += took
        tally.slowest = max(tally.slowest, (took, case.id))

    # 3. the inputs are untouched
    assert fingerprint(inputs) == before, "an input file was changed"
    assert not (tmp_path / "PWNED").exists(), "the dictionary ran a command"

    expect = case.expect
    if expect.ok:
        assert isinstance(result, Dataset), f"expected a good load, got LoadError: {result}"
        for words in expect.words:
            assert any(words in note for note in result.notes), f"no note says {words!r}: {result.notes}"
        if expect.check:
            expect.check(result)
        assert sorted(p.suffix for p in cache.iterdir()) == [".duckdb", ".json"]
    else:
        assert isinstance(result, LoadError), "expected a LoadError, but the file loaded"
        _check_message(result, got, expect)
        # 4. nothing half-written is left for a later load to pick up ...
        leftovers = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
        assert leftovers == [], f"a failed load left {leftovers} in the cache"
        # ... and a later good load into the same cache works
        good = load_dataset(_good_file(tmp_path / "good"), cache_dir=cache)
        assert good.rows == 3
        assert [p.name for p in cache.glob("*.duckdb")] == [good.db_path.name]
    tally.passed += 1


def _check_message(error: LoadError, got: Input, expect: Expect) -> None:
    message = error.message
    assert message == str(error)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert 0 < len(message) <= MESSAGE_MAX, f"{len(message)} characters: {message[:300]!r}..."
    assert "Traceback" not in message
    named = got.data if expect.names == "data" else got.dictionary
    assert named is not None and named.name in message, f"{named.name!r} not named in {message!r}"
    if expect.column:
        assert f"'{expect.column}'" in message, f"column {expect.column!r} not named in {message!r}"
    for words in expect.words:
        assert words in message, f"{words!r} not in {message!r}"
    assert all(p and "\n" not in p for p in error.problems)


# --------------------------------------------------------------------------- beyond the table

def test_there_are_enough_cases():
    assert len(CASES) >= 100
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"


def test_dictionary_is_read_with_safe_load_only(tmp_path, monkeypatch):
    """Only a safe loader may read a dictionary: the unsafe loaders are booby-trapped.

    The dictionary's own loader is yaml.SafeLoader with YAML 1.2 booleans: the
    same constructors (no Python objects), only fewer words read as true/false.
    """
    from rcs_viz.data.dictionary import YamlLoader

    assert issubclass(YamlLoader, yaml.SafeLoader)
    assert YamlLoader.yaml_constructors == yaml.SafeLoader.yaml_constructors
    assert YamlLoader.yaml_multi_constructors == yaml.SafeLoader.yaml_multi_constructors
    calls = []
    real_load = yaml.load
    safe_loaders = {yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader), YamlLoader}

    def load(stream, Loader):  # noqa: N803 - yaml's own argument name
        if Loader not in safe_loaders:
            pytest.fail(f"YAML read with {Loader.__name__}")
        calls.append(Loader)
        return real_load(stream, Loader)

    monkeypatch.setattr(yaml, "load", load)
    for unsafe in ("unsafe_load", "full_load", "load_all", "unsafe_load_all", "full_load_all"):
        monkeypatch.setattr(yaml, unsafe, lambda *a, **k: pytest.fail("an unsafe YAML loader was used"))
    data = put(tmp_path, "pupils.csv", csv_text())
    ds = load_dataset(data, dict_file(tmp_path), cache_dir=tmp_path / "cache")
    assert ds.rows == N and calls == [YamlLoader]


def test_billion_laughs_stays_small(tmp_path):
    """A 9x9 alias bomb is refused without expanding it: little time and memory."""
    data = put(tmp_path, "pupils.csv", csv_text())
    bomb = put(tmp_path, "bomb.yaml", laughs(9, 9, "label"))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(LoadError, match="aliases"):
            load_dataset(data, bomb, cache_dir=tmp_path / "cache")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 10
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("stage", ["Checking the data", "Writing", "Checking respondent ids"])
def test_an_interrupted_load_leaves_nothing_behind(tmp_path, stage):
    """Ctrl-C (or a crash) part-way through: no database, sidecar or scratch file stays, and the next load works."""
    data = put(tmp_path, "pupils.csv", csv_text())
    dictionary = dict_file(tmp_path)
    cache = tmp_path / "cache"

    def progress(fraction, message):
        if message.startswith(stage):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_dataset(data, dictionary, cache_dir=cache, progress=progress)
    assert sorted(p.name for p in cache.iterdir()) == []
    ds = load_dataset(data, dictionary, cache_dir=cache)
    assert ds.rows == N and not any("Reused" in n for n in ds.notes)


def test_a_failed_rename_is_not_picked_up_later(tmp_path, monkeypatch):
    """If the finished database cannot be moved into place, a later load builds it again."""
    import rcs_viz.engine.load as load_module

    data = put(tmp_path, "pupils.csv", csv_text())
    cache = tmp_path / "cache"
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(".duckdb"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(load_module.os, "replace", replace)
    with pytest.raises(LoadError, match="pupils.csv"):
        load_dataset(data, cache_dir=cache)
    monkeypatch.setattr(load_module.os, "replace", real)
    assert not list(cache.glob("*.duckdb")) and not list(cache.glob(".*.tmp*"))
    ds = load_dataset(data, cache_dir=cache)
    assert ds.rows == N and not any("Reused" in n for n in ds.notes)
