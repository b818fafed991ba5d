"""Background estimation, ink masks and gutter finding by projection profiles.

All boxes are ``(x1, y1, x2, y2)`` in figure pixels, half-open. Works on white and on dark
backgrounds: the background colour is taken from the image border, and "ink" is any pixel
that differs from it.
"""

from __future__ import annotations

import numpy as np

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
    diff = np.abs(rgb.astype(np.int16) - bg.astype(np.int16)).max(axis=2)
    return diff > tol


def remove_rules(mask: np.ndarray, max_thickness: int = 5, min_fill: float = 0.9) -> np.ndarray:
    """Clear thin full-length separator lines (rows/columns nearly all ink, at most a few px thick).

    Returns a copy. A rule is a run of at most ``max_thickness`` rows (columns) each inked over
    at least ``min_fill`` of the width (height), with uninked rows right beside it. Frames
    around a single panel are cleared too; their content still holds the panel together.
    """
    out = mask.copy()
    for axis in (1, 0):
        fill = mask.mean(axis=axis)
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


def tight_box(mask: np.ndarray, box: Box) -> Box | None:
    """Smallest box inside ``box`` holding all ink of ``mask`` there, or None when empty."""
    x1, y1, x2, y2 = box
    sub = mask[y1:y2, x1:x2]
    rows = np.flatnonzero(sub.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(sub.any(axis=0))
    return (x1 + int(cols[0]), y1 + int(rows[0]), x1 + int(cols[-1]) + 1, y1 + int(rows[-1]) + 1)


def gaps(mask: np.ndarray, box: Box, axis: int, min_gap: int, noise: int = 0) -> list[tuple[int, int]]:
    """Interior gutters of ``box`` along ``axis`` (0: horizontal gutters between rows; 1: vertical).

    A gutter is a run of at least ``min_gap`` lines with at most ``noise`` ink pixels each.
    Returned in figure coordinates, excluding runs that touch the box border.
    """
    x1, y1, x2, y2 = box
    sub = mask[y1:y2, x1:x2]
    counts = sub.sum(axis=1) if axis == 0 else sub.sum(axis=0)
    offset = y1 if axis == 0 else x1
    length = counts.size
    out = []
    for start, stop in runs(counts <= noise):
        if start == 0 or stop == length or stop - start < min_gap:
            continue
        out.append((offset + start, offset + stop))
    return out
