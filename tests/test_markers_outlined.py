"""Outlined arrowheads: a thin dark triangle outline around a flat fill, or hollow over an image."""

import math

import cv2
import numpy as np

from curate.markers.detect import detect_markers
from curate.markers.synth import jpeg


def _head(tip, direction_deg, length, half_width):
    """Vertices of an isosceles head: tip first, then the two base corners."""
    d = np.array([math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))])
    n = np.array([-d[1], d[0]])
    base = np.asarray(tip, float) - length * d
    return np.array([tip, base + half_width * n, base - half_width * n]).round().astype(np.int32)


def _textured(seed, h=200, w=240):
    """Grey micrograph-like texture of strong small blobs: no flat area inside a head."""
    rng = np.random.default_rng(seed)
    blobs = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3)
    grey = 140 + 100 * blobs / max(float(np.abs(blobs).max()), 1e-6) + rng.normal(0, 4, (h, w))
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _heads(scan):
    return [m for m in scan.markers if m.kind in ("arrow", "arrowhead")]


def test_hollow_sharp_head_over_an_image_is_found():
    img = _textured(1)
    tri = _head((150, 90), 20.0, 26, 9)  # apex about 38 deg
    cv2.polylines(img, [tri], True, (15, 15, 15), 2, cv2.LINE_AA)
    heads = _heads(detect_markers(jpeg(img, 85)))
    assert len(heads) == 1 and heads[0].kind == "arrowhead"
    # The benchmark's rule: the tip within half the head's length of the drawn tip.
    assert math.dist(heads[0].tip_xy, (150, 90)) <= 13
    assert abs((heads[0].direction_deg - 20.0 + 180) % 360 - 180) < 20


def test_outlined_white_head_on_a_page_is_found():
    img = np.full((200, 240, 3), 250, np.uint8)
    tri = _head((120, 60), 300.0, 24, 8)
    cv2.fillPoly(img, [tri], (255, 255, 255))
    cv2.polylines(img, [tri], True, (20, 20, 20), 2, cv2.LINE_AA)
    heads = _heads(detect_markers(jpeg(img, 90)))
    assert len(heads) == 1 and math.dist(heads[0].tip_xy, (120, 60)) <= 4


def test_hollow_plot_triangles_are_not_heads():
    # Equilateral open triangles: scatter-plot symbols, on a page and hollow over an image.
    page = np.full((200, 240, 3), 250, np.uint8)
    image = _textured(2)
    for img in (page, image):
        for i in range(3):
            cx = 50 + 70 * i
            tri = np.array([[cx, 80], [cx - 12, 101], [cx + 12, 101]], np.int32)
            cv2.polylines(img, [tri], True, (15, 15, 15), 2, cv2.LINE_AA)
        assert _heads(detect_markers(jpeg(img, 90))) == []
