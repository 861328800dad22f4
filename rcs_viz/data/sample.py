"""The seeded synthetic sample: fictional CPPs, schools, pupils, services and comparators.

Everything here is invented. The places, schools, services and figures are
fictional; the generator only aims to be realistic enough to demo the app:
plausible prevalences, real correlations (deprivation with need, need with
service contact, but plenty of unmet need), clusters and schools of very
different sizes (so small cells get suppressed), and change between two waves.

How it works
------------
* The *structure* (CPPs, clusters, schools, their places, sizes, deprivation
  mix) depends only on the seed, never on the number of rows: at large sizes
  the same schools just get bigger.
* Rows are allocated to (wave, school, stage) cells in proportion to the
  schools' sizes, so row ``i`` of the file always belongs to the same cell for
  a given ``rows``.
* Each row's random draws are a counter-based hash (SplitMix64) of the seed,
  a named stream and the row's global number. A row's content therefore does
  not depend on how the rows are chunked, which lets the writer produce 10 M
  rows in 500 k-row chunks (Parquet row groups) with memory independent of
  ``rows``, and give exactly what the in-memory path gives.

Public API: :func:`write_sample`, :func:`generate_respondents`,
:func:`iter_respondents`, :func:`write_respondents`, :func:`generate_services`,
:func:`generate_comparators`, :func:`dictionary`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rcs_viz.data import dictionary as dd

DEFAULT_SEED = 2016
DEFAULT_ROWS = 44_000  # the committed sample: ~22 k respondents per wave (schools at their natural size)
CHUNK_ROWS = 500_000  # rows per generated chunk / Parquet row group
TITLE = "Synthetic sample (fictional CPPs)"
FILES = {
    "respondents": "respondents.parquet",
    "dictionary": "dictionary.yaml",
    "services": "services.csv",
    "comparators": "comparators.csv",
}
WAVES = (2016, 2019)
STAGES = {1: "P4", 2: "P5", 3: "P6", 4: "P7", 5: "S1", 6: "S2", 7: "S3", 8: "S4"}
PRIMARY_STAGES = (1, 2, 3, 4)
SECONDARY_STAGES = (5, 6, 7, 8)
SUBSTANCE_STAGES = (6, 7, 8)  # S2-S4
COMPARATOR_NOTE = "Illustrative national figure (synthetic) — not a real statistic"

# SDQ bands (normal upper bound, borderline upper bound); abnormal above.
# Total uses the 0-13 / 14-16 / 17-40 bands; subscales the usual 3-band cut-offs.
SDQ_BANDS = {
    "total": (13, 16),
    "emotional": (5, 6),
    "conduct": (3, 4),
    "hyperactivity": (5, 6),
    "peer": (3, 5),
}
PROSOCIAL_BANDS = (6, 5)  # 6-10 normal, 5 borderline, 0-4 abnormal

# Survey items with item non-response (NULL), and the stages that are asked them.
SURVEY_ITEMS = {
    "sdq_total": None, "wemwbs": SECONDARY_STAGES, "primary_wellbeing": PRIMARY_STAGES,
    "safe_home": None, "safe_school": None, "safe_area": None, "trusted_adult": None,
    "fruit_veg_daily": None, "sleep_hours": None, "active_days": None, "clubs": None,
    "bullied": None, "alcohol_last_week": SUBSTANCE_STAGES,
    "smoked_vaped_last_month": SUBSTANCE_STAGES, "drugs_ever": SUBSTANCE_STAGES,
    "young_carer": None,
}


# --------------------------------------------------------------------------- structure

@dataclass(frozen=True)
class _CppSpec:
    code: int
    name: str
    abbrev: str
    centre: tuple[float, float]  # lon, lat
    extent: tuple[float, float]  # half-width in degrees of lon, lat
    clusters: int
    simd_centre: float  # typical SIMD quintile of its schools (1 = most deprived)
    rurality: float  # 0 = all urban .. 1 = all rural
    spread: float  # degrees between a cluster's schools
    secondary_size: tuple[int, int]  # S1-S4 respondents per wave at the default size


# Fictional CPPs (not council areas), each in a different part of mainland Scotland.
_CPPS = (
    _CppSpec(1, "Glenvarrow", "GV", (-4.02, 55.86), (0.15, 0.05), 7, 1.9, 0.05, 0.012, (620, 800)),
    _CppSpec(2, "Firthmuir", "FM", (-3.20, 56.25), (0.13, 0.05), 6, 3.0, 0.4, 0.025, (480, 760)),
    _CppSpec(3, "Kinmorven", "KM", (-3.95, 57.20), (0.33, 0.12), 5, 3.7, 0.8, 0.06, (260, 560)),
)

# Invented place names are built from these parts (any likeness to a real place is chance).
_HEADS = ("Ach", "Ard", "Auch", "Bal", "Blair", "Bran", "Cairn", "Carn", "Cor", "Craig", "Dal",
          "Drum", "Dun", "Fin", "Gar", "Inver", "Kil", "Kin", "Knock", "Lag", "Lin", "Mon",
          "Pit", "Ros", "Tor", "Tulli")
_TAILS = ("dallan", "doran", "ellan", "farra", "garrow", "merrin", "quhar", "ravie", "selloch",
          "tarvie", "veran", "wharrie", "brennan", "cashel", "mallie", "nessock", "rinnie",
          "sorran", "tullach", "yarrow", "ethan", "mordie", "skellie", "quorran", "fennick",
          "lorrie", "havie")
_SECONDARY_KINDS = ("Academy", "High School", "Community High School", "Academy", "High School")
_PRIMARY_KINDS = ("Primary School", "Primary School", "Primary School", "Primary")


@dataclass(frozen=True)
class _Structure:
    schools: pd.DataFrame  # one row per school
    clusters: pd.DataFrame  # one row per cluster
    simd_cum: np.ndarray  # (schools, 4) cumulative SIMD quintile probabilities
    urban_cum: np.ndarray  # (schools, 2) cumulative urban/small town/rural probabilities
    base: np.ndarray  # (waves, schools, 8) expected respondents per cell at the default size


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def _place_names(rng: np.random.Generator) -> list[str]:
    names = [h + t for h in _HEADS for t in _TAILS]
    names = [n for n in names if n not in {c.name for c in _CPPS}]
    order = rng.permutation(len(names))
    return [names[i] for i in order]


def _softmax_quintiles(centre: float, width: float = 1.5) -> np.ndarray:
    q = np.arange(1, 6)
    p = np.exp(-((q - centre) ** 2) / (2 * width**2))
    return p / p.sum()


@lru_cache(maxsize=8)
def _structure(seed: int) -> _Structure:
    rng = _rng(seed, 1)
    places = iter(_place_names(rng))
    schools, clusters = [], []
    for cpp in _CPPS:
        for k in range(1, cpp.clusters + 1):
            cluster_code = cpp.code * 100 + k
            town = next(places)
            c_lon = cpp.centre[0] + rng.uniform(-1, 1) * cpp.extent[0]
            c_lat = cpp.centre[1] + rng.uniform(-1, 1) * cpp.extent[1]
            c_simd = float(np.clip(cpp.simd_centre + rng.normal(0, 0.8), 1.0, 5.0))
            c_rural = float(np.clip(cpp.rurality + rng.normal(0, 0.15), 0.0, 0.95))
            lo, hi = cpp.secondary_size
            sec_size = 820.0 if (cpp.code == 1 and k == 1) else rng.uniform(lo, hi)
            clusters.append({"cluster": cluster_code, "cpp": cpp.code, "name": town})
            n_prim = int(np.clip(round(sec_size / 110 + rng.normal(0, 1.2) + (2 if c_rural > 0.5 else 0)), 3, 8))
            prim_total = sec_size * rng.uniform(0.9, 1.1)
            shares = rng.dirichlet(np.full(n_prim, 1.3))
            prim_sizes = prim_total * shares
            if cpp.code == 3 or (cpp.code == 2 and k == cpp.clusters):
                # rural clusters have a few very small primaries (< 10 respondents a wave)
                small = int(np.argmin(prim_sizes))
                prim_sizes[small] = rng.uniform(3.5, 9.0)
            members = [(1, 2, f"{town} {_SECONDARY_KINDS[rng.integers(len(_SECONDARY_KINDS))]}", sec_size, 0.0)]
            for j, size in enumerate(prim_sizes, start=2):
                place = next(places)
                members.append((j, 1, f"{place} {_PRIMARY_KINDS[rng.integers(len(_PRIMARY_KINDS))]}",
                                max(size, 3.5), rng.normal(0, 0.5)))
            for j, sector, name, size, dev in members:
                angle, dist = rng.uniform(0, 2 * np.pi), cpp.spread * (0.2 if sector == 2 else rng.uniform(0.3, 1.2))
                schools.append({
                    "school": cluster_code * 100 + j,
                    "cluster": cluster_code,
                    "cpp": cpp.code,
                    "sector": sector,
                    "name": name,
                    "lon": round(c_lon + dist * np.cos(angle) / np.cos(np.radians(c_lat)), 5),
                    "lat": round(c_lat + dist * np.sin(angle), 5),
                    "simd_centre": float(np.clip(c_simd + dev, 1.0, 5.0)),
                    "rural": float(np.clip(c_rural + rng.normal(0, 0.1), 0.0, 0.97)),
                    "climate": rng.normal(0, 0.2),  # school-level effect on safety and bullying
                    "size": float(size),
                    "growth": rng.uniform(0.9, 1.12),  # 2019 size relative to 2016
                    "wfac": float(np.exp(rng.normal(0, 0.1))),
                })
    sch = pd.DataFrame(schools)
    sch["wfac"] = sch["wfac"] / np.average(sch["wfac"], weights=sch["size"])
    simd = np.vstack([_softmax_quintiles(c) for c in sch["simd_centre"]])
    r = sch["rural"].to_numpy()
    urban = np.column_stack([(1 - r) ** 1.5, 1 - (1 - r) ** 1.5 - r**2, r**2])
    urban = np.clip(urban, 0.01, None)
    urban /= urban.sum(1, keepdims=True)
    # expected respondents per (wave, school, stage)
    base = np.zeros((len(WAVES), len(sch), 8))
    stage_share = {2: np.array([0.27, 0.26, 0.25, 0.22]), 1: np.array([0.25, 0.25, 0.25, 0.25])}
    for i, row in sch.iterrows():
        cols = np.array(SECONDARY_STAGES if row.sector == 2 else PRIMARY_STAGES) - 1
        for w in range(len(WAVES)):
            noise = rng.uniform(0.85, 1.15, 4)
            share = stage_share[row.sector] * noise
            total = row["size"] * (row["growth"] if w == 1 else 1.0)
            base[w, i, cols] = total * share / share.sum()
    return _Structure(
        schools=sch,
        clusters=pd.DataFrame(clusters),
        simd_cum=np.cumsum(simd, 1)[:, :4],
        urban_cum=np.cumsum(urban, 1)[:, :2],
        base=base,
    )


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding of total * weights / sum(weights): deterministic."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


@dataclass(frozen=True)
class _Layout:
    wave: np.ndarray  # per cell: wave index
    school: np.ndarray  # per cell: school index
    stage: np.ndarray  # per cell: stage code
    end: np.ndarray  # per cell: cumulative row count (exclusive end)
    wave_start: np.ndarray  # first global row of each wave
    wave_rows: np.ndarray  # rows per wave


@lru_cache(maxsize=8)
def _layout(rows: int, seed: int) -> _Layout:
    s = _structure(seed)
    w, sc, st = np.nonzero(s.base)
    counts = _allocate(rows, s.base[w, sc, st])
    end = np.cumsum(counts)
    wave_rows = np.array([counts[w == i].sum() for i in range(len(WAVES))])
    wave_start = np.concatenate([[0], np.cumsum(wave_rows)[:-1]])
    return _Layout(w, sc, (st + 1).astype(np.int8), end, wave_start, wave_rows)


# --------------------------------------------------------------------------- random draws

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MASK = (1 << 64) - 1


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (in place on a uint64 array)."""
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _mix_int(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class _Draws:
    """Uniform and normal draws that are a pure function of (seed, stream name, row number)."""

    def __init__(self, seed: int, rows: np.ndarray):
        self.seed = seed
        with np.errstate(over="ignore"):
            self.base = rows.astype(np.uint64) * _GAMMA

    def uniform(self, name: str) -> np.ndarray:
        key = _mix_int(_mix_int(self.seed & _MASK) ^ zlib.crc32(name.encode()))
        z = self.base + np.uint64(key)
        _mix(z)
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 2**53)

    def normal(self, name: str) -> np.ndarray:
        u1, u2 = self.uniform(name + "/r"), self.uniform(name + "/t")
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

    def bernoulli(self, name: str, p: np.ndarray) -> np.ndarray:
        return self.uniform(name) < p


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ordinal(x: np.ndarray, cuts: tuple[float, float, float]) -> np.ndarray:
    return (1 + (x > cuts[0]).astype(np.int8) + (x > cuts[1]) + (x > cuts[2])).astype(np.float64)


