"""Framed insets inside image panels (a zoomed crop pasted into a micrograph corner).

Only panels that are mostly image (few background pixels) are searched, so plot axes boxes
are not taken for insets. An inset is a closed, axis-aligned rectangular edge contour of
10-60 % of the panel's width and height. Boxes are in figure pixels, half-open.
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.layout.gutters import Box, ink_fraction


def _rect_contours(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Rectangular edge contours of an inset's size: 10-60 % of the panel's width and height
    (tested before the polygon fit, which most contours, specks of texture, would not need)."""
    ph, pw = gray.shape
    edges = cv2.Canny(gray, 60, 150)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not (0.1 * pw <= w <= 0.6 * pw and 0.1 * ph <= h <= 0.6 * ph):
            continue
        approx = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
        if len(approx) == 4 and cv2.contourArea(approx) >= 0.85 * w * h:
            out.append((x, y, w, h))
    return out


def find_insets(rgb: np.ndarray, ink: np.ndarray, panel: Box) -> list[Box]:
    """Framed insets inside ``panel`` (figure pixels); empty for plots and sparse panels."""
    x1, y1, x2, y2 = panel
    pw, ph = x2 - x1, y2 - y1
    if pw < 60 or ph < 60 or ink_fraction(ink[y1:y2, x1:x2]) < 0.6:
        return []
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[y1:y2, x1:x2]), cv2.COLOR_RGB2GRAY)
    found: list[Box] = []
    for x, y, w, h in sorted(_rect_contours(gray), key=lambda r: -r[2] * r[3]):
        box = (x1 + x, y1 + y, x1 + x + w, y1 + y + h)
        # The inner and outer edge of one frame give two nested rectangles: keep the outer.
        if any(_inside(box, f) for f in found):
            continue
        found.append(box)
    return found


def _inside(a: Box, b: Box, slack: float = 0.15) -> bool:
    """Whether ``a`` lies inside ``b`` give or take ``slack`` of b's size."""
    sx, sy = slack * (b[2] - b[0]), slack * (b[3] - b[1])
    return a[0] >= b[0] - sx and a[1] >= b[1] - sy and a[2] <= b[2] + sx and a[3] <= b[3] + sy
