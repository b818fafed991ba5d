"""The sort-based line medians behind ``gutter_colour`` equal NumPy's median exactly."""

import numpy as np
import pytest

from curate.layout.gutters import _line_medians


@pytest.mark.parametrize("shape", [(21, 20, 3), (20, 33, 3), (57, 64, 3)])
def test_line_medians_equal_numpy_median(shape):
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    img[:, 5] = 200  # a flat column and row, as gutters are
    img[7] = 12
    # a strided view, as gutter_colour passes the frame's inside
    inner = np.pad(img, ((2, 3), (1, 4), (0, 0)))[2:-3, 1:-4]
    for axis in (0, 1):
        lines = inner if axis == 0 else inner.transpose(1, 0, 2)
        expected = np.median(lines, axis=0)
        got = _line_medians(inner, axis)
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected)
