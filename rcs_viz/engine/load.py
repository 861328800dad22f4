"""Load a CPP's own data file into a DuckDB database file, checked against its dictionary.

``load_dataset`` reads a CSV/TSV/TXT, Excel ``.xlsx``, Parquet, SPSS ``.sav`` or
Stata ``.dta`` file (recognised by its content, whatever its name), validates it against the data dictionary (given, or inferred by
``rcs_viz.engine.infer``) and writes table ``respondents`` into a DuckDB file in
``cache_dir``. Every problem with the input is a ``LoadError`` whose message
names the file, the column and the problem; nothing else escapes.

How it stays fast and small on 10 million rows: CSV and Parquet are read by
DuckDB's own readers straight into the database file (CSV as text first, so
that checks can quote the offending value and row), checks are aggregate SQL
over the source, and nothing pulls all rows into pandas. ``.xlsx``, ``.sav`` and
``.dta`` go through Python (they are small in practice). Every SQL text comes from
``rcs_viz.engine.sql.views``; this module only runs it.

The output database (opened read-only by the app later):

* one column per dictionary variable, named as in the dictionary, in dictionary
  order; columns the dictionary does not name are left out (listed in a note);
* categorical, ordinal and flag columns hold their codes: BIGINT when every code
  is a plain integer, else VARCHAR; numeric columns are DOUBLE; blanks and the
  variable's declared ``missing`` codes are NULL;
* ``__rkey`` UTINYINT (0..255), a fixed pseudo-random record key for cell-key
  perturbation: the first byte of ``md5(salt + "\\x1f" + id + "\\x1f" + wave)``,
  where id and wave are the code texts of the dictionary's id and wave columns
  (wave "" when there is none). Without an id column the record number
  (1-based, file order) stands in for the id and wave is "".

The file is named by a hash of the data file's bytes, the dictionary file's
bytes, the salt and ``LOADER_VERSION``, so loading the same inputs again reuses
it; it is written under a temporary name and renamed into place, with a JSON
sidecar holding the dictionary and notes.

Row numbers in messages count as a spreadsheet does for CSV and Excel files
(the header is row 1, the first record row 2); for Parquet and SPSS files the
first record is row 1.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import hashlib
import io
import json
import os
import re
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from rcs_viz.data import dictionary as dictmod
from rcs_viz.engine.sql import ingest, views
from rcs_viz.data.dictionary import Dictionary, DictionaryError
from rcs_viz.engine.infer import id_problem, infer_dictionary, non_answer_codes, type_kind

LOADER_VERSION = "2"
MAX_COLUMNS = 2_000  # wider files are refused: DuckDB's planning time grows faster than the width (1,000: ~15 s)
YAML_NODES_MAX = 500_000  # a dictionary larger than this once YAML aliases are expanded is refused (a "billion laughs")
MEMORY_LIMIT = "512MB"  # DuckDB's working memory while loading (it spills to disk beyond this)
TABLE = views.TABLE
RKEY = views.RECORD_KEY
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
SUFFIXES = TEXT_SUFFIXES + (".xlsx", ".parquet", ".sav", ".zsav", ".dta")
FORMAT_NAMES = {
    "text": "a text (CSV) file", ".xlsx": "an Excel .xlsx workbook", ".parquet": "a Parquet file",
    ".sav": "an SPSS .sav file", ".dta": "a Stata .dta file",
}
_FORMAT_OF_SUFFIX = {".zsav": ".sav", **{s: "text" for s in TEXT_SUFFIXES}}

_CHUNK = 1 << 20
_TEXT_BATCH = 64  # text columns whose counts ride on the check scan; a wider file counts them in batches
_HEAD = 1 << 20
_ROWNUM = "__rcs_rownum"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", None),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_DELIM_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}

Progress = Callable[[float, str], Any]


class LoadError(Exception):
    """A data file (or dictionary) that cannot be loaded.

    ``message`` is one plain sentence naming the file, the column (if any) and
    the problem; ``problems`` lists every problem found when there were several.
    """

    def __init__(self, message: str, problems: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems) or (message,)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Dataset:
    db_path: Path  # the DuckDB file holding table `respondents`
    dictionary: Dictionary  # given or inferred
    source: Path  # the data file
    dictionary_source: str  # path or "inferred"
    rows: int
    notes: tuple[str, ...] = ()  # plain-English notes: what was inferred, encoding used, columns ignored, ...
    # what a server has released from this data (rcs_viz.engine.disclosure.ledger.Ledger): every view of it is
    # judged against the ledger and recorded in it. None: each view protected on its own (a desk, the CLI).
    ledger: Any = field(default=None, compare=False, repr=False)


@dataclass
class _Source:
    """A data file opened as DuckDB view `src` (data columns only)."""

    kinds: dict[str, str]  # column -> text/int/float/bool/other
    row_offset: int  # row number = position in file (0-based) + row_offset
    probe: str = ingest.SOURCE  # relation holding the row-number column, if any
    row_col: str | None = None
    notes: list[str] = field(default_factory=list)
    sav_meta: Any = None
    keep: Any = None  # keeps a registered Arrow table alive
    raw: str = ingest.SOURCE  # the relation as read from the file, before missing-text markers become NULL
    markers: tuple[str, ...] = ()  # the missing-text markers read as NULL (text files only)
    fmt: str = "text"  # "text", ".xlsx", ".parquet", ".sav" or ".dta"
    marked: dict[str, tuple[int, int]] | None = None  # markers already read as NULL (Excel): column -> (count, mask)


# --------------------------------------------------------------------------- entry point

def load_dataset(
    data_path: str | Path,
    dictionary_path: str | Path | None = None,
    *,
    cache_dir: Path,
    salt: str = "",
    progress: Progress | None = None,
) -> Dataset:
    """Load ``data_path`` (checked against ``dictionary_path``, or an inferred
    dictionary) into a DuckDB file in ``cache_dir``; see the module docstring.

    Raises ``LoadError`` (and nothing else) for any problem with the inputs.
    """
    path = Path(data_path)
    try:
        return _load(path, dictionary_path, Path(cache_dir), salt, progress)
    except LoadError:
        raise
    except DictionaryError as exc:
        raise LoadError(_one_line(str(exc))) from None
    except MemoryError:
        raise LoadError(f"{path.name}: not enough memory to load this file") from None
    except Exception as exc:  # last resort: still one clear sentence, never a traceback
        raise LoadError(f"{path.name}: could not be loaded ({_first_line(exc)})") from exc


def _load(path: Path, dictionary_path, cache_dir: Path, salt: str, progress: Progress | None) -> Dataset:
    name = path.name
    report = (lambda f, m: progress(f, m)) if progress else (lambda f, m: None)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES and (suffix == ".xls" or _detect(_peek(path)) not in FORMAT_NAMES):
        hint = " (save it from Excel as .xlsx)" if suffix == ".xls" else ""
        raise LoadError(
            f"{name}: unsupported file type '{path.suffix or '(none)'}'{hint}; use CSV (.csv, .tsv, .txt), "
            "Excel (.xlsx), Parquet (.parquet), SPSS (.sav) or Stata (.dta)"
        )
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise LoadError(f"{name}: file not found ({path})") from None
    except OSError as exc:  # e.g. a loop of symbolic links
        raise LoadError(f"{name}: cannot be opened ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise LoadError(f"{name}: is a folder, not a data file")
    if not stat.S_ISREG(mode):
        raise LoadError(f"{name}: is not a regular file (a pipe or a device?), so it cannot be loaded")

    given: Dictionary | None = None
    dict_bytes = b""
    if dictionary_path is not None:
        dpath = Path(dictionary_path)
        try:
            if not dpath.is_dir() and dpath.exists() and not dpath.is_file():
                raise LoadError(f"{dpath.name}: the dictionary is not a regular file (a pipe or a device?)")
            dict_bytes = dpath.read_bytes()
        except OSError as exc:
            raise LoadError(f"{dpath.name}: cannot read the dictionary ({exc.strerror or exc})") from None
        given = _read_dictionary(dpath.name, dict_bytes)

    report(0.02, f"Checking {name}")
    scan = _scan(path, check_utf8=suffix in TEXT_SUFFIXES)
    fmt, format_notes = _format(name, suffix, scan)
    key = hashlib.sha256()
    for part in (LOADER_VERSION, fmt, scan["sha256"], hashlib.sha256(dict_bytes).hexdigest(), salt):
        key.update(part.encode("utf-8") + b"\0")
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem)[:40] or "data"
    final = cache_dir / f"{stem}-{key.hexdigest()[:32]}.duckdb"
    sidecar = final.with_suffix(".json")
    dictionary_source = str(dictionary_path) if dictionary_path is not None else "inferred"

    cached = _cached(final, sidecar, path, dictionary_source)
    if cached is not None:
        report(1.0, f"Loaded {name} from the cache ({cached.rows:,} rows)")
        return cached

    _sweep(cache_dir)
    token = uuid.uuid4().hex[:12]
    tmp_db = cache_dir / f".{final.name}.{token}.tmp"
    scratch: list[Path] = [tmp_db, Path(str(tmp_db) + ".wal")]
    con = duckdb.connect(str(tmp_db))
    built = False
    try:
        con.execute(*ingest.set_memory_limit(MEMORY_LIMIT))
        con.execute(*ingest.keep_insertion_order())
        try:
            con.execute(*ingest.no_type_pushdown())  # its docstring says why
        except duckdb.Error:
            pass
        report(0.1, f"Reading {name}")
        markers = list(given.missing_text if given is not None else dictmod.MISSING_TEXT)
        src = _open_source(con, path, fmt, suffix, scan, cache_dir, token, scratch, markers)
        src.notes[:0] = format_notes
        dataset_dict, meta_notes, rows = _build(con, path, src, given, salt, report)
        con.execute(*ingest.checkpoint())
        built = True
    finally:
        con.close()
        for extra in scratch[1:]:
            _unlink(extra)
        if not built:
            _unlink(tmp_db)
    try:
        _write_json(sidecar, {
            "version": LOADER_VERSION,
            "source_name": name,
            "dictionary": dataset_dict.to_mapping(),
            "dictionary_source": dataset_dict.source,
            "dictionary_notes": list(dataset_dict.notes),
            "notes": meta_notes,
            "rows": rows,
        }, token)
        os.replace(tmp_db, final)
    finally:
        _unlink(tmp_db)
    report(1.0, f"Loaded {rows:,} rows from {name}")
    return Dataset(
        db_path=final,
        dictionary=dataset_dict,
        source=path,
        dictionary_source=dictionary_source,
        rows=rows,
        notes=tuple(meta_notes),
    )


# --------------------------------------------------------------------------- cache

def _cached(final: Path, sidecar: Path, path: Path, dictionary_source: str) -> Dataset | None:
    if not (final.exists() and sidecar.exists()):
        return None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("version") != LOADER_VERSION:
            return None
        d = dictmod.parse(meta["dictionary"], source=meta["dictionary_source"])
        d = dataclasses.replace(d, notes=tuple(meta["dictionary_notes"]))
        notes = tuple(meta["notes"]) + ("Reused the database built earlier from the same file and dictionary.",)
        return Dataset(final, d, path, dictionary_source, int(meta["rows"]), notes)
    except (OSError, ValueError, KeyError, TypeError, DictionaryError):
        return None  # a damaged cache entry is simply rebuilt


def _write_json(target: Path, payload: dict, token: str) -> None:
    tmp = target.with_name(f".{target.name}.{token}.tmp")
    try:
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, target)
    finally:
        _unlink(tmp)


def _sweep(cache_dir: Path, max_age: float = 86400.0) -> None:
    """Remove temporary files left behind by loads that crashed long ago."""
    now = time.time()
    for p in cache_dir.glob(".*.tmp*"):
        try:
            if now - p.stat().st_mtime > max_age and p.is_file():
                p.unlink()
        except OSError:
            pass


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


# --------------------------------------------------------------------------- reading

def _read_dictionary(name: str, data: bytes) -> Dictionary:
    """The dictionary, parsed from the very bytes that go into the cache key.

    As ``rcs_viz.data.dictionary.read`` (UTF-8, a safe YAML loader), but every problem
    is one line, and a file that is huge once its aliases are expanded (a "billion
    laughs") or that refers to itself is refused before anything expands it.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{name}: cannot read the dictionary (not UTF-8 text: byte {exc.start + 1} is invalid)"
        ) from None
    try:
        mapping = dictmod.load_yaml(text)  # yaml.SafeLoader, with YAML 1.2 booleans
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _one_line(exc.problem or exc.context or "a syntax error")
        raise LoadError(f"{name}: not valid YAML ({problem}{where})") from None
    except yaml.YAMLError as exc:
        raise LoadError(f"{name}: not valid YAML ({_first_line(exc)})") from None
    except RecursionError:
        raise LoadError(f"{name}: not valid YAML (nested too deeply)") from None
    seen, stack = 0, [mapping]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > YAML_NODES_MAX:
            raise LoadError(
                f"{name}: the dictionary is too large once its aliases (*name) are expanded, or refers to itself; "
                "write the entries out in full"
            )
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return dictmod.parse(mapping, source=name)  # DictionaryError -> LoadError in load_dataset


