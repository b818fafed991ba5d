"""Compound-figure panel separation: gutters, rules, fragment merging, labels, insets.

``split_panels`` tries a few gutter widths and keeps the split whose panel count and
readable labels best agree with the caption's label set (when given). Boxes are in figure
pixels, half-open ``(x1, y1, x2, y2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.layout.gutters import (
    Box,
    background_colour,
    frame_depth,
    gutter_colour,
    ink_fraction,
    ink_mask,
    remove_rules,
)
from curate.layout.xycut import merge_small, reading_order, xy_cut

GAP_FRACTIONS = (0.003, 0.006, 0.01, 0.016, 0.025)


@dataclass
class PanelBox:
    """One panel: ``bbox_xyxy`` in figure pixels (half-open); ``label`` as printed, or None.

    ``label_bbox_xyxy`` is the label glyph box in figure pixels; ``label_score`` the OCR
    confidence (0 when unread); ``confidence`` how sure the split is (0..1);
    ``parent_index`` is set for an inset: the index of its containing panel in the list.
    """

    bbox_xyxy: tuple[int, int, int, int]
    label: str | None = None
    label_bbox_xyxy: tuple[int, int, int, int] | None = None
    label_score: float = 0.0
    confidence: float = 0.0
    parent_index: int | None = None


@dataclass
class Candidate:
    """One alternative split: panel boxes and the gutter fraction that produced it."""

    boxes: list[Box]
    gap_frac: float
    label_glyphs: list[Box]


def _is_label_glyph(box: Box, fig_w: int, fig_h: int) -> bool:
    """A lone fragment shaped like a panel letter (``A``, ``(a)``, ``Ai``) standing in a gutter."""
    w, h = box[2] - box[0], box[3] - box[1]
    size = max(fig_w, fig_h)
    return 0.006 * size <= h <= 0.05 * size and w <= 2.6 * h and w >= 0.2 * h


def candidates(mask: np.ndarray, alternatives: tuple[np.ndarray, ...] = ()) -> list[Candidate]:
    """Alternative splits for each gutter width in ``GAP_FRACTIONS`` (duplicates removed).

    ``alternatives`` are other ink masks of the same figure (another ink tolerance); their
    splits follow those of ``mask``, so ties go to ``mask``.
    """
    fig_h, fig_w = mask.shape
    size = max(fig_w, fig_h)
    noise = 1 if size > 400 else 0
    out: list[Candidate] = []
    seen: set[tuple] = set()
    profiles: dict[int, dict] = {}  # per mask: its boxes' gutters, shared by the gutter widths
    for frac, ink in ((f, m) for m in (mask, *alternatives) for f in GAP_FRACTIONS):
        leaves = xy_cut(ink, (0, 0, fig_w, fig_h), max(2, round(frac * size)), noise, profiles=profiles.setdefault(id(ink), {}))
        glyphs = [b for b in leaves if _is_label_glyph(b, fig_w, fig_h)]
        rest = [b for b in leaves if b not in glyphs] or leaves
        boxes = merge_small(rest, fig_w, fig_h)
        key = tuple(sorted(boxes))
        if key in seen:
            continue
        seen.add(key)
        out.append(Candidate(boxes, frac, glyphs))
    return out


def _pick(cands: list[Candidate], expected: list[str] | None) -> Candidate:
    """The split whose panel count is closest to the expected label count (fewer cuts on ties)."""
    if not expected:
        middle = [c for c in cands if c.gap_frac >= 0.01]
        return middle[0] if middle else cands[-1]
    n = len(expected)
    return min(cands, key=lambda c: (abs(len(c.boxes) - n), len(c.boxes) > n, -c.gap_frac))


def split_panels(
    rgb: np.ndarray, expected_labels: list[str] | None = None, ocr: bool = True
) -> list[PanelBox]:
    """Split a figure (H x W x 3 uint8 RGB) into panels in reading order.

    ``expected_labels`` (from the caption) steers the choice between alternative splits and
    the reading of labels. With ``ocr`` False labels are left None. A figure without
    gutters gives one panel covering its content.
    """
    fig_h, fig_w = rgb.shape[:2]
    bg, ink, extra = page_ink(rgb)
    mask = remove_rules(ink)
    if not mask.any():
        return [PanelBox((0, 0, fig_w, fig_h), confidence=0.0)]
    alternatives = tuple(remove_rules(e) for e in extra)
    if ocr:
        from curate.layout.anchors import choose_with_labels

        panels = choose_with_labels(rgb, mask, expected_labels, alternatives)
    else:
        chosen = _pick(candidates(mask, alternatives), expected_labels)
        panels = finish(chosen.boxes, expected_labels, agree=_agreement(chosen, expected_labels))
    return add_insets(rgb, ink, panels)


def page_ink(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(gutter colour, ink mask, alternative ink masks) of a figure.

    The gutter colour is the border colour, or for a framed figure whose border colour covers
    almost nothing inside, the colour of its flat gutter lines (frame cleared). On a dark page
    a second mask with a tight tolerance is offered: dark image areas (noise, tissue) sit just
    above the flat black gutter, though air in CT/MR images is as black as the gutter.
    """
    bg = background_colour(rgb)
    ink = ink_mask(rgb, bg)
    frame = frame_depth(rgb, bg)
    x1, y1, x2, y2 = frame
    if ink_fraction(ink[y1:y2, x1:x2]) >= 0.95:
        alt = gutter_colour(rgb, bg, frame=frame)
        if alt is not None:
            framed = np.zeros_like(ink)
            # Gutter lines are flat: a tight tolerance keeps bright image areas from reading as gutter.
            framed[y1:y2, x1:x2] = ink_mask(rgb[y1:y2, x1:x2], alt, tol=16)
            return alt, framed, []
    return bg, ink, [ink_mask(rgb, bg, tol=16)] if bg.max() < 80 else []


def add_insets(rgb: np.ndarray, ink: np.ndarray, panels: list[PanelBox]) -> list[PanelBox]:
    """Append framed insets found inside image panels, each pointing at its panel by index."""
    from curate.layout.insets import find_insets

    out = list(panels)
    for i, p in enumerate(panels):
        for box in find_insets(rgb, ink, p.bbox_xyxy):
            out.append(PanelBox(box, confidence=p.confidence, parent_index=i))
    return out


def _agreement(cand: Candidate, expected: list[str] | None) -> float:
    if not expected:
        return 0.5
    return 1.0 if len(cand.boxes) == len(expected) else 0.3


def finish(boxes: list[Box], expected: list[str] | None, agree: float) -> list[PanelBox]:
    """PanelBoxes in reading order with split confidence ``agree``."""
    order = reading_order(boxes)
    return [PanelBox(tuple(int(v) for v in boxes[i]), confidence=agree) for i in order]
