"""Label-anchored panel separation and the choice between it and the gutter split.

When the printed panel letters can be read, each letter opens a region that runs right to
the next letter of its row and down to the next letter below it; every ink component goes
to the region holding its centre. Ink outside every region (headings, shared legends) goes
to no panel, as in the panel-gt convention. Boxes are in figure pixels, half-open.
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.images import colour_distance, label_components
from curate.layout.gutters import Box, background_colour
from curate.layout.labels import (
    Glyph,
    InkComponents,
    consistent_labels,
    corner_label,
    glyph_candidates,
    quick_readings,
    read_glyphs,
    settle_ties,
)
from curate.layout.split import Candidate, PanelBox, _pick, candidates, finish
from curate.layout.xycut import reading_order


def ink_strength(rgb: np.ndarray) -> np.ndarray:
    """uint8 per-pixel difference from the background colour (0 = background), 2x amplified."""
    diff = colour_distance(rgb, background_colour(rgb))
    return cv2.add(diff, diff)  # saturates at 255


def label_regions(glyphs: list[Glyph], fig_w: int, fig_h: int) -> list[Box]:
    """One region per label glyph, bounded by the next glyph to the right and the next one below."""
    boxes = [g.box for g in glyphs]
    rights = []
    for _x1, y1, x2, y2 in boxes:
        h = y2 - y1
        row = [b[0] for b in boxes if b[0] >= x2 and abs(b[1] - y1) < 2 * h]
        rights.append(min(row, default=fig_w))
    regions = []
    for (x1, y1, _x2, y2), right in zip(boxes, rights, strict=True):
        h = y2 - y1
        below = [
            b[1]
            for b, r in zip(boxes, rights, strict=True)
            if b[1] >= y1 + 2 * h and b[0] < right - h and r > x1 + h
        ]
        regions.append((max(0, x1 - h // 2), max(0, y1 - h // 2), right, min(below, default=fig_h)))
    return regions


def assign_components(mask: np.ndarray, regions: list[Box], labels: list[Box]) -> list[Box | None]:
    """Tight box of the ink components whose centre falls in each region (label glyphs left out)."""
    ink = mask.copy()
    for x1, y1, x2, y2 in labels:
        ink[y1:y2, x1:x2] = False
    n, _, stats = label_components(ink.astype(np.uint8))
    stats = stats[1:]
    stats = stats[stats[:, 4] >= 3]
    cx = stats[:, 0] + stats[:, 2] / 2
    cy = stats[:, 1] + stats[:, 3] / 2
    reg = np.array(regions, dtype=float).reshape(-1, 4)
    inside = (
        (cx[None] >= reg[:, :1])
        & (cx[None] < reg[:, 2:3])
        & (cy[None] >= reg[:, 1:2])
        & (cy[None] < reg[:, 3:4])
    )
    comp_area = stats[:, 2] * stats[:, 3]
    reg_area = (reg[:, 2] - reg[:, 0]) * (reg[:, 3] - reg[:, 1])
    # A component much larger than the region (a frame around several panels) is shared content.
    inside &= comp_area[None] <= 1.5 * reg_area[:, None]
    owner = np.where(inside.any(axis=0), inside.argmax(axis=0), -1)
    out: list[Box | None] = []
    for r in range(len(regions)):
        sel = stats[owner == r]
        if sel.size == 0:
            out.append(None)
            continue
        out.append(
            (
                int(sel[:, 0].min()),
                int(sel[:, 1].min()),
                int((sel[:, 0] + sel[:, 2]).max()),
                int((sel[:, 1] + sel[:, 3]).max()),
            )
        )
    return out


def _attach_labels(panels: list[PanelBox], glyphs: list[Glyph]) -> None:
    """Give each panel the glyph nearest its top-left corner (within a couple of glyph heights)."""
    used: set[int] = set()
    for p in panels:
        x1, y1, x2, y2 = p.bbox_xyxy
        best, best_d = -1, float("inf")
        for k, g in enumerate(glyphs):
            h = g.box[3] - g.box[1]
            gx, gy = g.box[0], g.box[1]
            if k in used or not (
                x1 - 3 * h <= gx <= x1 + 0.6 * (x2 - x1) and y1 - 4 * h <= gy <= y1 + 0.3 * (y2 - y1)
            ):
                continue
            d = abs(gx - x1) + abs(gy - y1)
            if d < best_d:
                best, best_d = k, d
        if best >= 0:
            used.add(best)
            g = glyphs[best]
            p.label, p.label_bbox_xyxy, p.label_score = g.text, g.box, g.score


def anchored_panels(mask: np.ndarray, glyphs: list[Glyph], expected: list[str] | None) -> list[PanelBox]:
    """Panels grown from label anchors, in reading order."""
    fig_h, fig_w = mask.shape
    regions = label_regions(glyphs, fig_w, fig_h)
    boxes = assign_components(mask, regions, [g.box for g in glyphs])
    agree = min(1.0, len(glyphs) / len(expected)) if expected else 0.7
    panels = [
        PanelBox(box, g.text, g.box, g.score, confidence=agree)
        for g, box in zip(glyphs, boxes, strict=True)
        if box is not None
    ]
    return [panels[i] for i in reading_order([p.bbox_xyxy for p in panels])]


def gutter_panels(
    rgb: np.ndarray, chosen: Candidate, glyphs: list[Glyph], expected: list[str] | None
) -> list[PanelBox]:
    """Panels of a gutter split, each labelled by a nearby glyph or a letter printed on its image."""
    agree = 0.5 if not expected else (1.0 if len(chosen.boxes) == len(expected) else 0.3)
    panels = finish(chosen.boxes, expected, agree)
    _attach_labels(panels, glyphs)
    taken = {p.label for p in panels if p.label}
    bar = float(np.median([g.box[3] - g.box[1] for g in glyphs])) if glyphs else None
    for p in panels:
        if p.label is None:
            g = corner_label(rgb, p.bbox_xyxy, expected, taken, bar)
            if g is not None:
                p.label, p.label_bbox_xyxy, p.label_score = g.text, g.box, g.score
                taken.add(g.text)
    return panels


def _prefer_anchors(anchored: list[PanelBox], gutter: list[PanelBox], expected: list[str] | None) -> bool:
    """Whether the label-anchored split explains the figure better than the gutter split.

    The split whose panel count equals the caption's label count wins; on a tie, the one with
    more labelled panels (anchors when equal, since their boxes follow the printed letters).
    """
    if not expected:
        return len(anchored) >= 2
    n = len(expected)
    a_ok, g_ok = len(anchored) == n, len(gutter) == n
    if a_ok != g_ok:
        return a_ok
    labelled_a = len({p.label for p in anchored if p.label})
    labelled_g = len({p.label for p in gutter if p.label})
    if a_ok:
        # Anchored boxes that overlap each other mean the letters are not at their panels'
        # top-left corners (centred above them, say): the gutters then know better.
        if labelled_g == labelled_a and max_overlap(anchored) > 0.1 >= max_overlap(gutter):
            return False
        return labelled_a >= labelled_g
    return labelled_a >= max(2, int(np.ceil(0.6 * n)))


def max_overlap(panels: list[PanelBox]) -> float:
    """Largest intersection of two panel boxes, as a fraction of the smaller one (0 when disjoint)."""
    best = 0.0
    for i, a in enumerate(panels):
        for b in panels[i + 1 :]:
            (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = a.bbox_xyxy, b.bbox_xyxy
            inter = max(0, min(ax2, bx2) - max(ax1, bx1)) * max(0, min(ay2, by2) - max(ay1, by1))
            small = min((ax2 - ax1) * (ay2 - ay1), (bx2 - bx1) * (by2 - by1))
            best = max(best, inter / max(1, small))
    return best


def _find_letter_i(
    mask: InkComponents, reader, consistent, read: list[Glyph], glyphs: list[Glyph],
    expected: list[str] | None,
) -> list[Glyph]:
    """Look for an expected but unread ``I``/``l``: a bar as tall as the letters already found."""
    found = {g.text for g in glyphs}
    wanted = [e for e in expected or [] if e.lower() in ("i", "l") and e not in found]
    if not wanted or not glyphs:
        return glyphs
    height = float(np.median([g.box[3] - g.box[1] for g in glyphs]))
    bars = glyph_candidates(mask, bar_height=height)[:8]
    more = consistent(read + reader(bars))
    return more if len(more) > len(glyphs) else glyphs


FIRST_READ = 12


def _some_a(strength: np.ndarray, ranked: list, components: InkComponents, reader) -> bool:
    """Whether a candidate reads as ``a`` / ``A`` (plain or parenthesised). Without caption
    labels a label set starts there (``consistent_labels``): when none does, no set can form,
    and only the candidates the reader cannot rule out as an ``a`` are read to learn that."""
    maybe = [b for b, q in zip(ranked, quick_readings(strength, ranked, ["a", "A"]), strict=True) if q != ("", 0.0)]
    found = reader(maybe) + reader(glyph_candidates(components, parenthesised=True)[:12], parenthesised=True)
    return any(g.text.lower() == "a" and g.score >= 0.5 for g in found)


def find_label_glyphs(rgb: np.ndarray, mask: np.ndarray, expected: list[str] | None) -> list[Glyph]:
    """The consistent set of printed panel letters, read with as few OCR calls as will do.

    Candidates are read best-ranked first; once the letters read name every expected label,
    the remaining candidates and the extra searches are skipped.
    """
    strength = ink_strength(rgb)
    cache: dict = {}
    components = InkComponents(mask)  # one labelling of the mask for every search below

    # One cache for every search: a box's crop, and so its reading, does not depend on which
    # search offered it (``parenthesised`` only filters the readings).
    def reader(boxes: list, parenthesised: bool = False) -> list[Glyph]:
        return read_glyphs(strength, boxes, expected, parenthesised, cache)

    def consistent(found: list[Glyph]) -> list[Glyph]:
        found[:] = settle_ties(strength, found, expected, cache)
        return consistent_labels(found, expected)

    def complete(found: list[Glyph]) -> bool:
        return bool(expected) and len(found) >= len(expected)

    ranked = glyph_candidates(components)
    if not expected and not _some_a(strength, ranked, components, reader):
        return []
    read = reader(ranked[:FIRST_READ])
    glyphs = consistent(read)
    if not complete(glyphs):
        read += reader(ranked[FIRST_READ:])
        read += reader(glyph_candidates(components, parenthesised=True)[:12], parenthesised=True)
        glyphs = consistent(read)
    if expected and len(glyphs) < len(expected):
        # Some letters were not among the largest blobs: look again, ranking by white space.
        seen = {g.box for g in read}
        extra = [b for b in glyph_candidates(components, by_room=True) if b not in seen]
        read += reader(extra)
        more = consistent(read)
        glyphs = more if len(more) > len(glyphs) else glyphs
    return _find_letter_i(components, reader, consistent, read, glyphs, expected)


def choose_with_labels(
    rgb: np.ndarray, mask: np.ndarray, expected: list[str] | None, alternatives: tuple[np.ndarray, ...] = ()
) -> list[PanelBox]:
    """The label-anchored split or the best gutter split with labels attached, whichever fits better.

    ``alternatives`` are other ink masks (another tolerance) offering more gutter splits.

    Label glyphs are read first and cleared from the mask before the gutter split, so that
    a letter standing in a gutter is neither a panel nor part of one.
    """
    glyphs = find_label_glyphs(rgb, mask, expected)
    cleared = [m.copy() for m in (mask, *alternatives)]
    for x1, y1, x2, y2 in (g.box for g in glyphs):
        for m in cleared:
            m[y1:y2, x1:x2] = False
    cands = candidates(cleared[0], tuple(cleared[1:])) or candidates(mask, alternatives)
    gutter = gutter_panels(rgb, _pick(cands, expected), glyphs, expected)
    if len(glyphs) < 2:
        return gutter
    anchored = anchored_panels(mask, glyphs, expected)
    return anchored if _prefer_anchors(anchored, gutter, expected) else gutter