def _score(d: _Draws, name: str, logit: np.ndarray, items: int = 10) -> np.ndarray:
    """A 0..items sum score: binomial mean with a normal approximation, rounded."""
    p = _logistic(logit)
    mean = items * p
    sd = np.sqrt(items * p * (1 - p)) * 1.1
    return np.clip(np.rint(mean + sd * d.normal(name)), 0, items)


def _band(score: np.ndarray, cuts: tuple[int, int], reverse: bool = False) -> np.ndarray:
    if reverse:  # prosocial: high is normal
        out = np.where(score >= cuts[0], 1.0, np.where(score >= cuts[1], 2.0, 3.0))
    else:
        out = np.where(score <= cuts[0], 1.0, np.where(score <= cuts[1], 2.0, 3.0))
    return np.where(np.isnan(score), np.nan, out)


# --------------------------------------------------------------------------- the pupils

_DEP = np.array([np.nan, 1.0, 0.5, 0.0, -0.4, -0.7])  # deprivation score by SIMD quintile
_FSM_BASE = np.array([np.nan, -0.55, -1.35, -2.0, -2.7, -3.4])  # logit of FSM by SIMD quintile
_MISSING_RATE = {
    "sdq": 0.030, "wemwbs": 0.035, "primary_wellbeing": 0.030, "safe_home": 0.025,
    "safe_school": 0.025, "safe_area": 0.030, "trusted_adult": 0.030, "fruit_veg_daily": 0.025,
    "sleep_hours": 0.040, "active_days": 0.030, "clubs": 0.025, "bullied": 0.030,
    "alcohol_last_week": 0.035, "smoked_vaped_last_month": 0.035, "drugs_ever": 0.040,
    "young_carer": 0.030,
}


