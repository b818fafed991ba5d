"""Background estimation, ink masks and gutter finding by projection profiles.

All boxes are ``(x1, y1, x2, y2)`` in figure pixels, half-open. Works on white and on dark
backgrounds: the background colour is taken from the image border, and "ink" is any pixel
that differs from it.
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.images import colour_distance

Box = tuple[int, int, int, int]


def background_colour(rgb: np.ndarray) -> np.ndarray:
    """Median colour of a 2-px frame around the image (uint8 RGB), the page colour behind panels."""
    frame = np.concatenate(
        [
            rgb[:2].reshape(-1, 3),
            rgb[-2:].reshape(-1, 3),
            rgb[:, :2].reshape(-1, 3),
            rgb[:, -2:].reshape(-1, 3),
        ]
    )
    return np.median(frame, axis=0).astype(np.uint8)


def ink_mask(rgb: np.ndarray, bg: np.ndarray | None = None, tol: int = 40) -> np.ndarray:
    """Boolean mask of pixels whose largest channel difference from ``bg`` exceeds ``tol``."""
    if bg is None:
        bg = background_colour(rgb)
    return colour_distance(rgb, bg) > tol


def remove_rules(mask: np.ndarray, max_thickness: int = 5, min_fill: float = 0.9) -> np.ndarray:
    """Clear thin full-length separator lines (rows/columns nearly all ink, at most a few px thick).

    Returns a copy. A rule is a run of at most ``max_thickness`` rows (columns) each inked over
    at least ``min_fill`` of the width (height), with uninked rows right beside it. Frames
    around a single panel are cleared too; their content still holds the panel together.
    """
    out = mask.copy()
    row_fill, col_fill = line_fill(mask)
    for axis, fill in ((1, row_fill), (0, col_fill)):
        full = fill >= min_fill
        for start, stop in runs(full):
            if stop - start <= max_thickness:
                if axis == 1:
                    out[start:stop, :] = False
                else:
                    out[:, start:stop] = False
    return out


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def line_counts(mask: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Ink pixels of ``mask`` (bool) inside ``box`` per row and per column (int32 each).

    OpenCV's row/column sums over the mask's bytes: several times faster than numpy's
    reductions over a boolean array, and the same counts.
    """
    x1, y1, x2, y2 = box
    sub = mask[y1:y2, x1:x2]
    if sub.size == 0:
        return np.zeros(sub.shape[0], np.int32), np.zeros(sub.shape[1], np.int32)
    u8 = (sub if sub.dtype == bool else sub != 0).view(np.uint8)
    per_row = cv2.reduce(u8, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    per_col = cv2.reduce(u8, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return per_row, per_col


def line_fill(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mask.mean(axis=1), mask.mean(axis=0))`` of a boolean mask, float64: the same numbers
    (exact counts over the same lengths) from ``line_counts``' OpenCV sums."""
    h, w = mask.shape
    per_row, per_col = line_counts(mask, (0, 0, w, h))
    return per_row / w, per_col / h


def ink_fraction(mask: np.ndarray) -> float:
    """``mask.mean()`` of a boolean mask (nan when empty), from a count instead of a float sum."""
    return np.count_nonzero(mask) / mask.size if mask.size else float("nan")


def gaps(mask: np.ndarray, box: Box, axis: int, min_gap: int, noise: int = 0) -> list[tuple[int, int]]:
    """Interior gutters of ``box`` along ``axis`` (0: horizontal gutters between rows; 1: vertical).

    A gutter is a run of at least ``min_gap`` lines with at most ``noise`` ink pixels each.
    Returned in figure coordinates, excluding runs that touch the box border.
    """
    counts = line_counts(mask, box)[axis]
    return gutter_runs(counts, box[1] if axis == 0 else box[0], min_gap, noise)


def gutter_runs(counts: np.ndarray, offset: int, min_gap: int, noise: int = 0) -> list[tuple[int, int]]:
    """``gaps`` from per-line ink ``counts`` of a box whose first line is ``offset``."""
    length = counts.size
    out = []
    for start, stop in runs(counts <= noise):
        if start == 0 or stop == length or stop - start < min_gap:
            continue
        out.append((offset + start, offset + stop))
    return out


def span_gutters(counts: np.ndarray, offset: int, noise: int = 0) -> tuple[int, int, list[tuple[int, int]]] | None:
    """``(first, stop, gutters)`` of a box's per-line ink ``counts``: its inked lines' span
    (figure coordinates, half-open) and ``gutter_runs`` of any width inside that span; None
    when no line holds ink. Fewer array operations than ``runs`` (called per box of an XY-cut)."""
    inked = np.flatnonzero(counts)
    if inked.size == 0:
        return None
    lo, hi = int(inked[0]), int(inked[-1]) + 1
    low = counts[lo:hi] <= noise
    edges = (np.flatnonzero(low[1:] != low[:-1]) + 1).tolist()
    # Runs touching the span's ends are no gutters: drop the edge that closes the first run when
    # it starts at the span's first line, and the one that opens the last when it ends there.
    if low[0]:
        edges = edges[1:]
    if low[-1]:
        edges = edges[:-1]
    start = offset + lo
    return start, offset + hi, [(start + a, start + b) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


def frame_depth(rgb: np.ndarray, bg: np.ndarray, tol: int = 40, frac: float = 0.9) -> Box:
    """Inner box left after peeling border lines that are mostly ``bg`` coloured (a frame), at most 5 % a side."""
    near = colour_distance(rgb, bg) <= tol
    h, w = near.shape

    def peel(fill: np.ndarray, cap: int) -> int:
        k = 0
        while k < min(cap, fill.size) and fill[k] >= frac:
            k += 1
        return k

    rows, cols = line_fill(near)
    cap_y, cap_x = max(1, h // 20), max(1, w // 20)
    return (peel(cols, cap_x), peel(rows, cap_y), w - peel(cols[::-1], cap_x), h - peel(rows[::-1], cap_y))


def _line_medians(img: np.ndarray, axis: int) -> np.ndarray:
    """``np.median(lines, axis=0)`` of the columns (``axis`` 0) or rows (1) of an H x W x 3 uint8
    image, float64 per line and channel: the same numbers from a radix sort (NumPy's for uint8)
    along a contiguous last axis; NumPy's median along a strided axis was most of
    ``gutter_colour``'s time."""
    ordered = (img.transpose(1, 2, 0) if axis == 0 else img.transpose(0, 2, 1)).copy()  # C order
    ordered.sort(axis=-1, kind="stable")  # in place: the copy above is ours
    n = ordered.shape[-1]
    lo, hi = (n - 1) // 2, n // 2
    return (ordered[..., lo].astype(np.float64) + ordered[..., hi]) / 2


def gutter_colour(rgb: np.ndarray, bg: np.ndarray, tol: int = 40, frame: Box | None = None) -> np.ndarray | None:
    """Colour of gutter lines inside the frame when it is not ``bg`` (uint8 RGB), else None.

    Framed figures (a black border with white gutters between dark images) separate panels by
    lines of a colour other than the border's. A gutter is a run of full-length flat lines
    (98 % of pixels within 16 of the line's median colour) with a sharp edge on both sides:
    most pixels of the lines just outside it differ from its colour by more than ``tol``.
    ``frame``: ``frame_depth(rgb, bg, tol)`` when the caller has it already.
    """
    x1, y1, x2, y2 = frame if frame is not None else frame_depth(rgb, bg, tol)
    inner = np.ascontiguousarray(rgb[y1:y2, x1:x2])  # once: OpenCV wants contiguous rows
    if inner.shape[0] < 20 or inner.shape[1] < 20:
        return None
    found = []
    for axis in (0, 1):  # axis 0: columns (vertical gutters); 1: rows
        lines = inner if axis == 0 else inner.transpose(1, 0, 2)  # lines[:, k] is line k
        med = _line_medians(inner, axis)
        # |x - med| <= 16 for a whole x is ceil(med - 16) <= x <= floor(med + 16): one inRange
        # pass over the uint8 figure (255 where all three channels are in range).
        lo = np.clip(np.ceil(med - 16), 0, 255).astype(np.uint8)
        hi = np.clip(np.floor(med + 16), 0, 255).astype(np.uint8)
        # Per-line bounds as whole images: rows of column bounds tiled, or each row's repeated
        # (np.repeat fills a row's run at half the time of a strided broadcast copy).
        h, w = inner.shape[:2]
        bounds = [np.tile(b[None], (h, 1, 1)) if axis == 0 else np.repeat(b[:, None], w, axis=1) for b in (lo, hi)]
        near = cv2.inRange(inner, *bounds)
        flat = np.count_nonzero(near, axis=axis) / near.shape[axis] >= 0.98
        for start, stop in runs(flat):
            if start == 0 or stop == flat.size:
                continue
            colour = np.median(med[start:stop], axis=0)
            edge = [np.abs(lines[:, k].astype(np.int16) - colour).max(axis=1) > tol for k in (start - 1, stop)]
            if min(e.mean() for e in edge) >= 0.5:
                found.append(colour)
    if not found:
        return None
    colour = np.median(np.array(found), axis=0)
    if np.abs(colour - bg.astype(np.int16)).max() <= tol:
        return None
    return colour.astype(np.uint8)
