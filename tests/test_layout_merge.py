"""merge_small: the array path for pairwise-clear boxes against the pairwise reference."""

import numpy as np
import pytest

from curate.layout import xycut
from curate.layout.xycut import _merge_pairwise, merge_small, xy_cut


def _leaves(seed: int) -> tuple[list, int, int]:
    """XY-cut leaves of a random figure: blocks of varied size plus specks (text, ticks)."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(120, 400)), int(rng.integers(120, 400))
    mask = np.zeros((h, w), bool)
    for _ in range(int(rng.integers(3, 40))):
        y, x = int(rng.integers(0, h - 4)), int(rng.integers(0, w - 4))
        mask[y : y + int(rng.integers(1, h // 3)), x : x + int(rng.integers(1, w // 3))] = True
    mask |= rng.random((h, w)) < 0.002
    return xy_cut(mask, (0, 0, w, h), 2), w, h


@pytest.mark.parametrize("seed", range(40))
def test_clear_path_equals_pairwise(seed, monkeypatch):
    leaves, w, h = _leaves(seed)
    calls = []
    real = xycut._merge_pairwise
    monkeypatch.setattr(xycut, "_merge_pairwise", lambda *a: calls.append(a) or real(*a))
    got = merge_small(leaves, w, h)
    assert got == _merge_pairwise(leaves, w, h, 0.07)
    assert all(type(v) is int for b in got for v in b)
    assert calls == [] or len(leaves) < 2  # XY-cut leaves are disjoint: the array path ran


def test_overlapping_input_goes_pairwise(monkeypatch):
    boxes = [(0, 0, 100, 100), (10, 10, 90, 90), (200, 0, 205, 5), (300, 300, 400, 400)]
    calls = []
    real = xycut._merge_pairwise
    monkeypatch.setattr(xycut, "_merge_pairwise", lambda *a: calls.append(a) or real(*a))
    got = merge_small(boxes, 400, 400)
    assert len(calls) == 1
    assert got == real(boxes, 400, 400, 0.07)
    # The speck joined its nearest neighbour, which then absorbed the box nested in the first.
    assert got == [(300, 300, 400, 400), (0, 0, 205, 100)]
