"""Patch geometry around a marker and plain-words positions of a box in its panel.

Boxes are half-open xyxy panel pixels; ``panel_wh`` is (width, height) in px. Directions follow
the detector: 0 degrees = pointing right, 90 = pointing down.
"""

from __future__ import annotations

import math

from curate.markers.detect import DetectedMarker

DEFAULT_SCALE = 1.0


def _clip_box(cx: float, cy: float, w: float, h: float, panel_wh: tuple[int, int]) -> tuple[int, int, int, int]:
    """Box of size w x h centred at (cx, cy), shifted (not shrunk) to stay inside the panel."""
    pw, ph = panel_wh
    w, h = min(w, pw), min(h, ph)
    x1 = min(max(0.0, cx - w / 2), pw - w)
    y1 = min(max(0.0, cy - h / 2), ph - h)
    return int(round(x1)), int(round(y1)), int(round(x1 + w)), int(round(y1 + h))


def _apart(box, marker_box) -> bool:
    return box[2] <= marker_box[0] or box[0] >= marker_box[2] or box[3] <= marker_box[1] or box[1] >= marker_box[3]


def _trim_off(box, marker_box, ux: float, uy: float) -> tuple[int, int, int, int]:
    """Cut ``box`` back to the side of ``marker_box`` that ``(ux, uy)`` points to, when they overlap."""
    if _apart(box, marker_box):
        return box
    x1, y1, x2, y2 = box
    if abs(ux) >= abs(uy):
        x1, x2 = (max(x1, marker_box[2]), x2) if ux >= 0 else (x1, min(x2, marker_box[0]))
    else:
        y1, y2 = (max(y1, marker_box[3]), y2) if uy >= 0 else (y1, min(y2, marker_box[1]))
    return (x1, y1, x2, y2) if x2 - x1 >= 4 and y2 - y1 >= 4 else box


def patch_box(marker: DetectedMarker, panel_wh: tuple[int, int], scale: float = DEFAULT_SCALE) -> tuple[int, int, int, int]:
    """Region the marker designates, in panel pixels, with the marker's own ink left out.

    Arrows/arrowheads: a square beyond the tip on the pointed side, sized from the marker
    (3x its longer side) and the panel (at least 12% of its shorter side), placed just clear of
    the marker's box (trimmed where the panel edge pushes it back). Boxes/circles: the
    enclosed region inside the outline. Asterisks: a square beside the glyph (it sits next to
    its target). ``scale`` multiplies the pointer and asterisk patch sizes. The marker is kept
    out of the patch so that a model trained on patches cannot learn to find markers.
    """
    pw, ph = panel_wh
    x1, y1, x2, y2 = marker.bbox_xyxy
    mw, mh = x2 - x1, y2 - y1
    if marker.kind in ("box", "circle"):
        # Inside the outline (strokes are 1-4 px plus an anti-aliased fringe); for an ellipse,
        # the rectangle inscribed in its inner edge (half-axes over sqrt(2)).
        stroke = max(5, round(0.08 * min(mw, mh)))
        ix = iy = stroke
        if marker.kind == "circle":
            ix = round(mw / 2 - (mw / 2 - stroke) / math.sqrt(2)) + 1
            iy = round(mh / 2 - (mh / 2 - stroke) / math.sqrt(2)) + 1
        if mw > 2 * ix + 4 and mh > 2 * iy + 4:
            x1, y1, x2, y2 = x1 + ix, y1 + iy, x2 - ix, y2 - iy
        return max(0, x1), max(0, y1), min(pw, x2), min(ph, y2)
    side = scale * max(3.0 * max(mw, mh), 0.12 * min(pw, ph), 16.0)
    if marker.kind in ("arrow", "arrowhead") and marker.tip_xy is not None:
        a = math.radians(marker.direction_deg or 0.0)
        ux, uy = math.cos(a), math.sin(a)
        tx, ty = marker.tip_xy
        # Smallest shift along the pointing direction that clears the marker's box on one axis.
        need = []
        if abs(ux) > 1e-3:
            need.append(((x2 - tx) if ux > 0 else (tx - x1)) / abs(ux) + side / 2 / abs(ux))
        if abs(uy) > 1e-3:
            need.append(((y2 - ty) if uy > 0 else (ty - y1)) / abs(uy) + side / 2 / abs(uy))
        d = max(0.0, min(need))
        box = _clip_box(tx + ux * d, ty + uy * d, side, side, panel_wh)
        return _trim_off(box, marker.bbox_xyxy, ux, uy)
    # Asterisk (or a pointer without a tip): centred next to the glyph, on the side with more room.
    gx, gy = (x1 + x2) / 2, (y1 + y2) / 2
    right = gx < pw / 2
    dx = side * 0.5 + mw / 2 if right else -(side * 0.5 + mw / 2)
    return _trim_off(_clip_box(gx + dx, gy, side, side, panel_wh), marker.bbox_xyxy, 1.0 if right else -1.0, 0.0)


def position_name(box: tuple[int, int, int, int], panel_wh: tuple[int, int]) -> str:
    """"left upper", "center", "right lower", "center upper"... from the box centre by thirds."""
    pw, ph = panel_wh
    cx = (box[0] + box[2]) / 2 / max(pw, 1)
    cy = (box[1] + box[3]) / 2 / max(ph, 1)
    horiz = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "center"
    vert = "upper" if cy < 1 / 3 else "lower" if cy > 2 / 3 else "middle"
    if horiz == "center" and vert == "middle":
        return "center"
    return f"{horiz} {vert}"
