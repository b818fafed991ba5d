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


def _white_page(h=200, w=300):
    return np.full((h, w, 3), 255, np.uint8)


def test_digits_and_crosses_are_not_arrows():
    # Lone glyphs whose "head" is one-sided ("1", "4"), hollow ("A") or a crossbar ("t", "+").
    img = _white_page()
    for i, text in enumerate(("1", "4", "t", "+", "A")):
        cv2.putText(img, text, (20 + 55 * i, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    scan = detect_markers(jpeg(img, 85))
    assert [m for m in scan.markers if m.kind in ("arrow", "arrowhead")] == []


def test_band_arrow_on_page_is_kept():
    img = _white_page()
    img[60:140, 40:200] = 200  # a grey blot strip
    tip = draw_arrow(img, (215, 100), 180.0, 30, "black", thickness=2)
    arrows = [m for m in detect_markers(jpeg(img, 85)).markers if m.kind == "arrow"]
    assert arrows and math.dist(arrows[0].tip_xy, tip) <= 4


def test_plot_triangles_on_page_are_not_arrowheads_but_sharp_heads_are():
    img = _white_page()
    for i in range(4):  # equilateral plot symbols
        cx, cy = 40 + 50 * i, 60
        tri = np.array([[cx, cy - 11], [cx - 10, cy + 7], [cx + 10, cy + 7]], np.int32)
        cv2.fillPoly(img, [tri], (30, 200, 60))
    scan = detect_markers(jpeg(img, 90))
    assert [m for m in scan.markers if m.kind == "arrowhead"] == []
    img = _panel(5)
    draw_one(img, "arrowhead", "green", (120, 120), 26, 30.0, np.random.default_rng(1))
    assert [m for m in detect_markers(jpeg(img, 90)).markers if m.kind == "arrowhead"]


def test_legend_swatch_is_not_a_box():
    img = _white_page()
    cv2.rectangle(img, (40, 60), (80, 90), (200, 120, 40), -1)
    cv2.rectangle(img, (40, 60), (80, 90), (0, 0, 0), 2)
    cv2.rectangle(img, (150, 60), (190, 90), (220, 30, 30), -1)
    scan = detect_markers(jpeg(img, 90))
    assert [m for m in scan.markers if m.kind in ("box", "circle")] == []


def test_caption_guidance_boosts_named_and_damps_others():
    img = _panel(6)
    draw_one(img, "arrow", "red", (120, 120), 30, 20.0, np.random.default_rng(2))
    plain = [m for m in detect_markers(jpeg(img, 85)).markers if m.kind == "arrow"]
    named = [m for m in detect_markers(jpeg(img, 85), expected=[("arrow", "red")]).markers if m.kind == "arrow"]
    other = detect_markers(jpeg(img, 85), expected=[("box", "white")]).markers
    assert plain and named and named[0].confidence > plain[0].confidence
    assert all(m.confidence < plain[0].confidence for m in other if m.kind == "arrow")


def test_finalise_threshold_and_cap():
    from curate.markers.calibrate import MAX_PER_PANEL, REPORT_THRESHOLD, finalise
    from curate.markers.detect import DetectedMarker

    weak = DetectedMarker("arrow", "red", (0, 0, 9, 9), (8, 4), 0.0, REPORT_THRESHOLD - 0.05)
    many = [DetectedMarker("box", "red", (i, 0, i + 9, 9), None, None, 0.9) for i in range(MAX_PER_PANEL + 5)]
    assert finalise([weak]) == []
    assert len(finalise([weak], expected=[("arrowhead", None)])) == 1  # arrow ~ arrowhead
    assert len(finalise(many)) == MAX_PER_PANEL
    blue = DetectedMarker("arrow", "blue", (0, 0, 9, 9), (8, 4), 0.0, 0.7)
    assert finalise([blue]) == []  # blue ink is mostly nuclear stain


def test_held_out_synthetic_f1():
    """Synthetic panels from a seed never used while tuning; pointers must mostly be found."""
    from bench.markers import match_counts, synthetic_panels

    tp = n_gold = n_det = 0
    for img, truth in synthetic_panels(20, 1234, []):
        dets = detect_markers(img).markers
        golds = [{"kind": t.kind, "bbox_xyxy": list(t.bbox_xyxy), "tip_xy": t.tip_xy} for t in truth]
        tp += match_counts(dets, golds)[0]
        n_gold += len(golds)
        n_det += len(dets)
    precision, recall = tp / max(n_det, 1), tp / max(n_gold, 1)
    assert precision >= 0.75 and recall >= 0.7, (precision, recall)
