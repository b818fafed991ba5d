"""Patch geometry, position names and marker-phrase linking."""

import numpy as np
import pytest

from curate.markers.detect import DetectedMarker
from curate.markers.link import link_counts, link_markers
from curate.markers.patches import patch_box, position_name
from curate.markers.phrases import parse_marker_phrases
from curate.markers.synth import draw_one


def _m(kind, colour="white", box=(50, 50, 70, 60), tip=None, direction=None, conf=0.9):
    return DetectedMarker(kind, colour, box, tip, direction, conf)


def test_arrow_patch_lies_on_the_pointed_side():
    right = patch_box(_m("arrow", tip=(100, 100), direction=0.0, box=(80, 95, 101, 105)), (400, 300))
    assert right[0] >= 101 and right[0] - 101 <= 2  # just clear of the marker, beyond its tip
    down = patch_box(_m("arrow", tip=(100, 100), direction=90.0, box=(95, 80, 105, 101)), (400, 300))
    assert (down[1] + down[3]) / 2 > 100


def test_patch_is_clipped_to_panel_and_box_encloses():
    b = patch_box(_m("arrowhead", tip=(395, 295), direction=0.0, box=(380, 285, 396, 300)), (400, 300))
    assert 0 <= b[0] < b[2] <= 400 and 0 <= b[1] < b[3] <= 300
    inner = patch_box(_m("box", box=(10, 20, 60, 80)), (400, 300))
    assert 10 < inner[0] < inner[2] < 60 and 20 < inner[1] < inner[3] < 80
    ast = patch_box(_m("asterisk", box=(40, 40, 50, 50)), (400, 300))
    assert ast[0] >= 45  # beside the glyph, on the roomier right side


def test_position_names():
    assert position_name((0, 0, 10, 10), (300, 300)) == "left upper"
    assert position_name((140, 140, 160, 160), (300, 300)) == "center"
    assert position_name((280, 280, 300, 300), (300, 300)) == "right lower"
    assert position_name((140, 0, 160, 20), (300, 300)) == "center upper"


def test_linking_by_kind_and_colour_keeps_unmatched():
    phrases = parse_marker_phrases("White arrows indicate bulges. Red arrowheads point to the core.")
    markers = [_m("arrow", "white"), _m("arrow", "red"), _m("circle", "green")]
    links = link_markers(markers, phrases)
    by_marker = {lk.marker_index: lk for lk in links if lk.marker_index is not None}
    assert phrases[by_marker[0].phrase_index].colour == "white"
    # a red arrow may stand for the red arrowheads, with a lower score
    assert phrases[by_marker[1].phrase_index].kind == "arrowhead"
    assert by_marker[1].score < by_marker[0].score
    assert by_marker[2].phrase_index is None
    assert link_counts(links) == {"linked": 2, "unmatched_markers": 1, "unmatched_phrases": 0}


def _ink(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


@pytest.mark.parametrize("kind,angle", [("arrow", 0.0), ("arrow", 135.0), ("arrowhead", 300.0),
                                        ("arrow", 90.0), ("box", 0.0), ("circle", 0.0), ("asterisk", 0.0)])
def test_patch_leaves_the_marker_ink_out(kind, angle):
    """The drawn marker's pixels are not inside its patch (no arrow for a model to learn)."""
    rng = np.random.default_rng(3)
    img = np.full((240, 260, 3), 90, np.uint8)
    before = img.copy()
    drawn = draw_one(img, kind, "white", (130, 120), 30, angle, rng)
    ink = _ink(before, img)
    direction = None if drawn.tip_xy is None else angle
    box = patch_box(_m(kind, box=drawn.bbox_xyxy, tip=drawn.tip_xy, direction=direction), (260, 240))
    assert box[2] - box[0] >= 8 and box[3] - box[1] >= 8
    assert not ink[box[1]:box[3], box[0]:box[2]].any()
