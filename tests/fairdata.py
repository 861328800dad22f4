"""A hand-built CPP for the funnel and inequality tests, with one school planted too small to show.

Schools (bullied of pupils, wave 2019, one CPP): Alder High 60/300 (20 %),
Birch High 70/200 (35 %), Cedar High 48/400 (12 %), Daisy Primary 30/120
(25 %), and Wee Primary 6/7: a true rate of 85.714… % that no output may
carry. The CPP is 214 of 1,027. Pupils with the indicator sit more often in
the deprived quintiles, so the gradient runs one way. A wellbeing score
(higher is better) gives each school its own mean for the funnel of means.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

DICTIONARY = """
dataset: {title: Hand-built fair comparisons, synthetic: false}
variables:
  - {name: pupil, label: Pupil, type: numeric, role: id}
  - {name: wave, label: Survey wave, type: ordinal, role: wave, values: {2019: '2019'}}
  - {name: cpp, label: CPP, type: categorical, role: cpp, values: {1: Eastshire}}
  - {name: cluster, label: School cluster, type: categorical, role: cluster,
     values: {1: Alder cluster, 2: Birch cluster, 3: Cedar cluster}}
  - {name: school, label: School, type: categorical, role: school,
     values: {11: Alder High, 12: Birch High, 13: Cedar High, 14: Daisy Primary, 15: Wee Primary}}
  - {name: stage, label: Stage, type: ordinal, role: stage, values: {1: P6, 2: S2}}
  - {name: sex, label: Sex, type: categorical, values: {1: Boy, 2: Girl}}
  - name: simd
    label: SIMD quintile
    type: ordinal
    values: {1: 1 (most deprived), 2: '2', 3: '3', 4: '4', 5: 5 (least deprived)}
  - name: bully
    label: Bullied
    type: categorical
    group: Risk
    values: {1: Never, 2: Often}
    positive: [2]
    polarity: lower_is_better
  - {name: wb, label: Wellbeing score, type: numeric, group: Wellbeing, polarity: higher_is_better}
"""

CLUSTER_OF = {11: 1, 12: 2, 13: 3, 14: 1, 15: 2}
SCHOOLS = {11: (300, 60, 50), 12: (200, 70, 46), 13: (400, 48, 52), 14: (120, 30, 49), 15: (7, 6, 40)}
# (pupils, bullied, mean wellbeing)
PLANTED = 15
PLANTED_LABEL = "Wee Primary"
PLANTED_RATE = 100 * 6 / 7  # 85.714…
NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")
POSITIVE_SIMD = (1, 1, 2, 1, 3, 2, 4, 1, 5, 2)  # the bullied lean to the deprived quintiles


def frame() -> pd.DataFrame:
    rows = []
    for school, (n, k, mean) in SCHOOLS.items():
        for j in range(n):
            positive = j < k
            rows.append({"wave": 2019, "cpp": 1, "cluster": CLUSTER_OF[school], "school": school,
                         "stage": 1 + (school in (11, 12, 13)), "sex": 1 + j % 2,
                         "simd": POSITIVE_SIMD[j % 10] if positive else 1 + j % 5,
                         "bully": 2 if positive else 1, "wb": mean + (6 if j % 2 else -6) + (j % 3)})
    out = pd.DataFrame(rows)
    out.insert(0, "pupil", np.arange(1, len(out) + 1))
    return out


def write(folder: Path) -> tuple[Path, Path]:
    """The data and dictionary files, and a configuration naming them (returned: data, config).

    The record-key salt is fixed, so every run perturbs the same counts alike: with a salt generated per run, now
    and then another school's ratio came out at 0.85, which reads as the planted school's 6 of 7 to `leaks`.
    """
    data = folder / "pupils.csv"
    frame().to_csv(data, index=False)
    (folder / "dictionary.yaml").write_text(DICTIONARY, encoding="utf-8")
    cfg = folder / "rcs_explorer.yaml"
    cfg.write_text(f"data: {data}\ndictionary: {folder / 'dictionary.yaml'}\ncache_dir: {folder / 'cache'}\n"
                   f"store: sqlite:///{folder / 'store.sqlite'}\nrecord_key_salt: planted-cpp-tests\n",
                   encoding="utf-8")
    return data, cfg


def leaks(text: str) -> list[str]:
    """Every number in `text` that writes the planted school's true rate, as a % (85.7…, 85.71) or a proportion
    (0.857…), to the precision written, rounded or cut; whole numbers and other figures are not it. Also "6 of 7" and "6/7"."""
    found = []
    for m in NUMBER.finditer(text):
        token = m.group()
        if "." not in token:
            continue
        places = len(token.split(".")[1])
        value = float(token)
        for truth in (PLANTED_RATE, PLANTED_RATE / 100):
            if abs(value - truth) < 10 ** -places and places >= (1 if truth > 1 else 2):
                found.append(token)
    return found + [w for w in ("6 of 7", "6/7") if w in text]
