"""Typeset asterisks (a bold font's '*', as authors put them on figures) after JPEG are found;
typeset letters, digits and small plot symbols are not asterisks."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from curate.markers.detect import detect_markers
from curate.markers.synth import asterisk_fonts, asterisk_glyph, background, draw_glyph, jpeg


def _textured(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Grey tissue-like texture: blurred noise at two scales (a stand-in for a micrograph)."""
    g = cv2.GaussianBlur(rng.normal(0, 40, (h, w)), (0, 0), 1.5) + cv2.GaussianBlur(rng.normal(0, 60, (h, w)), (0, 0), 6)
    g = np.clip(100 + g, 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, 2)


def _panel(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "grey":
        return background(rng, 140, 140)
    return _textured(rng, 140, 140)


def _found(img: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    for m in detect_markers(img).markers:
        x1, y1, x2, y2 = m.bbox_xyxy
        ix = max(0, min(x2, box[2]) - max(x1, box[0]))
        iy = max(0, min(y2, box[3]) - max(y1, box[1]))
        union = (x2 - x1) * (y2 - y1) + (box[2] - box[0]) * (box[3] - box[1]) - ix * iy
        if m.kind == "asterisk" and ix * iy / union >= 0.5:
            return True
    return False


def test_typeset_asterisks_in_several_fonts_colours_and_sizes_are_found_after_jpeg():
    fonts = asterisk_fonts()
    cases = list(itertools.product(range(len(fonts)), ("white", "black", "yellow", "red", "cyan"),
                                   (18, 26, 34), ("grey", "textured")))
    missed = []
    for n, (f, colour, size, bg) in enumerate(cases):
        img = _panel(bg, n)
        before = img.copy()
        draw_glyph(img, (70, 70), asterisk_glyph(fonts[f], size), colour)
        ys, xs = np.nonzero(np.any(img != before, axis=2))
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        if not _found(jpeg(img, 70), box):
            missed.append((fonts[f].rsplit("/", 1)[-1], colour, size, bg))
    # The outline-only star test missed 68 of these 180; with the petal rings 15 (mostly
    # 18 px coloured glyphs, whose petals JPEG chroma subsampling merges).
    assert len(missed) <= 0.12 * len(cases), (len(missed), len(cases), missed)


@pytest.mark.parametrize("text", ["A", "K", "X", "8", "5", "W", "%", "+"])
def test_typeset_letters_digits_and_signs_are_not_asterisks(text):
    fonts = asterisk_fonts()
    for f, colour in itertools.product(fonts, ("white", "yellow")):
        img = _panel("grey", 3)
        draw_glyph(img, (70, 70), asterisk_glyph(f, 24, text), colour)
        kinds = [m.kind for m in detect_markers(jpeg(img, 75)).markers]
        assert "asterisk" not in kinds, (text, f, colour)


def test_small_filled_plot_stars_and_symbols_on_a_page_are_not_asterisks():
    img = np.full((120, 200, 3), 255, np.uint8)
    cv2.line(img, (10, 100), (190, 100), (0, 0, 0), 1)
    star = np.array([[np.cos(a) * (5 if k % 2 == 0 else 2.2), np.sin(a) * (5 if k % 2 == 0 else 2.2)]
                     for k, a in enumerate(np.linspace(-np.pi / 2, 1.5 * np.pi, 10, endpoint=False))])
    for i, x in enumerate(range(25, 190, 30)):
        colour = [(30, 20, 180), (40, 200, 160), (220, 30, 30)][i % 3]
        cv2.fillPoly(img, [np.round(star + (x, 60)).astype(np.int32)], colour, cv2.LINE_AA)
        cv2.circle(img, (x, 30), 4, colour, -1, cv2.LINE_AA)
        cv2.line(img, (x - 4, 85), (x + 4, 85), colour, 2)
        cv2.line(img, (x, 81), (x, 89), colour, 2)
    kinds = [m.kind for m in detect_markers(jpeg(img, 80)).markers]
    assert "asterisk" not in kinds
