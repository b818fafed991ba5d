"""Detector on synthetic panels: every kind in two colours through JPEG, and the look-alikes it must skip."""

import math

import cv2
import numpy as np
import pytest

from curate.markers.detect import detect_markers
from curate.markers.synth import background, draw_arrow, draw_one, jpeg


def _panel(seed=0, h=240, w=240):
    return background(np.random.default_rng(seed), h, w)


def _found(scan, kind, truth_box):
    cx, cy = (truth_box[0] + truth_box[2]) / 2, (truth_box[1] + truth_box[3]) / 2
    ok = ("arrow", "arrowhead") if kind in ("arrow", "arrowhead") else (kind,)
    return [m for m in scan.markers if m.kind in ok
            and abs((m.bbox_xyxy[0] + m.bbox_xyxy[2]) / 2 - cx) < 12
            and abs((m.bbox_xyxy[1] + m.bbox_xyxy[3]) / 2 - cy) < 12]


@pytest.mark.parametrize("kind,colours,size", [
    ("arrow", ("white", "red"), 30),
    ("arrowhead", ("yellow", "cyan"), 24),
    ("asterisk", ("white", "green"), 26),
    ("box", ("red", "yellow"), 30),
    ("circle", ("green", "magenta"), 26),
])
def test_each_kind_in_two_colours_after_jpeg(kind, colours, size):
    for i, colour in enumerate(colours):
        rng = np.random.default_rng(10 + i)
        img = _panel(i)
        truth = draw_one(img, kind, colour, (120, 120), size, 40.0 + 90 * i, rng)
        scan = detect_markers(jpeg(img, 70))
        hits = _found(scan, kind, truth.bbox_xyxy)
        assert hits, f"{kind} {colour} missed: {scan.markers}"
        assert hits[0].kind == kind and hits[0].colour == colour


def test_arrow_tip_and_direction():
    img = _panel(3)
    tip = draw_arrow(img, (150, 90), 135.0, 34, "white", thickness=2)  # pointing down-left
    scan = detect_markers(jpeg(img, 80))
    arrows = [m for m in scan.markers if m.kind == "arrow"]
    assert arrows
    m = arrows[0]
    assert math.dist(m.tip_xy, tip) <= 3
    assert abs((m.direction_deg - 135.0 + 180) % 360 - 180) < 20


def test_scale_bar_is_not_a_marker():
    img = _panel(4)
    img[200:205, 150:220] = 255
    scan = detect_markers(jpeg(img, 85))
    assert not [m for m in scan.markers if m.bbox_xyxy[1] >= 195]
    assert any(abs(b[0] - 150) <= 2 and abs(b[2] - 220) <= 2 for b in scan.scale_bars)


def test_text_is_not_a_marker():
    img = np.full((200, 400, 3), 255, np.uint8)
    cv2.putText(img, "Vmax 24 h AKT1 p<0.05", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    cv2.putText(img, "WT  KO  x10", (10, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 0, 0), 2)
    scan = detect_markers(jpeg(img, 80))
    assert scan.markers == []


def test_blank_and_tiny_panels_yield_nothing():
    assert detect_markers(np.full((120, 160, 3), 255, np.uint8)).markers == []
    assert detect_markers(np.zeros((120, 160, 3), np.uint8)).markers == []
    assert detect_markers(np.zeros((4, 4, 3), np.uint8)).markers == []
