"""Median and percentile of the pixel samples of one glyph, equal to NumPy's.

``np.median`` and ``np.percentile`` take a general path (axis handling, NaN checks, a
partition at every requested position) that costs 10-50 us on the few hundred values of a
glyph; one ``np.partition`` gives the same order statistics, combined here in NumPy's own
arithmetic for the dtype: float32 samples in float32, integer samples in float64.
"""

from __future__ import annotations

import math

import numpy as np


def _exact(a: np.ndarray) -> bool:
    return a.size > 0 and (a.dtype == np.float32 or a.dtype.kind in "iu")


def median_of(a: np.ndarray) -> float:
    """``np.median`` of a 1-D float32 or integer array (the mean of the middle two as
    ``np.mean`` takes it: in float32 for float32, in float64 for integers)."""
    if not _exact(a):
        return float(np.median(a))
    n = a.size
    k = n // 2
    if n % 2:
        return float(np.partition(a, k)[k])
    part = np.partition(a, (k - 1, k))
    if a.dtype == np.float32:
        return float((part[k - 1] + part[k]) / 2)
    return (float(part[k - 1]) + float(part[k])) / 2


def percentile_of(a: np.ndarray, q: float) -> float:
    """``np.percentile(a, q)`` (linear) of a 1-D float32 or integer array, in NumPy's steps:
    the position ``(n - 1) * q / 100`` and its fraction in float64, the two-sided
    interpolation between the neighbouring order statistics in float32 for float32 samples
    and in float64 for integer ones."""
    if not _exact(a):
        return float(np.percentile(a, q))
    n = a.size
    pos = (n - 1) * (q / 100)
    if pos >= n - 1:
        return float(a.max())
    lo = math.floor(pos)
    t = pos - lo
    part = np.partition(a, (lo, lo + 1))
    below, above = part[lo], part[lo + 1]
    if a.dtype != np.float32:
        below, above = float(below), float(above)
    gap = above - below
    return float(above - gap * (1 - t) if t >= 0.5 else below + gap * t)
