"""Patch geometry, position names and marker-phrase linking."""

from curate.markers.detect import DetectedMarker
from curate.markers.link import link_counts, link_markers
from curate.markers.patches import patch_box, position_name
from curate.markers.phrases import parse_marker_phrases


def _m(kind, colour="white", box=(50, 50, 70, 60), tip=None, direction=None, conf=0.9):
    return DetectedMarker(kind, colour, box, tip, direction, conf)


def test_arrow_patch_lies_on_the_pointed_side():
    right = patch_box(_m("arrow", tip=(100, 100), direction=0.0, box=(80, 95, 101, 105)), (400, 300))
    assert right[0] < 100 < right[2] and (right[0] + right[2]) / 2 > 100
    down = patch_box(_m("arrow", tip=(100, 100), direction=90.0, box=(95, 80, 105, 101)), (400, 300))
    assert (down[1] + down[3]) / 2 > 100


def test_patch_is_clipped_to_panel_and_box_encloses():
    b = patch_box(_m("arrowhead", tip=(395, 295), direction=0.0, box=(380, 285, 396, 300)), (400, 300))
    assert 0 <= b[0] < b[2] <= 400 and 0 <= b[1] < b[3] <= 300
    assert patch_box(_m("box", box=(10, 20, 60, 80)), (400, 300)) == (10, 20, 60, 80)
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
