"""Per-line ink counts (OpenCV sums) and the XY-cut built on them, against numpy references."""

import numpy as np
import pytest

from curate.layout.gutters import gaps, gutter_runs, ink_fraction, line_counts, line_fill, runs, span_gutters
from curate.layout.xycut import xy_cut


@pytest.mark.parametrize("box", [(0, 0, 97, 61), (13, 7, 80, 50), (5, 5, 5, 40), (20, 30, 21, 31)])
def test_line_counts_are_numpy_sums(box):
    mask = np.random.default_rng(1).random((61, 97)) < 0.2
    x1, y1, x2, y2 = box
    per_row, per_col = line_counts(mask, box)
    assert per_row.tolist() == mask[y1:y2, x1:x2].sum(axis=1).tolist()
    assert per_col.tolist() == mask[y1:y2, x1:x2].sum(axis=0).tolist()
    assert line_counts(mask.astype(np.uint8), box)[0].tolist() == per_row.tolist()


def _reference_xy_cut(mask, box, min_gap, noise=0, depth=0):
    """The XY-cut as first written: a numpy tight box, then numpy-summed gutters of it."""
    x1, y1, x2, y2 = box
    sub = mask[y1:y2, x1:x2]
    rows, cols = np.flatnonzero(sub.any(axis=1)), np.flatnonzero(sub.any(axis=0))
    if rows.size == 0:
        return []
    tight = (x1 + int(cols[0]), y1 + int(rows[0]), x1 + int(cols[-1]) + 1, y1 + int(rows[-1]) + 1)
    if depth > 12:
        return [tight]
    tx1, ty1, tx2, ty2 = tight

    def cuts(axis):
        counts = mask[ty1:ty2, tx1:tx2].sum(axis=1 - axis)
        offset = ty1 if axis == 0 else tx1
        return [
            (offset + a, offset + b)
            for a, b in runs(counts <= noise)
            if a != 0 and b != counts.size and b - a >= min_gap
        ]

    horizontal, vertical = cuts(0), cuts(1)
    if not horizontal and not vertical:
        return [tight]
    axis = 0 if max((b - a for a, b in horizontal), default=0) >= max((b - a for a, b in vertical), default=0) else 1
    edges = [ty1 if axis == 0 else tx1] + [v for g in (horizontal if axis == 0 else vertical) for v in g]
    edges += [ty2 if axis == 0 else tx2]
    out = []
    for lo, hi in zip(edges[0::2], edges[1::2], strict=True):
        part = (tx1, lo, tx2, hi) if axis == 0 else (lo, ty1, hi, ty2)
        out.extend(_reference_xy_cut(mask, part, min_gap, noise, depth + 1))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_xy_cut_matches_the_reference(seed):
    rng = np.random.default_rng(seed)
    mask = np.zeros((300, 400), bool)
    for _ in range(12):  # panels of speckled ink with white gutters between them
        x, y = rng.integers(0, 360), rng.integers(0, 260)
        w, h = rng.integers(10, 80), rng.integers(10, 80)
        mask[y : y + h, x : x + w] = rng.random((min(h, 300 - y), min(w, 400 - x))) < 0.3
    for min_gap, noise in ((3, 0), (8, 1)):
        got = xy_cut(mask, (0, 0, 400, 300), min_gap, noise)
        assert got == _reference_xy_cut(mask, (0, 0, 400, 300), min_gap, noise)
        assert len(got) > 1
    # One profiles dict shared by cuts of several gutter widths (as split.candidates does).
    for noise in (0, 1):
        shared: dict = {}
        for min_gap in (8, 2, 5, 3):
            got = xy_cut(mask, (0, 0, 400, 300), min_gap, noise, profiles=shared)
            assert got == _reference_xy_cut(mask, (0, 0, 400, 300), min_gap, noise)
        assert len(shared) > 1


@pytest.mark.parametrize("seed", range(6))
def test_span_gutters_are_gutter_runs_of_the_inked_span(seed):
    rng = np.random.default_rng(seed)
    for n in (1, 2, 7, 60):
        counts = (rng.random(n) < 0.5) * rng.integers(0, 4, n)
        counts[: rng.integers(0, 3)] = 0
        inked = np.flatnonzero(counts)
        for noise in (0, 1, 2):
            got = span_gutters(counts.astype(np.int32), 10, noise)
            if inked.size == 0:
                assert got is None
                continue
            lo, hi = int(inked[0]), int(inked[-1]) + 1
            assert got == (10 + lo, 10 + hi, gutter_runs(counts[lo:hi], 10 + lo, 1, noise))


def test_gaps_are_interior_gutters():
    mask = np.zeros((40, 60), bool)
    mask[:, :10] = mask[:, 25:45] = mask[:, 55:] = True
    assert gaps(mask, (0, 0, 60, 40), 1, 5) == [(10, 25), (45, 55)]
    assert gaps(mask, (0, 0, 60, 40), 1, 12) == [(10, 25)]
    assert gaps(mask, (0, 0, 60, 40), 0, 1) == []


@pytest.mark.parametrize("shape", [(61, 97), (1, 5), (300, 7)])
def test_line_fill_and_ink_fraction_are_numpy_means(shape):
    mask = np.random.default_rng(shape[1]).random(shape) < 0.37
    rows, cols = line_fill(mask)
    assert rows.dtype == cols.dtype == np.float64
    assert np.array_equal(rows, mask.mean(axis=1)) and np.array_equal(cols, mask.mean(axis=0))
    assert ink_fraction(mask) == mask.mean()
    assert ink_fraction(mask[shape[0] // 3 :, 1:4]) == mask[shape[0] // 3 :, 1:4].mean()
    assert np.isnan(ink_fraction(mask[:0]))
