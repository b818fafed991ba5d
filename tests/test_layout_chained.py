"""``(a)``-group chaining in labels._chained: all parts at once, against the per-part loop."""

import numpy as np
import pytest

from curate.layout import labels


def _chained_loop(stats: np.ndarray, size: int) -> np.ndarray:
    """The chaining as first written: one part at a time, one neighbour search per step."""
    parts = labels._components(stats, size, 1.4, min_aspect=0.1)
    if parts.size == 0:
        return parts.reshape(0, 4)
    parts = parts[np.argsort(parts[:, 0])]
    out = []
    for x1, y1, x2, y2 in parts:
        h = y2 - y1
        box = [x1, y1, x2, y2]
        for _ in range(4):
            nxt = parts[
                (parts[:, 0] > box[2])
                & (parts[:, 0] - box[2] <= 0.5 * h)
                & (parts[:, 1] >= y1 - 0.25 * h)
                & (parts[:, 3] <= y2 + 0.25 * h)
            ]
            if nxt.size == 0:
                break
            b = nxt[0]
            box = [box[0], min(box[1], b[1]), b[2], max(box[3], b[3])]
        if box[2] > x2:
            out.append(box)
    return np.array(out, dtype=parts.dtype).reshape(-1, 4)


def _line_of_glyphs(rng) -> np.ndarray:
    """connectedComponentsWithStats-like rows: lines of glyph-sized blobs with varied gaps."""
    rows = [[0, 0, 1000, 1000, 10**6]]  # the background row, skipped by _components
    for _ in range(int(rng.integers(0, 12))):
        x, y = int(rng.integers(0, 800)), int(rng.integers(0, 900))
        for _ in range(int(rng.integers(1, 9))):
            h = int(rng.integers(6, 40))
            w = max(1, int(h * rng.uniform(0.1, 1.4)))
            rows.append([x, y + int(rng.integers(-3, 4)), w, h, int(w * h * rng.uniform(0.2, 1.0))])
            x += w + int(rng.integers(0, 12))
    return np.array(rows, np.int32)


@pytest.mark.parametrize("seed", range(30))
def test_chained_equals_the_per_part_loop(seed):
    stats = _line_of_glyphs(np.random.default_rng(seed))
    got, want = labels._chained(stats, 1000), _chained_loop(stats, 1000)
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


def test_chains_a_parenthesised_letter():
    # "(", "a", ")" in a row, 2 px apart: the "(" chains to a box over all three.
    stats = np.array([[0, 0, 500, 500, 250000], [100, 50, 6, 20, 60], [108, 55, 12, 15, 120], [122, 50, 6, 20, 60]],
                     np.int32)
    assert [100, 50, 128, 70] in labels._chained(stats, 500).tolist()
