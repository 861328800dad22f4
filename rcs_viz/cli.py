"""The command line, on the same service as the app: `python -m rcs_viz …`.

Bad input exits 2 with one line on stderr; a traceback would be a bug.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import getpass
import http.client
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

from rcs_viz import config as config_mod
from rcs_viz.data.dictionary import DictionaryError

USAGE_ERROR = 2
WHERE_HELP = ('keep only these values, by label or code; repeat for more filters. Commas separate values: '
              'put a label that holds a comma in double quotes, e.g. --where \'party="Labour, Co-op",Green\', '
              'or give its code (--where party=3)')


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
                   help=WHERE_HELP)
    c.add_argument("--measure", default="count",
                   help="count | row_pct | col_pct | total_pct | mean:VAR | median:VAR")
    c.add_argument("--weighted", action="store_true", help="use the survey weight")
    c.add_argument("--no-missing", action="store_true", help="leave 'No answer' out of the table and its bases")
    c.add_argument("--threshold", type=int,
                   help="smallest count shown (default: the data owner's configured rules; lower warns)")
    c.add_argument("--min-base", type=int, help="smallest base for a %%, mean or CI (lower than configured warns)")
    c.add_argument("--perturbation", choices=["on", "off"], help="off warns when the configuration has it on")
    c.add_argument("--dictionary", type=Path)
    c.add_argument("--config", type=Path, help="a data owner's rcs_explorer.yaml (rules, salt)")
    c.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    c.add_argument("--out", type=Path, help="write here instead of standard output")

    r = sub.add_parser("report", help="a school, cluster or CPP report pack (HTML or PDF) of the configured data")
    r.add_argument("--kind", choices=["school", "cluster", "cpp"], required=True)
    r.add_argument("--unit", help="the school or cluster, by code or label (not for --kind cpp)")
    r.add_argument("--cpp", required=True, help="the CPP, by code or label")
    r.add_argument("--wave", help="survey wave, by code or label (default: the latest)")
    r.add_argument("--where", action="append", default=[], metavar="VAR=VALUE[,VALUE…]",
                   help=WHERE_HELP.replace("keep only these values", "keep only these pupils"))
    r.add_argument("--indicator", action="append", default=[], metavar="VAR",
                   help="a key indicator to rank (repeat; default: a few with national figures)")
    r.add_argument("--config", type=Path, help="a data owner's rcs_explorer.yaml (data, rules, comparators)")
    r.add_argument("--format", choices=["html", "pdf"], help="default: from --out's suffix, else html")
    r.add_argument("--out", type=Path, required=True, help="the file to write")

    m = sub.add_parser("compare", help="clusters or schools of the configured data ranked, in a funnel, or by "
                                      "deprivation with inequality measures, as a table")
    m.add_argument("--indicator", required=True, metavar="VAR", help="the indicator (a variable with positive codes "
                   "or a polarity)")
    m.add_argument("--cpp", required=True, help="the CPP, by code or label")
    m.add_argument("--level", choices=["cluster", "school", "cpp"], default="cluster",
                   help="cpp: only with --neighbours")
    m.add_argument("--cluster", help="keep to one cluster (schools; the gradient), by code or label")
    m.add_argument("--wave", help="survey wave, by code or label (default: the latest)")
    m.add_argument("--vs", choices=["cpp", "national", "previous", "neighbours"], default="cpp",
                   help="the comparator (a funnel: cpp or national; neighbours: each cluster's statistical neighbours)")
    m.add_argument("--reference", choices=["cpp", "all"], default="cpp",
                   help="--similar: whose rates similar pupils have (the CPP, or all the data)")
    m.add_argument("--where", action="append", default=[], metavar="VAR=VALUE[,VALUE…]",
                   help=WHERE_HELP.replace("keep only these values", "keep only these pupils"))
    shown = m.add_mutually_exclusive_group()
    shown.add_argument("--funnel", action="store_true", help="a funnel: each unit against its size, with the "
                       "95%% and 99.8%% limits and the units outside them")
    shown.add_argument("--inequality", action="store_true", help="the deprivation gradient with SII, RII, PAR and "
                       "ranges (given only when every quintile is shown)")
    shown.add_argument("--similar", action="store_true", help="observed / expected given each unit's pupils "
                       "(SIMD quintile x stage x sex), with a 95%% interval")
    shown.add_argument("--neighbours", metavar="UNIT", help="a cluster's (--level cluster) or the CPP's "
                       "(--level cpp) statistical neighbours, their profile and the indicator against their average")
    m.add_argument("--format", choices=["table", "csv"], default="table",
                   help="table: as on screen, with notes; csv: the export's figures")
    m.add_argument("--config", type=Path, help="a data owner's rcs_explorer.yaml (data, rules, comparators)")

    v = sub.add_parser("serve", help="several app processes behind nginx, sharing one server store (docs/serving.md)")
    v.add_argument("--processes", type=int, default=2, help="Streamlit processes (default 2: one per core of a "
                   "2-core machine)")
    v.add_argument("--port", type=int, default=8080, help="where nginx listens (default 8080)")
    v.add_argument("--host", default="127.0.0.1", help="nginx's address (default 127.0.0.1; 0.0.0.0 only with "
                   "sign-in configured or a TLS proxy in front, see docs/serving.md)")
    v.add_argument("--backend-port", type=int, default=8601, help="the first process's port on 127.0.0.1; the "
                   "others follow it (default 8601)")
    v.add_argument("--run-dir", type=Path, default=config_mod.PROJECT_ROOT / ".cache" / "serve",
                   help="nginx's configuration, logs and temporary files (default .cache/serve)")
    return p


def _filters(dictionary, where: list[str]) -> tuple:
    """--where VAR=VALUE[,VALUE…] → ((var, (code, …)), …), values by label (as shown) or by code.

    Commas separate values; a value holding a comma is written in double quotes
    ("Labour, Co-op"), as in a CSV line, or given by its code. A text that is a
    whole label on its own is taken whole, quotes or not.
    """
    out = []
    for item in where:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise CliError(f"--where '{item}': expected VAR=VALUE[,VALUE…]")
        if name not in dictionary:
            raise CliError(f"--where: unknown variable '{name}'")
        var = dictionary[name]
        labels = [values] if var.values and _known(var, values) else _split_values(item, values)
        codes = []
        for label in labels:
            if not _known(var, label) and _known(var, label.strip()):
                label = label.strip()
            if not _known(var, label):
                raise CliError(f"--where: '{label}' is not a value of '{name}'")
            codes.append(var.code_of(label) if var.values else label)
        out.append((name, tuple(dict.fromkeys(codes))))
    return tuple(out)


def _split_values(item: str, values: str) -> list[str]:
    """Values separated by commas, a quoted one ("a, b") taken whole, as in one line of a CSV file."""
    try:
        fields = next(csv.reader([values], delimiter=",", quotechar='"', doublequote=True, strict=True))
    except csv.Error:
        raise CliError(f"--where '{item}': a double quote (\") is not closed") from None
    if any(f == "" for f in fields):
        raise CliError(f"--where '{item}': an empty value (two commas in a row, or a comma at the end)")
    return fields


def _known(var, label: str) -> bool:
    if not var.values:
        return True
    try:
        var.code_of(label)
    except KeyError:
        return False
    return True


def _rules(args, cfg):
    """The data owner's rules with the flags' changes, and the warning line to print if they loosen them."""
    base = cfg.rules
    changes = {}
    if args.threshold is not None:
        changes["threshold"] = args.threshold
    if args.min_base is not None:
        changes["min_base"] = args.min_base
    if args.perturbation is not None:
        changes["perturbation"] = args.perturbation == "on"
    try:
        rules = type(base).from_mapping({**dataclasses.asdict(base), **changes})
    except ValueError as exc:
        raise CliError(str(exc)) from None
    looser = [f"--threshold {rules.threshold} (configured {base.threshold})" * (rules.threshold < base.threshold),
              f"--min-base {rules.min_base} (configured {base.min_base})" * (rules.min_base < base.min_base),
              "--perturbation off (configured on)" * (base.perturbation and not rules.perturbation)]
    looser = [x for x in looser if x]
    warning = (f"warning: {', '.join(looser)} loosens the data owner's rules from {cfg.source}: "
               "this output may disclose small groups and must not be published") if looser else None
    return rules, warning


def crosstab(args) -> None:
    from rcs_viz.output import export
    from rcs_viz.engine import service
    from rcs_viz.engine.load import LoadError, load_dataset
    from rcs_viz.engine.sql.views import CrossTab, QueryError

    try:
        cfg = config_mod.load(args.config)  # the data owner's file: --config, $RCS_EXPLORER_CONFIG or ./rcs_explorer.yaml
    except config_mod.ConfigError as exc:
        raise CliError(str(exc)) from None
    rules, warning = _rules(args, cfg)
    cache = Path(tempfile.gettempdir()) / "rcs-explorer-cli"
    try:
        ds = load_dataset(args.data, args.dictionary, cache_dir=cache, salt=cfg.salt(args.data))
    except (LoadError, DictionaryError) as exc:
        raise CliError(str(exc)) from None
    for flag, name in (("--rows", args.rows), ("--cols", args.cols), ("--panel", args.panel)):
        if name in ds.dictionary and ds.dictionary[name].role == "id":
            raise CliError(f"{flag}: '{name}' is the respondent id; ids are never rows, columns or panels")
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
    if warning:  # said once, with the output it is about (an error is the one line instead)
        print(warning, file=sys.stderr)
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


def _code(var, text: str | None, flag: str) -> str | None:
    """A category given by code or by label, as its code."""
    if text is None:
        return None
    if text in {code for code, _ in var.values}:
        return text
    try:
        return var.code_of(text)
    except KeyError:
        raise CliError(f"{flag}: '{text}' is not a {var.label.lower()} of this data") from None


def _comparators(cfg):
    """The national figures the configuration names; none, with a warning line, when they cannot be read."""
    from rcs_viz.data import comparators

    try:
        return comparators.read(cfg.comparators)
    except comparators.ComparatorError as exc:
        print(f"warning: national comparators are off: {exc}", file=sys.stderr)
        return comparators.EMPTY


def report(args) -> None:
    from rcs_viz.features.compare import model as compare
    from rcs_viz.features.report import model as report_mod, pdf as report_pdf
    from rcs_viz.engine.load import LoadError, load_dataset
    from rcs_viz.engine.sql.views import QueryError

    fmt = args.format or ("pdf" if args.out.suffix.lower() == ".pdf" else "html")
    if args.kind == "cpp" and args.unit:
        raise CliError("--unit: a CPP report is for the whole CPP; leave --unit out")
    if args.kind != "cpp" and not args.unit:
        raise CliError(f"--unit: name the {args.kind} to report on")
    try:
        cfg = config_mod.load(args.config)
    except config_mod.ConfigError as exc:
        raise CliError(str(exc)) from None
    cache = Path(tempfile.gettempdir()) / "rcs-explorer-cli"
    try:
        ds = load_dataset(cfg.data, cfg.dictionary, cache_dir=cache, salt=cfg.salt())
    except (LoadError, DictionaryError) as exc:
        raise CliError(str(exc)) from None
    d = ds.dictionary
    roles = {role: d.by_role(role) for role in ("cpp", "cluster", "school", "wave")}
    missing = [role for role, var in roles.items() if var is None]
    if missing:
        raise CliError(f"this data has no {' or '.join(missing)} variable, so it cannot make reports")
    comps = _comparators(cfg)
    known = {i.name: i for i in compare.indicators(d)}
    unknown = [name for name in args.indicator if name not in known]
    if unknown:
        raise CliError(f"--indicator: '{unknown[0]}' is not an indicator; choose from {', '.join(known)}")
    unit = _code(roles[args.kind], args.unit, "--unit") if args.kind != "cpp" else None
    scope = compare.Scope(_code(roles["cpp"], args.cpp, "--cpp"), None, _code(roles["wave"], args.wave, "--wave"),
                          _filters(d, args.where))
    try:
        made = report_mod.build(ds, args.kind, unit, scope, cfg.rules, comps,
                                [known[name] for name in args.indicator] or None)
    except (report_mod.ReportError, QueryError) as exc:
        raise CliError(str(exc)) from None
    if fmt == "pdf":
        args.out.write_bytes(report_pdf.render(made))
    else:
        args.out.write_text(report_mod.to_html(made), encoding="utf-8")
    print(args.out)


def compare(args) -> None:
    from rcs_viz.engine import service
    from rcs_viz.engine.load import LoadError, load_dataset
    from rcs_viz.engine.sql.views import QueryError
    from rcs_viz.features.compare import (funnel as funnel_mod, model as compare_mod, neighbours as neighbours_mod,
                                          similar as similar_mod, tables as compare_tables)
    from rcs_viz.output import export

    try:
        cfg = config_mod.load(args.config)
        ds = load_dataset(cfg.data, cfg.dictionary, cache_dir=Path(tempfile.gettempdir()) / "rcs-explorer-cli",
                          salt=cfg.salt())
    except (config_mod.ConfigError, LoadError, DictionaryError) as exc:
        raise CliError(str(exc)) from None
    d = ds.dictionary
    roles = {role: d.by_role(role) for role in ("cpp", "cluster", "school", "wave")}
    if any(v is None for k, v in roles.items() if k != "wave"):
        raise CliError("this data has no cpp, cluster or school variable, so it cannot make comparisons")
    known = {i.name: i for i in compare_mod.indicators(d)}
    if args.indicator not in known:
        raise CliError(f"--indicator: '{args.indicator}' is not an indicator; choose from {', '.join(known)}")
    comps = _comparators(cfg)
    wave = roles["wave"]
    waves = service.categories(ds, wave.name) if wave is not None else []
    scope = compare_mod.Scope(_code(roles["cpp"], args.cpp, "--cpp"), _code(roles["cluster"], args.cluster, "--cluster"),
                              _code(wave, args.wave, "--wave") if wave is not None and args.wave else
                              (waves[-1] if waves else None), _filters(d, args.where))
    ind = known[args.indicator]
    try:
        if args.funnel:
            result = funnel_mod.funnel(ds, ind, args.level, scope, args.vs, cfg.rules, comps)
        elif args.inequality:
            result = compare_mod.gradient(ds, ind, scope, cfg.rules)
        elif args.similar:
            result = similar_mod.similar(ds, ind, args.level, scope, args.reference, cfg.rules)
        elif args.neighbours:
            level = "cluster" if args.level == "school" else args.level
            unit = _code(d.by_role(level), args.neighbours, "--neighbours")
            result = neighbours_mod.neighbours(ds, ind, level, unit, scope, cfg.rules, comps)
        else:
            result = neighbours_mod.rank(ds, ind, args.level, scope, args.vs, cfg.rules, comps)
    except QueryError as exc:
        raise CliError(str(exc)) from None
    if args.format == "csv":
        sys.stdout.write(export.frame_csv(compare_tables.tidy(result)).decode("utf-8"))
    else:
        kind = ("funnel" if args.funnel else "by deprivation" if args.inequality else "against similar pupils"
                if args.similar else "statistical neighbours" if args.neighbours else "ranked")
        sys.stdout.write(compare_tables.as_text(result, f"{result.title} — {kind}"))


def sample(args) -> None:
    from rcs_viz.data import sample as sample_mod

    written = sample_mod.write_sample(args.out, rows=args.rows, seed=args.seed)
    for path in written.values():
        print(path)


NGINX_SITE = config_mod.PROJECT_ROOT / "deploy" / "rcs-explorer.nginx.conf"
STREAMLIT_CONFIG = config_mod.PROJECT_ROOT / ".streamlit" / "config.toml"


def nginx_site(listen: str, ports: list[int], max_upload_mb: int, access_log: Path) -> str:
    """deploy/rcs-explorer.nginx.conf with its fields filled in (the same file a system nginx would include)."""
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in ports)
    text = NGINX_SITE.read_text(encoding="utf-8")
    fields = {"listen": listen, "servers": servers.rstrip("\n"), "max_body": f"{max_upload_mb + 1}m",
              "access_log": str(access_log)}
    for name, value in fields.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def nginx_main(site: Path, run_dir: Path) -> str:
    """A whole nginx configuration around the site, for an nginx run by its owner rather than by the system: its
    temporary files in the run folder (Debian's are root's), and the workers as the owner (as root too, so they can
    write there)."""
    temp = "\n".join(f"    {kind}_temp_path {run_dir / 'temp' / kind};" for kind in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # otherwise ignored, with a warning
    return (f"# Written by `python -m rcs_viz serve`; the site is {site.name}.\n"
            f"{user}worker_processes 1;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n{temp}\n    include {site};\n}}\n")


def _max_upload_mb() -> int:
    """Streamlit's server.maxUploadSize as this project configures it (nginx must let such a file through)."""
    try:
        server = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8")).get("server", {})
    except (OSError, tomllib.TOMLDecodeError):
        server = {}
    return int(server.get("maxUploadSize", 200))