def _scan(path: Path, check_utf8: bool) -> dict:
    """One read-only pass: sha256 of the bytes, the first MB, and whether it is UTF-8."""
    sha = hashlib.sha256()
    head = bytearray()
    utf8 = check_utf8
    nul = False
    dec = codecs.getincrementaldecoder("utf-8")()
    size = 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                sha.update(chunk)
                nul = nul or (check_utf8 and b"\x00" in chunk)
                if len(head) < _HEAD:
                    head += chunk[: _HEAD - len(head)]
                if utf8:
                    try:
                        dec.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
            if utf8:
                try:
                    dec.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
            tail = b""
            if size >= 4:
                f.seek(size - 4)
                tail = f.read(4)
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot be opened ({exc.strerror or exc})") from None
    return {"sha256": sha.hexdigest(), "size": size, "head": bytes(head), "tail": tail, "utf8": utf8, "nul": nul}


def _peek(path: Path, size: int = 4096) -> bytes:
    """The first bytes of a file, or b"" when it cannot be read (the caller says why later)."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _detect(head: bytes) -> str | None:
    """What a file is by its first bytes: a format in FORMAT_NAMES, another known kind, or None (text or unknown)."""
    if head.startswith((b"$FL2", b"$FL3")):
        return ".sav"
    if head.startswith(b"<stata_dta>") or (
        len(head) >= 4 and 104 <= head[0] <= 115 and head[1] in (1, 2) and head[2] == 1 and head[3] == 0
    ):
        return ".dta"
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith(b"PK\x03\x04"):  # a zip archive: an Office file, or just a zip
        if b"xl/" in head:
            return ".xlsx"
        if b"word/" in head:
            return "docx"
        if b"opendocument.spreadsheet" in head[:200]:
            return "ods"
        return "zip"
    if head.startswith(_OLE2):
        return "ole2"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff"):
        return "image"
    return None


_OTHER_KINDS = {
    "ole2": "an old Excel .xls workbook (or another old Office file); open it in Excel and save it as .xlsx",
    "ods": "an OpenDocument spreadsheet (.ods); save it as Excel .xlsx or as CSV UTF-8",
    "docx": "a Word document, not a data file; export the data itself as CSV, Excel, SPSS or Stata",
    "zip": "a zip archive, not a data file; unzip it and load the data file inside",
    "gzip": "compressed with gzip; decompress it and load the file inside",
    "pdf": "a PDF document, not a data file; export the data itself as CSV, Excel, SPSS or Stata",
    "image": "an image, not a data file",
}


def _format(name: str, suffix: str, scan: dict) -> tuple[str, list[str]]:
    """The format to read the file as, from its content, and a note when its name says otherwise."""
    named = _FORMAT_OF_SUFFIX.get(suffix, suffix)
    found = _detect(scan["head"])
    if found in FORMAT_NAMES and found != named:
        return found, [f"{name} is {FORMAT_NAMES[found]} although its name ends in '{suffix or '(none)'}'; "
                       "it was read as one."]
    if found in _OTHER_KINDS and not (found == "zip" and named == ".xlsx"):
        raise LoadError(f"{name}: the file is {_OTHER_KINDS[found]}")
    return named, []


def _open_source(con, path: Path, fmt: str, suffix: str, scan: dict, cache_dir: Path, token: str, scratch: list,
                 markers: list[str]) -> _Source:
    if fmt == "text":
        src = _open_csv(con, path, suffix, scan, cache_dir, token, scratch, markers)
    elif fmt == ".parquet":
        src = _open_parquet(con, path, scan)
    elif fmt == ".xlsx":
        src = _open_xlsx(con, path, markers)
    else:
        src = _open_readstat(con, path, fmt, scan)
    src.fmt = fmt
    rel = con.sql(ingest.source_rows())
    src.kinds = {n: type_kind(t) for n, t in zip(rel.columns, rel.types)}
    return src


def _open_csv(con, path, suffix, scan, cache_dir, token, scratch, markers) -> _Source:
    name = path.name
    head = scan["head"]
    notes: list[str] = []
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise LoadError(f"{name}: the file is empty")
    codec = None
    read_path = path
    for bom, bom_codec, label in _BOMS:
        if head.startswith(bom):
            codec = bom_codec
            if label:
                read_path = _transcode(path, bom_codec, cache_dir, token, scratch, label)
                notes.append(f"{name} was read as {label} text.")
            break
    if codec in (None, "utf-8-sig") and scan["nul"]:
        if _looks_utf16(head):
            raise LoadError(
                f"{name}: the file holds binary data (NUL bytes), so it is not a plain-text CSV; "
                "if it was saved as 'Unicode text' (UTF-16) without a byte-order mark, save it again as 'CSV UTF-8'"
            )
        raise LoadError(
            f"{name}: the file holds binary data (NUL bytes), so it is not a plain-text CSV, and not a format "
            "RCS Explorer recognises; save the data as CSV UTF-8, Excel .xlsx, SPSS .sav, Stata .dta or Parquet"
        )
    if codec == "utf-8-sig" and not scan["utf8"]:
        raise LoadError(
            f"{name}: the text is not valid UTF-8, although the file starts with a UTF-8 byte-order mark "
            "(it may be damaged or in another encoding); save it again as 'CSV UTF-8'"
        )
    if codec is None:
        if scan["utf8"]:
            codec = "utf-8"
        else:
            try:
                read_path = _transcode(path, "cp1252", cache_dir, token, scratch, "Windows-1252")
                codec = "cp1252"
                notes.append(f"{name} is not UTF-8; read as Windows-1252.")
            except LoadError:
                read_path = _transcode(path, "latin-1", cache_dir, token, scratch, "Latin-1")
                codec = "latin-1"
                notes.append(f"{name} is not UTF-8; read as Latin-1 (ISO-8859-1).")
    if read_path is not path:
        with open(read_path, "rb") as f:
            head = f.read(_HEAD)
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(head)
    else:
        text = codecs.getincrementaldecoder("utf-8-sig")("replace").decode(head)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise LoadError(f"{name}: the file is empty")

    first_line = text.splitlines()[0] if text.splitlines() else ""
    delim = _sniff_delimiter(first_line, suffix)
    if delim != ",":
        notes.append(f"Columns in {name} are separated by {_DELIM_NAMES[delim]}.")
    lines = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac files end lines in CR alone
    try:
        header = next(csv.reader(io.StringIO(lines), delimiter=delim, quotechar='"', strict=True), [])
    except csv.Error as exc:
        if "end of data" in str(exc):
            raise LoadError(f'{name}: row 1 (the header) opens a quote (") that is never closed') from None
        header = next(csv.reader(io.StringIO(lines), delimiter=delim, quotechar='"'), [])
    names = _column_names(name, header)
    notes += _padded_header_note(name, header)
    con.execute(ingest.csv_source(str(read_path), names, delim))
    con.execute(ingest.csv_source(str(read_path), names, delim, ingest.padded_markers(markers)))
    return _Source(kinds={}, row_offset=2, notes=notes, raw=ingest.FILE_SOURCE, markers=tuple(markers))


def _looks_utf16(head: bytes) -> bool:
    """True when NUL bytes sit at every other position, as in UTF-16 text without a byte-order mark."""
    sample = head[:2000]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0) / len(even), odd.count(0) / max(len(odd), 1)) > 0.3


def _padded_header_note(name: str, header: list) -> list[str]:
    padded = [str(h) for h in header if isinstance(h, str) and h.strip() and h != h.strip()]
    if not padded:
        return []
    return [f"Spaces around {len(padded)} column name{'s' if len(padded) != 1 else ''} in {name} were removed "
            f"(e.g. '{_q(padded[0])}' is '{_q(padded[0].strip())}')."]


def _transcode(path: Path, codec: str, cache_dir: Path, token: str, scratch: list, label: str) -> Path:
    """Copy a non-UTF-8 text file to a UTF-8 scratch file (the source is only read)."""
    out = cache_dir / f".{token}.utf8.tmp"
    scratch.append(out)
    dec = codecs.getincrementaldecoder(codec)("strict")
    try:
        with open(path, "rb") as fi, open(out, "w", encoding="utf-8", newline="") as fo:
            while chunk := fi.read(_CHUNK):
                fo.write(dec.decode(chunk))
            fo.write(dec.decode(b"", final=True))
    except UnicodeDecodeError:
        raise LoadError(
            f"{path.name}: the text is not valid {label} (the file may be truncated or in another encoding); "
            "save it again as 'CSV UTF-8'"
        ) from None
    return out


def _sniff_delimiter(line: str, suffix: str) -> str:
    counts = {d: 0 for d in (",", ";", "\t")}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    if suffix == ".tsv" and counts["\t"]:
        return "\t"
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ("\t" if suffix == ".tsv" else ",")


def _column_names(file_name: str, header: list) -> list[str]:
    """Header cells as column names; blank ones become column<N>; duplicates are an error."""
    if len(header) > MAX_COLUMNS:
        raise LoadError(
            f"{file_name}: the file has {len(header):,} columns; RCS Explorer reads at most {MAX_COLUMNS:,} "
            "(keep the columns you need and save it again)"
        )
    names = []
    for i, cell in enumerate(header, 1):
        text = "" if cell is None else str(cell).strip()
        names.append(text or f"column{i}")
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names, 1):
        seen.setdefault(n.casefold(), []).append(i)
    dupes = [(pos, [names[p - 1] for p in pos]) for pos in seen.values() if len(pos) > 1]
    if dupes:
        parts = []
        for pos, spelled in dupes[:5]:
            where = " and ".join(str(p) for p in pos)
            case = "; the names differ only in capitals" if len(set(spelled)) > 1 else ""
            parts.append(f"'{_q(spelled[0])}' (columns {where}{case})")
        raise LoadError(
            f"{file_name}: column header used more than once: {', '.join(parts)}; every column needs its own name"
        )
    if not names:
        raise LoadError(f"{file_name}: the file has no header row")
    return names


def _open_parquet(con, path: Path, scan: dict) -> _Source:
    name = path.name
    if scan["size"] == 0:
        raise LoadError(f"{name}: the file is empty")
    if scan["size"] < 12 or scan["head"][:4] != b"PAR1" or scan["tail"] != b"PAR1":
        raise LoadError(f"{name}: is not a complete Parquet file (it may be truncated, damaged or another format)")
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(str(path)).names
    except Exception as exc:
        raise LoadError(f"{name}: cannot be read as a Parquet file; it may be damaged ({_first_line(exc)})") from None
    _column_names(name, names)
    con.execute(ingest.parquet_source(str(path)))
    return _Source(kinds={}, row_offset=1)


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _open_xlsx(con, path: Path, markers: list[str]) -> _Source:
    import openpyxl
    import pyarrow as pa

    name = path.name
    try:
        # From an open file, not a path: openpyxl refuses a path whose name does not end in .xlsx,
        # and a workbook saved as "data.csv" is still a workbook.
        with open(path, "rb") as fh:
            wb = openpyxl.load_workbook(io.BytesIO(fh.read()), read_only=True, data_only=True)
    except Exception:
        raise LoadError(
            f"{name}: cannot be read as an Excel .xlsx workbook (it may be damaged, truncated or not really .xlsx)"
        ) from None
    notes = []
    try:
        sheets = wb.sheetnames
        if not sheets:
            raise LoadError(f"{name}: the workbook has no sheets")
        if len(sheets) > 1:
            notes.append(f"{name} has {len(sheets)} sheets; read the first ('{sheets[0]}').")
        header = None
        rows: list[tuple] = []
        rownums: list[int] = []
        for i, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            if header is None:
                header = row
            else:
                rows.append(row)
                rownums.append(i)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"{name}: the workbook cannot be read; it may be damaged ({_first_line(exc)})") from None
    finally:
        wb.close()
    if header is None:
        raise LoadError(f"{name}: the first sheet is empty")
    header = list(header)
    while header and header[-1] is None and all(len(r) < len(header) or r[len(header) - 1] is None for r in rows):
        header.pop()  # trailing blank columns
    names = _column_names(name, header)
    notes += _padded_header_note(name, header)
    width = len(names)
    wanted = set(markers)
    marked: dict[str, list[int]] = {}  # column -> [cells read as no answer, bit mask of the markers seen]
    arrays = []
    for j in range(width):
        cells = [_cell_text(r[j]) if j < len(r) else None for r in rows]
        for k, text in enumerate(cells):
            if text is not None and text.strip() in wanted and isinstance(rows[k][j], str):
                seen = marked.setdefault(names[j], [0, 0])
                seen[0] += 1
                seen[1] |= 1 << markers.index(text.strip())
                cells[k] = None
        arrays.append(pa.array(cells, pa.string()))
    table = pa.table(arrays + [pa.array(rownums, pa.int64())], names=names + [_ROWNUM])
    con.register(ingest.RAW_SOURCE, table)
    con.execute(ingest.arrow_source(row_col=_ROWNUM))
    return _Source(kinds={}, row_offset=2, probe=ingest.RAW_SOURCE, row_col=_ROWNUM, notes=notes, keep=table,
                   raw=ingest.SOURCE, markers=tuple(markers), marked={n: tuple(v) for n, v in marked.items()})


def _open_readstat(con, path: Path, fmt: str, scan: dict) -> _Source:
    """An SPSS .sav/.zsav or Stata .dta file, read by pyreadstat: codes (not labels), with the values the
    file declares missing (SPSS user-missing, Stata's .a-.z) as blanks; its metadata kept for labels."""
    import pyarrow as pa
    import pyreadstat

    name = path.name
    read, what = (pyreadstat.read_sav, "an SPSS .sav") if fmt == ".sav" else (pyreadstat.read_dta, "a Stata .dta")
    try:
        df, _ = read(str(path), apply_value_formats=False, user_missing=False)
        _, meta = read(str(path), metadataonly=True, user_missing=True)
    except Exception as exc:
        hint = ""
        head = scan["head"][:4096]
        if head and b"\x00" not in head:
            try:
                head.decode("utf-8")
                hint = "; it looks like plain text: if it is a CSV file, name it .csv"
            except UnicodeDecodeError:
                pass
        raise LoadError(
            f"{name}: cannot be read as {what} file; it may be damaged or truncated ({_first_line(exc)}){hint}"
        ) from None
    _column_names(name, list(df.columns))
    table = pa.Table.from_pandas(df, preserve_index=False)
    del df
    con.register(ingest.RAW_SOURCE, table)
    con.execute(ingest.arrow_source())
    return _Source(kinds={}, row_offset=1, sav_meta=meta, keep=table)


# --------------------------------------------------------------------------- validate and write

def _build(con, path: Path, src: _Source, given: Dictionary | None, salt: str, report) -> tuple:
    name = path.name
    kind = ".csv" if src.fmt == "text" else src.fmt  # how DuckDB's errors are worded
    columns = list(src.kinds)
    notes: list[str] = []
    with _reading(name, kind):  # before inference, which takes a while on a wide file
        if not con.execute(*ingest.any_row()).fetchall():
            raise LoadError(f"{name}: the file has a header row but no data rows")

    file_kind = "Stata" if src.fmt == ".dta" else "SPSS"
    if given is None:
        report(0.2, "No dictionary given: inferring one from the data")
        with _reading(name, kind):
            d = infer_dictionary(con.sql(ingest.source_rows()), sav_meta=src.sav_meta, title=_title(path),
                                 file_kind=file_kind)
        notes += list(d.notes)
    else:
        d = given
        if src.sav_meta is not None:
            d, sav_notes = _fill_from_sav(d, src.sav_meta, name)
            notes += sav_notes
    notes += src.notes

    # Match dictionary names to file columns (exactly, else ignoring case and spaces).
    for v in d.variables:
        if v.name.casefold() == RKEY:
            raise LoadError(f"{d.source}: the name '{RKEY}' is reserved; rename that variable")
    exact = set(columns)
    folded: dict[str, str] = {}
    for c in columns:
        folded.setdefault(c.strip().casefold(), c)
    mapping: dict[str, str] = {}
    absent: list[str] = []
    for v in d.variables:
        if v.name in exact:
            mapping[v.name] = v.name
        elif v.name.strip().casefold() in folded:
            mapping[v.name] = folded[v.name.strip().casefold()]
            notes.append(f"Dictionary variable '{v.name}' matched column '{mapping[v.name]}' in {name}.")
        else:
            absent.append(v.name)
    if absent:
        spare = [c for c in columns if c not in mapping.values()]
        hints = []
        for a in absent:
            close = difflib.get_close_matches(a, spare, n=1, cutoff=0.75)
            if close:
                hints.append(f"'{_q(close[0])}' for '{_q(a)}'")
        hint = f" (did you mean {', '.join(hints[:5])}?)" if hints else ""
        raise LoadError(
            f"{name}: the dictionary names {len(absent)} column{'s' if len(absent) != 1 else ''} "
            f"that {'are' if len(absent) != 1 else 'is'} not in the file: {_names(absent)}{hint}"
        )
    ignored = [c for c in columns if c not in mapping.values()]
    if ignored:
        notes.append(
            f"{len(ignored)} column{'s' if len(ignored) != 1 else ''} in {name} "
            f"{'are' if len(ignored) != 1 else 'is'} not in the dictionary and were ignored: {_names(ignored)}."
        )

    # A dictionary's guessed id that is not one (blank or repeated) is dropped as the id, not a reason to refuse.
    id_var = d.by_role("id")
    if given is not None and id_var is not None and id_var.role_guessed:
        wave_var = d.by_role("wave")
        with _reading(name, kind):
            why = id_problem(con.sql(ingest.source_rows()), mapping[id_var.name],
                             mapping[wave_var.name] if wave_var is not None else None)
        if why is not None:
            d = _replace_variable(d, dataclasses.replace(id_var, role=None, guessed=""))
            notes.append(
                f"'{id_var.name}' is only guessed to be the respondent id ({id_var.guessed}), but {why}, so it is "
                "not used as the id; declare the id with role: id (without 'guessed') once the ids are fixed."
            )

    # One aggregate scan: row count plus a count for every check.
    report(0.35, "Checking the data against the dictionary")
    params = ingest.Params()  # every value the checks and the table's values bind
    plans = [ingest.column_plan(v, mapping[v.name], src.kinds[mapping[v.name]], params) for v in d.variables]
    # (what, plan, cheap, exact); probes decide BIGINT vs VARCHAR for unlabelled categoricals
    tests = [(what, p, cheap, exact) for p in plans for what, cheap, exact in p.checks]
    tests += [("probe", p, p.probe[0], p.probe[1]) for p in plans if p.storage is None]
    # ... and, for the notes, what the text columns hold (see _text_notes)
    text_cols = [(v.name, mapping[v.name], v.type != "numeric") for v in d.variables
                 if src.kinds.get(mapping[v.name]) == "text"]
    csv_markers = bool(src.markers) and src.marked is None and src.raw == ingest.FILE_SOURCE
    wide = len(text_cols) > _TEXT_BATCH  # then counted in batches of their own: planning time grows with width
    text_exprs = [] if wide else ingest.text_counts([(col, csv_markers, sp) for _, col, sp in text_cols])
    with _reading(name, kind):
        counts = con.execute(
            *ingest.check_counts([cheap for _, _, cheap, _ in tests], params, extra=text_exprs)
        ).fetchone()
        text_found = counts[len(counts) - len(text_exprs):]
        counts = counts[:len(counts) - len(text_exprs)]
        rows = int(counts[0])
        found = [int(n or 0) for n in counts[1:]]
        again = [i for i, (_, _, _, exact) in enumerate(tests) if found[i] and exact is not None]
        if again:
            exact_counts = con.execute(
                *ingest.check_counts([ingest.both(tests[i][2], tests[i][3]) for i in again], params, rows=False)
            ).fetchone()
            for i, n in zip(again, exact_counts):
                found[i] = int(n or 0)
    if rows == 0:
        raise LoadError(f"{name}: the file has a header row but no data rows")
    report(0.45, "Looking for missing-value markers and spaces")
    with _reading(name, kind):
        if wide:
            text_found = ()
            for i in range(0, len(text_cols), _TEXT_BATCH):
                exprs = ingest.text_counts([(col, csv_markers, sp) for _, col, sp in text_cols[i:i + _TEXT_BATCH]])
                text_found += con.execute(*ingest.check_counts([], ingest.Params(), rows=False, extra=exprs)).fetchone()
        notes += _text_notes(con, src, text_cols, csv_markers, text_found)
    for (what, p, _, _), n in zip(tests, found):
        if what == "probe":
            p.storage = "bigint" if n == 0 else "varchar"

    problems = []
    for (what, p, cheap, exact), n in zip(tests, found):
        if n and what != "probe":
            problems.append(_describe(con, src, name, what, p.col, ingest.both(cheap, exact), params, n))
    if problems:
        more = ""
        if len(problems) > 1:
            cols = [re.search(r"column '([^']*)'", m) for m in problems[1:]]
            listed = ", ".join(f"'{m.group(1)}'" for m in cols[:6] if m)
            more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}" + (
                f", in {listed})" if listed else ")"
            )
        raise LoadError(problems[0] + more, problems)

    # Write the table.
    report(0.6, f"Writing {rows:,} rows to the database")
    by_name = {p.var.name: p for p in plans}
    id_var, wave_var = d.by_role("id"), d.by_role("wave")
    id_plan = by_name[id_var.name] if id_var is not None else None
    wave_plan = by_name[wave_var.name] if wave_var is not None else None
    with _reading(name, kind):
        con.execute(*ingest.write_table(plans, id_plan, wave_plan, salt, params))
    if id_var is None:
        con.execute(*ingest.row_record_keys(salt))
        notes.append(
            "The dictionary has no id column, so the record key used for perturbation comes from the row order; "
            "re-sorting the file changes it."
        )

    # Duplicate respondents, checked on the loaded table.
    if id_var is not None:
        report(0.9, "Checking respondent ids")
        dup = con.execute(*ingest.duplicate_ids(id_var.name, wave_var.name if wave_var else None)).fetchone()
        if dup:
            col = _q(mapping[id_var.name])
            if wave_var:
                ex_id, ex_wave, n, k, total = dup
                raise LoadError(
                    f"{name}: column '{col}' has {k:,} respondent id{'s' if k != 1 else ''} that "
                    f"appear{'s' if k == 1 else ''} more than "
                    f"once in the same wave ({total:,} rows; e.g. id '{_show(ex_id)}' appears {n} times with "
                    f"{_q(mapping[wave_var.name])} = {_show(ex_wave)})"
                )
            ex_id, n, k, total = dup
            raise LoadError(
                f"{name}: column '{col}' has {k:,} respondent id{'s' if k != 1 else ''} that "
                f"appear{'s' if k == 1 else ''} more than once "
                f"({total:,} rows; e.g. id '{_show(ex_id)}' appears {n} times)"
            )
    return d, notes, rows


