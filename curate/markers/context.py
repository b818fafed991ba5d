"""Context tests for marker candidates: is a glyph isolated, part of a text line, on a light
page, drawn in flat ink, or an outline around content like its surroundings?

All coordinates are panel pixels (x right, y down); ``rgb`` is the ``H x W x 3`` uint8 panel.
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.images import label_components
from curate.markers.orderstats import median_of, percentile_of

# Apex angle (deg) above which a triangle on a light page is read as a plot or legend symbol.
SHARP_APEX_DEG = 50.0
# Longest side (px) below which a box or circle on a page is read as a hollow plot symbol.
MIN_RING_ON_PAGE = 20
_K3 = np.ones((3, 3), np.uint8)
_K7 = np.ones((7, 7), np.uint8)


def isolated(comp: np.ndarray, loose: np.ndarray, x: int, y: int) -> float:
    """Fraction of a 2-px ring around the component (1 px away) that is NOT in the loose mask.

    Drawn markers have sharp edges against a different background, so the ring is clear;
    bright or dark image structures fade out and fill the ring.
    """
    h, w = comp.shape
    x0, y0 = max(0, x - 4), max(0, y - 4)
    x1, y1 = min(loose.shape[1], x + w + 4), min(loose.shape[0], y + h + 4)
    c = np.zeros((y1 - y0, x1 - x0), np.uint8)
    c[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = comp
    near = cv2.dilate(c, _K3)
    far = cv2.dilate(c, _K7)  # what three 3 x 3 dilations give (OpenCV makes them one)
    # The ring is far without near (near lies inside far): its pixels, and those of the loose
    # mask in it, by differences of counts.
    ring_n = cv2.countNonZero(far) - cv2.countNonZero(near)
    if ring_n == 0:
        return 0.0
    box = loose[y0:y1, x0:x1]
    in_ring = cv2.countNonZero(cv2.bitwise_and(far, box)) - cv2.countNonZero(cv2.bitwise_and(near, box))
    return float(1.0 - in_ring / ring_n)


def line_neighbours(x, y, w, h, xs, ys, ws, hs) -> np.ndarray:
    """Mask of boxes on the same text line as ``(x, y, w, h)``: similar height, shared top
    or baseline, not a speck, closer than 0.6 glyph heights along the line."""
    same_h = np.abs(hs - h) <= 0.35 * np.maximum(hs, h)
    tol = 0.25 * np.maximum(hs, h) + 1
    aligned = (np.abs(ys - y) <= tol) | (np.abs(ys + hs - (y + h)) <= tol)
    glyph = ws >= 0.2 * hs
    gap = np.maximum(xs - (x + w), x - (xs + ws))
    return same_h & aligned & glyph & (gap <= 0.6 * h)


def behind(glyphs: np.ndarray, box_xywh, direction_deg: float) -> np.ndarray:
    """Mask of ``N x 4`` ``(x, y, w, h)`` glyph boxes whose centre lies behind the tail of a
    pointer at ``box_xywh`` pointing along ``direction_deg``."""
    x, y, w, h = box_xywh
    a = np.radians(direction_deg)
    cx = glyphs[:, 0] + glyphs[:, 2] / 2 - (x + w / 2)
    cy = glyphs[:, 1] + glyphs[:, 3] / 2 - (y + h / 2)
    return cx * np.cos(a) + cy * np.sin(a) < -0.25 * max(w, h)


def local_glyphs(loose: np.ndarray, box_xywh, reach: float = 2.0) -> np.ndarray:
    """``N x 4`` ``(x, y, w, h)`` panel boxes of the loose-mask components within ``reach``
    glyph sizes of a candidate, leaving out those that overlap the candidate itself."""
    x, y, w, h = (int(v) for v in box_xywh)
    m = int(reach * max(w, h)) + 2
    H, W = loose.shape
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + h + m)
    _n, _lab, stats = label_components(loose[y0:y1, x0:x1])
    boxes = stats[1:, :4].copy()
    boxes[:, 0] += x0
    boxes[:, 1] += y0
    bx, by, bw, bh = (boxes[:, j] for j in range(4))
    apart = (bx >= x + w) | (bx + bw <= x) | (by >= y + h) | (by + bh <= y)
    return boxes[apart & (stats[1:, cv2.CC_STAT_AREA] >= 4)]


def beside(glyphs: np.ndarray, box_xywh, direction_deg: float) -> np.ndarray:
    """Mask of ``N x 4`` glyph boxes whose centre is level with a pointer's centre along its
    direction (neither ahead of the tip nor behind the tail)."""
    x, y, w, h = box_xywh
    a = np.radians(direction_deg)
    cx = glyphs[:, 0] + glyphs[:, 2] / 2 - (x + w / 2)
    cy = glyphs[:, 1] + glyphs[:, 3] / 2 - (y + h / 2)
    return np.abs(cx * np.cos(a) + cy * np.sin(a)) <= 0.25 * max(w, h)


def text_like(box_xywh, glyphs: np.ndarray, exclude_overlap: bool = False) -> int:
    """Number of glyph neighbours of a component on a horizontal or vertical (rotated) line.

    ``glyphs`` is an ``N x 4`` array of ``(x, y, w, h)`` boxes of ink components of every
    colour (letters of a word may differ in colour, e.g. a sequence trace); boxes that
    contain the component are not counted; with ``exclude_overlap`` no box that overlaps it
    is (an outline found on a closed mask is a little larger than its own raw component).
    """
    x, y, w, h = (int(v) for v in box_xywh)
    xs, ys, ws, hs = (glyphs[:, j] for j in range(4))
    # The component's own box (or the ink blob that contains it) is not a neighbour.
    apart = ~((xs <= x) & (ys <= y) & (xs + ws >= x + w) & (ys + hs >= y + h))
    if exclude_overlap:
        apart &= (xs >= x + w) | (xs + ws <= x) | (ys >= y + h) | (ys + hs <= y)
    across = int(np.sum(line_neighbours(x, y, w, h, xs, ys, ws, hs) & apart))
    # Rotated axis titles: the same test with x and y swapped.
    down = int(np.sum(line_neighbours(y, x, h, w, ys, xs, hs, ws) & apart))
    return max(across, down)


def pure_ink(pixels: np.ndarray, colour: str) -> bool:
    """Drawn marker ink is a flat, strong colour: median near white / black / full saturation."""
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    if colour == "white":
        # Thin shafts are blurred grey; the core of the glyph (its brighter part) is white.
        return percentile_of(hsv[:, 2], 80) >= 190
    if colour == "black":
        return median_of(hsv[:, 2]) <= 80
    return median_of(hsv[:, 1]) >= 110 and median_of(hsv[:, 2]) >= 110


def light_table(light: np.ndarray) -> np.ndarray:
    """Summed-area table of a boolean "light pixel" map, for ``light_surround``."""
    return cv2.integral(light.astype(np.uint8))


def _count(table: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> int:
    return int(table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0])


def light_surround(light: np.ndarray, table: np.ndarray, comp: np.ndarray, x: int, y: int) -> bool:
    """A white glyph needs a darker background: on a light page it is a gap between strokes
    or the counter of a letter (the hole of an "A"), so light pixels are found either right
    next to it or a few pixels further out, beyond the strokes that enclose it.

    ``light``: page-light pixels of the panel (all channels > 200; for a black glyph, the
    inverted test: all < 55) and ``table`` its ``light_table``; counts come from the table.
    """
    h, w = comp.shape
    H, W = light.shape
    # Within 3 px of the glyph's box, the glyph's own pixels left out.
    y0, y1, x0, x1 = max(0, y - 3), min(H, y + h + 3), max(0, x - 3), min(W, x + w + 3)
    ring_n = (y1 - y0) * (x1 - x0) - np.count_nonzero(comp)
    ring_light = _count(table, y0, y1, x0, x1) - np.count_nonzero(light[y : y + h, x : x + w] & comp)
    if ring_n > 0 and ring_light / ring_n > 0.25:
        return True
    # Out to one glyph size beyond the enclosing strokes: mostly page-white around a counter.
    m = max(8, h, w)
    y0, y1, x0, x1 = max(0, y - m), min(H, y + h + m), max(0, x - m), min(W, x + w + m)
    iy0, iy1, ix0, ix1 = max(0, y - 4), min(H, y + h + 4), max(0, x - 4), min(W, x + w + 4)
    far_n = (y1 - y0) * (x1 - x0) - (iy1 - iy0) * (ix1 - ix0)
    far_light = _count(table, y0, y1, x0, x1) - _count(table, iy0, iy1, ix0, ix1)
    return far_n > 0 and far_light / far_n > 0.5


def on_page(rgb: np.ndarray, box) -> bool:
    """The glyph sits on a page (not on an image): the ring around its box is mostly paper white."""
    x1, y1, x2, y2 = box
    h, w = rgb.shape[:2]
    outer = rgb[max(0, y1 - 3) : min(h, y2 + 3), max(0, x1 - 3) : min(w, x2 + 3)]
    inner = np.zeros(outer.shape[:2], bool)
    oy, ox = y1 - max(0, y1 - 3), x1 - max(0, x1 - 3)
    inner[oy : oy + (y2 - y1), ox : ox + (x2 - x1)] = True
    ring = outer[~inner]
    return ring.size > 0 and float((ring.min(axis=1) > 225).mean()) > 0.6


def context_ok(kind: str, colour: str, rgb: np.ndarray, box, apex_deg: float = 0.0) -> bool:
    """Priors on where each kind is drawn.

    On a light page, black and white glyphs are mostly text, plot symbols, frames, legend
    swatches and table rules; of those only arrows (e.g. band arrows beside blots) are kept.
    Asterisks on a light page are significance marks, whatever their colour. Near-equilateral
    triangles there (apex over ``SHARP_APEX_DEG``) are plot or legend symbols; a pointer head
    drawn on a page is a sharper, elongated triangle. Small outlines on a page (under
    ``MIN_RING_ON_PAGE`` px) are hollow plot symbols and legend keys.
    """
    x1, y1, x2, y2 = box
    if kind in ("box", "circle") and max(x2 - x1, y2 - y1) < MIN_RING_ON_PAGE and on_page(rgb, box):
        return False
    if kind == "asterisk" or colour == "black" or (kind == "arrowhead" and apex_deg > SHARP_APEX_DEG):
        return not on_page(rgb, box) or (kind == "arrow" and colour == "black")
    return True


def outlines_content(rgb: np.ndarray, outer: np.ndarray, hole: np.ndarray) -> bool:
    """An outline marker encloses the same kind of content as lies around it.

    Legend swatches, filled symbols and the colour rings of heat-map blobs enclose a flat
    area of another colour: the median inside (hole shrunk by 2 px) differs from the median
    of a 4-px band outside the outline.
    """
    x, y, w, h = cv2.boundingRect(outer)
    H, W = rgb.shape[:2]
    x0, y0, x1, y1 = max(0, x - 6), max(0, y - 6), min(W, x + w + 6), min(H, y + h + 6)
    shift = np.array([x0, y0])
    fill = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.drawContours(fill, [outer - shift], -1, 255, -1)
    inner = np.zeros_like(fill)
    cv2.drawContours(inner, [hole - shift], -1, 255, -1)
    k = np.ones((3, 3), np.uint8)
    inner = cv2.erode(inner, k, iterations=2)
    band = cv2.dilate(fill, k, iterations=4) & ~fill
    if not inner.any() or not band.any():
        return True
    crop = rgb[y0:y1, x0:x1]
    inside, outside = crop[inner > 0], crop[band > 0]
    # Per-channel medians of the uint8 pixels: the half-integers np.median gives on float32
    # copies, so the difference (and its norm, in float32) is the same.
    diff = np.array([median_of(inside[:, c]) - median_of(outside[:, c]) for c in range(3)], np.float32)
    return float(np.linalg.norm(diff)) <= 80.0


def _rule_span(ink: np.ndarray, p, unit) -> int:
    """Length (px) of the ink line through ``p`` running across ``unit`` (a stroke of a
    letter is short, the edge of a box or a frame is long)."""
    h, w = ink.shape
    perp = np.array([-unit[1], unit[0]])
    span = 1
    for sign in (1, -1):
        for k in range(1, 4 * max(h, w)):
            q = p + sign * k * perp
            if not any(
                0 <= int(round(q[1] + unit[1] * j)) < h
                and 0 <= int(round(q[0] + unit[0] * j)) < w
                and ink[int(round(q[1] + unit[1] * j)), int(round(q[0] + unit[0] * j))]
                for j in (-1, 0, 1, 2)
            ):
                break
            span += 1
    return span


def _end_rule_span(gray: np.ndarray, start, unit, reach: int) -> int:
    """Walking from ``start`` along ``unit``: if the first ink within ``reach`` px is a thin
    rule (at most 4 px of ink, then light again), the length of that rule, else 0."""
    h, w = gray.shape
    ink_run, first, off_glyph = 0, None, False
    for step in range(1, reach + 6):
        px, py = int(round(start[0] + unit[0] * step)), int(round(start[1] + unit[1] * step))
        if not (0 <= px < w and 0 <= py < h):
            return 0
        # The first pixels past the end may still be the glyph's own (anti-aliased) ink.
        off_glyph = off_glyph or gray[py, px] > 180 or step > 3
        if not off_glyph:
            continue
        if gray[py, px] < 150:
            first = first if first is not None else np.array([px, py], float)
            ink_run += 1
            if ink_run > 4:
                return 0
        elif first is not None:
            return _rule_span(gray < 150, first, unit) if gray[py, px] > 180 else 0
        elif step > reach:
            return 0
    return 0


def connector(rgb: np.ndarray, tip, direction_deg: float, box) -> bool:
    """A flow-chart arrow: on a page, its tip and its tail both stop just short of long thin
    rules (box edges, lines). A pointer at a band or a structure ends at content, and a
    label at its tail is made of short strokes."""
    if tip is None or not on_page(rgb, box):
        return False
    x1, y1, x2, y2 = box
    a = np.radians(direction_deg)
    unit = np.array([np.cos(a), np.sin(a)])
    length = abs((x2 - x1) * unit[0]) + abs((y2 - y1) * unit[1])
    reach = int(max(6, 0.6 * length))
    m = int(2 * length) + reach + 8
    ox, oy = max(0, x1 - m), max(0, y1 - m)
    gray = cv2.cvtColor(rgb[oy : y2 + m, ox : x2 + m], cv2.COLOR_RGB2GRAY)
    t = np.asarray(tip, float) - np.array([ox, oy])
    tail = t - unit * (length - 1)
    need = 0.8 * length
    return _end_rule_span(gray, t, unit, reach) >= need and _end_rule_span(gray, tail, -unit, reach) >= need


def corner_inset_frame(rgb: np.ndarray, box) -> bool:
    """An outline in the corner of an image, framing an inset: just outside it, the page shows
    on two adjacent sides (the image's own edges) and image content on the others. A zoom box
    lies within the content (or wholly on a page); a heat-map column box has page above and
    below, never beside."""
    x1, y1, x2, y2 = box
    h, w = rgb.shape[:2]
    strips = {
        "left": rgb[y1:y2, max(0, x1 - 5) : max(0, x1 - 1)],
        "right": rgb[y1:y2, min(w, x2 + 1) : min(w, x2 + 5)],
        "top": rgb[max(0, y1 - 5) : max(0, y1 - 1), x1:x2],
        "bottom": rgb[min(h, y2 + 1) : min(h, y2 + 5), x1:x2],
    }
    page = {k: s.size == 0 or float((s.reshape(-1, 3).min(axis=1) > 225).mean()) > 0.8 for k, s in strips.items()}
    n = sum(page.values())
    return n in (2, 3) and (page["left"] or page["right"]) and (page["top"] or page["bottom"])
