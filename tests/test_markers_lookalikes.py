"""Look-alikes of markers in real figures: flow-chart connectors, letters read as rings, and
upright letters in blurred text read as arrows; the real markers beside them are kept."""

import math

import cv2
import numpy as np

from curate.markers.detect import detect_markers
from curate.markers.synth import background, draw_arrow, draw_one, jpeg


def _page(h=200, w=360):
    return np.full((h, w, 3), 255, np.uint8)


def _kinds(scan, kinds):
    return [m for m in scan.markers if m.kind in kinds]


def test_flow_chart_connectors_are_not_markers():
    img = _page()
    cv2.rectangle(img, (20, 70), (100, 130), (0, 0, 0), 2)
    cv2.rectangle(img, (150, 70), (230, 130), (0, 0, 0), 2)
    cv2.rectangle(img, (280, 70), (350, 130), (0, 0, 0), 2)
    draw_arrow(img, (143, 100), 0.0, 36, "black", thickness=2)
    draw_arrow(img, (273, 100), 0.0, 36, "black", thickness=2)
    assert _kinds(detect_markers(jpeg(img, 90)), ("arrow", "arrowhead")) == []


def test_band_arrow_beside_a_framed_blot_and_a_label_is_kept():
    # The blot's frame lies ahead of the tip, but the label at the tail is made of short
    # strokes, not a rule: this is a pointer, not a connector.
    img = _page()
    img[60:140, 30:180] = 215
    cv2.rectangle(img, (30, 60), (180, 140), (0, 0, 0), 1)
    img[97:103, 60:170] = 60  # a band
    tip = draw_arrow(img, (188, 100), 180.0, 30, "black", thickness=2)
    cv2.putText(img, "p53", (226, 108), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    arrows = _kinds(detect_markers(jpeg(img, 90)), ("arrow",))
    assert arrows and math.dist(arrows[0].tip_xy, tip) <= 4


def test_arrow_over_texture_is_still_found():
    rng = np.random.default_rng(3)
    img = background(rng, 240, 240)
    truth = draw_one(img, "arrow", "white", (120, 120), 32, 200.0, rng)
    hits = _kinds(detect_markers(jpeg(img, 80)), ("arrow",))
    assert hits and math.dist(hits[0].tip_xy, truth.tip_xy) <= 4


def test_letters_of_a_coloured_word_are_not_rings():
    # Thin strokes: the "O", "D" and "o" are clean closed outlines on their own.
    img = np.zeros((220, 460, 3), np.uint8)
    cv2.putText(img, "FOXA2", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 30, 30), 1, cv2.LINE_AA)
    cv2.putText(img, "DNA soli", (10, 190), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (40, 230, 240), 1, cv2.LINE_AA)
    assert _kinds(detect_markers(jpeg(img, 90)), ("box", "circle")) == []


def test_a_circle_beside_nothing_is_kept():
    img = np.zeros((160, 420, 3), np.uint8)
    img[:] = (60, 60, 70)
    cv2.circle(img, (300, 80), 13, (255, 30, 30), 2, cv2.LINE_AA)
    cv2.putText(img, "FOXA2", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 30, 30), 1, cv2.LINE_AA)
    circles = _kinds(detect_markers(jpeg(img, 90)), ("circle",))
    assert len(circles) == 1 and circles[0].bbox_xyxy[0] > 250


def test_upright_t_in_blurred_text_is_not_an_arrow():
    img = _page(120, 420)
    cv2.putText(img, "ttt tgtctg t=1", (10, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    img = cv2.GaussianBlur(img, (3, 3), 0.8)
    assert _kinds(detect_markers(jpeg(img, 75)), ("arrow", "arrowhead")) == []


def test_inset_frame_in_an_image_corner_is_not_a_box_but_a_zoom_box_is():
    rng = np.random.default_rng(3)
    img = _page(260, 260)
    img[10:250, 10:250] = background(rng, 240, 240)
    cv2.rectangle(img, (12, 190), (60, 247), (230, 20, 20), 2)  # inset frame on the image's corner
    cv2.rectangle(img, (120, 60), (180, 120), (230, 20, 20), 2)  # zoom box within the content
    boxes = _kinds(detect_markers(jpeg(img, 90)), ("box",))
    assert len(boxes) == 1 and boxes[0].bbox_xyxy[0] >= 110, boxes