def record_key(salt: str, id_value: str, wave_value: str = "") -> int:
    """The ``__rkey`` the loader gives a record (the same formula, in Python)."""
    digest = hashlib.md5(f"{salt}\x1f{id_value}\x1f{wave_value}".encode("utf-8")).hexdigest()
    return int(digest[:2], 16)


def _describe(con, src: _Source, name: str, what: str, col: str, pred: str, params, n: int) -> str:
    """One sentence for a failed check, with example values and the first row."""
    t = ingest.Col(col, src.kinds[col]).text
    if src.row_col:
        first = con.execute(*ingest.first_bad_row(src.probe, src.row_col, t, pred, params)).fetchone()
        row, example = first if first else (None, None)
    else:
        con.execute(*ingest.bad_rows_in_order(t, pred, params))
        first = con.execute(*ingest.first_bad_in_order()).fetchone()
        con.execute(*ingest.drop_bad_rows())
        row, example = (int(first[0]) + src.row_offset, first[1]) if first else (None, None)
    rows_word = f"{n:,} row{'s' if n != 1 else ''}"
    kind, col = src.kinds[col], _q(col)  # from here on, col is only quoted
    if what == "id_empty":
        return f"{name}: column '{col}' (the respondent id) is empty in {rows_word} (e.g. row {row})"
    found = con.execute(*ingest.bad_values(t, pred, params)).fetchall()
    values = [val for val, _ in found]
    if what == "numeric":
        others = [x for x in values if x != example][:4]
        also = f"; other text: {', '.join(repr(_show(x)) for x in others)}" if others else ""
        noun = "text" if kind == "text" else "values that are not numbers"
        return (
            f"{name}: column '{col}' should be numeric but has {noun} in {rows_word} "
            f"(e.g. {_show(example)!r} in row {row}{also})"
        )
    distinct = con.execute(*ingest.bad_value_count(t, pred, params)).fetchone()[0]
    shown = ", ".join(repr(_show(x)) for x in values[:5]) + (f" and {distinct - 5} more" if distinct > 5 else "")
    return (
        f"{name}: column '{col}' has {distinct} value{'s' if distinct != 1 else ''} not in its value labels, "
        f"in {rows_word}: {shown} (first in row {row}); add {'them' if distinct != 1 else 'it'} to the "
        "dictionary's 'values' or 'missing'"
    )


