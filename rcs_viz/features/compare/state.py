"""The Compare page's view is its URL: query parameters ↔ a validated CompareView.

Pure, like `view_state`: a link is untrusted, so parsing never raises;
what cannot be used falls back to the default with a note in plain words.
Places are checked against the data's own structure (a cluster must belong
to the CPP, a unit to the level), so a stale link cannot ask for a school
that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable, Mapping, Sequence

from rcs_viz.features.compare.model import COMPARATORS, LEVELS, indicators
from rcs_viz.data.dictionary import Dictionary
from rcs_viz.features.link import Link, filter_params, show

VIEWS = {"rank": "Rank", "funnel": "Funnel", "similar": "Similar pupils", "neighbours": "Neighbours", "spine": "Spine",
         "trend": "Trend", "gradient": "Deprivation gradient", "map": "Map"}
REFERENCES = {"cpp": "the CPP", "all": "all the data"}  # a similar-pupil view's reference, in words
PLACE_ROLES = ("cpp", "cluster", "school", "wave", "id", "weight", "x", "y")


@dataclass(frozen=True)
class CompareView:
    view: str = "rank"
    indicator: str = ""
    level: str = "cluster"
    cpp: str | None = None
    cluster: str | None = None  # None: every cluster of the CPP
    unit: str | None = None  # the cluster or school a spine or trend is about
    vs: str = "cpp"
    ref: str = "cpp"  # the similar-pupil view's reference: the CPP or all the data
    wave: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


PARAMS = {"view": "view", "indicator": "ind", "level": "level", "cpp": "cpp", "cluster": "cluster",
          "unit": "unit", "vs": "vs", "ref": "ref", "wave": "wave"}


def default_view(d: Dictionary, codes: Callable[..., Sequence[str]]) -> CompareView:
    """Clusters of the first CPP on the first indicator, latest wave, against the CPP average."""
    inds = indicators(d)
    first = next((i for i in inds if i.statistic == "pct"), inds[0] if inds else None)
    cpp = _first(d, "cpp", codes)
    wave = d.by_role("wave")
    waves = list(codes(wave.name)) if wave else []
    unit = _first(d, "cluster", codes, within=((d.by_role("cpp").name, (cpp,)),) if cpp else ())
    return CompareView(indicator=first.name if first else "", cpp=cpp, unit=unit,
                       wave=waves[-1] if waves else None)


def _first(d: Dictionary, role: str, codes, within=()) -> str | None:
    var = d.by_role(role)
    found = list(codes(var.name, within)) if var is not None else []
    return found[0] if found else None


def parse(params: Mapping[str, Sequence[str]], d: Dictionary,
          codes: Callable[..., Sequence[str]]) -> tuple[CompareView, list[str]]:
    """Query parameters → a safe view, and notes on what was set aside."""
    notes: list[str] = []
    default = default_view(d, codes)
    link = Link(params, notes)
    one = link.one

    def choice(key: str, allowed, what: str):
        value = one(key)
        if value is not None and value not in allowed:
            notes.append(f"'{show(value)}' is not {what}, so it was reset.")
            return None
        return value

    picked = choice("view", VIEWS, "a Compare view") or default.view
    levels = ("cluster", "cpp") if picked == "neighbours" else LEVELS  # neighbours: of a cluster or a CPP
    view = replace(default, view=picked,
                   indicator=choice("ind", {i.name for i in indicators(d)}, "an indicator") or default.indicator,
                   level=choice("level", levels, "a level here") or default.level,
                   vs=choice("vs", COMPARATORS, "a comparator") or default.vs,
                   ref=choice("ref", REFERENCES, "a reference (cpp or all)") or default.ref)

    cpp_var, cluster_var, wave_var = (d.by_role(r) for r in ("cpp", "cluster", "wave"))
    cpp = choice("cpp", codes(cpp_var.name) if cpp_var else (), "a CPP in this data") or default.cpp
    in_cpp = ((cpp_var.name, (cpp,)),) if cpp_var and cpp else ()
    cluster = choice("cluster", codes(cluster_var.name, in_cpp) if cluster_var else (), "a cluster of this CPP")
    level_var = d.by_role(view.level)
    unit_scope = in_cpp + (((cluster_var.name, (cluster,)),) if cluster and view.level == "school" else ())
    units = list(codes(level_var.name, unit_scope)) if level_var else []
    unit = choice("unit", units, f"a {view.level} here")
    view = replace(view, cpp=cpp, cluster=cluster, unit=unit or (units[0] if units else None))

    view = replace(view, wave=link.wave(wave_var, codes, default.wave, allow_all=False))

    view = replace(view, filters=link.filters(d, codes, skip=wave_var, allowed=lambda name: _filterable(d, name, notes)))
    link.unknown(PARAMS.values())
    return view, notes


def _filterable(d: Dictionary, name: str, notes: list[str]) -> bool:
    """Places and waves are chosen by the page's own controls, not by filters."""
    if name in d and d[name].role in PLACE_ROLES and d[name].role != "wave":
        notes.append(f"'{d[name].label}' is set by the page's place controls; that filter was dropped.")
        return False
    return True


def drawn_place(d: Dictionary, view: CompareView) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The place and wave the chart draws, as filters: its CPP, its cluster where the view keeps to one (schools
    ranked or in a funnel within a cluster, the gradient and the map), and its wave (a trend draws every wave). The base the
    page states is counted within these and the user's filters, so it is the base of what is drawn."""
    out = []
    cpp, cluster, wave = (d.by_role(r) for r in ("cpp", "cluster", "wave"))
    if view.cpp is not None and cpp is not None:
        out.append((cpp.name, (view.cpp,)))
    in_cluster = view.view in ("gradient", "map") or (view.view in ("rank", "funnel", "similar")
                                                      and view.level == "school")
    if in_cluster and view.cluster is not None and cluster is not None:
        out.append((cluster.name, (view.cluster,)))
    if view.view != "trend" and view.wave is not None and wave is not None:
        out.append((wave.name, (view.wave,)))
    return tuple(out)


def to_params(view: CompareView, default: CompareView) -> dict[str, str | list[str]]:
    """Only what differs from the default, so links stay short and readable."""
    out: dict[str, str | list[str]] = {}
    for f in fields(CompareView):
        if f.name == "filters":
            continue
        value = getattr(view, f.name)
        if value != getattr(default, f.name) and value is not None:
            out[PARAMS[f.name]] = value
    return out | filter_params(view.filters)
