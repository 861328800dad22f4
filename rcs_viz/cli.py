"""The command line, on the same service as the app: `python -m rcs_viz …`.

Bad input exits 2 with one line on stderr; a traceback would be a bug.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from rcs_viz import config as config_mod
from rcs_viz.dictionary import DictionaryError

USAGE_ERROR = 2


class CliError(Exception):
    """A problem with what the user asked for: printed as one line, exit 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rcs_viz", description="RCS Explorer from the command line.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="write the seeded synthetic sample")
    s.add_argument("--rows", type=int, default=None, help="respondents to generate (default: the committed size)")
    s.add_argument("--seed", type=int, default=2016)
    s.add_argument("--out", type=Path, required=True, help="folder to write into")

    c = sub.add_parser("crosstab", help="a disclosure-controlled cross-tab of a data file")
    c.add_argument("data", type=Path, help=".csv, .xlsx, .parquet or .sav")
    c.add_argument("--rows", required=True, metavar="VAR")
    c.add_argument("--cols", metavar="VAR")
    c.add_argument("--panel", metavar="VAR")
    c.add_argument("--where", action="append", default=[], metavar="VAR=VALUE[,VALUE…]",
                   help="keep only these values (as labelled); repeat for more filters")
    c.add_argument("--measure", default="count",
                   help="count | row_pct | col_pct | total_pct | mean:VAR | median:VAR")
    c.add_argument("--weighted", action="store_true", help="use the survey weight")
    c.add_argument("--no-missing", action="store_true", help="leave 'No answer' out of the table and its bases")
    c.add_argument("--threshold", type=int, help="smallest count shown (data owner's setting)")
    c.add_argument("--min-base", type=int, help="smallest base for a %%, mean or CI")
    c.add_argument("--perturbation", choices=["on", "off"])
    c.add_argument("--dictionary", type=Path)
    c.add_argument("--config", type=Path, help="a data owner's rcs_explorer.yaml (rules, salt)")
    c.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    c.add_argument("--out", type=Path, help="write here instead of standard output")
    return p


def _filters(dictionary, where: list[str]) -> tuple:
    """--where VAR=LABEL[,LABEL…] → ((var, (code, …)), …), speaking labels as shown."""
    out = []
    for item in where:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise CliError(f"--where '{item}': expected VAR=VALUE[,VALUE…]")
        if name not in dictionary:
            raise CliError(f"--where: unknown variable '{name}'")
        var = dictionary[name]
        labels = [values] if _known(var, values) else values.split(",")
        codes = []
        for label in labels:
            if not _known(var, label):
                raise CliError(f"--where: '{label}' is not a value of '{name}'")
            codes.append(var.code_of(label) if var.values else label)
        out.append((name, tuple(codes)))
    return tuple(out)


def _known(var, label: str) -> bool:
    if not var.values:
        return True
    try:
        var.code_of(label)
    except KeyError:
        return False
    return True


def _rules(args, base):
    changes = {}
    if args.threshold is not None:
        changes["threshold"] = args.threshold
    if args.min_base is not None:
        changes["min_base"] = args.min_base
    if args.perturbation is not None:
        changes["perturbation"] = args.perturbation == "on"
    try:
        return type(base).from_mapping({**dataclasses.asdict(base), **changes})
    except ValueError as exc:
        raise CliError(str(exc)) from None


def crosstab(args) -> None:
    from rcs_viz import export, service
    from rcs_viz.load import LoadError, load_dataset
    from rcs_viz.queries import CrossTab, QueryError

    try:
        cfg = config_mod.load(args.config) if args.config else config_mod.Config()
    except config_mod.ConfigError as exc:
        raise CliError(str(exc)) from None
    rules = _rules(args, cfg.rules)
    cache = Path(tempfile.gettempdir()) / "rcs-explorer-cli"
    try:
        ds = load_dataset(args.data, args.dictionary, cache_dir=cache, salt=cfg.record_key_salt)
    except (LoadError, DictionaryError) as exc:
        raise CliError(str(exc)) from None
    measure, _, value = args.measure.partition(":")
    weight = ds.dictionary.by_role("weight") if args.weighted else None
    if args.weighted and weight is None:
        raise CliError("--weighted: this dataset has no survey weight")
    query = CrossTab(rows=args.rows, cols=args.cols, panel=args.panel,
                     filters=_filters(ds.dictionary, args.where), value=value or None,
                     weight=weight.name if weight else None, include_missing=not args.no_missing)
    try:
        result = service.crosstab(ds, query, measure, rules)
    except QueryError as exc:
        raise CliError(str(exc)) from None
    if args.format == "xlsx":
        if args.out is None:
            raise CliError("--format xlsx needs --out FILE")
        args.out.write_bytes(export.to_excel(result, source=args.data.name))
        return
    text = export.to_json(result) + "\n" if args.format == "json" else export.to_csv(result).decode()
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def sample(args) -> None:
    from rcs_viz import sample as sample_mod

    written = sample_mod.write_sample(args.out, rows=args.rows, seed=args.seed)
    for path in written.values():
        print(path)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        {"crosstab": crosstab, "sample": sample}[args.command](args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return USAGE_ERROR
    return 0

