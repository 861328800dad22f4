"""The cell-key perturbation table: how much noise a shown count gets.

A cell's key is the sum of its records' fixed random keys mod 256, so the same
records always get the same noise (asking again reveals nothing new), while two
views that differ by a few records get nearly independent noise (subtracting
them rarely gives the difference exactly). docs/disclosure.md explains the
choice of numbers.

Never change the table or its seed once outputs have been published: the same
cell under an old and a new table is two independent draws an attacker can
average.
"""

from __future__ import annotations

import numpy as np

KEY_RANGE = 256
NOISE = np.arange(-3, 4)

# How many of the 256 keys give each perturbation -3..3, by how far the true
# count is above the threshold (0, 1, 2, 3 or more). Noise never takes a count
# below the threshold, so counts just above it get less; each row is symmetric,
# so the noise has mean exactly zero. No row gives 0 to more than 52/256 keys:
# a view minus a slightly smaller view shows the true difference exactly in at
# most 21% of attempts, whatever the two counts.
KEY_COUNTS = np.array([
    [0, 0, 0, 256, 0, 0, 0],
    [0, 0, 102, 52, 102, 0, 0],
    [0, 48, 54, 52, 54, 48, 0],
    [14, 38, 50, 52, 50, 38, 14],
])

# Keys are shuffled within each row so that keys close together (a group whose
# record keys sum to a small number) still get unrelated noise. RandomState's
# stream is frozen by numpy, so this table never changes.
_rng = np.random.RandomState(20250601)
_TABLE = np.stack([_rng.permutation(np.repeat(NOISE, row)) for row in KEY_COUNTS])


def perturb(n, ckey, threshold: int = 10):
    """Count to publish for true count(s) `n` with cell key(s) `ckey`.

    Counts below the threshold are returned unchanged: they are never shown,
    so they get no noise. Works on scalars (returns int) and arrays.
    """
    n = np.asarray(n, dtype=np.int64)
    key = np.asarray(ckey, dtype=np.int64)
    if np.any((key < 0) | (key >= KEY_RANGE)):
        raise ValueError(f"cell keys must be in 0..{KEY_RANGE - 1}")
    band = np.clip(n - threshold, 0, len(KEY_COUNTS) - 1)
    out = n + np.where(n >= threshold, _TABLE[band, key], 0)
    return int(out) if out.ndim == 0 else out
