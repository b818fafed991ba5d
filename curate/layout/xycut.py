"""Recursive XY-cut over an ink mask, and merging of small fragments into their neighbours.

Boxes are ``(x1, y1, x2, y2)`` in figure pixels, half-open.
"""

from __future__ import annotations

import numpy as np

from curate.layout.gutters import Box, line_counts, span_gutters


def xy_cut(
    mask: np.ndarray, box: Box, min_gap: int, noise: int = 0, depth: int = 0, profiles: dict | None = None
) -> list[Box]:
    """Leaves of a recursive XY-cut: at each level cut along every gutter of the wider-gutter axis.

    ``profiles`` (a dict per ``mask`` and ``noise``) keeps each box's tight box and gutters of
    any width, so cuts of the same mask at other ``min_gap``s find them there.
    """
    profiles = {} if profiles is None else profiles
    found = profiles.get(box)
    if found is None:
        found = profiles[box] = _profile(mask, box, noise)
    if not found:
        return []
    tight, all_horizontal, all_vertical = found
    if depth > 12:
        return [tight]
    horizontal = [g for g in all_horizontal if g[1] - g[0] >= min_gap]
    vertical = [g for g in all_vertical if g[1] - g[0] >= min_gap]
    if not horizontal and not vertical:
        return [tight]
    widest_h = max((b - a for a, b in horizontal), default=0)
    widest_v = max((b - a for a, b in vertical), default=0)
    axis = 0 if widest_h >= widest_v else 1
    cuts = horizontal if axis == 0 else vertical
    x1, y1, x2, y2 = tight
    edges = [y1 if axis == 0 else x1] + [v for g in cuts for v in g] + [y2 if axis == 0 else x2]
    leaves: list[Box] = []
    for lo, hi in zip(edges[0::2], edges[1::2], strict=True):
        part = (x1, lo, x2, hi) if axis == 0 else (lo, y1, hi, y2)
        leaves.extend(xy_cut(mask, part, min_gap, noise, depth + 1, profiles))
    return leaves


def _profile(mask: np.ndarray, box: Box, noise: int) -> tuple:
    """(tight box, horizontal gutters, vertical gutters) of ``box``, gutters of any width;
    ``()`` when the box holds no ink."""
    # One row and one column count of the box serve both the tight box and its gutters: lines
    # outside the tight box hold no ink, so the counts over the box are those over the tight box.
    per_row, per_col = line_counts(mask, box)
    rows = span_gutters(per_row, box[1], noise)
    if rows is None:
        return ()
    cols = span_gutters(per_col, box[0], noise)
    return (cols[0], rows[0], cols[1], rows[1]), rows[2], cols[2]


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def box_gap(a: Box, b: Box) -> tuple[int, int]:
    """Separation of two boxes along x and y (0 where their projections overlap)."""
    dx = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return dx, dy


def _neighbour(boxes: list[Box], i: int) -> int:
    """Index of the box that fragment ``i`` most plausibly belongs to (close, facing it, large)."""
    best, best_cost = -1, float("inf")
    for j, other in enumerate(boxes):
        if j == i:
            continue
        dx, dy = box_gap(boxes[i], other)
        # A fragment facing its neighbour across one gutter (projections overlap) is preferred
        # over a diagonal neighbour at the same distance.
        cost = dx + dy + (0 if dx == 0 or dy == 0 else 4 * (dx + dy)) - 1e-6 * area(other)
        if cost < best_cost:
            best, best_cost = j, cost
    return best


def is_small(box: Box, fig_w: int, fig_h: int, min_frac: float) -> bool:
    """A fragment too small to be a panel: a text line, a legend, a tick label."""
    w, h = box[2] - box[0], box[3] - box[1]
    return w < min_frac * fig_w or h < min_frac * fig_h or area(box) < (min_frac**2) * 2 * fig_w * fig_h


def merge_small(boxes: list[Box], fig_w: int, fig_h: int, min_frac: float = 0.07) -> list[Box]:
    """Merge each small fragment into its neighbour until every box is panel-sized (or one remains).

    Each round merges the smallest small fragment into its ``_neighbour``, then
    ``absorb_overlaps``. Boxes that start pairwise clear of ``absorb_overlaps``' test (XY-cut
    leaves are disjoint) stay clear except for the merged box, so only it needs testing: that
    path (``_merge_clear``) runs in array operations and gives the same list; other input goes
    the pairwise way (``_merge_pairwise``). A figure of 283 leaves took 2 s the pairwise way.
    """
    if len(boxes) > 1:
        arr = np.array(boxes, dtype=np.int64).reshape(-1, 4)
        if not _any_overlap(arr):
            return _merge_clear(arr, fig_w, fig_h, min_frac)
    return _merge_pairwise(boxes, fig_w, fig_h, min_frac)