def _simulate(d: _Draws, wave: np.ndarray, stage: np.ndarray, simd_cum: np.ndarray,
              urban_cum: np.ndarray, climate: np.ndarray) -> dict[str, np.ndarray]:
    """One pupil per row; float arrays with NaN for NULL (converted to compact dtypes later)."""
    sec = stage >= 5
    prim = ~sec
    late = stage >= 7  # S3-S4
    w19 = wave == 2019
    out: dict[str, np.ndarray] = {}

    u = d.uniform("sex")
    sex = np.where(u < 0.02, 3, np.where(u < 0.02 + 0.49, 1, 2)).astype(np.float64)
    boy, girl = sex == 1, sex == 2
    simd = 1 + (d.uniform("simd")[:, None] > simd_cum).sum(1)
    urban = 1 + (d.uniform("urban")[:, None] > urban_cum).sum(1)
    rural = urban == 3
    out["sex"], out["simd"], out["urban_rural"] = sex, simd.astype(np.float64), urban.astype(np.float64)
    dep = _DEP[simd]

    z_need, z_fam = d.normal("need"), d.normal("family")
    need = z_need + 0.35 * dep + 0.25 * z_fam  # the child's own difficulties
    fam = 0.45 * z_need + 0.89 * z_fam + 0.6 * dep  # family adversity

    # SDQ (lower is better except prosocial)
    girl_emo = np.where(girl, np.where(late, 0.75, np.where(sec, 0.4, 0.15)), 0.0) + np.where(boy & sec, -0.1, 0.0)
    emo = _score(d, "sdq_emo", -1.0 + 0.45 * need + 0.35 * d.normal("emo_e") + girl_emo + 0.22 * w19 + 0.3 * (sex == 3))
    con = _score(d, "sdq_con", -1.75 + 0.42 * need + 0.35 * d.normal("con_e") + 0.2 * boy + 0.1 * (stage >= 6) - 0.05 * w19)
    hyp = _score(d, "sdq_hyp", -0.72 + 0.38 * need + 0.35 * d.normal("hyp_e") + 0.25 * boy)
    peer = _score(d, "sdq_peer", -1.75 + 0.40 * need + 0.35 * d.normal("peer_e") + 0.15 * prim)
    pro = _score(d, "sdq_pro", 1.15 - 0.25 * need + 0.35 * d.normal("pro_e") + 0.45 * girl - 0.1 * sec)
    sdq_missing = d.bernoulli("miss/sdq", _miss_p("sdq", need))
    total = emo + con + hyp + peer
    for name, arr in (("sdq_emotional", emo), ("sdq_conduct", con), ("sdq_hyperactivity", hyp),
                      ("sdq_peer", peer), ("sdq_prosocial", pro), ("sdq_total", total)):
        out[name] = np.where(sdq_missing, np.nan, arr)
    out["sdq_total_band"] = _band(out["sdq_total"], SDQ_BANDS["total"])
    for short, name in (("emotional", "sdq_emotional"), ("conduct", "sdq_conduct"),
                        ("hyperactivity", "sdq_hyperactivity"), ("peer", "sdq_peer")):
        out[f"{name}_band"] = _band(out[name], SDQ_BANDS[short])
    out["sdq_prosocial_band"] = _band(out["sdq_prosocial"], PROSOCIAL_BANDS, reverse=True)

    # wellbeing scales
    wem = 50.6 - 3.0 * need - 7.6 * d.normal("wem") - np.where(girl, np.where(late, 3.8, 1.2), 0.0) \
        - 1.2 * w19 - 1.5 * (sex == 3)
    out["wemwbs"] = np.where(sec, np.clip(np.rint(wem), 14, 70), np.nan)
    pwb = 48.3 - 2.8 * need - 6.2 * d.normal("pwb") - 0.3 * (stage - 1) - 0.6 * w19
    out["primary_wellbeing"] = np.where(prim, np.clip(np.rint(pwb), 12, 60), np.nan)

    # SHANARRI items (ordinal: 1 Always .. 4 Never)
    out["safe_home"] = _ordinal(0.35 * need + 0.35 * fam + 0.8 * d.normal("safe_home"), (0.85, 1.75, 2.5))
    out["safe_school"] = _ordinal(0.4 * need + 0.9 * d.normal("safe_school") + climate + 0.1 * sec, (0.1, 1.15, 2.1))
    out["safe_area"] = _ordinal(0.3 * need + 0.45 * dep - 0.3 * rural + 0.85 * d.normal("safe_area"), (0.05, 1.0, 1.9))
    out["trusted_adult"] = d.bernoulli("trusted", _logistic(2.3 - 0.6 * need - 0.3 * fam + 0.2 * prim)).astype(np.float64)
    out["fruit_veg_daily"] = d.bernoulli("fruitveg", _logistic(-0.15 - 0.35 * dep - 0.2 * need + 0.35 * prim + 0.15 * girl)).astype(np.float64)
    sleep_mean = np.where(prim, 10.1 - 0.15 * (stage - 1), 9.1 - 0.35 * (stage - 5))
    out["sleep_hours"] = np.clip(np.round((sleep_mean - 0.3 * need + 0.8 * d.normal("sleep")) * 2) / 2, 4, 12)
    active = 4.6 - 0.5 * sec - 0.25 * np.where(sec, stage - 5, 0) - np.where(girl, np.where(sec, 0.7, 0.3), 0.0) \
        - 0.3 * need - 0.2 * dep + 2.0 * d.normal("active")
    out["active_days"] = np.clip(np.rint(active), 0, 7)
    out["clubs"] = d.bernoulli("clubs", _logistic(0.75 - 0.45 * dep - 0.2 * need - 0.35 * sec - 0.1 * (stage - 1) / 7)).astype(np.float64)
    out["bullied"] = _ordinal(0.55 * need + 0.8 * d.normal("bullied") + 0.3 * prim + 0.5 * climate + 0.4 * (sex == 3),
                              (0.2, 1.05, 1.45))

    # substance use: asked of S2-S4 only
    sub = np.isin(stage, SUBSTANCE_STAGES)
    yr = np.clip(stage - 6, 0, 2)  # 0 for S2, 1 for S3, 2 for S4
    alc = _logistic(-3.55 + 0.78 * yr + 0.35 * need + 0.25 * fam - 0.55 * w19)
    smk = _logistic(-3.6 + 0.72 * yr + 0.45 * need + 0.35 * fam + 0.1 * w19)
    drg = _logistic(-4.1 + 0.7 * yr + 0.45 * need + 0.35 * fam - 0.1 * w19)
    for name, p in (("alcohol_last_week", alc), ("smoked_vaped_last_month", smk), ("drugs_ever", drg)):
        out[name] = np.where(sub, d.bernoulli(name, p).astype(np.float64), np.nan)

    # young carer: 0 No, 1 Yes, 9 Prefer not to say
    u = d.uniform("carer")
    p_yes = _logistic(-2.1 + 0.35 * dep + 0.3 * fam)
    out["young_carer"] = np.where(u < 0.03, 9.0, np.where(u < 0.03 + 0.97 * p_yes, 1.0, 0.0))

    # item non-response (a little more common among children with more difficulties)
    for name in _MISSING_RATE:
        if name == "sdq":
            continue
        miss = d.bernoulli("miss/" + name, _miss_p(name, need))
        out[name] = np.where(miss, np.nan, out[name])

    # linked social work records (complete)
    lac = d.bernoulli("lac", _logistic(-5.25 + 1.25 * fam + 0.3 * need))
    cp = d.bernoulli("cp", _logistic(-6.9 + 1.25 * fam + 0.2 * need)) & (stage <= 7)
    sw = lac | cp | d.bernoulli("sw", _logistic(-3.55 + 0.65 * fam + 0.35 * need))
    out["looked_after_ever"], out["cp_register"], out["sw_contact"] = lac * 1.0, cp * 1.0, sw * 1.0

    # linked education records (complete)
    asn = d.bernoulli("asn", _logistic(-1.27 + 0.55 * need + 0.35 * boy + 0.3 * (simd == 1) + 1.3 * lac + 0.15 * sec))
    fsm = d.bernoulli("fsm", _logistic(_FSM_BASE[simd] + 0.55 * (fam - 0.6 * dep) + 0.8 * lac))
    out["asn"], out["fsm"] = asn * 1.0, fsm * 1.0
    log_absence = 1.56 + 0.2 * dep + 0.2 * need + 0.15 * fam + 0.12 * np.where(sec, stage - 4, 0) + 0.2 * lac \
        + 0.62 * d.normal("absence")
    out["attendance_pct"] = np.clip(np.round(100 - np.exp(log_absence), 1), 20.0, 100.0)
    p_excl = _logistic(-5.9 + 1.5 * sec + 0.6 * need + 0.5 * fam + 0.6 * boy + 0.3 * (stage >= 6) + 0.8 * lac)
    u = d.uniform("excl")
    extra = np.floor(np.log(d.uniform("excl_n")) / np.log(0.3))
    out["exclusions"] = np.where(u < p_excl, np.minimum(1 + extra, 12), 0.0)
    return out


