"""Round 6's cheaper paths in the marker detector give what the plain forms give: the triangle
and star tests are skipped only where their own solidity bounds fail them, the glyph's ink
strength takes its median and percentile from a partition, ``isolated`` counts its ring, and
the detector runs its BLAS products on one thread without changing the caller's setting."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from curate.images import label_components
from curate.markers import detect
from curate.markers.context import isolated
from curate.markers.orderstats import median_of, percentile_of
from curate.markers.shapes import (
    NO_TRIANGLE,
    STAR_MAX_SOLIDITY,
    TRIANGLE_MIN_SOLIDITY,
    convex_hull_area,
    star_score,
    triangle_score,
)
from curate.markers.synth import background, draw_one, jpeg
from curate.runtime.threads import blas_controller


def _glyph_contours(seed: int):
    """(outer contour, pixel area) of every component of drawn markers and random blobs."""
    rng = np.random.default_rng(seed)
    img = background(rng, 260, 320, None)
    for j, kind in enumerate(["arrow", "arrowhead", "asterisk", "arrowhead", "asterisk", "arrow"]):
        draw_one(img, kind, "black", (30 + 50 * j, 60 + 90 * (j % 2)), int(rng.integers(14, 34)),
                 float(rng.uniform(0, 360)), rng)
    mask = (cv2.cvtColor(jpeg(img, 80), cv2.COLOR_RGB2GRAY) < 70).astype(np.uint8)
    # Random polygons of 3 to 9 corners, one per grid cell: shapes of every solidity.
    blobs = np.zeros((240, 240), np.uint8)
    for cy in range(12, 240, 30):
        for cx in range(12, 240, 30):
            pts = rng.integers(-12, 13, (int(rng.integers(3, 10)), 2)) + np.array([cx, cy])
            cv2.fillPoly(blobs, [pts.astype(np.int32)], 1)
    out = []
    for m in (mask, blobs):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        for i in range(1, n):
            x, y, w, h, a = stats[i]
            if a < 12:
                continue
            comp = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
            contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            out.append((max(contours, key=cv2.contourArea) + np.array([x, y]), float(a)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solidity_gates_skip_only_tests_that_fail(seed):
    shapes = _glyph_contours(seed)
    assert len(shapes) > 40
    scored = {"triangle": 0, "star": 0}
    for contour, area in shapes:
        hull = convex_hull_area(contour)
        tri, star = triangle_score(contour, area), star_score(contour, area)
        # The hull handed in is the one the test would compute.
        assert triangle_score(contour, area, hull) == tri and star_score(contour, area, hull) == star
        if area / hull < TRIANGLE_MIN_SOLIDITY:
            assert tri == NO_TRIANGLE
        if area / hull > STAR_MAX_SOLIDITY:
            assert star == 0.0
        scored["triangle"] += tri[0] > 0
        scored["star"] += star > 0
    assert scored["triangle"] and scored["star"]  # both gates were passed by something


def test_float32_median_and_percentile_equal_numpy():
    rng = np.random.default_rng(4)
    for _ in range(3000):
        n = int(rng.integers(1, 300))
        top = int(rng.choice([2, 6, 256, 10**5]))
        a = rng.integers(0, top, n).astype(np.float32)
        if rng.random() < 0.5:
            a[rng.random(n) < 0.6] = top - 1  # saturated ink: ties around the 90th percentile
        if rng.random() < 0.3:
            a = (a * rng.random(n)).astype(np.float32)  # fractions: the interpolation shows
        assert median_of(a) == float(np.median(a))
        for q in (15, 33.3, 50, 90, 99):
            assert percentile_of(a, q) == float(np.percentile(a, q))
    assert percentile_of(np.arange(5.0), 90) == float(np.percentile(np.arange(5.0), 90))  # float64: NumPy's


def test_integer_median_and_percentile_equal_numpy():
    """The uint8 samples of ``pure_ink`` and ``outlines_content``: NumPy's float64 arithmetic."""
    rng = np.random.default_rng(6)
    for _ in range(3000):
        n = int(rng.integers(1, 300))
        a = rng.integers(0, int(rng.choice([2, 6, 256])), n).astype(rng.choice([np.uint8, np.int64]))
        assert median_of(a) == float(np.median(a))
        for q in (15, 33.3, 50, 80, 90, 99):
            assert percentile_of(a, q) == float(np.percentile(a, q))
    hsv = rng.integers(0, 256, (40, 3)).astype(np.uint8)
    assert median_of(hsv[:, 1]) == float(np.median(hsv[:, 1]))  # a strided column, as pure_ink takes it


