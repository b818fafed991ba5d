"""Shape tests for one connected component: arrow, arrowhead, asterisk, box, circle.

Every function takes the component's pixel coordinates or contour in panel pixels (x right,
y down) and returns a score in 0..1 (0 = not that shape) plus geometry where it applies.
Angles are degrees in image coordinates: 0 = pointing right, 90 = pointing down.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_BOX3 = np.ones(3) / 3
# The solidity (area / convex hull area) windows of the triangle and star tests do not
# overlap: a glyph can score in at most one of them (``detect`` runs only that one).
TRIANGLE_MIN_SOLIDITY = 0.9
STAR_MAX_SOLIDITY = 0.88
NO_TRIANGLE: tuple[float, None, None, float] = (0.0, None, None, 180.0)


def convex_hull_area(contour: np.ndarray) -> float:
    """Area of a contour's convex hull, at least 1 (the denominator of the solidity tests)."""
    return max(cv2.contourArea(cv2.convexHull(contour)), 1.0)


def _centred_axes(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``principal_axes`` plus the ``N x 2`` float offsets of the pixels from their mean."""
    n = len(xs)
    pts = np.empty((n, 2))
    pts[:, 0], pts[:, 1] = xs, ys
    # Integer coordinates sum exactly, so this is the mean np.mean gives, for less overhead.
    mean = np.array([xs.sum() / n, ys.sum() / n], np.float64)
    d = pts - mean
    if n <= 2:
        return mean, np.array([1.0, 0.0]), np.array([0.0, 1.0]), d
    dx, dy = d[:, 0], d[:, 1]
    # The 2 x 2 covariance from three dot products (np.cov's general path cost more than the
    # rest of the arrow test); LAPACK's symmetric eigensolver on it, as np.linalg.eigh calls it
    # (without its Python checks, a third of this function), so the axes and signs are unchanged.
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    cov = np.array([[sxx, sxy], [sxy, syy]]) / (n - 1)
    w, v = _eigh(cov)
    major = v[:, 0 if w[0] >= w[1] else 1]  # np.argmax: the first of equal values
    return mean, major, np.array([-major[1], major[0]]), d


def _eigh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _EIGH_LO(a, signature="d->dd")


try:  # the gufunc behind np.linalg.eigh(a, "L") for float64
    from numpy.linalg import _umath_linalg

    _EIGH_LO = _umath_linalg.eigh_lo
except (ImportError, AttributeError):  # another NumPy layout: the public wrapper
    _EIGH_LO = lambda a, signature: tuple(np.linalg.eigh(a))  # noqa: E731


def principal_axes(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean point, unit major axis and unit minor axis of a pixel set."""
    return _centred_axes(xs, ys)[:3]


def median(a: np.ndarray) -> float:
    """``np.median`` of a short 1-D float array without NaNs, without its overhead (same value:
    the middle element, or the mean of the middle two computed as NumPy does)."""
    v = sorted(a.tolist())
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def slice_extents(t: np.ndarray, s: np.ndarray, nbins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-slice (min, max) of ``s`` in ``nbins`` equal slices of ``t``; empty slices are NaN."""
    lo, hi = t.min(), t.max()
    idx = ((t - lo) / max(hi - lo, 1e-6) * nbins).astype(int)
    np.minimum(np.maximum(idx, 0, out=idx), nbins - 1, out=idx)  # np.clip, without its overhead
    smax = np.full(nbins, -np.inf)
    smin = np.full(nbins, np.inf)
    np.maximum.at(smax, idx, s)
    np.minimum.at(smin, idx, s)
    empty = ~np.isfinite(smax)
    smin[empty], smax[empty] = np.nan, np.nan
    return smin, smax


def width_profile(t: np.ndarray, s: np.ndarray, nbins: int) -> np.ndarray:
    """Extent across the axis (px) in ``nbins`` equal slices along it (0 for empty slices)."""
    smin, smax = slice_extents(t, s, nbins)
    return np.nan_to_num(smax - smin + 1.0, nan=0.0)


# Head / shaft width ratio below which a "head" is more likely a serif, a bend or a blob
# (drawn heads are 2-4x the shaft; JPEG chroma smear widens thin coloured shafts).
MIN_HEAD_RATIO = 1.7


def _arrow_profile_score(smin: np.ndarray, smax: np.ndarray) -> float:
    """Score 0..1 of a slice profile (head at the end) as shaft + symmetric tapering head."""
    w, centre = smax - smin + 1.0, (smax + smin) / 2
    nb = len(w)
    k = int(np.argmax(w))
    head_w = float(w[k])
    if k == nb - 1 or k < nb // 3:
        return 0.0
    # The slice just before the widest one may hold the back of the head: not shaft.
    shaft = w[: max(2, min(k - 1, nb * 2 // 5))]
    shaft_c = centre[: len(shaft)]
    shaft_w = median(shaft)
    # The tip slice of a small arrow is coarse: it may be up to 1.5 px wider than the shaft.
    # (0.01 px of slack: a 3-px tip on a 6-px head measures 3.00003 vs 2.99991 when the axis is
    # a hair off horizontal.)
    if head_w < MIN_HEAD_RATIO * max(shaft_w, 1.0) or float(w[-1]) > max(0.5 * head_w, shaft_w + 1.5) + 0.01:
        return 0.0
    # Head tapers steadily from its widest slice to the tip: no re-widening (a "4", a "t").
    head = w[k:]
    if np.any(np.diff(head) > 0.2 * head_w + 1.0):
        return 0.0
    # A head narrows all the way to its tip: a stem of shaft width that runs on past a
    # crossbar (two level slices before the last) is a "t" or a "+", not a head.
    thin = head <= 1.2 * shaft_w + 0.5
    level = np.abs(np.diff(head)) <= 1.0
    if np.any(thin[:-2] & thin[1:-1] & level[:-1]):
        return 0.0
    # Shaft straight and even, head centred on the shaft line (one-sided flags of "1", "P" fail).
    line = median(shaft_c)
    bend = float(np.max(np.abs(shaft_c - line)))
    off = float(np.max(np.abs(centre[k:] - line)))
    if bend > max(1.5, 0.6 * shaft_w) or off > 0.25 * head_w + 1.0:
        return 0.0
    # Both barbs stick out beyond the shaft (a "1" or a "4" has a flag on one side only).
    n = len(shaft)
    ext_hi = float(smax[k] - median(smax[:n]))
    ext_lo = float(median(smin[:n]) - smin[k])
    if min(ext_hi, ext_lo) < 0.4 * max(ext_hi, ext_lo):
        return 0.0
    # The tail end slice may hold a cap or a JPEG speck: evenness is judged without it.
    body = shaft[1:] if len(shaft) >= 3 else shaft
    evenness = 1.0 - min(1.0, float(np.std(body)) / (shaft_w + 1e-6))
    half = len(shaft) // 2
    # A shaft keeps its width; one that widens steadily towards the head is a diamond or a blob.
    widening = float(np.mean(shaft[half:])) / max(float(np.mean(shaft[:half])), 1.0)
    if evenness < 0.65 or widening > 1.6:
        return 0.0
    symmetry = 1.0 - off / (0.25 * head_w + 1.0)
    ratio = min(1.0, (head_w / max(shaft_w, 1.0) - 1.0) / 2.0)
    taper = 1.0 - float(w[-1]) / head_w
    return float(np.clip(0.35 * ratio + 0.25 * taper + 0.2 * evenness + 0.2 * symmetry, 0, 1))


def _head_fill(t: np.ndarray, s: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(ink / convex-hull area of the head, linearity of its taper) for a profile with the head at the end."""
    nb = len(w)
    k = int(np.argmax(w))
    lo, hi = float(t.min()), float(t.max())
    t_k = lo + (hi - lo) * k / nb
    sel = t >= t_k
    pts = np.stack([t[sel], s[sel]], 1).astype(np.float32)
    if len(pts) < 3:
        return 0.0, 0.0
    hull = cv2.convexHull(pts)
    # Pixel centres span one pixel less than the ink: add half a pixel of perimeter.
    hull_area = cv2.contourArea(hull) + 0.5 * cv2.arcLength(hull, True) + 1.0
    fill = min(1.0, float(sel.sum()) / hull_area)
    head = w[k:]
    ideal = np.linspace(head[0], min(head[0], max(1.0, head[-1])), len(head))
    linear = 1.0 - float(np.mean(np.abs(head - ideal))) / max(head[0], 1.0) * 3.0
    return fill, max(0.0, linear)


def arrow_score(xs: np.ndarray, ys: np.ndarray) -> tuple[float, tuple[int, int] | None, float | None]:
    """Score of "straight shaft with a symmetric triangular head", the tip pixel and the direction.

    The head is the wide end of the width profile along the major axis: at least
    ``MIN_HEAD_RATIO`` times the shaft width, tapering to the tip (unlike a "T" or a "Y") and
    centred on the shaft line (unlike the flag of a "1" or the bowl of a "P").
    """
    _mean, major, minor, pts = _centred_axes(xs, ys)
    t, s = pts @ major, pts @ minor
    length = t.max() - t.min() + 1
    if length < 7:
        return 0.0, None, None
    nb = int(min(max(length / 2, 6), 16))  # np.clip, without its overhead
    smin, smax = slice_extents(t, s, nb)
    if np.isnan(smin).any():
        return 0.0, None, None
    w, centre = smax - smin + 1.0, (smax + smin) / 2
    if w.max() < 3:
        return 0.0, None, None
    # Orient so that the head (wider half) is at the end of the profile.
    if w[: nb // 2].sum() > w[nb - nb // 2 :].sum():
        smin, smax = -smax[::-1], -smin[::-1]
        w, centre, t, s, major = w[::-1], -centre[::-1], -t, -s, -major
    if 0.35 * length < median(w[: max(2, nb * 2 // 5)]):
        return 0.0, None, None  # a blob, not a shaft
    score = _arrow_profile_score(smin, smax)
    if score <= 0:
        return 0.0, None, None
    head_w = float(w.max())
    fill, linear = _head_fill(t, s, w)
    # A drawn head is a filled triangle whose width falls linearly to the tip; the "heads" of
    # glyphs ("4", "N", "h") are hollow and those of crosses ("t", "+") stop abruptly.
    if fill < 0.7 or linear < 0.6:
        return 0.0, None, None
    score *= 0.6 + 0.4 * min(fill, linear)
    # Tip: the pixel farthest along the axis among those near the centre line.
    near = np.abs(s - median(centre)) <= max(1.5, 0.35 * head_w)
    cand = np.where(near)[0] if near.any() else np.arange(len(t))
    j = cand[int(np.argmax(t[cand]))]
    tip = (int(xs[j]), int(ys[j]))
    direction = math.degrees(math.atan2(major[1], major[0])) % 360
    return score, tip, direction


def triangle_score(
    contour: np.ndarray, area: float, hull_area: float | None = None
) -> tuple[float, tuple[int, int] | None, float | None, float]:
    """Score of a solid triangle, its apex (smallest-angle vertex), direction centroid→apex and apex angle (deg).
    ``hull_area``: ``convex_hull_area(contour)`` when the caller has it."""
    if area < 8 or len(contour) < 3:
        return NO_TRIANGLE
    hull_area = convex_hull_area(contour) if hull_area is None else hull_area
    solidity = area / hull_area
    # Each test below fails the same way, so the cheap ones go first (the enclosing triangle
    # costs more than the rest of the test).
    if solidity < TRIANGLE_MIN_SOLIDITY:
        return NO_TRIANGLE
    (_, (rw, rh), _) = cv2.minAreaRect(contour)
    rect_fill = hull_area / max(rw * rh, 1.0)
    if rect_fill > 0.75:
        return NO_TRIANGLE
    ok, tri = cv2.minEnclosingTriangle(contour.astype(np.float32))
    if tri is None:  # degenerate (collinear) contour
        return NO_TRIANGLE
    tri = tri.reshape(3, 2)
    tri_area = abs(cv2.contourArea(tri))
    if tri_area <= 0:
        return NO_TRIANGLE
    fill = hull_area / tri_area
    if fill < 0.8:
        return NO_TRIANGLE
    angles = []
    for i in range(3):
        a, b, c = tri[i], tri[(i + 1) % 3], tri[(i + 2) % 3]
        v1, v2 = b - a, c - a
        cosv = float(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        angles.append(math.degrees(math.acos(np.clip(cosv, -1, 1))))
    i = int(np.argmin(angles))
    others = [a for j, a in enumerate(angles) if j != i]
    # A pointer head is a sharp isosceles triangle: apex angle 25-75 deg, equal base angles.
    # Needle-like triangles (apex under ~25 deg) are tapering streaks and blot bands.
    if angles[i] > 75 or angles[i] < 25 or abs(others[0] - others[1]) > 25:
        return NO_TRIANGLE
    apex = tri[i]
    # Snap the apex to the nearest contour point so the tip lies on ink.
    pts = contour.reshape(-1, 2)
    apex_px = pts[int(np.argmin(((pts - apex) ** 2).sum(1)))]
    centroid = pts.mean(0)
    d = apex_px - centroid
    direction = math.degrees(math.atan2(d[1], d[0])) % 360
    score = float(np.clip(0.5 * (fill - 0.72) / 0.28 + 0.5 * (solidity - 0.8) / 0.2, 0, 1)) * 0.5 + 0.5
    return score, (int(apex_px[0]), int(apex_px[1])), direction, float(angles[i])


def star_score(contour: np.ndarray, area: float, hull_area: float | None = None) -> float:
    """Score of an asterisk / star: five or more spokes around a centre, roughly round.
    ``hull_area``: ``convex_hull_area(contour)`` when the caller has it."""
    if area < 15 or len(contour) < 8:
        return 0.0
    solidity = area / (convex_hull_area(contour) if hull_area is None else hull_area)
    x, y, w, h = cv2.boundingRect(contour)
    if not (0.6 <= w / max(h, 1) <= 1.65) or not (0.25 <= solidity <= STAR_MAX_SOLIDITY):
        return 0.0
    flat = contour.reshape(-1, 2)
    pts = flat.astype(np.float64)
    c = flat.sum(0) / len(flat)  # integer sums: the mean np.mean gives, for less overhead
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    rad = np.hypot(pts[:, 0] - c[0], pts[:, 1] - c[1])
    # Small glyphs have few contour points: empty bins are filled from their neighbours.
    bins = 72
    idx = ((ang + np.pi) / (2 * np.pi) * bins).astype(int) % bins
    prof = np.zeros(bins)
    np.maximum.at(prof, idx, rad)
    full = prof > 0
    if not full.all():
        pos = np.nonzero(full)[0]
        known = prof[pos]
        prof = np.interp(np.arange(bins), np.concatenate((pos - bins, pos, pos + bins)),
                         np.concatenate((known, known, known)))
    prof = np.convolve(np.concatenate((prof[-2:], prof, prof[:2])), _BOX3, "same")[2:-2]
    thr = 0.5 * (prof.max() + median(prof))
    above = prof > thr
    starts = np.nonzero(above & ~np.concatenate((above[-1:], above[:-1])))[0]  # np.roll(above, 1)
    spokes = len(starts)
    if spokes < 5 or spokes > 10:
        return 0.0
    depth = 1.0 - np.percentile(prof, 15) / max(prof.max(), 1e-6)
    if depth < 0.3:
        return 0.0
    # Spokes of a drawn asterisk are evenly spaced; ragged blobs have irregular lobes.
    gaps = np.diff(np.append(starts, starts[0] + bins))
    if float(np.std(gaps)) > 0.35 * float(np.mean(gaps)):
        return 0.0
    return float(np.clip(0.5 + 0.5 * depth, 0, 1))


def ring_shape(outer: np.ndarray, hole_area: float) -> tuple[str | None, float]:
    """Classify a closed outline with an enclosed hole as ("box" | "circle" | None, score)."""
    area = cv2.contourArea(outer)
    if area < 30 or hole_area < 0.35 * area:
        return None, 0.0
    (_, (rw, rh), _) = cv2.minAreaRect(outer)
    rect_fill = area / max(rw * rh, 1.0)
    peri = cv2.arcLength(outer, True)
    approx = cv2.approxPolyDP(outer, 0.04 * peri, True)
    if len(approx) == 4 and rect_fill > 0.86 and cv2.isContourConvex(approx):
        return "box", float(np.clip((rect_fill - 0.86) / 0.14, 0, 1)) * 0.4 + 0.6
    if len(outer) >= 8 and 0.7 <= rect_fill <= 0.86:
        (_, (ea, eb), _) = cv2.fitEllipse(outer)
        e_area = math.pi * ea * eb / 4
        ratio = area / max(e_area, 1.0)
        if 0.88 <= ratio <= 1.1 and min(ea, eb) / max(ea, eb, 1) > 0.3:
            return "circle", float(1.0 - abs(1.0 - ratio) * 3)
    return None, 0.0