class _reading:
    """Turn DuckDB's errors while reading the source into one-sentence LoadErrors."""

    def __init__(self, name: str, suffix: str):
        self.name, self.suffix = name, suffix

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, LoadError) or not isinstance(exc, duckdb.Error):
            return False
        raise _duck_error(self.name, self.suffix, exc) from exc


def _duck_error(name: str, suffix: str, exc: Exception) -> LoadError:
    text = str(exc)
    if suffix in TEXT_SUFFIXES:
        line = re.search(r"CSV Error on Line: (\d+)", text)
        cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        if line and cols:
            expected, found = int(cols.group(1)), int(cols.group(2))
            why = "the file may be cut short or a value may be missing" if found < expected else (
                "a value may contain an unquoted separator"
            )
            return LoadError(
                f"{name}: row {line.group(1)} has {found} value{'s' if found != 1 else ''} but the header has "
                f"{expected} columns ({why})"
            )
        if line and "unterminated quote" in text:
            return LoadError(
                f"{name}: row {line.group(1)} opens a quote (\") that is never closed (the file may be cut short)"
            )
        if line:
            reason = next((ln.strip() for ln in text.splitlines()[2:] if ln.strip()), "")
            return LoadError(f"{name}: cannot be read as CSV at row {line.group(1)} ({reason})")
        return LoadError(f"{name}: cannot be read as CSV ({_first_line(exc)})")
    if suffix == ".parquet":
        return LoadError(f"{name}: cannot be read as a Parquet file; it may be damaged or truncated ({_first_line(exc)})")
    return LoadError(f"{name}: cannot be read ({_first_line(exc)})")


