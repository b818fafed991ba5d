"""Box outlines whose hole is filled by content of their own hue.

A red box around a column of red heat-map cells joins the cells in the red mask, so its
contour has no large hole and ``shapes.ring_shape`` cannot see a box. What still marks it as
a drawn outline is its four sides: a line of one flat colour runs along each edge of the
bounding rectangle, and the content inside the line is of other shades and not flat.
"""

from __future__ import annotations

import numpy as np

# Channel distance (0-255) within which a pixel has the frame's colour; heat-map cells of
# the same hue differ from a saturated outline by 50 or more in some channel.
SAME_INK = 40
# Share of a line along a side that must have the frame's colour to count as frame.
LINE_COVER = 0.85
# Anti-aliasing may leave the outermost rows mixed: the frame line starts within this many.
MAX_OFFSET = 2
MAX_LINE = 8
# Lines scanned in from each edge; a frame needs room for that depth four times over.
DEPTH = MAX_OFFSET + MAX_LINE + 2
MIN_SIDE = 4 * DEPTH + 1
# Inside the frame: little of the frame's own colour, and not one flat fill (an outlined bar).
MAX_INNER_SAME = 0.25
MIN_INNER_STD = 8.0


def _line_coverage(same: np.ndarray, depth: int) -> list[np.ndarray]:
    """Per side (top, bottom, left, right): share of frame-coloured pixels in each of the
    first ``depth`` lines in from that edge."""
    return [
        same[:depth].mean(1),
        same[::-1][:depth].mean(1),
        same[:, :depth].mean(0),
        same[:, ::-1][:, :depth].mean(0),
    ]


def _frame_depth(cover: np.ndarray) -> int | None:
    """Lines from the edge to the inner side of the frame line, or ``None`` if no single line
    of frame colour starts within ``MAX_OFFSET`` lines of the edge and ends within
    ``MAX_LINE``."""
    on = cover >= LINE_COVER
    starts = np.flatnonzero(on[: MAX_OFFSET + 1])
    if not len(starts):
        return None
    k = int(starts[0])
    while k < len(on) and on[k]:
        k += 1
    # An anti-aliased inner edge may leave one line half covered: the fill inside is judged
    # by ``frame_box`` itself.
    if k >= len(on) or k - starts[0] > MAX_LINE:
        return None
    return k


def frame_box(rgb: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Score 0..1 that the rectangle ``box`` (``x, y, w, h`` in panel pixels, the bounding
    box of one colour-mask contour) is drawn as a one-colour frame around other content."""
    x, y, w, h = box
    if min(w, h) < MIN_SIDE:
        return 0.0
    crop = rgb[y : y + h, x : x + w].astype(np.int16)
    ink = mask[y : y + h, x : x + w] > 0
    edge = np.zeros((h, w), bool)
    edge[:3], edge[-3:], edge[:, :3], edge[:, -3:] = True, True, True, True
    if not (ink & edge).any():
        return 0.0
    colour = np.median(crop[ink & edge], axis=0)
    same = ink & (np.abs(crop - colour).max(axis=2) <= SAME_INK)
    sides = [_frame_depth(c) for c in _line_coverage(same, DEPTH)]
    if any(d is None for d in sides):
        return 0.0
    top, bottom, left, right = (d + 1 for d in sides)
    inner = (slice(top, h - bottom), slice(left, w - right))
    inside = crop[inner]
    if same[inner].mean() > MAX_INNER_SAME or float(inside.reshape(-1, 3).std(axis=0).max()) < MIN_INNER_STD:
        return 0.0
    return float(1.0 - same[inner].mean())
