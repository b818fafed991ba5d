"""Boxes, circles and outlined arrowheads in one colour mask: closed outlines (dashes joined by
a morphological closing) with an enclosed hole, tested for shape and against their
surroundings. Panel pixels; see ``detect`` for the whole detector."""

from __future__ import annotations

import cv2
import numpy as np

from curate.markers.colours import name_of_pixels
from curate.markers.context import (
    SHARP_APEX_DEG,
    context_ok,
    corner_inset_frame,
    isolated,
    outlines_content,
    text_like,
)
from curate.markers.found import MIN_CLEAR, MIN_CONFIDENCE, DetectedMarker
from curate.markers.frames import MIN_SIDE as FRAME_MIN_SIDE
from curate.markers.frames import frame_box
from curate.markers.shapes import ring_shape, triangle_score


def _outline_pixels(mask: np.ndarray, outer: np.ndarray, hole: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """uint8 crop (``h x w`` at ``x, y``) of the mask pixels between an outline and its hole."""
    shift = np.array([x, y])
    band = np.zeros((h, w), np.uint8)
    cv2.drawContours(band, [outer - shift], -1, 1, -1)
    if hole is not None:
        cv2.drawContours(band, [hole - shift], -1, 0, -1)
    return band & (mask[y : y + h, x : x + w] > 0).astype(np.uint8)


def closed_outlines(mask: np.ndarray, close_px: int, box: tuple[int, int, int, int] | None = None):
    """``cv2.findContours`` (two-level hierarchy) of the mask closed by a ``close_px`` square,
    in panel pixels. Only the box around the ink is closed and traced, with a margin of one
    kernel beyond which closing changes nothing: the same contours, in the same order.
    ``box``: the mask's ``cv2.boundingRect`` when the caller has it."""
    ph, pw = mask.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (close_px, close_px))
    x, y, w, h = cv2.boundingRect(mask) if box is None else box
    x0, y0, x1, y1 = max(0, x - close_px), max(0, y - close_px), min(pw, x + w + close_px), min(ph, y + h + close_px)
    closed = cv2.morphologyEx(mask[y0:y1, x0:x1], cv2.MORPH_CLOSE, kernel)
    return cv2.findContours(closed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0))


def ring_candidates(
    mask: np.ndarray, loose: np.ndarray, colour: str, rgb: np.ndarray, close_px: int, glyphs: np.ndarray,
    box: tuple[int, int, int, int] | None = None,
) -> list[DetectedMarker]:
    """Boxes and circles: closed outlines (dashes joined by closing) with an enclosed hole.
    ``box``: the mask's ``cv2.boundingRect`` when the caller has it."""
    ph, pw = mask.shape
    contours, hier = closed_outlines(mask, close_px, box)
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