# --------------------------------------------------------------------------- small helpers

def _fill_from_sav(d: Dictionary, meta: Any, name: str) -> tuple[Dictionary, list[str]]:
    """Fill labels a given dictionary leaves out from an SPSS or Stata file's own labels, and say so.

    A variable's label, when the dictionary gives none; value labels of a
    categorical, ordinal or flag variable that declares no ``values`` (a flag
    keeps the file's labels rather than No/Yes). The notes say which were
    taken, which codes the file declares missing, and which codes the file
    labels as non-answers that the dictionary counts as answers.
    """
    col_labels = getattr(meta, "column_names_to_labels", None) or {}
    value_labels = getattr(meta, "variable_value_labels", None) or {}
    named, valued, out = [], [], []
    counted: list[str] = []
    for v in d.variables:
        changes: dict[str, Any] = {}
        if v.label == v.name and col_labels.get(v.name):
            changes["label"] = str(col_labels[v.name])
            named.append(v.name)
        file_values = {dictmod.code_text(c): str(lab) for c, lab in (value_labels.get(v.name) or {}).items()}
        takes = v.type != "numeric" and (not v.values or v.values_defaulted)
        if takes and file_values:
            pairs = sorted(file_values.items(), key=_code_order)
            changes["values"] = tuple((c, lab) for c, lab in pairs if c not in v.missing)
            changes["values_defaulted"] = False
            if v.type == "flag" and v.values_defaulted:
                codes = {c for c, _ in changes["values"]}
                changes["positive"] = tuple(c for c in v.positive if c in codes)
            valued.append(v.name)
        if file_values:
            listed = {c for c, _ in (changes.get("values") or v.values)}
            for code, why in non_answer_codes(file_values).items():
                if code not in v.missing and (v.type == "numeric" or code in listed):
                    counted.append(f"'{v.name}' {code} {why}")
        if changes:
            v = dataclasses.replace(v, **changes)
        out.append(v)
    notes = []
    if named:
        notes.append(f"Variable labels missing from the dictionary were taken from {name} for {_names(named)}.")
    if valued:
        notes.append(f"Value labels missing from the dictionary were taken from {name} for {_names(valued)}.")
    declared = [c for c in {**(getattr(meta, "missing_ranges", None) or {}),
                             **(getattr(meta, "missing_user_values", None) or {})} if c in d]
    if declared:
        notes.append(f"Values that {name} declares as missing were read as no answer in {_names(list(declared))}.")
    if counted:
        notes.append(
            f"{name} labels some codes as non-answers that the dictionary counts as answers: {_list(counted, 6)}; "
            "add them to the variable's 'missing' if they mean no answer."
        )
    changed = named or valued
    return (dataclasses.replace(d, variables=tuple(out)) if changed else d), notes