def _miss_p(name: str, need: np.ndarray) -> np.ndarray:
    return _MISSING_RATE[name] * np.exp(0.25 * need - 0.05)


# --------------------------------------------------------------------------- frames

_DTYPES: dict[str, str] = {
    "respondent_id": "int32", "wave": "int16", "cpp": "int8", "cluster": "int16", "school": "int16",
    "sector": "int8", "stage": "int8", "lon": "float64", "lat": "float64", "weight": "float32",
    "sex": "int8", "simd": "int8", "urban_rural": "int8",
    "sdq_emotional": "Int8", "sdq_conduct": "Int8", "sdq_hyperactivity": "Int8", "sdq_peer": "Int8",
    "sdq_prosocial": "Int8", "sdq_total": "Int8", "sdq_total_band": "Int8", "sdq_emotional_band": "Int8",
    "sdq_conduct_band": "Int8", "sdq_hyperactivity_band": "Int8", "sdq_peer_band": "Int8",
    "sdq_prosocial_band": "Int8", "wemwbs": "Int8", "primary_wellbeing": "Int8",
    "safe_home": "Int8", "safe_school": "Int8", "safe_area": "Int8", "trusted_adult": "Int8",
    "fruit_veg_daily": "Int8", "sleep_hours": "Float32", "active_days": "Int8", "clubs": "Int8",
    "bullied": "Int8", "alcohol_last_week": "Int8", "smoked_vaped_last_month": "Int8", "drugs_ever": "Int8",
    "young_carer": "Int8", "looked_after_ever": "int8", "cp_register": "int8", "sw_contact": "int8",
    "asn": "int8", "fsm": "int8", "attendance_pct": "float32", "exclusions": "int8",
}


def _to_frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    data = {}
    for name, dtype in _DTYPES.items():
        arr = cols[name]
        if dtype[0].isupper():  # nullable
            mask = np.isnan(arr)
            np_dtype = np.dtype(dtype.lower())
            values = np.where(mask, 0, arr).astype(np_dtype)
            data[name] = (pd.arrays.FloatingArray(values, mask) if np_dtype.kind == "f"
                          else pd.arrays.IntegerArray(values, mask))
        else:
            data[name] = np.asarray(arr).astype(dtype)
    return pd.DataFrame(data)


