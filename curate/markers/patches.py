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


def patch_box(marker: DetectedMarker, panel_wh: tuple[int, int], scale: float = DEFAULT_SCALE) -> tuple[int, int, int, int]:
    """Region the marker designates, in panel pixels.

    Arrows/arrowheads: a square beyond the tip on the pointed side, sized from the marker
    (3x its longer side) and the panel (at least 12% of its shorter side). Boxes/circles: the
    enclosed region. Asterisks: a square centred beside the glyph (it sits next to its target).
    ``scale`` multiplies the pointer and asterisk patch sizes.
    """
    pw, ph = panel_wh
    x1, y1, x2, y2 = marker.bbox_xyxy
    mw, mh = x2 - x1, y2 - y1
    if marker.kind in ("box", "circle"):
        return max(0, x1), max(0, y1), min(pw, x2), min(ph, y2)
    side = scale * max(3.0 * max(mw, mh), 0.12 * min(pw, ph), 16.0)
    if marker.kind in ("arrow", "arrowhead") and marker.tip_xy is not None:
        a = math.radians(marker.direction_deg or 0.0)
        tx, ty = marker.tip_xy
        # Centre half a patch beyond the tip so the tip sits on the patch edge, pointing in.
        cx, cy = tx + math.cos(a) * side * 0.45, ty + math.sin(a) * side * 0.45
        return _clip_box(cx, cy, side, side, panel_wh)
    # Asterisk (or a pointer without a tip): centred next to the glyph, on the side with more room.
    gx, gy = (x1 + x2) / 2, (y1 + y2) / 2
    dx = side * 0.5 + mw / 2 if gx < pw / 2 else -(side * 0.5 + mw / 2)
    return _clip_box(gx + dx, gy, side, side, panel_wh)


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
