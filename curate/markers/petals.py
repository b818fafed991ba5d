"""Typeset asterisks: five to eight petals around a solid hub, judged on the ink strength.

A bold font's '*' is a hub with 5 or 6 teardrop petals, 2-4 px thick at marker sizes. After
JPEG its binary mask in a saturated colour is bloated by chroma subsampling (the petals merge
into a blob whose outline has no star shape), but the ink strength (saturation of the hue,
whiteness, darkness) still rises and falls around circles about the centre, once per petal.
Coordinates: crop pixels (x right, y down).
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.markers.colours import hue_mask
from curate.markers.orderstats import median_of, percentile_of

RING_FRACTIONS = (0.5, 0.65, 0.8, 0.9)
RING_SAMPLES = 72
PETAL_COUNTS = (5, 8)  # petals of a typeset asterisk (fewest, most)
# Below 12 px the petals of a coloured glyph are 1-2 chroma samples apart after JPEG, and
# filled plot stars of that size have the same ring profile.
MIN_SIDE = 12
_BOX3 = np.ones(3) / 3
_ANGLES = np.linspace(0, 2 * np.pi, RING_SAMPLES, endpoint=False)
_COS, _SIN = np.cos(_ANGLES), np.sin(_ANGLES)


def ink_strength(rgb_crop: np.ndarray, colour: str, comp: np.ndarray) -> np.ndarray:
    """float32 0..1 map: how much each pixel looks like the ink of ``colour`` (1 = the glyph's
    strong pixels, 0 = the background around it). ``comp``: the glyph's mask in the crop."""
    if colour in ("white", "black"):
        # OpenCV's per-pixel min / max of the three planes: NumPy's reduction over a
        # length-3 last axis costs twice as much for the same values.
        r, g, b = cv2.split(rgb_crop)
        if colour == "white":
            v = cv2.min(cv2.min(r, g), b).astype(np.float32)
        else:
            v = 255.0 - cv2.max(cv2.max(r, g), b).astype(np.float32)
    else:
        hsv = cv2.cvtColor(rgb_crop, cv2.COLOR_RGB2HSV)
        v = hsv[..., 1].astype(np.float32) * (hue_mask(hsv, colour, 0, 40) > 0)
    around = cv2.dilate(comp.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    if not around.any() or not comp.any():
        return np.zeros(v.shape, np.float32)
    bg, ink = median_of(v[around]), percentile_of(v[comp > 0], 90)
    if ink - bg < 20:
        return np.zeros(v.shape, np.float32)
    return np.clip((v - bg) / (ink - bg), 0, 1).astype(np.float32)


def _lobes(profile: np.ndarray, counts: tuple[int, int] = PETAL_COUNTS) -> tuple[list[int], float, float]:
    """(lobe peak indices, contrast, regularity 0..1) of one circular profile; the regularity
    only when the number of lobes lies in ``counts`` (0 otherwise: no petal count to judge).

    Hysteresis: a lobe rises above 60% of the profile's range and ends below 35% (a JPEG
    ripple along a petal does not split it in two)."""
    p = np.convolve(np.concatenate((profile[-1:], profile, profile[:1])), _BOX3, "valid")
    lo, hi = float(p.min()), float(p.max())
    if hi < 0.5 or hi - lo < 0.3:
        return [], 0.0, 0.0
    high, low = lo + 0.6 * (hi - lo), lo + 0.35 * (hi - lo)
    start = int(np.argmin(p))
    n = len(p)
    values = p.tolist()  # the walk compares Python floats: the same numbers, far less overhead
    inside, starts, peaks = False, [], []
    for k in range(n):
        i = (start + k) % n
        if not inside and values[i] > high:
            inside = True
            starts.append(k)
            peaks.append(i)
        elif inside and values[i] < low:
            inside = False
        elif inside and values[i] > values[peaks[-1]]:
            peaks[-1] = i
    if len(starts) < 2 or not counts[0] <= len(starts) <= counts[1]:
        return peaks, hi - lo, 0.0
    gaps = np.diff(np.array([*starts, starts[0] + n]))
    return peaks, hi - lo, max(0.0, 1.0 - float(np.std(gaps)) / float(np.mean(gaps)) / 0.35)


def petal_score(strength: np.ndarray, comp: np.ndarray) -> float:
    """Score 0..1 of "solid hub with 5-8 evenly spaced petals" for a glyph in a padded crop.

    ``strength``: ``ink_strength`` of the crop; ``comp``: the glyph's mask in the same crop.
    """
    ys, xs = np.nonzero(comp)
    if len(xs) < 20:
        return 0.0
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    if max(w, h) < MIN_SIDE or not 0.7 <= w / h <= 1.45:
        return 0.0
    wts = strength[ys, xs] + 1e-3
    cx, cy = float((xs * wts).sum() / wts.sum()), float((ys * wts).sum() / wts.sum())
    radius = 0.5 * max(w, h)
    hub = strength[int(round(cy)) - 1 : int(round(cy)) + 2, int(round(cx)) - 1 : int(round(cx)) + 2]
    if hub.size == 0 or float(hub.mean()) < 0.6:
        return 0.0
    ang = _ANGLES
    counts, scores, outer = [], [], []
    for r, f in enumerate(RING_FRACTIONS):
        if len(counts) + len(RING_FRACTIONS) - r < 2:
            return 0.0  # too few rings left for two to agree (below)
        prof = _sample(strength, cx + f * radius * _COS, cy + f * radius * _SIN)
        peaks, contrast, regular = _lobes(prof)
        if PETAL_COUNTS[0] <= len(peaks) <= PETAL_COUNTS[1] and regular > 0:
            counts.append(len(peaks))
            scores.append(min(1.0, contrast) * regular)
            outer = [(ang[k], f) for k in peaks]
    # Two rings must agree on the petal count: noise and texture give different counts per ring
    # (bold petals merge near the hub, so the inner rings may see none).
    if len(counts) < 2 or max(np.bincount(counts)) < 2:
        return 0.0
    # Every petal runs in from the hub: ink all along the ray to it (the bowls of a "%" or
    # the loops of an "8" give lobes on the rings, with a gap between them and the centre).
    t = np.linspace(0.1, 1.0, 8)
    for a, f in outer:
        ray = _sample(strength, cx + t * f * radius * np.cos(a), cy + t * f * radius * np.sin(a))
        if float(ray.min()) < 0.3:
            return 0.0
    return float(np.clip(0.5 + 0.45 * float(np.mean(scores)), 0, 1))


def _sample(img: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` at the points ``(xs, ys)`` (0 outside)."""
    mx, my = xs.astype(np.float32)[None], ys.astype(np.float32)[None]
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)[0]
