"""Which data a browser session is looking at, under which rules, and the cached calls every page makes.

The configured dataset is loaded once per server and shared; a file a user
opens in the app becomes their session's dataset only if it loads cleanly,
so a bad file leaves them on the data they had.

Caching has one home per layer: the library memoises pure lookups with
`functools.lru_cache`; Streamlit's `st.cache_data` / `st.cache_resource`
appear only here, keyed by the data file, the question and the rules, so a
result is shared by every session asking the same question under the same rules.

Each `st.cache_data` here is bounded by bytes (`max_size`, the pickled bytes Streamlit keeps, dropping the least
recently used), not by entries: a school table of 12,000 cells pickles to 1.7 MB and a two-way table of 20
cells to 3 KB, so a count of entries bounded nothing. Together they keep at most `CACHED_MB` per server process
(docs/serving.md); a view seen again within that is still found.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import threading
from pathlib import Path

import streamlit as st

from rcs_viz import config as config_mod
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset, load_dataset
from rcs_viz.output.markdown import escape

KEY = "rcs_dataset"

# The byte budget of each result cache below, in MB: the big results (Explore's tables, charts and layouts) get
# most; Compare's results and report packs are asked for less often. Their sum is what a process may hold.
BUDGET_MB = {"_crosstab": 16, "_explore_charts": 8, "_table": 4, "_bases": 2, "_compared": 8, "_fit": 2,
             "_report_file": 8, "_services_table": 16}
CACHED_MB = sum(BUDGET_MB.values())


def _budget(name: str) -> str:
    return f"{BUDGET_MB[name]}MB"


@st.cache_resource(show_spinner="Opening the data…")
def _configured(key: str, _cfg: config_mod.Config) -> Dataset:
    """The configured data, once per server (per `key`, the whole configuration in words), with the ledger of what
    the server released from it.

    The ledger lives in the server store, so that protection holds across
    every session and every server process sharing the store; it is used by
    views whose rules ask for protection across views (every presented view,
    `presenter.protect`). A file a user opens is theirs alone and has no ledger.
    """
    from rcs_viz.engine.disclosure.ledger import Ledger

    ds = load_dataset(_cfg.data, _cfg.dictionary, cache_dir=_cfg.cache_dir, salt=_cfg.salt())
    return dataclasses.replace(ds, ledger=Ledger(store, ds.db_path.stem))


def config() -> config_mod.Config:
    return config_mod.load()


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def rules() -> Rules:
    """The data owner's rules, at full strength while presenting; no widget can loosen them.

    A server that listens beyond this machine without sign-in has no desk: anyone who reaches it may hold no
    data rights, so every view is judged across views, as a presented one is.
    """
    from rcs_viz.ui import presenter

    cfg = config()
    if presenter.active():
        return presenter.protect(cfg.rules)
    if cfg.access is None and st.get_option("server.address") not in LOOPBACK:
        return dataclasses.replace(cfg.rules, across_views=True)
    return cfg.rules


def dataset() -> Dataset:
    """This session's dataset: one the user opened, else the configured one.

    Asked for several times in every page run: the configuration is keyed by its text (its repr, and the two
    settings that repr leaves out), which Streamlit hashes in microseconds, not by the object itself, which it
    took milliseconds to hash on each call.
    """
    if KEY in st.session_state:
        return st.session_state[KEY]
    cfg = config()
    return _configured(repr((cfg, cfg.record_key_salt, cfg.store)), cfg)


def open_upload(data_file, dictionary_file=None) -> Dataset:
    """Load uploaded files into this session; on failure raise LoadError and keep the old data.

    Uploads are written once to the cache, named by their content, and only
    read from there: the user's own copy is never touched.
    """
    cfg = config()
    upload_dir = cfg.cache_dir / "uploads"
    upload_dir.mkdir(parents=True, exist_ok=True)

    def keep(f) -> Path:
        data = f.getvalue()
        digest = hashlib.sha256(data).hexdigest()[:16]
        path = upload_dir / digest / Path(f.name).name
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            path.write_bytes(data)
        return path

    data_path = keep(data_file)
    dict_path = keep(dictionary_file) if dictionary_file is not None else None
    bar = st.progress(0.0, text=f"Opening {escape(data_file.name)}…")  # progress text is Markdown
    try:
        ds = load_dataset(data_path, dict_path, cache_dir=cfg.cache_dir, salt=cfg.salt(data_path),
                          progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=escape(msg)))
    finally:
        bar.empty()
    st.session_state[KEY] = ds
    return ds


def reset() -> None:
    st.session_state.pop(KEY, None)


@st.cache_resource(show_spinner=False)
def _store(url: str | None, default_path: str):
    from rcs_viz.engine.store import Store

    return Store.open(url, Path(default_path))


def store():
    """The server store the data owner configured (SQLite beside the cache, or PostgreSQL), opened once per server.

    Raises StoreError (one line, no password) when it cannot be opened; a failure is not cached, so the next run
    tries again.
    """
    cfg = config()
    return _store(cfg.store, str(cfg.store_path))


@st.cache_data(show_spinner="Counting…", max_size=_budget("_crosstab"))
def _crosstab(key: str, _ds: Dataset, _query, measure: str, _rules: Rules):
    """The protected table, handed back as every later run gets it from the cache: a copy through pickle.

    A table's cells pickle to other bytes once they have been through pickle (pandas lays out their blocks
    anew), so the first run's table and the later runs' copies had two `_content` digests, and a view seen a
    second time drew its table and charts again instead of finding them.
    """
    from rcs_viz.engine import service

    return pickle.loads(pickle.dumps(service.crosstab(_ds, _query, measure, _rules), protocol=5))


def crosstab(query, measure: str):
    """The protected table for this session's data and the owner's rules, cached so going back is instant."""
    ds, r = dataset(), rules()
    return _crosstab(repr((str(ds.db_path), query, measure, r)), ds, query, measure, r)


_digested = threading.local()  # per script thread: the last result digested there, with its digest


def _content(result) -> str:
    """A digest of everything a protected result holds (cells, question, rules, titles, notes): what its tables and
    charts are drawn from, so a cache keyed by it can never hand one result's drawing to another.

    Its pickle, hashed: a fraction of a millisecond where hashing the cells with pandas took several. A page asks
    for it twice per run, for its table and its charts, with the same result object (a run's own copy from the
    cache): the second time it is the digest already taken, so a view of thousands of cells is pickled once.
    """
    last = getattr(_digested, "last", None)
    if last is not None and last[0] is result:
        return last[1]
    digest = hashlib.sha256(pickle.dumps(result, protocol=5)).hexdigest()
    _digested.last = (result, digest)
    return digest


@st.cache_data(show_spinner=False, max_size=_budget("_explore_charts"))
def _explore_charts(key: str, _result, show_ci: bool, stacked: bool, scale: float):
    from rcs_viz.features.explore import charts

    figure = charts.chart(_result, show_ci=show_ci, stacked=stacked, scale=scale)
    return (figure, charts.on_screen(_result, show_ci=show_ci, stacked=stacked, scale=scale, figure=figure),
            charts.drawable(_result)[1])


def explore_charts(result, show_ci: bool, stacked: bool, scale: float):
    """Explore's figure, the charts its page draws (`charts.chart`, `charts.on_screen`) and the cells they leave out
    (`charts.drawable`), built once per table and shared by every session showing it: building them is most of a
    rerun's own work.

    Keyed by the protected table's content (what the chart draws), not only by its question, so a chart can never
    be another answer's.
    """
    return _explore_charts(_content(result), result, show_ci, stacked, scale)


@st.cache_data(show_spinner=False, max_size=_budget("_table"))
def _table(key: str, _result, show_ci: bool):
    from rcs_viz.output import tables

    return tables.layout(_result, show_ci)


def table(result, show_ci: bool):
    """A protected table laid out for the page (`tables.layout`: its text, sortable grid, markers and words), once
    per table and shared by every session and every rerun showing it (a widget's rerun redraws the same table),
    keyed by its content like `explore_charts`."""
    return _table(_content(result), result, show_ci)


@st.cache_data(show_spinner=False, max_size=_budget("_bases"))
def _bases(key: str, _ds: Dataset, _filters, _rules: Rules):
    from rcs_viz.engine import service

    return service.bases(_ds, _filters, _rules)


def bases(filters):
    """Respondents left by no filter, then by each filter in turn (protected)."""
    ds, r = dataset(), rules()
    return _bases(repr((str(ds.db_path), filters, r)), ds, filters, r)


@st.cache_resource(show_spinner=False)
def _comparators(path: Path | None, stamp: float):
    from rcs_viz.data import comparators as comparators_mod

    return comparators_mod.read(path)


def comparators():
    """The configured national comparators; a broken file is reported once and treated as none."""
    from rcs_viz.data import comparators as comparators_mod

    path = config().comparators
    try:
        return _comparators(path, path.stat().st_mtime if path is not None and path.exists() else 0.0)
    except (comparators_mod.ComparatorError, OSError) as err:
        st.warning(f"National comparators are off: {escape(err)}", icon=":material/warning:")
        return comparators_mod.EMPTY


@st.cache_data(show_spinner="Comparing…", max_size=_budget("_compared"))
def _compared(key: str, kind: str, _ds: Dataset, _args, _rules: Rules, _comps):
    from rcs_viz.features.compare import funnel, model as compare, neighbours, similar

    fn = {"funnel": funnel.funnel, "rank": neighbours.rank, "similar": similar.similar,
          "neighbours": neighbours.neighbours}.get(kind) or getattr(compare, kind)
    extra = {"comps": _comps} if kind in ("rank", "spine", "trend", "funnel", "neighbours") else {}
    return fn(_ds, *_args, rules=_rules, **extra)


def compared(kind: str, *args):
    """A Compare result (`compare.<kind>(dataset, *args)`, or the funnel, similar-pupil or neighbours view; a rank
    against neighbours through `neighbours.rank`) under the owner's rules, cached per question."""
    ds, r, comps = dataset(), rules(), comparators()
    return _compared(repr((str(ds.db_path), kind, args, r, comps.source, len(comps.table))), kind, ds, args, r, comps)


@st.cache_data(show_spinner="Writing the report…", max_size=_budget("_report_file"))
def _report_file(key: str, _ds: Dataset, kind: str, unit, _scope, _rules: Rules, _comps, fmt: str) -> bytes:
    from rcs_viz.features.report import model as report, pdf

    built = report.build(_ds, kind, unit, _scope, _rules, _comps)
    return pdf.render(built) if fmt == "pdf" else report.to_html(built).encode("utf-8")


def report_file(kind: str, unit, scope, fmt: str) -> bytes:
    """A report pack (HTML or PDF) under this session's rules, built once per question and format."""
    ds, r, comps = dataset(), rules(), comparators()
    key = repr((str(ds.db_path), kind, unit, scope, r, comps.source, len(comps.table), fmt))
    return _report_file(key, ds, kind, unit, scope, r, comps, fmt)


@st.cache_data(show_spinner="Counting…", max_size=_budget("_fit"))
def _fit(key: str, _ds: Dataset, _need, _contact, _by, _filters, _rules: Rules):
    from rcs_viz.features.need import model as need

    return need.fit(_ds, _need, _contact, _by, _filters, _rules)


def fit(view):
    """`need.fit` for this session's data under the owner's rules, cached per question."""
    ds, r = dataset(), rules()
    filters = view.query_filters(ds.dictionary)
    return _fit(repr((str(ds.db_path), view.need, view.contact, view.by, filters, r)),
                ds, view.need, view.contact, view.by, filters, r)


@st.cache_data(show_spinner="Reading the services table…", max_size=_budget("_services_table"))
def _services_table(path: str, stamp: float):
    from rcs_viz.features.need import services

    return services.load_services(path)


def services_table(path: Path):
    """The configured services table, read once per version of the file (raises ServicesError)."""
    return _services_table(str(path), Path(path).stat().st_mtime if Path(path).exists() else 0.0)