def _rows(start: int, stop: int, rows: int, seed: int) -> pd.DataFrame:
    s, lay = _structure(seed), _layout(rows, seed)
    idx = np.arange(start, stop, dtype=np.int64)
    cell = np.searchsorted(lay.end, idx, side="right")
    w, school = lay.wave[cell], lay.school[cell]
    stage = lay.stage[cell].astype(np.int64)
    wave = np.asarray(WAVES)[w]
    sch = s.schools
    d = _Draws(seed, idx)
    cols = _simulate(d, wave, stage, s.simd_cum[school], s.urban_cum[school], sch["climate"].to_numpy()[school])
    # respondent id: a permutation of 1..n within each wave (unique within wave)
    k = idx - lay.wave_start[w]
    ids = np.empty(len(idx), dtype=np.int64)
    for i, n_i in enumerate(lay.wave_rows):
        sel = w == i
        if sel.any():
            a, b = _affine(int(n_i))
            ids[sel] = (a * k[sel] + b) % n_i + 1
    sex_w = np.select([cols["sex"] == 1, cols["sex"] == 2], [1.03, 0.97], 1.0)
    weight = sch["wfac"].to_numpy()[school] * sex_w * np.where(wave == 2019, 1.01, 0.99)
    cols.update({
        "respondent_id": ids, "wave": wave, "cpp": sch["cpp"].to_numpy()[school],
        "cluster": sch["cluster"].to_numpy()[school], "school": sch["school"].to_numpy()[school],
        "sector": sch["sector"].to_numpy()[school], "stage": stage,
        "lon": sch["lon"].to_numpy()[school], "lat": sch["lat"].to_numpy()[school],
        "weight": np.round(weight, 3),
    })
    frame = _to_frame(cols)
    frame.index = pd.RangeIndex(start, stop)
    return frame


def _affine(n: int) -> tuple[int, int]:
    a = max(1, int(n * 0.6180339887)) | 1
    while math.gcd(a, n) != 1:
        a += 2
    return a, int(n * 0.3719)


def _check_rows(rows: int | None) -> int:
    rows = DEFAULT_ROWS if rows is None else int(rows)
    if rows < 1:
        raise ValueError("rows must be at least 1")
    return rows


