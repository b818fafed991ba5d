"""COCO-style uncompressed run-length encoding of binary masks, and tight boxes.

A mask is an ``H x W`` bool array in panel pixels. Its RLE walks the pixels in
column-major (Fortran) order, as COCO does, and alternates run lengths starting with a
run of background (so a mask whose first pixel is set starts with ``0``). The counts are
stored as one space-separated string of ints; the mask size is not part of the string,
so decoding needs the panel's ``(height, width)``.
"""

from __future__ import annotations

import numpy as np


class RleError(ValueError):
    """The RLE string does not describe a mask of the given size."""


def encode(mask: np.ndarray) -> str:
    """RLE counts of a 2-D bool mask, column-major, background run first."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return "0"
    # Indices where the value changes mark run boundaries.
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs.insert(0, 0)
    return " ".join(str(int(r)) for r in runs)


def decode(rle: str, height: int, width: int) -> np.ndarray:
    """Bool mask ``(height, width)`` from RLE counts; raises RleError on a size mismatch."""
    try:
        runs = [int(tok) for tok in rle.split()]
    except ValueError as exc:
        raise RleError(f"non-integer run in RLE: {exc}") from exc
    if any(r < 0 for r in runs):
        raise RleError("negative run length in RLE")
    if sum(runs) != height * width:
        raise RleError(f"RLE covers {sum(runs)} pixels, mask has {height}x{width}={height * width}")
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    return flat.reshape((height, width), order="F")


def tight_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Half-open ``(x1, y1, x2, y2)`` box around the set pixels, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def box_iou(a, b) -> float:
    """IoU of two ``xyxy`` boxes in the same frame (0 when either is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0
