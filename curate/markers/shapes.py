"""Shape tests for one connected component: arrow, arrowhead, asterisk, box, circle.

Every function takes the component's pixel coordinates or contour in panel pixels (x right,
y down) and returns a score in 0..1 (0 = not that shape) plus geometry where it applies.
Angles are degrees in image coordinates: 0 = pointing right, 90 = pointing down.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def principal_axes(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean point, unit major axis and unit minor axis of a pixel set."""
    pts = np.stack([xs, ys], 1).astype(np.float64)
    mean = pts.mean(0)
    cov = np.cov((pts - mean).T) if len(pts) > 2 else np.eye(2)
    w, v = np.linalg.eigh(cov)
    major = v[:, int(np.argmax(w))]
    return mean, major, np.array([-major[1], major[0]])


def width_profile(t: np.ndarray, s: np.ndarray, nbins: int) -> np.ndarray:
    """Extent across the axis (px) in ``nbins`` equal slices along it."""
    lo, hi = t.min(), t.max()
    idx = np.clip(((t - lo) / max(hi - lo, 1e-6) * nbins).astype(int), 0, nbins - 1)
    smax = np.full(nbins, -np.inf)
    smin = np.full(nbins, np.inf)
    np.maximum.at(smax, idx, s)
    np.minimum.at(smin, idx, s)
    width = smax - smin + 1.0
    width[~np.isfinite(width)] = 0.0
    return width


def arrow_score(xs: np.ndarray, ys: np.ndarray) -> tuple[float, tuple[int, int] | None, float | None]:
    """Score of "shaft with a triangular head", the tip pixel and the pointing direction.

    The head is the wide end of the width profile along the major axis; it must taper to the
    tip (unlike a "T" or a "Y", whose widest slice is the very end) and stand out from a
    thinner shaft on the other side.
    """
    mean, major, minor = principal_axes(xs, ys)
    pts = np.stack([xs, ys], 1) - mean
    t, s = pts @ major, pts @ minor
    length = t.max() - t.min() + 1
    nb = int(np.clip(length / 2, 6, 14))
    w = width_profile(t, s, nb)
    if length < 7 or w.max() < 2:
        return 0.0, None, None
    # Orient so that the head (wider half) is at the end of the profile.
    if w[: nb // 2].sum() > w[nb - nb // 2 :].sum():
        w, t, major = w[::-1], -t, -major
    head_w = w.max()
    k = int(np.argmax(w))
    shaft = w[: max(2, nb * 2 // 5)]
    shaft_w = float(np.median(shaft))
    tip_w = w[-1]
    if k == nb - 1 or head_w < 1.5 * shaft_w or tip_w > 0.75 * head_w:
        return 0.0, None, None
    if length / head_w < 1.2 or k < nb // 3:
        return 0.0, None, None
    # The shaft should be fairly even: a big spread means a blob, not a line.
    evenness = 1.0 - min(1.0, float(np.std(shaft)) / (shaft_w + 1e-6))
    taper = 1.0 - tip_w / head_w
    ratio = min(1.0, (head_w / max(shaft_w, 1.0) - 1.0) / 1.5)
    score = float(np.clip(0.4 * ratio + 0.3 * taper + 0.3 * evenness, 0, 1))
    # Tip: the pixel farthest along the axis among those near the centre line.
    near = np.abs(s) <= max(1.5, 0.35 * head_w)
    cand = np.where(near)[0] if near.any() else np.arange(len(t))
    j = cand[int(np.argmax(t[cand]))]
    tip = (int(xs[j]), int(ys[j]))
    direction = math.degrees(math.atan2(major[1], major[0])) % 360
    return score, tip, direction


def triangle_score(contour: np.ndarray, area: float) -> tuple[float, tuple[int, int] | None, float | None]:
    """Score of a solid triangle, its apex (smallest-angle vertex) and direction centroid→apex."""
    if area < 8 or len(contour) < 3:
        return 0.0, None, None
    hull = cv2.convexHull(contour)
    hull_area = max(cv2.contourArea(hull), 1.0)
    solidity = area / hull_area
    ok, tri = cv2.minEnclosingTriangle(contour.astype(np.float32))
    tri = tri.reshape(3, 2)
    tri_area = abs(cv2.contourArea(tri))
    if tri_area <= 0:
        return 0.0, None, None
    fill = hull_area / tri_area
    (_, (rw, rh), _) = cv2.minAreaRect(contour)
    rect_fill = hull_area / max(rw * rh, 1.0)
    if solidity < 0.8 or fill < 0.72 or rect_fill > 0.75:
        return 0.0, None, None
    angles = []
    for i in range(3):
        a, b, c = tri[i], tri[(i + 1) % 3], tri[(i + 2) % 3]
        v1, v2 = b - a, c - a
        cosv = float(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        angles.append(math.degrees(math.acos(np.clip(cosv, -1, 1))))
    i = int(np.argmin(angles))
    apex = tri[i]
    # Snap the apex to the nearest contour point so the tip lies on ink.
    pts = contour.reshape(-1, 2)
    apex_px = pts[int(np.argmin(((pts - apex) ** 2).sum(1)))]
    centroid = pts.mean(0)
    d = apex_px - centroid
    direction = math.degrees(math.atan2(d[1], d[0])) % 360
    score = float(np.clip(0.5 * (fill - 0.72) / 0.28 + 0.5 * (solidity - 0.8) / 0.2, 0, 1)) * 0.5 + 0.5
    return score, (int(apex_px[0]), int(apex_px[1])), direction


def star_score(contour: np.ndarray, area: float) -> float:
    """Score of an asterisk / star: five or more spokes around a centre, roughly round."""
    if area < 15 or len(contour) < 8:
        return 0.0
    hull = cv2.convexHull(contour)
    hull_area = max(cv2.contourArea(hull), 1.0)
    solidity = area / hull_area
    x, y, w, h = cv2.boundingRect(contour)
    if not (0.6 <= w / max(h, 1) <= 1.65) or not (0.25 <= solidity <= 0.88):
        return 0.0
    pts = contour.reshape(-1, 2).astype(np.float64)
    c = pts.mean(0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    rad = np.hypot(pts[:, 0] - c[0], pts[:, 1] - c[1])
    bins = 72
    idx = ((ang + np.pi) / (2 * np.pi) * bins).astype(int) % bins
    prof = np.zeros(bins)
    np.maximum.at(prof, idx, rad)
    prof = np.convolve(np.r_[prof[-2:], prof, prof[:2]], np.ones(3) / 3, "same")[2:-2]
    thr = 0.5 * (prof.max() + np.median(prof))
    above = prof > thr
    spokes = int(np.sum(above & ~np.roll(above, 1)))
    depth = 1.0 - np.percentile(prof, 15) / max(prof.max(), 1e-6)
    if spokes < 5 or spokes > 10 or depth < 0.22:
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