def _replace_variable(d: Dictionary, new: Any) -> Dictionary:
    return dataclasses.replace(d, variables=tuple(new if v.name == new.name else v for v in d.variables))


def _text_notes(con, src: _Source, cols: list[tuple[str, str, bool]], csv_markers: bool, found: tuple
                ) -> list[str]:
    """Notes on a file's text: which missing-text markers were read as no answer, and where spaces
    around values were removed (so ' Yes' and 'Yes' are one answer).

    ``found`` holds ``ingest.text_counts`` over `src` for ``cols`` (variable,
    column, whether to look for spaces), from the check scan. For a CSV file
    one more scan counts the values of the file as read (`src_file`): the
    difference is what the markers blanked; only the few columns that had
    markers are read again, to say which. (Excel markers were counted while
    reading the sheet.)
    """
    markers = list(src.markers)
    raw: tuple = ()
    if csv_markers:
        for i in range(0, len(cols), 4 * _TEXT_BATCH):
            raw += con.execute(ingest.raw_counts([c for _, c, _ in cols[i:i + 4 * _TEXT_BATCH]])).fetchone()
    seen: dict[str, list] = {}  # variable -> [values blanked, marker mask, padded values, an example]
    k = 0
    for j, (var, col, spaces) in enumerate(cols):
        blanked = 0
        if csv_markers:
            blanked = int(raw[j] or 0) - int(found[k] or 0)
            k += 1
        padded, example = (int(found[k] or 0), found[k + 1]) if spaces else (0, None)
        k += 2 if spaces else 0
        seen[var] = [blanked, 0, padded, example]
    partly = False  # which markers: looked up in the first _TEXT_BATCH columns that had any (each is a long IN test)
    if csv_markers:
        hit = [(var, col) for var, col, _ in cols if seen[var][0]]
        partly = len(hit) > _TEXT_BATCH
        if hit:
            batch = hit[:_TEXT_BATCH]
            masks = con.execute(*ingest.marker_masks(src.raw, [c for _, c in batch], markers, ingest.Params())).fetchone()
            for (var, _), mask in zip(batch, masks):
                seen[var][1] = int(mask or 0)
    elif src.marked is not None:
        for var, col, _ in cols:
            seen[var][:2] = list(src.marked.get(col, (0, 0)))
    notes = []
    marked = [(v, n, m) for v, (n, m, _, _) in seen.items() if n]
    if marked:
        which = [mk for i, mk in enumerate(markers) if any(m >> i & 1 for _, _, m in marked)]
        cells = sum(n for _, n, _ in marked)
        notes.append(
            f"Text read as no answer (missing): {'such as ' if partly else ''}{', '.join(repr(m) for m in which)} in "
            f"{_plural(len(marked), 'column')} ({cells:,} value{'s' if cells != 1 else ''}: "
            f"{_names([v for v, _, _ in marked], 6)}); the dictionary's 'missing_text' sets which texts mean no answer."
        )
    padded = [(v, n, ex) for v, (_, _, n, ex) in seen.items() if n]
    if padded:
        v, n, ex = padded[0]
        notes.append(
            "Spaces at the start or end of values were removed, so ' Yes' and 'Yes' are one answer: "
            f"{sum(n for _, n, _ in padded):,} value(s) in {_names([p[0] for p in padded], 6)} "
            f"(e.g. {_show(ex)!r} in '{_q(v)}' is read as {_show(str(ex).strip())!r})."
        )
    return notes


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _list(items, limit: int = 10) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _code_order(pair):
    try:
        return (0, float(pair[0]), pair[0])
    except ValueError:
        return (1, 0.0, pair[0])


def _title(path: Path) -> str:
    return re.sub(r"[_-]+", " ", path.stem).strip().capitalize() or path.name


def _names(items, limit: int = 10) -> str:
    items = list(items)
    shown = ", ".join(f"'{_q(s)}'" for s in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _show(value: Any) -> Any:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _q(name: str) -> str:
    """A column name as quoted in a message: very long ones are shortened."""
    return name if len(name) <= 80 else name[:77] + "..."


def _one_line(text: str) -> str:
    """A message on one line, with any very long word (a pasted value, a long name) shortened."""
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return re.sub(r"\S{81,}", lambda m: m.group()[:77] + "...", text)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


__all__ = ["Dataset", "LoadError", "LOADER_VERSION", "load_dataset", "record_key"]
