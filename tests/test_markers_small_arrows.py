"""Small typeset "←" arrows (9 px, 1-px strokes) beside blot bands, with a label at the tail.

The glyphs are the red-mask shapes of real ones (eLife blot labels); drawn pixel-exact on a
white page, so the truth box is known."""

import cv2
import numpy as np

from curate.markers.detect import detect_markers

RED = (220, 30, 40)
# Head at the left, shaft to the right; the upper barb one row shorter than the lower.
LEFT_ARROW = ["..##....", ".##.....", "########", ".##.....", "..#.....", "...#...."]
# Hollow glyphs of the same size with a wide end: a "4" and a "K" (no stroke along the axis).
FOUR = ["....#..", "...##..", "..#.#..", ".#..#..", "#######", "....#..", "....#.."]
KAY = ["#...#..", "#..#...", "#.#....", "##.....", "#.#....", "#..#...", "#...#.."]


def _panel():
    img = np.full((90, 200, 3), 255, np.uint8)
    cv2.rectangle(img, (10, 10), (90, 80), (0, 0, 0), 1)  # the blot's frame
    img[20:80, 11:90] = 235
    for y in (29, 54):
        img[y : y + 5, 30:80] = 40  # bands
    return img


def _stamp(img, glyph, x, y, colour=RED):
    for r, row in enumerate(glyph):
        for c, ch in enumerate(row):
            if ch == "#":
                img[y + r, x + c] = colour
    return (x, y, x + len(glyph[0]), y + len(glyph))


def test_small_left_arrows_beside_bands_are_found():
    img = _panel()
    truths = [_stamp(img, LEFT_ARROW, 96, 28), _stamp(img, LEFT_ARROW, 96, 53)]
    for y in (28, 53):
        cv2.putText(img, "DDX", (110, y + 7), cv2.FONT_HERSHEY_SIMPLEX, 0.35, RED, 1, cv2.LINE_AA)
    arrows = [m for m in detect_markers(img).markers if m.kind == "arrow"]
    for truth in truths:
        hit = [m for m in arrows if max(abs(a - b) for a, b in zip(m.bbox_xyxy, truth, strict=True)) <= 1]
        assert len(hit) == 1, (truths, arrows)
        assert abs(hit[0].direction_deg - 180) < 15
        assert hit[0].tip_xy[0] <= truth[0] + 1
    assert len(arrows) == len(truths)


def test_red_labels_alone_give_no_markers():
    img = _panel()
    for y in (28, 53):
        cv2.putText(img, "DDX4 <", (100, y + 7), cv2.FONT_HERSHEY_SIMPLEX, 0.35, RED, 1, cv2.LINE_AA)
    assert detect_markers(img).markers == []


def test_hollow_letters_of_arrow_size_are_not_arrows():
    img = _panel()
    for i, glyph in enumerate((FOUR, KAY)):
        _stamp(img, glyph, 96 + 14 * i, 28)
        _stamp(img, [row[::-1] for row in glyph], 96 + 14 * i, 53)
    assert [m for m in detect_markers(img).markers if m.kind in ("arrow", "arrowhead")] == []
