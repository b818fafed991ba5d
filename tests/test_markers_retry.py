"""Cases the second look finds: coloured arrows whose thin shaft JPEG chroma smear broke off
the head, white arrows fused with bright texture, stacked band arrows that read as a
vertical word; glyphs cut by the panel edge, which are not markers; and caption guidance
taken from the whole caption, as the markers stage gives it."""

import math

import cv2
import numpy as np

from curate.markers.detect import detect_markers
from curate.markers.synth import background, draw_arrow, jpeg

SMEARED_SEEDS = (0, 2, 3, 4)  # seed 2 loses its shaft in the strict mask


def _arrows(img):
    return [m for m in detect_markers(img).markers if m.kind == "arrow"]


def _found(img, tip) -> bool:
    return any(m.tip_xy is not None and math.dist(m.tip_xy, tip) <= 5 for m in _arrows(img))


def test_thin_coloured_arrows_broken_by_chroma_smear_are_joined():
    # 1-px shafts at JPEG q45: the strict hue mask keeps the head and pieces of the shaft.
    hits = []
    for seed in SMEARED_SEEDS:
        rng = np.random.default_rng(seed)
        img = background(rng, 120, 120)
        colour = ("red", "magenta", "green", "cyan", "yellow")[seed % 5]
        angle = float(rng.uniform(0, 360))
        a = math.radians(angle)
        tip = draw_arrow(img, (int(60 + math.cos(a) * 14), int(60 + math.sin(a) * 14)), angle, 28, colour, 1)
        hits.append(_found(jpeg(img, 45), tip))
    assert all(hits)


def test_white_arrow_touching_bright_texture_is_found_by_its_core():
    rng = np.random.default_rng(5)
    img = background(rng, 200, 200)
    # A bright, uneven structure (a cell body) that the arrow's tail runs into.
    blob = np.zeros((200, 200), np.uint8)
    cv2.ellipse(blob, (150, 100), (30, 22), 0, 0, 360, 1, -1)
    shade = 200 + rng.integers(0, 20, (200, 200))
    img[blob > 0] = shade[blob > 0, None]
    tip = draw_arrow(img, (70, 100), 180.0, 58, "white", thickness=3)
    assert _found(jpeg(img, 85), tip)


def test_column_of_band_arrows_beside_a_blot_is_kept():
    img = np.full((220, 300, 3), 255, np.uint8)
    img[30:190, 20:150] = 225
    tips = []
    for y in (60, 86, 112, 138):
        img[y - 3 : y + 3, 40:140] = 70  # a band
        tips.append(draw_arrow(img, (158, y), 180.0, 27, "black", thickness=3))
        cv2.putText(img, "p", (192, y + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    img = jpeg(img, 90)
    assert all(_found(img, t) for t in tips)


def test_arrow_cut_by_the_panel_edge_is_not_a_marker():
    rng = np.random.default_rng(2)
    img = background(rng, 160, 160)
    draw_arrow(img, (60, 80), 0.0, 40, "white", thickness=3)
    assert _arrows(jpeg(img, 90)), "the whole arrow is found"
    cut = np.ascontiguousarray(jpeg(img, 90)[:, 32:])  # the panel edge cuts the shaft
    assert _arrows(cut) == []


def test_crisp_coloured_arrow_is_one_marker_not_a_second_look_duplicate():
    img = np.full((240, 240, 3), 90, np.uint8)
    draw_arrow(img, (150, 120), 0.0, 50, "red", thickness=3)
    found = detect_markers(jpeg(img, 90)).markers
    assert [(m.kind, m.colour) for m in found] == [("arrow", "red")]


def test_guidance_comes_from_the_whole_caption():
    # The stage guides every panel by the whole caption: panel B's arrow, named only in
    # panel A's text, clears the guided bar; with B's own (marker-free) text it would not.
    from curate.markers.calibrate import finalise
    from curate.markers.detect import DetectedMarker
    from curate.markers.phrases import expected_markers

    caption = "(A) Wild type; arrows mark crossing points of dendrites. (B) Mutant. (C) Red arrowheads indicate apoptotic cells."
    assert expected_markers(caption) == [("arrow", None), ("arrowhead", "red")]
    assert expected_markers("") == []
    faint = DetectedMarker("arrow", "white", (10, 10, 30, 20), (29, 15), 0.0, 0.55)
    assert finalise([faint], expected_markers(caption))
    assert finalise([faint], expected_markers("(B) Mutant.")) == []
