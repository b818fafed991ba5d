"""Find drawn markers (arrows, arrowheads, asterisks, boxes, circles) in one panel image.

Pipeline (OpenCV, CPU): one binary mask per candidate colour — saturated hues by HSV range,
white and black by contrast with the local background (top-hat / black-hat; white grown by
hysteresis so faint shafts stay attached; see ``masks``) — then connected components, size,
text-line and context filters (``context``), the shape tests of ``shapes`` (glyphs that fit
no shape get a second look in the retry masks) and the calibration of
``calibrate`` (colour priors, optional caption guidance, report threshold, per-panel cap).
Closed outlines (boxes, circles) come from a morphologically closed copy of each mask so
dashed outlines join. All coordinates are panel pixels (x right, y down); boxes are
half-open xyxy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from curate.markers.calibrate import Expected, finalise
from curate.markers.colours import name_of_pixels
from curate.markers.context import (
    SHARP_APEX_DEG,
    behind,
    beside,
    connector,
    context_ok,
    corner_inset_frame,
    isolated,
    light_surround,
    light_table,
    local_glyphs,
    outlines_content,
    pure_ink,
    text_like,
)
from curate.markers.frames import MIN_SIDE as FRAME_MIN_SIDE
from curate.markers.frames import frame_box
from curate.markers.masks import colour_masks, components, retry_components
from curate.markers.petals import MIN_SIDE, ink_strength, petal_score
from curate.markers.shapes import arrow_score, ring_shape, star_score, triangle_score

KINDS = ("arrow", "arrowhead", "asterisk", "box", "circle")
MIN_CONFIDENCE = 0.45
MIN_CLEAR = 0.7
ARROW_OVER_HEAD = 0.55


@dataclass(frozen=True)
class DetectedMarker:
    """One marker; ``tip_xy``/``direction_deg`` only for arrows and arrowheads (0 = right, 90 = down)."""

    kind: str
    colour: str
    bbox_xyxy: tuple[int, int, int, int]
    tip_xy: tuple[int, int] | None
    direction_deg: float | None
    confidence: float


@dataclass
class MarkerScan:
    """Markers and scale bars found in one panel."""

    markers: list[DetectedMarker] = field(default_factory=list)
    scale_bars: list[tuple[int, int, int, int]] = field(default_factory=list)


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
    # A white glyph with light pixels all around is a gap between dark strokes (letters), and
    # a black one with dark pixels all around a gap between bright strokes.
    for i in small:
        x, y, w, h, a = (int(v) for v in stats[i])
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
        if isolated(comp.astype(np.uint8), loose, x, y) < MIN_CLEAR:
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
        x, y, w, h, a = (int(v) for v in stats[i])
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
    return petal_score(ink_strength(crop, colour, padded), padded)


def _classify_solid(comp: np.ndarray, x0: int, y0: int, area: int, petals: Callable[[], float] | None = None):
    """Best of arrow / arrowhead / asterisk for one component crop; ``None`` if none fits.
    ``petals``: the typeset-asterisk score of the glyph's ink strength (``petals``), asked
    only of glyphs that fit no outline shape (it costs more than the outline tests)."""
    ys, xs = np.nonzero(comp)
    contours, _ = cv2.findContours(comp.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea) + np.array([x0, y0])
    tri, tri_tip, tri_dir, apex = triangle_score(contour, float(area))
    arr, arr_tip, arr_dir = arrow_score(xs + x0, ys + y0)
    star = star_score(contour, float(area))
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


def _outline_pixels(mask: np.ndarray, outer: np.ndarray, hole: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """uint8 crop (``h x w`` at ``x, y``) of the mask pixels between an outline and its hole."""
    shift = np.array([x, y])
    band = np.zeros((h, w), np.uint8)
    cv2.drawContours(band, [outer - shift], -1, 1, -1)
    if hole is not None:
        cv2.drawContours(band, [hole - shift], -1, 0, -1)
    return band & (mask[y : y + h, x : x + w] > 0).astype(np.uint8)


def closed_outlines(mask: np.ndarray, close_px: int):
    """``cv2.findContours`` (two-level hierarchy) of the mask closed by a ``close_px`` square,
    in panel pixels. Only the box around the ink is closed and traced, with a margin of one
    kernel beyond which closing changes nothing: the same contours, in the same order."""
    ph, pw = mask.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (close_px, close_px))
    x, y, w, h = cv2.boundingRect(mask)
    x0, y0, x1, y1 = max(0, x - close_px), max(0, y - close_px), min(pw, x + w + close_px), min(ph, y + h + close_px)
    closed = cv2.morphologyEx(mask[y0:y1, x0:x1], cv2.MORPH_CLOSE, kernel)
    return cv2.findContours(closed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0))


def _ring_candidates(
    mask: np.ndarray, loose: np.ndarray, colour: str, rgb: np.ndarray, close_px: int, glyphs: np.ndarray
) -> list[DetectedMarker]:
    """Boxes and circles: closed outlines (dashes joined by closing) with an enclosed hole."""
    ph, pw = mask.shape
    contours, hier = closed_outlines(mask, close_px)
    if hier is None:
        return []
    hier = hier[0]
    out: list[DetectedMarker] = []
    for i, c in enumerate(contours):
        if hier[i][3] != -1:
            continue
        x, y, w, h = cv2.boundingRect(c)
        # Frames of the whole image and tiny specks are not markers.
        if min(w, h) < 7 or (w > 0.8 * pw and h > 0.8 * ph) or w * h > 0.5 * pw * ph:
            continue
        # a contour without a hole can only be a frame, and frames are sought in the fine pass
        if hier[i][2] == -1 and (close_px != 3 or min(w, h) < FRAME_MIN_SIDE):
            continue
        hole, j, hole_c = 0.0, hier[i][2], None
        while j != -1:
            if cv2.contourArea(contours[j]) > hole:
                hole, hole_c = cv2.contourArea(contours[j]), contours[j]
            j = hier[j][0]
        kind, score = ring_shape(c, hole) if hole_c is not None else (None, 0.0)
        tip = direction = None
        apex, name = 0.0, colour
        if kind is None and close_px == 3 and hole_c is not None:
            outlined = _outlined_head(c, hole, hole_c, rgb)
            if outlined is not None:
                fill_colour, score, tip, direction, apex = outlined
                kind, name = "arrowhead", fill_colour or colour
        # A box whose content shares its hue (heat-map cells) joins it in the mask: no hole
        # is left to test, but its four sides are still one line of one colour.
        framed = kind is None and close_px == 3 and cv2.contourArea(c) >= 0.9 * w * h
        if framed:
            kind, score = "box", frame_box(rgb, mask, (x, y, w, h))
        if kind is None or score < MIN_CONFIDENCE:
            continue
        if kind != "arrowhead" and not framed and not outlines_content(rgb, c, hole_c):
            continue
        # The bowl of an "O", "D" or "o" in a word: letters of the same height beside it.
        # (A framed box's content shares its hue, unlike an inset's frame over an image; the
        # first column of a heat map has page beside and below it, as an inset would.)
        if kind == "box" and not framed and corner_inset_frame(rgb, (x, y, x + w, y + h)):
            continue
        if kind != "arrowhead" and text_like((x, y, w, h), glyphs, exclude_overlap=True) >= 1:
            continue
        # Drawn outlines stand out from what lies on either side of them; iso-intensity rings
        # of pseudo-coloured (LUT) images fade into pixels of the same hue.
        if isolated(_outline_pixels(mask, c, hole_c, x, y, w, h), loose, x, y) < MIN_CLEAR:
            continue
        if not context_ok(kind, name, rgb, (x, y, x + w, y + h), apex):
            continue
        if kind != "arrowhead" and colour == "other":
            ring = mask[y : y + h, x : x + w] > 0
            name = name_of_pixels(rgb[y : y + h, x : x + w][ring])
        out.append(DetectedMarker(kind, name, (x, y, x + w, y + h), tip, direction, round(score, 3)))
    return out


def _outlined_head(outer: np.ndarray, outer_area_hole: float, hole: np.ndarray, rgb: np.ndarray):
    """An outlined arrowhead: a triangular outline (usually dark) around a flat fill of another
    colour, or a hollow sharp one (the image shows through). Returns (fill colour name, or
    ``None`` for a hollow head, score, tip, direction, apex angle) or ``None``."""
    area = cv2.contourArea(outer)
    if hole is None or area < 60 or outer_area_hole < 0.2 * area:
        return None
    inner_score, inner_tip, inner_dir, inner_apex = triangle_score(hole, cv2.contourArea(hole))
    if inner_score < MIN_CONFIDENCE:
        return None
    score, tip, direction, apex = triangle_score(outer, area)
    if score < MIN_CONFIDENCE or not _three_corners(outer):
        # Shading or a line touching the outline spoils the outer contour: a sharp triangular
        # hole that fills most of it is still the head.
        if inner_apex > SHARP_APEX_DEG or outer_area_hole < 0.8 * area or not _three_corners(hole):
            return None
        score, tip, direction, apex = inner_score, inner_tip, inner_dir, inner_apex
    x, y, w, h = cv2.boundingRect(hole)
    # One pixel of margin so that erosion also peels the fill off the crop's edges.
    x, y = max(0, x - 1), max(0, y - 1)
    crop = rgb[y : y + h + 2, x : x + w + 2]
    fill = np.zeros(crop.shape[:2], np.uint8)
    cv2.drawContours(fill, [hole - np.array([x, y])], -1, 1, -1)
    fill = cv2.erode(fill, np.ones((3, 3), np.uint8))
    pixels = crop[fill > 0]
    if len(pixels) < 10:
        return None
    if float(pixels.std(axis=0).max()) <= 25:
        return name_of_pixels(pixels), score, tip, direction, apex
    # A triangle of image content is not filled flat; only a sharp pointer-shaped outline
    # (apex under SHARP_APEX_DEG, both contours) is taken for a hollow head.
    if max(apex, inner_apex) > SHARP_APEX_DEG:
        return None
    return None, score, tip, direction, apex


def _three_corners(contour: np.ndarray) -> bool:
    return len(cv2.approxPolyDP(contour, 0.06 * cv2.arcLength(contour, True), True)) == 3


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
    scan = MarkerScan()
    if rgb_panel.ndim != 3 or min(rgb_panel.shape[:2]) < 8:
        return scan
    rgb = np.ascontiguousarray(rgb_panel[..., :3])
    found: list[DetectedMarker] = []
    masks, loose, retry = colour_masks(rgb)
    r, g, b = cv2.split(rgb)
    lights = {"white": cv2.min(cv2.min(r, g), b) > 200, "black": cv2.max(cv2.max(r, g), b) < 55}
    for colour, mask in masks.items():
        if not mask.any():
            continue
        comps = components(mask)
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
            found.extend(_ring_candidates(mask, loose[colour], colour, rgb, close_px, glyphs))
    kept = finalise(_suppress(found), expected)
    scan.markers = sorted(kept, key=lambda d: (d.bbox_xyxy[1], d.bbox_xyxy[0]))
    # in reading order, not in OpenCV's label order (which depends on how it splits the image)
    scan.scale_bars.sort(key=lambda b: (b[1], b[0]))
    return scan
