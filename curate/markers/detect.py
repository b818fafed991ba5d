"""Find drawn markers (arrows, arrowheads, asterisks, boxes, circles) in one panel image.

Pipeline (OpenCV, CPU): one binary mask per candidate colour — saturated hues by HSV range,
white and black by contrast with the local background (top-hat / black-hat; white grown by
hysteresis so faint shafts stay attached; see ``masks``) — then connected components, size,
text-line and context filters (``context``), the shape tests of ``shapes`` (glyphs that fit
no shape get a second look in the retry masks) and the calibration of
``calibrate`` (colour priors, optional caption guidance, report threshold, per-panel cap).
Closed outlines (boxes, circles; ``rings``) come from a morphologically closed copy of each mask so
dashed outlines join. All coordinates are panel pixels (x right, y down); boxes are
half-open xyxy.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from curate.markers.calibrate import Expected, finalise
from curate.markers.colours import name_of_pixels
from curate.markers.context import (
    behind,
    beside,
    connector,
    context_ok,
    isolated,
    light_surround,
    light_table,
    local_glyphs,
    pure_ink,
    text_like,
)
from curate.markers.found import KINDS, MIN_CLEAR, MIN_CONFIDENCE, DetectedMarker, MarkerScan
from curate.markers.masks import colour_masks, components, retry_components
from curate.markers.petals import MIN_SIDE, ink_strength, petal_score
from curate.markers.rings import ring_candidates
from curate.markers.shapes import (
    NO_TRIANGLE,
    STAR_MAX_SOLIDITY,
    TRIANGLE_MIN_SOLIDITY,
    arrow_score,
    convex_hull_area,
    star_score,
    triangle_score,
)
from curate.runtime.threads import one_blas_thread, one_opencv_thread

__all__ = ["KINDS", "DetectedMarker", "MarkerScan", "detect_markers"]

ARROW_OVER_HEAD = 0.55


def _is_scale_bar(w: int, h: int, area: int, panel_wh: tuple[int, int]) -> bool:
    """Thin, filled, horizontal bar: the usual scale bar (panel ``(W, H)`` in px)."""
    pw, ph = panel_wh
    return (
        h <= max(6, 0.025 * ph) and w >= 4 * h and w >= 8 and area >= 0.75 * w * h and w <= 0.6 * pw
    )


def _solid_candidates(
    mask, loose, colour: str, rgb: np.ndarray, scan: MarkerScan | None, comps, glyph_boxes: np.ndarray,
    light: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[list[DetectedMarker], np.ndarray]:
    """Arrows, arrowheads and asterisks among the connected components of one mask, and the
    labels of the components that fit no shape, to retry in another
    mask. Scale bars go to ``scan`` (``None`` on a retry: they were found the first time).
    ``glyph_boxes``: ``N x 4`` boxes of the glyph-sized components of the colour's mask;
    ``light``: for white and black, the panel's pixels of the opposite extreme and their
    ``light_table`` (see ``context.light_surround``)."""
    ph, pw = mask.shape
    labels, stats, small = comps
    out: list[DetectedMarker] = []
    shapeless: list[int] = []
    shaped: list[tuple[int, np.ndarray, tuple]] = []
    max_side = max(12, 0.3 * min(pw, ph))
    rows = stats.tolist()  # Python ints: far less overhead per component than NumPy scalars
    # A white glyph with light pixels all around is a gap between dark strokes (letters), and
    # a black one with dark pixels all around a gap between bright strokes.
    for i in small.tolist():
        x, y, w, h, a = rows[i]
        if colour in ("white", "black") and _is_scale_bar(w, h, a, (pw, ph)):
            if scan is not None:
                scan.scale_bars.append((x, y, x + w, y + h))
            continue
        if a < 12 or max(w, h) < 6 or max(w, h) > max_side or a > 0.6 * w * h and max(w, h) > 3 * min(w, h):
            continue
        # A glyph cut by the panel edge cannot be checked for a whole head and tail (none of
        # the 126 hand-boxed pointers on panel-gt touches its panel's edge; texture often does).
        if x == 0 or y == 0 or x + w == pw or y + h == ph:
            continue
        comp = labels[y : y + h, x : x + w] == i
        if light is not None and light_surround(*light, comp, x, y):
            continue
        if isolated(comp, loose, x, y) < MIN_CLEAR:
            continue
        det = _classify_solid(comp, x, y, a, lambda comp=comp, x=x, y=y: _typeset_star(rgb, comp, x, y, colour))
        if det is None:
            shapeless.append(i)
            continue
        kind = det[0]
        if kind == "arrowhead" and max(w, h) < 12 or not pure_ink(rgb[y : y + h, x : x + w][comp], colour):
            continue
        shaped.append((i, comp, det))
    # Pointers of the same direction beside a pointer are its siblings (a column of band
    # arrows beside a blot), not letters of a word around it.
    pointers = [(stats[i, :4], d[3]) for i, _c, d in shaped if d[0] != "asterisk"]
    for i, comp, (kind, score, tip, direction, apex) in shaped:
        x, y, w, h, a = rows[i]
        # Glyph neighbours in the same colour mask (small components: letters of a word).
        glyphs = glyph_boxes
        if kind != "asterisk" and len(pointers) > 1:
            siblings = [b for b, d in pointers if abs((d - direction + 180) % 360 - 180) <= 20]
            glyphs = glyphs[~(glyphs[:, None, :] == np.array(siblings)[None]).all(2).any(1)]
        if kind != "asterisk" and abs(np.sin(np.radians(direction))) > 0.85:
            # An upright "t", "l" or "1" in blurred text: its faint neighbours drop out of the
            # strict mask, so look in the loose one too, but only beside the pointer (what lies
            # ahead may be what it marks; a column of stacked band arrows is not a word).
            side = local_glyphs(loose, (x, y, w, h))
            side = side[beside(side, (x, y, w, h), direction)]
            glyphs = np.concatenate([glyphs, side])
        if kind == "arrow":
            # A label at the tail of an arrow says what it points at; only glyphs ahead count.
            glyphs = glyphs[~behind(glyphs, (x, y, w, h), direction)]
        neighbours = text_like((x, y, w, h), glyphs)
        if neighbours >= 2 or (neighbours == 1 and score < 0.8):
            continue
        if not context_ok(kind, colour, rgb, (x, y, x + w, y + h), apex):
            continue
        if kind == "arrow" and connector(rgb, tip, direction, (x, y, x + w, y + h)):
            continue
        name = colour
        if colour == "other":
            name = name_of_pixels(rgb[y : y + h, x : x + w][comp])
        out.append(DetectedMarker(kind, name, (x, y, x + w, y + h), tip, direction, round(score, 3)))
    return out, np.asarray(shapeless, np.int64)


def _typeset_star(rgb: np.ndarray, comp: np.ndarray, x: int, y: int, colour: str, pad: int = 3) -> float:
    """``petals.petal_score`` of a component (crop ``comp`` at ``x, y``) in a padded crop."""
    H, W = rgb.shape[:2]
    h, w = comp.shape
    if max(w, h) < MIN_SIDE or not 0.7 <= w / h <= 1.45:
        return 0.0
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(W, x + w + pad), min(H, y + h + pad)
    padded = np.zeros((y1 - y0, x1 - x0), np.uint8)
    padded[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = comp
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    strength = ink_strength(crop, colour, padded)
    if not strength.any():  # no ink stronger than its surround (one glyph in eight): no hub
        return 0.0
    return petal_score(strength, padded)


def _classify_solid(comp: np.ndarray, x0: int, y0: int, area: int, petals: Callable[[], float] | None = None):
    """Best of arrow / arrowhead / asterisk for one component crop; ``None`` if none fits.
    ``petals``: the typeset-asterisk score of the glyph's ink strength (``petals``), asked
    only of glyphs that fit no outline shape (it costs more than the outline tests)."""
    ys, xs = np.nonzero(comp)
    contours, _ = cv2.findContours(comp.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea) + np.array([x0, y0])
    hull = convex_hull_area(contour)
    # A glyph solid enough for a triangle is too solid for a star: only one of them can score.
    solid = area / hull >= TRIANGLE_MIN_SOLIDITY
    tri, tri_tip, tri_dir, apex = triangle_score(contour, float(area), hull) if solid else NO_TRIANGLE
    arr, arr_tip, arr_dir = arrow_score(xs + x0, ys + y0)
    star = star_score(contour, float(area), hull) if area / hull <= STAR_MAX_SOLIDITY else 0.0
    best = max((tri, "arrowhead"), (arr, "arrow"), (star, "asterisk"))
    if best[0] < MIN_CONFIDENCE and petals is not None:
        star = petals()
        best = (star, "asterisk")
    # A clear shaft behind the head makes it an arrow even when the whole glyph is also
    # nearly triangular (short, thick shafts); a bare triangle never has a shaft profile.
    if arr >= ARROW_OVER_HEAD and best[1] == "arrowhead":
        best = (arr, "arrow")
    if best[0] < MIN_CONFIDENCE:
        return None
    if best[1] == "arrowhead":
        return "arrowhead", tri, tri_tip, tri_dir, apex
    if best[1] == "arrow":
        return "arrow", arr, arr_tip, arr_dir, 0.0
    return "asterisk", star, None, None, 0.0


def _iou_or_contained(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    if inter == 0:
        return 0.0
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return max(inter / (area_a + area_b - inter), inter / min(area_a, area_b))


def _on_outline(inner, ring) -> bool:
    """``inner`` sits on the outline of ``ring`` (a corner or dash of a box, not its content)."""
    x1, y1, x2, y2 = inner
    r1, r2, r3, r4 = ring
    inside = x1 >= r1 - 2 and y1 >= r2 - 2 and x2 <= r3 + 2 and y2 <= r4 + 2
    touches = min(abs(x1 - r1), abs(y1 - r2), abs(x2 - r3), abs(y2 - r4)) <= 2
    return inside and touches


def _suppress(markers: list[DetectedMarker]) -> list[DetectedMarker]:
    """Keep the most confident of overlapping detections (a glyph seen in two masks)."""
    kept: list[DetectedMarker] = []
    rings = [m.bbox_xyxy for m in markers if m.kind in ("box", "circle")]
    markers = [m for m in markers if m.kind in ("box", "circle") or not any(_on_outline(m.bbox_xyxy, r) for r in rings)]
    for m in sorted(markers, key=lambda d: (-d.confidence, d.colour in ("black", "white"))):
        if m.kind in ("box", "circle"):
            # An outline may enclose pointers; only an identical outline suppresses it.
            clash = any(k.kind == m.kind and _iou_or_contained(k.bbox_xyxy, m.bbox_xyxy) > 0.8 for k in kept)
        else:
            clash = any(
                k.kind not in ("box", "circle") and _iou_or_contained(k.bbox_xyxy, m.bbox_xyxy) > 0.5 for k in kept
            )
        if not clash:
            kept.append(m)
    return kept


def detect_markers(rgb_panel: np.ndarray, expected: Expected | None = None) -> MarkerScan:
    """Markers and scale bars in an ``H x W x 3`` uint8 RGB panel.

    ``expected`` (optional) lists the ``(kind, colour or None)`` pairs that the caption's marker
    phrases name; those are reported from a lower confidence and the others are damped. An
    empty list means the caption names no marker. ``None`` (default) is the unguided detector.
    """
    # One BLAS thread: OpenBLAS splits a dot product of over 10,000 elements (the pixels of a
    # large component in the arrow test) across its threads, which costs ~4 ms of CPU each on
    # a busy machine, and the split sum depends on the thread count. One thread gives what
    # Ray's workers (OMP_NUM_THREADS=1) get, for a fraction of the time. OpenCV's own pool
    # likewise: a panel's labelling and morphology split over two threads cost more CPU than on
    # one (12.9 against 11.2 ms per panel at moderate load); the detections are the same.
    with one_blas_thread(), one_opencv_thread():
        return _scan(rgb_panel, expected)


def _scan(rgb_panel: np.ndarray, expected: Expected | None) -> MarkerScan:
    scan = MarkerScan()
    if rgb_panel.ndim != 3 or min(rgb_panel.shape[:2]) < 8:
        return scan
    rgb = np.ascontiguousarray(rgb_panel[..., :3])
    found: list[DetectedMarker] = []
    masks, loose, retry = colour_masks(rgb)
    r, g, b = cv2.split(rgb)
    lights = {"white": cv2.min(cv2.min(r, g), b) > 200, "black": cv2.max(cv2.max(r, g), b) < 55}
    for colour, mask in masks.items():
        if not cv2.hasNonZero(mask):
            continue
        box = cv2.boundingRect(mask)  # once per mask: it scans the whole of a sparse one
        comps = components(mask, box)
        glyphs = comps[1][comps[2], :4]
        light = lights.get(colour)
        light = None if light is None else (light, light_table(light))  # once per colour: the retry reuses it
        solid, shapeless = _solid_candidates(mask, loose[colour], colour, rgb, scan, comps, glyphs, light)
        found.extend(solid)
        if colour in retry:
            again = retry_components(comps, shapeless, retry[colour], core=colour == "white")
            if again is not None and len(again[2]):
                more = np.concatenate([glyphs, again[1][again[2], :4]])
                found.extend(_solid_candidates(mask, loose[colour], colour, rgb, None, again, more, light)[0])
        for close_px in (3, 9):
            found.extend(ring_candidates(mask, loose[colour], colour, rgb, close_px, glyphs, box))
    kept = finalise(_suppress(found), expected)
    scan.markers = sorted(kept, key=lambda d: (d.bbox_xyxy[1], d.bbox_xyxy[0]))
    # in reading order, not in OpenCV's label order (which depends on how it splits the image)
    scan.scale_bars.sort(key=lambda b: (b[1], b[0]))
    return scan