def iter_respondents(rows: int | None = None, seed: int = DEFAULT_SEED,
                     chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The respondents in chunks of chunk_rows; the content does not depend on chunk_rows."""
    rows = _check_rows(rows)
    for start in range(0, rows, max(1, int(chunk_rows))):
        yield _rows(start, min(start + chunk_rows, rows), rows, seed)


def generate_respondents(rows: int | None = None, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """All respondents in memory (fine up to a few million rows)."""
    rows = _check_rows(rows)
    frame = pd.concat(iter_respondents(rows, seed), ignore_index=True)
    return frame


def write_respondents(path: Path, rows: int | None = None, seed: int = DEFAULT_SEED,
                      chunk_rows: int = CHUNK_ROWS) -> Path:
    """Write the respondents to Parquet (zstd), one row group per chunk."""
    path = Path(path)
    writer = None
    try:
        for chunk in iter_respondents(rows, seed, chunk_rows):
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=9)
            writer.write_table(table, row_group_size=len(chunk))
    finally:
        if writer is not None:
            writer.close()
    return path


# --------------------------------------------------------------------------- services

# (name pattern, sector, provider types, tier, age range, children per service, spend per child,
#  funding sources, how many: ("cluster", lo, hi) per cluster or ("cpp", lo, hi) per CPP)
_U, _E, _I, _S = "Universal", "Early help / targeted", "Intensive", "Specialist / crisis"
_SERVICE_TEMPLATES = (
    ("{place} school sport programme", "Leisure and culture", ("Leisure trust", "Council"), _U, (5, 17), (300, 1400), (60, 120), ("Council core", "Scottish Government grant"), ("cluster", 1, 1)),
    ("{place} youth club", "Leisure and culture", ("Community group", "Voluntary organisation"), _U, (8, 18), (25, 160), (150, 420), ("Council core", "Lottery / charitable"), ("cluster", 0, 2)),
    ("{place} library reading club", "Leisure and culture", ("Council",), _U, (4, 12), (40, 300), (20, 60), ("Council core",), ("cluster", 0, 1)),
    ("{cpp} holiday activity and food programme", "Leisure and culture", ("Council", "Leisure trust"), _U, (5, 16), (300, 900), (80, 150), ("Scottish Government grant", "Council core"), ("cpp", 1, 1)),
    ("{cpp} health visiting service", "Health", ("NHS board",), _U, (0, 5), (2500, 5500), (150, 250), ("NHS",), ("cpp", 1, 1)),
    ("{cpp} school nursing service", "Health", ("NHS board",), _U, (5, 18), (4000, 12000), (20, 40), ("NHS",), ("cpp", 1, 1)),
    ("{place} outdoor learning days", "Education", ("Council",), _U, (9, 14), (100, 400), (40, 90), ("Council core", "Pupil Equity Fund"), ("cpp", 1, 2)),
    ("{place} home-school link worker", "Education", ("Council",), _E, (5, 16), (40, 120), (300, 900), ("Pupil Equity Fund", "Council core"), ("cluster", 1, 1)),
    ("Nurture group, {school}", "Education", ("Council",), _E, (5, 11), (6, 16), (2000, 4000), ("Pupil Equity Fund", "Council core"), ("cluster", 0, 2)),
    ("{cpp} educational psychology service", "Education", ("Council",), _E, (3, 18), (300, 700), (1500, 2500), ("Council core",), ("cpp", 1, 1)),
    ("{place} school counselling service", "Education", ("Voluntary organisation",), _E, (10, 18), (150, 500), (300, 600), ("Scottish Government grant",), ("cpp", 1, 1)),
    ("Enhanced support base, {secondary}", "Education", ("Council",), _I, (11, 16), (10, 30), (8000, 15000), ("Council core",), ("cluster", 0, 1)),
    ("{place} additional support for learning school", "Education", ("Council",), _S, (5, 18), (30, 80), (25000, 40000), ("Council core",), ("cpp", 1, 1)),
    ("{cpp} speech and language therapy (children)", "Health", ("NHS board",), _E, (2, 16), (400, 1000), (600, 900), ("NHS",), ("cpp", 1, 1)),
    ("{place} primary mental health worker service", "Health", ("NHS board",), _E, (5, 18), (100, 300), (800, 1400), ("NHS", "Scottish Government grant"), ("cpp", 1, 2)),
    ("{cpp} family nurse partnership", "Health", ("NHS board",), _I, (0, 2), (60, 150), (2500, 3500), ("NHS", "Scottish Government grant"), ("cpp", 1, 1)),
    ("{cpp} child and adolescent mental health team", "Health", ("NHS board",), _S, (0, 18), (300, 900), (1800, 2800), ("NHS",), ("cpp", 1, 1)),
    ("{cpp} paediatric eating disorders clinic", "Health", ("NHS board",), _S, (8, 18), (4, 20), (15000, 30000), ("NHS",), ("cpp", 0, 1)),
    ("{place} family support service", "Social work", ("Council", "Voluntary organisation"), _E, (0, 16), (20, 60), (2000, 3500), ("Council core", "Scottish Government grant"), ("cluster", 0, 1)),
    ("{place} children and families social work team", "Social work", ("Council",), _I, (0, 18), (150, 400), (2000, 4000), ("Council core",), ("cpp", 2, 4)),
    ("{cpp} intensive family support team", "Social work", ("Council",), _I, (0, 16), (30, 70), (6000, 9000), ("Council core", "Scottish Government grant"), ("cpp", 1, 1)),
    ("{cpp} kinship care support", "Social work", ("Council",), _I, (0, 18), (60, 200), (7000, 10000), ("Council core",), ("cpp", 1, 1)),
    ("{cpp} throughcare and aftercare service", "Social work", ("Council", "Voluntary organisation"), _I, (15, 25), (30, 90), (8000, 12000), ("Council core",), ("cpp", 1, 1)),
    ("{cpp} short breaks for disabled children", "Social work", ("Council", "Voluntary organisation"), _I, (5, 18), (40, 120), (6000, 12000), ("Council core", "Lottery / charitable"), ("cpp", 1, 1)),
    ("{cpp} fostering service", "Social work", ("Council",), _S, (0, 18), (60, 200), (25000, 40000), ("Council core",), ("cpp", 1, 1)),
    ("{place} residential children's house", "Social work", ("Council", "Private provider"), _S, (8, 18), (3, 7), (180000, 260000), ("Council core",), ("cpp", 2, 4)),
    ("{cpp} secure care placements (purchased)", "Social work", ("Voluntary organisation", "Private provider"), _S, (12, 18), (1, 4), (250000, 350000), ("Council core",), ("cpp", 1, 1)),
    ("{place} young carers project", "Third sector", ("Voluntary organisation",), _E, (8, 18), (50, 200), (500, 900), ("Lottery / charitable", "Council core"), ("cpp", 1, 2)),
    ("{place} parenting programme", "Third sector", ("Voluntary organisation", "Community group"), _E, (0, 12), (40, 150), (600, 1200), ("Lottery / charitable", "Scottish Government grant"), ("cpp", 1, 2)),
    ("{place} mentoring project", "Third sector", ("Voluntary organisation",), _E, (10, 18), (20, 80), (1500, 3000), ("Lottery / charitable", "Council core"), ("cpp", 1, 2)),
    ("{place} peer support group", "Third sector", ("Community group",), _E, (11, 18), (5, 20), (200, 600), ("Lottery / charitable",), ("cluster", 0, 1)),
    ("{place} bereavement support for young people", "Third sector", ("Voluntary organisation",), _E, (5, 18), (5, 30), (800, 1500), ("Lottery / charitable",), ("cpp", 1, 1)),
    ("{place} children's domestic abuse recovery service", "Third sector", ("Voluntary organisation",), _I, (4, 18), (20, 80), (2000, 4000), ("Scottish Government grant", "Lottery / charitable"), ("cpp", 1, 1)),
    ("{place} youth work project", "Third sector", ("Voluntary organisation", "Community group"), _U, (11, 18), (40, 250), (150, 400), ("Lottery / charitable", "Council core"), ("cluster", 0, 1)),
)


def generate_services(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The services map: one row per (fictional) service, ~60-100 per CPP."""
    s = _structure(seed)
    rng = _rng(seed, 2)
    sch = s.schools
    spare = iter(_place_names(_rng(seed, 3)))
    used = set(sch["name"].str.split(" ").str[0]) | set(s.clusters["name"])
    rows = []
    for cpp in _CPPS:
        clusters = s.clusters[s.clusters["cpp"] == cpp.code]
        n = 0
        for pattern, sector, providers, tier, ages, kids, per_child, funding, (scope, lo, hi) in _SERVICE_TEMPLATES:
            where = []  # (cluster, instance number within it)
            if scope == "cluster":
                for _, cl in clusters.iterrows():
                    where += [(cl, i) for i in range(int(rng.integers(lo, hi + 1)))]
            else:
                picks = rng.permutation(len(clusters))[: int(rng.integers(lo, hi + 1))]
                where = [(clusters.iloc[int(i)], 0) for i in picks]
            for cl, i in where:
                members = sch[sch["cluster"] == cl["cluster"]]
                primaries = members[members["sector"] == 1]["name"].tolist()
                secondary = members[members["sector"] == 2]["name"].iloc[0]
                place = cl["name"] if i == 0 and (scope == "cluster" or rng.random() < 0.6) else _fresh(spare, used)
                name = pattern.format(place=place, cpp=cpp.name, secondary=secondary,
                                      school=primaries[i % len(primaries)] if i else
                                      primaries[int(rng.integers(len(primaries)))])
                children = int(rng.integers(kids[0], kids[1] + 1))
                spend = children * rng.uniform(*per_child)
                n += 1
                rows.append({
                    "service_id": f"{cpp.abbrev}-{n:03d}",
                    "cpp": cpp.name,
                    "name": name,
                    "sector": sector,
                    "provider_type": providers[int(rng.integers(len(providers)))],
                    "tier": tier,
                    "age_min": ages[0],
                    "age_max": ages[1],
                    "children_served": children,
                    "annual_spend_gbp": int(round(spend, -2)),
                    "funding_source": funding[int(rng.integers(len(funding)))],
                })
    out = pd.DataFrame(rows)
    # a name that repeats within a CPP gets a distinguishing suffix
    dup = out.duplicated(["cpp", "name"], keep=False)
    out.loc[dup, "name"] = out.loc[dup, "name"] + " (" + out.loc[dup, "service_id"] + ")"
    return out


def _fresh(names: Iterator[str], used: set[str]) -> str:
    for name in names:
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of place names")


# --------------------------------------------------------------------------- comparators

# (indicator, statistic, positive codes, stage groups)
_COMPARATORS = (
    ("sdq_total_band", "pct", ("3",), ("All stages", "All primary", "All secondary")),
    ("sdq_emotional_band", "pct", ("3",), ("All primary", "All secondary", "S4")),
    ("sdq_conduct_band", "pct", ("3",), ("All stages",)),
    ("sdq_prosocial", "mean", (), ("All stages",)),
    ("wemwbs", "mean", (), ("All secondary", "S2", "S4")),
    ("primary_wellbeing", "mean", (), ("All primary",)),
    ("safe_home", "pct", ("1", "2"), ("All stages",)),
    ("safe_school", "pct", ("1", "2"), ("All primary", "All secondary")),
    ("safe_area", "pct", ("1", "2"), ("All stages",)),
    ("trusted_adult", "pct", ("1",), ("All stages",)),
    ("fruit_veg_daily", "pct", ("1",), ("All stages",)),
    ("sleep_hours", "mean", (), ("All primary", "All secondary")),
    ("active_days", "mean", (), ("All primary", "All secondary")),
    ("clubs", "pct", ("1",), ("All stages",)),
    ("bullied", "pct", ("3", "4"), ("All primary", "All secondary")),
    ("alcohol_last_week", "pct", ("1",), ("S2", "S4")),
    ("smoked_vaped_last_month", "pct", ("1",), ("S2", "S4")),
    ("drugs_ever", "pct", ("1",), ("S4",)),
    ("young_carer", "pct", ("1",), ("All stages",)),
    ("looked_after_ever", "pct", ("1",), ("All stages",)),
    ("asn", "pct", ("1",), ("All stages",)),
    ("fsm", "pct", ("1",), ("All stages",)),
    ("attendance_pct", "mean", (), ("All primary", "All secondary")),
)
_STAGE_GROUPS = {"All stages": tuple(STAGES), "All primary": PRIMARY_STAGES, "All secondary": SECONDARY_STAGES,
                 **{label: (code,) for code, label in STAGES.items()}}


def generate_comparators(seed: int = DEFAULT_SEED, rows: int = 200_000) -> pd.DataFrame:
    """Illustrative "national" figures: the same model with a national deprivation mix.

    Not real statistics; computed from a separate synthetic population in which
    each SIMD quintile holds a fifth of the pupils.
    """
    n = int(rows)
    idx = np.arange(n, dtype=np.int64) + (1 << 40)  # rows that never occur in a sample
    wave = np.where(np.arange(n) % 2 == 0, WAVES[0], WAVES[1])
    stage = (np.arange(n) // 2) % 8 + 1
    simd_cum = np.tile(np.cumsum(np.full(5, 0.2))[:4], (n, 1))
    urban_cum = np.tile(np.array([0.70, 0.82]), (n, 1))
    cols = _simulate(_Draws(seed, idx), wave, stage, simd_cum, urban_cum, np.zeros(n))
    labels = {v.name: v.label for v in dictionary(seed).variables}
    out = []
    for name, stat, positive, groups in _COMPARATORS:
        values = cols[name]
        for group in groups:
            for w in WAVES:
                sel = (wave == w) & np.isin(stage, _STAGE_GROUPS[group]) & ~np.isnan(values)
                x = values[sel]
                value = (100 * np.isin(x, [float(c) for c in positive]).mean() if stat == "pct" else x.mean())
                out.append({"indicator": name, "indicator_label": labels[name], "statistic": stat,
                            "positive": ";".join(positive), "stage": group, "wave": w,
                            "value": round(float(value), 1), "note": COMPARATOR_NOTE})
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- dictionary

_ALWAYS = {1: "Always", 2: "Most of the time", 3: "Sometimes", 4: "Never"}
_YN = {0: "No", 1: "Yes"}
_BAND = {1: "Normal", 2: "Borderline", 3: "Abnormal"}
_SDQ_Q = ("Strengths and Difficulties Questionnaire (self-report), {what}: sum of five items "
          "scored 0-2 (0-10).")


def _variables(seed: int) -> list[dict]:
    s = _structure(seed)
    sch = s.schools.sort_values("school")
    v: list[dict] = []

    def add(name, label, type_, group, question="", **kw):
        entry = {"name": name, "label": label, "type": type_, "group": group}
        if question:
            entry["question"] = question
        entry.update(kw)
        if SURVEY_ITEMS.get(name):  # asked at some stages only: the routing the data is generated with
            entry["asked_at"] = list(SURVEY_ITEMS[name])
        v.append(entry)

    # where
    add("respondent_id", "Respondent ID", "numeric", "Design", role="id")
    add("wave", "Survey wave", "ordinal", "Where", role="wave", values={w: str(w) for w in WAVES})
    add("cpp", "Community Planning Partnership", "categorical", "Where", role="cpp",
        values={c.code: c.name for c in _CPPS})
    add("cluster", "School cluster", "categorical", "Where", role="cluster",
        values={int(r.cluster): f"{r.name} cluster" for r in s.clusters.itertuples()})
    add("school", "School", "categorical", "Where", role="school",
        values={int(r.school): r.name for r in sch.itertuples()})
    add("sector", "Sector", "categorical", "Where", values={1: "Primary", 2: "Secondary"})
    add("stage", "Stage", "ordinal", "Where", role="stage", values=dict(STAGES))
    add("lon", "School longitude", "numeric", "Where", role="x")
    add("lat", "School latitude", "numeric", "Where", role="y")
    add("weight", "Survey weight", "numeric", "Design", role="weight")
    # about the pupil
    add("sex", "Sex", "categorical", "About the pupil", "Are you a boy or a girl?",
        values={1: "Boy", 2: "Girl", 3: "Other or prefer not to say"})
    add("simd", "SIMD quintile", "ordinal", "About the pupil",
        values={1: "1 (most deprived)", 2: "2", 3: "3", 4: "4", 5: "5 (least deprived)"})
    add("urban_rural", "Urban/rural", "categorical", "About the pupil",
        values={1: "Urban", 2: "Small town", 3: "Rural"})
    # SDQ
    for name, what, label in (("sdq_emotional", "emotional symptoms", "SDQ emotional symptoms (0-10)"),
                              ("sdq_conduct", "conduct problems", "SDQ conduct problems (0-10)"),
                              ("sdq_hyperactivity", "hyperactivity/inattention", "SDQ hyperactivity (0-10)"),
                              ("sdq_peer", "peer relationship problems", "SDQ peer problems (0-10)")):
        add(name, label, "numeric", "Wellbeing (SDQ)", _SDQ_Q.format(what=what), polarity="lower_is_better")
    add("sdq_prosocial", "SDQ prosocial behaviour (0-10)", "numeric", "Wellbeing (SDQ)",
        _SDQ_Q.format(what="prosocial behaviour"), polarity="higher_is_better")
    add("sdq_total", "SDQ total difficulties (0-40)", "numeric", "Wellbeing (SDQ)",
        "Strengths and Difficulties Questionnaire (self-report): total difficulties, the sum of the "
        "emotional, conduct, hyperactivity and peer problems subscales (0-40).", polarity="lower_is_better")
    add("sdq_total_band", "SDQ total difficulties band", "ordinal", "Wellbeing (SDQ)",
        "SDQ total difficulties banded 0-13 normal, 14-16 borderline, 17-40 abnormal.",
        values=_BAND, polarity="lower_is_better", positive=[3])
    for short, label in (("emotional", "emotional symptoms"), ("conduct", "conduct problems"),
                         ("hyperactivity", "hyperactivity"), ("peer", "peer problems")):
        lo, hi = SDQ_BANDS[short]
        border = f"{hi}" if hi == lo + 1 else f"{lo + 1}-{hi}"
        add(f"sdq_{short}_band", f"SDQ {label} band", "ordinal", "Wellbeing (SDQ)",
            f"SDQ {label} subscale banded 0-{lo} normal, {border} borderline, {hi + 1}-10 abnormal.",
            values=_BAND, polarity="lower_is_better", positive=[3])
    add("sdq_prosocial_band", "SDQ prosocial band", "ordinal", "Wellbeing (SDQ)",
        "SDQ prosocial subscale banded 6-10 normal, 5 borderline, 0-4 abnormal.",
        values=_BAND, polarity="lower_is_better", positive=[3])
    # wellbeing scales
    add("wemwbs", "Mental wellbeing (WEMWBS, 14-70)", "numeric", "Wellbeing",
        "Warwick-Edinburgh Mental Wellbeing Scale: 14 statements about thoughts and feelings over the "
        "last two weeks, each scored 1-5 (secondary pupils only).", polarity="higher_is_better")
    add("primary_wellbeing", "Children's wellbeing scale (12-60)", "numeric", "Wellbeing",
        "Twelve statements about how you feel about your life, each scored 1-5 (P4-P7 only).",
        polarity="higher_is_better")
    # SHANARRI
    add("safe_home", "Feels safe at home", "ordinal", "Safe", "How often do you feel safe at home?",
        values=_ALWAYS, polarity="higher_is_better", positive=[1, 2])
    add("safe_school", "Feels safe at school", "ordinal", "Safe", "How often do you feel safe at school?",
        values=_ALWAYS, polarity="higher_is_better", positive=[1, 2])
    add("safe_area", "Feels safe in local area", "ordinal", "Safe",
        "How often do you feel safe in the area where you live?",
        values=_ALWAYS, polarity="higher_is_better", positive=[1, 2])
    add("trusted_adult", "Has a trusted adult", "flag", "Nurtured",
        "Is there an adult you trust that you can talk to if you are worried?",
        values=_YN, polarity="higher_is_better", positive=[1])
    add("fruit_veg_daily", "Eats fruit or vegetables daily", "flag", "Healthy",
        "Do you eat fruit or vegetables every day?", values=_YN, polarity="higher_is_better", positive=[1])
    add("sleep_hours", "Sleep on a school night (hours)", "numeric", "Healthy",
        "How many hours do you usually sleep on a school night?", polarity="higher_is_better")
    add("active_days", "Days physically active in last week (0-7)", "numeric", "Active",
        "In the last 7 days, on how many days were you physically active for at least an hour?",
        polarity="higher_is_better")
    add("clubs", "Takes part in clubs or groups", "flag", "Included",
        "Do you take part in any clubs, groups or teams outside school lessons?",
        values=_YN, polarity="higher_is_better", positive=[1])
    add("bullied", "Bullied in the last year", "ordinal", "Bullying",
        "How often have you been bullied in the last year?",
        values={1: "Never", 2: "Once or twice", 3: "Monthly", 4: "Weekly or more"},
        polarity="lower_is_better", positive=[3, 4])
    add("alcohol_last_week", "Drank alcohol in the last week", "flag", "Substance use",
        "Have you had an alcoholic drink in the last 7 days? (S2-S4 only)",
        values=_YN, polarity="lower_is_better", positive=[1])
    add("smoked_vaped_last_month", "Smoked or vaped in the last month", "flag", "Substance use",
        "Have you smoked a cigarette or used an e-cigarette in the last month? (S2-S4 only)",
        values=_YN, polarity="lower_is_better", positive=[1])
    add("drugs_ever", "Ever tried drugs", "flag", "Substance use",
        "Have you ever used or taken drugs? (S2-S4 only)",
        values=_YN, polarity="lower_is_better", positive=[1])
    add("young_carer", "Young carer", "flag", "Caring",
        "Do you look after or help care for someone in your family because of illness, disability, "
        "drugs or alcohol?", values={0: "No", 1: "Yes", 9: "Prefer not to say"}, positive=[1])
    # linked records
    add("looked_after_ever", "Ever looked after", "flag", "Linked: social work",
        values=_YN, polarity="lower_is_better", positive=[1])
    add("cp_register", "On child protection register", "flag", "Linked: social work",
        values=_YN, polarity="lower_is_better", positive=[1])
    add("sw_contact", "Social work contact", "flag", "Linked: social work",
        values=_YN, positive=[1])
    add("asn", "Additional support needs", "flag", "Linked: education", values=_YN, positive=[1])
    add("fsm", "Registered for free school meals", "flag", "Linked: education", values=_YN, positive=[1])
    add("attendance_pct", "Attendance (%)", "numeric", "Linked: education", polarity="higher_is_better")
    add("exclusions", "Exclusions in the school year", "numeric", "Linked: education",
        polarity="lower_is_better")
    return v


def dictionary(seed: int = DEFAULT_SEED) -> dd.Dictionary:
    """The sample's data dictionary (write it with rcs_viz.data.dictionary.write)."""
    mapping = {"dataset": {"title": TITLE, "synthetic": True}, "variables": _variables(seed)}
    return dd.parse(mapping, source="synthetic sample")


# --------------------------------------------------------------------------- all files

def write_sample(out_dir: Path, rows: int | None = None, seed: int = DEFAULT_SEED,
                 chunk_rows: int = CHUNK_ROWS) -> dict[str, Path]:
    """Write respondents.parquet, dictionary.yaml, services.csv and comparators.csv to out_dir.

    rows=None writes the committed size (DEFAULT_ROWS). Large sizes are written in
    chunks, so memory does not grow with rows.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in FILES.items()}
    write_respondents(paths["respondents"], rows, seed, chunk_rows)
    dd.write(dictionary(seed), paths["dictionary"])
    generate_services(seed).to_csv(paths["services"], index=False, lineterminator="\n")
    generate_comparators(seed).to_csv(paths["comparators"], index=False, lineterminator="\n")
    return paths