def answers(url: str) -> bool:
    """Whether a process answers its health check yet. Polled before the process listens, a connection to a free
    port of the ephemeral range can land on itself (TCP's simultaneous open) and read its own request back as the
    answer: not up either."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (OSError, http.client.HTTPException):
        return False


def _wait_until_up(procs: list[subprocess.Popen], urls: list[str], seconds: float = 120) -> None:
    """Every URL answers, or a process has died (its log says why) or time is up: then stop with one line."""
    deadline = time.monotonic() + seconds
    waiting = list(urls)
    while waiting:
        dead = [p for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise CliError(f"serve: {waiting[0]} did not answer; see the logs in the run folder")
        waiting = [u for u in waiting if not answers(u)]
        time.sleep(0.3)


def serve(args) -> None:
    """N app processes on 127.0.0.1 and an nginx in front, until stopped (Ctrl+C or SIGTERM stops them all).

    Every process gets the same environment, so the same configuration
    ($RCS_EXPLORER_CONFIG), the same server store and record-key salt (from
    that configuration, or beside its cache) and the same secrets file; and one
    cookie secret for this run unless STREAMLIT_SERVER_COOKIE_SECRET is given.
    """
    if args.processes < 1:
        raise CliError("serve: --processes must be at least 1")
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if nginx is None:
        raise CliError("serve: nginx is not installed (`make nginx` installs Debian's)")
    try:
        cfg = config_mod.load()
        cfg.salt()  # made once here, before the processes race to make it
    except config_mod.ConfigError as exc:
        raise CliError(str(exc)) from None
    if cfg.access is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        raise CliError(f"serve: --host {args.host} lets others in; configure sign-in first (access: in the "
                       "configuration and [auth] in .streamlit/secrets.toml, see README)")
    run_dir = args.run_dir.resolve()
    logs = run_dir / "logs"
    for folder in (logs, run_dir / "temp"):  # nginx makes the folders inside temp
        folder.mkdir(parents=True, exist_ok=True)
    ports = [args.backend_port + i for i in range(args.processes)]
    site = run_dir / "rcs-explorer.conf"
    site.write_text(nginx_site(f"{args.host}:{args.port}", ports, _max_upload_mb(), logs / "access.log"),
                    encoding="utf-8")
    (run_dir / "nginx.conf").write_text(nginx_main(site, run_dir), encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the clean-up below
    try:
        for i, port in enumerate(ports, 1):
            with open(logs / f"streamlit-{i}.log", "w") as out:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                     "--server.port", str(port), "--server.headless", "true"],
                    cwd=config_mod.PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env))
        _wait_until_up(procs, [f"http://127.0.0.1:{port}/_stcore/health" for port in ports])
        procs.append(subprocess.Popen(
            [nginx, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-e", str(logs / "error.log"),
             "-g", f"daemon off; pid {run_dir / 'nginx.pid'};"], stdin=subprocess.DEVNULL))
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "[::]") else args.host
        _wait_until_up(procs, [f"http://{host}:{args.port}/_stcore/health"], seconds=20)
        print(f"RCS Explorer: http://{host}:{args.port} ({args.processes} process(es) on 127.0.0.1:"
              f"{', '.join(map(str, ports))}; logs in {logs})", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        raise CliError(f"serve: a process stopped; see the logs in {logs}")
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        {"crosstab": crosstab, "sample": sample, "report": report, "serve": serve, "compare": compare}[args.command](args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return USAGE_ERROR
    return 0

