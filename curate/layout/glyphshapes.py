"""Non-letter blobs for the glyph reader's reject class: what else sits alone in a figure's corner.

Plot markers, curve pieces, arrows, noise and image fragments. Rings and plain bars are left
out (a recogniser reads them as ``o`` and ``l`` too), and so are crosses (``x``).
"""

from __future__ import annotations

import cv2
import numpy as np


def _polygon(img: np.ndarray, s: int, rng: np.random.Generator) -> None:
    """A plot marker: triangle, square, diamond, star or pentagon, filled or outlined."""
    n = int(rng.choice([3, 4, 5, 10]))
    angles = np.arange(n) * 2 * np.pi / n + rng.uniform(0, np.pi)
    radius = np.where(np.arange(n) % 2, 0.45, 1.0) if n == 10 else np.ones(n)
    pts = np.stack([s + s * 0.9 * radius * np.cos(angles), s + s * 0.9 * radius * np.sin(angles)], 1)
    pts = pts.astype(np.int32)
    if rng.random() < 0.6:
        cv2.fillPoly(img, [pts], 255)
    else:
        cv2.polylines(img, [pts], True, 255, int(rng.integers(1, max(2, s // 5))))


def _curve(img: np.ndarray, s: int, rng: np.random.Generator) -> None:
    """A piece of a plotted curve or trace, sometimes with markers on it."""
    xs = np.linspace(0, 2 * s - 1, 24)
    ys = s + s * 0.8 * np.sin(xs / s * rng.uniform(1, 5) + rng.uniform(0, 6)) * rng.uniform(0.3, 1)
    pts = np.stack([xs, ys], 1).astype(np.int32)
    cv2.polylines(img, [pts], False, 255, int(rng.integers(1, 4)))
    if rng.random() < 0.4:
        for px, py in pts[:: int(rng.integers(4, 9))]:
            cv2.circle(img, (int(px), int(py)), max(2, s // 6), 255, -1)


def _arrow(img: np.ndarray, s: int, rng: np.random.Generator) -> None:
    a = rng.uniform(0, 2 * np.pi)
    p1 = (int(s - 0.9 * s * np.cos(a)), int(s - 0.9 * s * np.sin(a)))
    p2 = (int(s + 0.9 * s * np.cos(a)), int(s + 0.9 * s * np.sin(a)))
    cv2.arrowedLine(img, p1, p2, 255, int(rng.integers(1, 4)), tipLength=float(rng.uniform(0.2, 0.5)))


def _patch(img: np.ndarray, s: int, rng: np.random.Generator) -> None:
    """Image texture: smoothed noise thresholded, as a cell or tissue fragment leaves it."""
    noise = rng.random((s, s)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), float(rng.uniform(0.6, 2.5)))
    img[s // 2 : s // 2 + s, s // 2 : s // 2 + s] = (noise > np.median(noise)).astype(np.uint8) * 255


def _blob(img: np.ndarray, s: int, rng: np.random.Generator) -> None:
    axes = (int(rng.integers(max(1, s // 4), s)), int(rng.integers(max(1, s // 4), s)))
    cv2.ellipse(img, (s, s), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)


def _bracket(img: np.ndarray, s: int, rng: np.random.Generator) -> None:
    """A significance bracket or scale bar with a tick, and its star."""
    t = int(rng.integers(1, 3))
    cv2.line(img, (0, s), (2 * s - 1, s), 255, t)
    cv2.line(img, (0, s), (0, 2 * s - 1), 255, t)
    cv2.line(img, (2 * s - 1, s), (2 * s - 1, 2 * s - 1), 255, t)
    if rng.random() < 0.5:
        cv2.circle(img, (s, s - s // 3), max(2, s // 5), 255, -1)


DRAWERS = (_polygon, _curve, _arrow, _patch, _blob, _bracket)


def shapes(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """``n`` uint8 ink crops of non-letter blobs, cropped to their ink."""
    out = []
    for _ in range(n):
        s = int(rng.integers(6, 40))
        img = np.zeros((s * 2, s * 2), np.uint8)
        DRAWERS[int(rng.integers(0, len(DRAWERS)))](img, s, rng)
        if rng.random() < 0.3:
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 1.0)))
        ys, xs = np.nonzero(img > 40)
        if ys.size:
            out.append(img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    return out