def _merge_pairwise(boxes: list[Box], fig_w: int, fig_h: int, min_frac: float) -> list[Box]:
    boxes = list(boxes)
    while len(boxes) > 1:
        small = [i for i, b in enumerate(boxes) if is_small(b, fig_w, fig_h, min_frac)]
        if not small:
            break
        i = min(small, key=lambda k: area(boxes[k]))
        j = _neighbour(boxes, i)
        merged = union(boxes[i], boxes[j])
        boxes = [b for k, b in enumerate(boxes) if k not in (i, j)] + [merged]
        boxes = absorb_overlaps(boxes)
    return boxes


def _areas(arr: np.ndarray) -> np.ndarray:
    return np.maximum(arr[:, 2] - arr[:, 0], 0) * np.maximum(arr[:, 3] - arr[:, 1], 0)


def _overlaps(a: np.ndarray, b: np.ndarray, frac: float = 0.5) -> np.ndarray:
    """(len(a), len(b)) bool: ``absorb_overlaps``' merge test for each pair of rows of a and b."""
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    smaller = np.minimum(_areas(a)[:, None], _areas(b)[None, :])
    return (iw > 0) & (ih > 0) & (iw * ih > frac * smaller)


def _any_overlap(arr: np.ndarray, chunk: int = 512) -> bool:
    """Whether two distinct rows of ``arr`` pass ``absorb_overlaps``' test (row blocks bound memory)."""
    for start in range(0, len(arr), chunk):
        hit = _overlaps(arr[start : start + chunk], arr)
        rows = np.arange(hit.shape[0])
        hit[rows, start + rows] = False
        if hit.any():
            return True
    return False


def _union_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])


def _merge_clear(arr: np.ndarray, fig_w: int, fig_h: int, min_frac: float) -> list[Box]:
    """``_merge_pairwise`` for boxes (rows of ``arr``) no two of which pass the overlap test."""
    area_limit = (min_frac**2) * 2 * fig_w * fig_h
    while len(arr) > 1:
        w, h = arr[:, 2] - arr[:, 0], arr[:, 3] - arr[:, 1]
        areas = _areas(arr)
        small = (w < min_frac * fig_w) | (h < min_frac * fig_h) | (areas < area_limit)
        if not small.any():
            break
        i = int(np.argmin(np.where(small, areas, np.iinfo(np.int64).max)))  # first smallest
        # ``_neighbour``'s cost, in the same float arithmetic; argmin keeps the first best.
        dx = np.maximum(0, np.maximum(arr[i, 0], arr[:, 0]) - np.minimum(arr[i, 2], arr[:, 2]))
        dy = np.maximum(0, np.maximum(arr[i, 1], arr[:, 1]) - np.minimum(arr[i, 3], arr[:, 3]))
        cost = (dx + dy + np.where((dx == 0) | (dy == 0), 0, 4 * (dx + dy))) - 1e-6 * areas
        cost[i] = np.inf
        j = int(np.argmin(cost))
        merged = _union_rows(arr[i], arr[j])
        arr = np.vstack([np.delete(arr, [i, j], axis=0), merged[None]])
        # Only the merged (last) box can overlap another; absorbing one keeps that true.
        while len(arr) > 1:
            hit = np.flatnonzero(_overlaps(arr[-1:], arr[:-1])[0])
            if hit.size == 0:
                break
            k = int(hit[0])
            arr = np.vstack([np.delete(arr[:-1], k, axis=0), _union_rows(arr[k], arr[-1])[None]])
    return [tuple(b) for b in arr.tolist()]


def absorb_overlaps(boxes: list[Box], frac: float = 0.5) -> list[Box]:
    """Merge boxes that overlap by more than ``frac`` of the smaller one (merging can create them)."""
    changed = True
    while changed:
        changed = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                inter = (min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1]))
                if inter[0] > 0 and inter[1] > 0 and inter[0] * inter[1] > frac * min(area(a), area(b)):
                    boxes = [x for k, x in enumerate(boxes) if k not in (i, j)] + [union(a, b)]
                    changed = True
                    break
            if changed:
                break
    return boxes


def reading_order(boxes: list[Box]) -> list[int]:
    """Indices of ``boxes`` in reading order: rows top to bottom, then left to right.

    A box joins the current row when its top lies above the middle of the row's first box,
    so slightly staggered panels of one row stay together.
    """
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][1], boxes[i][0]))
    rows: list[list[int]] = []
    limit = -1.0
    for i in order:
        b = boxes[i]
        if rows and b[1] < limit:
            rows[-1].append(i)
        else:
            rows.append([i])
            limit = b[1] + 0.5 * (b[3] - b[1])
    return [i for row in rows for i in sorted(row, key=lambda k: boxes[k][0])]
