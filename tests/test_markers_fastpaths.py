"""The marker detector's fast paths give what the plain forms they replaced give: the masks
of one coded pass equal the per-colour range tests, labelling the ink's box equals labelling
the whole mask, and closing the ink's box finds the same outlines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from curate.markers.colours import SATURATED, hue_mask
from curate.markers.masks import colour_masks, components, hysteresis, odd_size
from curate.markers.rings import closed_outlines
from curate.markers.shapes import median, principal_axes
from curate.markers.synth import background, draw_one, jpeg


def _panel(seed: int) -> np.ndarray:
    """A JPEG'd panel with markers of several colours on a textured background."""
    rng = np.random.default_rng(seed)
    img = background(rng, 220, 260, None)
    for j, (kind, colour) in enumerate([("arrow", "red"), ("box", "white"), ("asterisk", "yellow"),
                                        ("arrowhead", "black"), ("circle", "cyan")]):
        draw_one(img, kind, colour, (30 + 50 * j, 60 + 25 * (j % 3)), 24, float(rng.uniform(0, 360)), rng)
    return jpeg(img, 70)


def _plain_masks(rgb: np.ndarray):
    """The former form: one three-channel range test per colour and floor, NumPy comparisons."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    k = odd_size(np.clip(min(gray.shape) / 10, 15, 61))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    sat, val = hsv[..., 1], hsv[..., 2]
    masks = {n: hue_mask(hsv, n, 90, 90) for n in SATURATED}
    loose = {n: hue_mask(hsv, n, 45, 50) for n in SATURATED}
    retry = {n: hue_mask(hsv, n, 60, 70) for n in SATURATED}
    top = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel)
    black = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    u8 = lambda b: b.astype(np.uint8) * 255  # noqa: E731
    strict = u8((sat < 70) & (val > 165) & (top > 45))
    mid = u8(((sat < 90) & (val > 140) & (top > 30)) | ((sat < 60) & (val > 100) & (top > 80)))
    n, labels = cv2.connectedComponents(mid | strict, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[strict > 0])] = True
    keep[0] = False
    masks["white"] = u8(keep[labels])
    retry["white"] = u8((sat < 50) & (val > 230) & (top > 60))
    masks["black"] = u8((val < 80) & (black > 70))
    loose["white"] = u8((sat < 100) & (val > 125) & (top > 20))
    loose["black"] = u8((val < 125) & (black > 25))
    return masks, loose, retry


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coded_masks_equal_per_colour_range_tests(seed):
    rgb = _panel(seed)
    rng = np.random.default_rng(seed)
    noisy = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)  # every hue, saturation and value
    for img in (rgb, noisy):
        got, want = colour_masks(img), _plain_masks(img)
        assert list(got[0]) == list(want[0])  # the detector visits colours in this order
        for name, strict in want[0].items():
            # A colour with no strict pixel is skipped by the detector: its masks are not made.
            for g, w in zip(got, want, strict=True):
                assert set(g) == set(w)
                if name not in w:
                    continue
                assert g[name].dtype == np.uint8 and g[name].shape == w[name].shape
                assert np.array_equal(g[name], w[name]) if strict.any() else not g[name].any(), name
        assert sum(m.any() for m in want[0].values()) >= (5 if img is rgb else 8)


def test_hysteresis_on_empty_and_full_masks():
    zero = np.zeros((20, 30), np.uint8)
    assert not hysteresis(zero, zero).any()
    weak = zero.copy()
    weak[5:9, 3:20] = 255
    strong = zero.copy()
    strong[6, 10] = 255
    assert np.array_equal(hysteresis(strong, weak), weak)
    assert not hysteresis(zero, weak).any()  # no seed, nothing kept


@pytest.mark.parametrize("density", [0.005, 0.3])
def test_hysteresis_keeps_the_seeded_components_with_few_and_many_of_them(density):
    """Under 257 components the 8-bit histogram-and-LUT path runs, above it the 16-bit gather."""
    rng = np.random.default_rng(8)
    weak = ((rng.random((120, 150)) < density) * 255).astype(np.uint8)
    strong = (((rng.random((120, 150)) < 0.3) & (weak > 0)) * 255).astype(np.uint8)
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    assert (n <= 256) == (density < 0.1)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[strong > 0])] = True
    keep[0] = False
    want = keep[labels].astype(np.uint8) * 255
    assert np.array_equal(hysteresis(strong, weak), want) and want.any() and (weak > want).any()


@pytest.mark.parametrize("seed", [0, 3])
def test_box_labelling_equals_whole_mask_labelling(seed):
    for mask in _plain_masks(_panel(seed))[0].values():
        labels, stats, small = components(mask)
        n, want_labels, want_stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        assert len(stats) == n
        # Same components with the same stats (row 0, the background, is not used).
        got_rows = {tuple(r) for r in stats[1:].tolist()}
        assert got_rows == {tuple(r) for r in want_stats[1:].tolist()}
        for i in range(1, n):
            x, y, w, h, _a = stats[i]
            assert np.array_equal(labels[y : y + h, x : x + w] == i, (labels == i)[y : y + h, x : x + w])
            assert (labels == i).sum() == stats[i, 4]
        ph = mask.shape[0]
        want_small = [i for i in range(1, n) if want_stats[i, 4] >= 4 and want_stats[i, 3] <= 0.3 * ph + 20]
        assert len(small) == len(want_small)
        # The caller's boundingRect, handed in, labels the same.
        boxed = components(mask, cv2.boundingRect(mask))
        assert np.array_equal(boxed[0], labels) and np.array_equal(boxed[1][1:], stats[1:])
        assert np.array_equal(boxed[2], small)
    labels, stats, small = components(np.zeros((10, 12), np.uint8))
    assert not labels.any() and len(small) == 0


@pytest.mark.parametrize("close_px", [3, 9])
def test_closing_the_ink_box_finds_the_whole_mask_outlines(close_px):
    rgb = _panel(5)
    masks = _plain_masks(rgb)[0]
    edge = np.zeros((60, 80), np.uint8)
    edge[0:12, 70:80] = 255  # ink on the panel's edge: the box reaches the border
    edge[30:50, 5:25] = 255
    edge[35:45, 10:20] = 0
    for mask in [*masks.values(), edge]:
        if not mask.any():
            continue
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (close_px, close_px))
        want, want_h = cv2.findContours(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel), cv2.RETR_CCOMP,
                                        cv2.CHAIN_APPROX_SIMPLE)
        got, got_h = closed_outlines(mask, close_px)
        assert np.array_equal(got_h, want_h)
        assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def test_short_median_equals_numpy_median():
    rng = np.random.default_rng(6)
    for n in range(1, 20):
        for a in (rng.normal(size=n) * 10, np.round(rng.uniform(0, 5, n)), -np.abs(rng.normal(size=n))):
            assert median(a) == float(np.median(a))


def test_principal_axes_equal_numpy_covariance_and_eigh():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(3, 400))
        xs, ys = rng.integers(0, 500, n), rng.integers(0, 500, n)
        pts = np.stack([xs, ys], 1).astype(np.float64)
        mean = pts.mean(0)
        d = pts - mean
        cov = np.array([[d[:, 0] @ d[:, 0], d[:, 0] @ d[:, 1]], [d[:, 0] @ d[:, 1], d[:, 1] @ d[:, 1]]]) / (n - 1)
        w, v = np.linalg.eigh(cov)
        got_mean, major, minor = principal_axes(xs, ys)
        assert np.array_equal(got_mean, mean)
        assert np.array_equal(major, v[:, int(np.argmax(w))])
        assert np.array_equal(minor, np.array([-major[1], major[0]]))