def test_isolated_equals_the_ring_mean():
    rng = np.random.default_rng(5)
    loose = ((rng.random((80, 90)) < 0.3) * 255).astype(np.uint8)
    for _ in range(200):
        h, w = int(rng.integers(1, 15)), int(rng.integers(1, 15))
        x, y = int(rng.integers(0, 90 - w)), int(rng.integers(0, 80 - h))
        comp = rng.random((h, w)) < 0.7
        x0, y0, x1, y1 = max(0, x - 4), max(0, y - 4), min(90, x + w + 4), min(80, y + h + 4)
        c = np.zeros((y1 - y0, x1 - x0), np.uint8)
        c[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = comp
        k = np.ones((3, 3), np.uint8)
        ring = (cv2.dilate(c, k, iterations=3) > 0) & (cv2.dilate(c, k) == 0)
        want = float(1.0 - (loose[y0:y1, x0:x1][ring] > 0).mean()) if ring.any() else 0.0
        assert isolated(comp, loose, x, y) == want
        assert isolated(comp.astype(np.uint8), loose, x, y) == want


def test_detector_runs_blas_on_one_thread_and_restores_it(monkeypatch):
    def blas_threads():
        return [lib["num_threads"] for lib in blas_controller().info() if lib["user_api"] == "blas"]

    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library loaded")
    seen = []
    scan = detect._scan

    def spy(rgb, expected):  # records the BLAS setting the detector's work runs under
        seen.append(blas_threads())
        return scan(rgb, expected)

    monkeypatch.setattr(detect, "_scan", spy)
    detect.detect_markers(np.zeros((30, 30, 3), np.uint8))
    assert seen == [[1] * len(before)]
    assert blas_threads() == before


def test_detector_runs_opencv_on_one_thread_and_restores_it(monkeypatch):
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)  # a pool to leave, whatever the machine's core count
    seen = []
    scan = detect._scan

    def spy(rgb, expected):
        seen.append(cv2.getNumThreads())
        return scan(rgb, expected)

    monkeypatch.setattr(detect, "_scan", spy)
    try:
        detect.detect_markers(np.zeros((30, 30, 3), np.uint8))
        assert seen == [1]
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)


def test_lobe_regularity_is_asked_only_for_a_petal_count():
    from curate.markers.petals import PETAL_COUNTS, _lobes

    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    for lobes in range(2, 11):
        profile = (0.5 + 0.5 * np.cos(lobes * angles)).astype(np.float32)
        peaks, contrast, regular = _lobes(profile)
        all_peaks, all_contrast, all_regular = _lobes(profile, counts=(2, 72))
        assert (peaks, contrast) == (all_peaks, all_contrast) and len(peaks) == lobes
        assert regular == (all_regular if PETAL_COUNTS[0] <= lobes <= PETAL_COUNTS[1] else 0.0)
        assert all_regular > 0.5  # evenly spaced lobes: the gated value is not 0 by chance


def test_sixteen_bit_labels_equal_thirty_two_bit_ones_and_overflow_to_them():
    rng = np.random.default_rng(8)
    dots = np.zeros((600, 600), np.uint8)
    dots[::2, ::2] = 255  # 90,000 components: more than 16 bits can label
    masks = [((rng.random((h, w)) < p) * 255).astype(np.uint8)
             for h, w, p in [(50, 70, 0.2), (300, 260, 0.45), (1, 40, 0.5), (120, 90, 0.8)]]
    for mask in [*masks, dots, np.zeros((9, 9), np.uint8)]:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)
        got_n, got_labels, got_stats = label_components(mask)
        assert got_n == n and np.array_equal(got_labels, labels) and np.array_equal(got_stats, stats)
        assert got_labels.dtype == (np.int32 if mask is dots else np.uint16)
        got_n, got_labels, none = label_components(mask, with_stats=False)
        assert got_n == n and np.array_equal(got_labels, labels) and none is None


def test_no_ink_strength_means_no_petals():
    """The typeset-asterisk test skips glyphs with an all-zero ink strength: their petal score is 0."""
    from curate.markers.petals import petal_score

    rng = np.random.default_rng(9)
    for _ in range(50):
        h, w = int(rng.integers(8, 40)), int(rng.integers(8, 40))
        comp = np.zeros((h + 6, w + 6), np.uint8)
        comp[3 : 3 + h, 3 : 3 + w] = rng.random((h, w)) < 0.8
        assert petal_score(np.zeros(comp.shape, np.float32), comp) == 0.0
    star = np.zeros((30, 30), np.uint8)
    cv2.drawMarker(star, (15, 15), 1, cv2.MARKER_STAR, 20, 3)
    assert petal_score(star.astype(np.float32), star) > 0  # the same glyph with ink has petals
