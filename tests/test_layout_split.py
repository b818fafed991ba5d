"""Panel separation on synthetic figures (dark background, inset, single panel) and alignment fallbacks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from curate.layout import PanelBox, split_caption, split_panels
from curate.layout.align import align_panels
from curate.layout.labels import normalise

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth, micrograph-like colour texture (blurred noise, bright enough to differ from black)."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    img = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(img.astype(int) // 2 + 90, 0, 255).astype(np.uint8)


def _grid_figure(
    bg: tuple[int, int, int], labels: bool
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """2 x 2 panels of 200 x 160 px with 40 px gutters, optional white/black letters in the gutters."""
    fig = np.full((440, 520, 3), bg, np.uint8)
    boxes = []
    ink = (255, 255, 255) if sum(bg) < 300 else (0, 0, 0)
    for k, (x, y) in enumerate([(40, 40), (280, 40), (40, 240), (280, 240)]):
        fig[y : y + 160, x : x + 200] = _texture(160, 200, k)
        boxes.append((x, y, x + 200, y + 160))
        if labels:
            cv2.putText(fig, "ABCD"[k], (x - 32, y + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.9, ink, 2)
    return fig, boxes


def _close(a, b, tol=4) -> bool:
    return all(abs(int(p) - int(q)) <= tol for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("bg", [(15, 15, 25), (255, 255, 255)])
def test_grid_on_dark_and_white_background(bg):
    fig, boxes = _grid_figure(bg, labels=False)
    panels = split_panels(fig, ocr=False)
    assert len(panels) == 4
    for p, truth in zip(panels, boxes, strict=True):  # reading order: rows, then left to right
        assert _close(p.bbox_xyxy, truth)


def test_labels_are_read_on_dark_background():
    fig, boxes = _grid_figure((15, 15, 25), labels=True)
    panels = [p for p in split_panels(fig, expected_labels=["A", "B", "C", "D"]) if p.parent_index is None]
    assert [p.label for p in panels] == ["A", "B", "C", "D"]
    for p, truth in zip(panels, boxes, strict=True):
        assert _close(p.bbox_xyxy, truth)  # the letter in the gutter is not part of the panel


def test_separator_rule_splits_touching_panels():
    fig = np.full((300, 400, 3), 255, np.uint8)
    fig[10:290, 10:195] = _texture(280, 185, 1)
    fig[10:290, 205:390] = _texture(280, 185, 2)
    fig[:, 198:202] = 0  # a 4-px black rule; the gutter around it is only 3 px wide
    panels = split_panels(fig, ocr=False)
    assert len(panels) == 2
    assert panels[0].bbox_xyxy[2] <= 198 and panels[1].bbox_xyxy[0] >= 202


def test_non_compound_figure_gives_one_panel():
    fig = np.full((300, 400, 3), 255, np.uint8)
    cv2.rectangle(fig, (60, 40), (360, 250), (0, 0, 0), 2)  # plot frame
    cv2.line(fig, (60, 250), (360, 60), (200, 0, 0), 3)  # a curve
    cv2.putText(fig, "time", (180, 285), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
    panels = split_panels(fig, ocr=False)
    assert len(panels) == 1
    x1, y1, x2, y2 = panels[0].bbox_xyxy
    assert x1 <= 60 and y1 <= 40 and x2 >= 360 and y2 >= 285


def test_framed_inset_is_reported_with_its_parent():
    fig = np.full((360, 480, 3), 255, np.uint8)
    fig[20:340, 20:460] = _texture(320, 440, 5)
    inset = (300, 30, 440, 130)
    fig[inset[1] : inset[3], inset[0] : inset[2]] = _texture(100, 140, 9) // 3
    cv2.rectangle(fig, inset[:2], (inset[2] - 1, inset[3] - 1), (255, 255, 255), 3)
    panels = split_panels(fig, ocr=False)
    main = [p for p in panels if p.parent_index is None]
    insets = [p for p in panels if p.parent_index is not None]
    assert len(main) == 1 and len(insets) == 1
    assert insets[0].parent_index == 0
    assert _close(insets[0].bbox_xyxy, inset, tol=5)


def test_unreadable_labels_fall_back_to_reading_order():
    split = split_caption("Cells. (A) Wild type. (B) Mutant. (C) Rescue.")
    panels = [
        PanelBox((0, 0, 10, 10)),
        PanelBox((20, 0, 30, 10), label="B", label_score=0.9),
        PanelBox((40, 0, 50, 10)),
    ]
    out = align_panels(panels, split)
    assert [a.label for a in out] == ["A", "B", "C"]
    assert out[1].reason == "label read" and not out[1].unsure
    assert out[0].reason.startswith("reading order") and not out[0].unsure
    assert out[2].subcaption == "Rescue."


def test_conflicting_evidence_is_unsure():
    split = split_caption("Cells. (A) Wild type. (B) Mutant. (C) Rescue.")
    # Only two panels for three labels, and the first panel reads as "C": order conflicts.
    panels = [PanelBox((0, 0, 10, 10), label="C", label_score=0.8), PanelBox((20, 0, 30, 10))]
    out = align_panels(panels, split)
    assert out[0].label == "C"
    assert out[1].unsure and out[1].label == "A"


def test_label_normalisation():
    assert normalise("1") == "l"
    assert normalise("(a)") == "a"
    assert normalise("0") == "o"
    assert normalise("I", ["H", "I", "J"]) == "I"
    assert normalise("l", ["H", "I", "J"]) == "I"
    assert normalise("Aii", ["Ai", "Aii", "B"]) == "Aii"
    assert normalise("Z", ["A", "B"]) == ""
    # An L read as L is not folded into I (EMBO figures with panels A-L), but a bar still is an I.
    assert normalise("L", list("ABCDEFGHIJKL")) == "L"
    assert normalise("|", list("ABCDEFGHIJKL")) == "I"
    assert normalise("l", list("abcdefghijkl")) == "l"


def test_real_figure_matches_ground_truth():
    import json

    gt_path = DATA / "panel-gt" / "panels.json"
    if not gt_path.exists():
        pytest.skip("shared panel-gt data absent")
    from bench.panels import imageclef_score
    from curate.images import decode_rgb

    fig = next(
        f
        for f in json.loads(gt_path.read_text())["figures"]
        if f["image"].endswith("elife-46472-v3/fig5.jpg")
    )
    rgb = decode_rgb((DATA / fig["image"]).read_bytes())
    panels = split_panels(rgb, expected_labels=["a", "b", "c", "d"])
    acc, _ = imageclef_score([tuple(p["bbox_xyxy"]) for p in fig["panels"]], [p.bbox_xyxy for p in panels])
    assert acc == 1.0
    assert [p.label for p in panels] == ["a", "b", "c", "d"]


def _ct_like(h: int, w: int, seed: int) -> np.ndarray:
    """A dark scan: textured tissue (values 50-110) crossed by dark bands (values 20-34) that lie
    below the ink tolerance used on white pages but well above a flat black gutter."""
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(80, 15, (h, w)), 50, 110).astype(np.uint8)
    img[h // 3 : h // 3 + 8] = rng.integers(20, 35, (8, w), dtype=np.uint8)
    img[:, w // 2 : w // 2 + 8] = rng.integers(20, 35, (h, 8), dtype=np.uint8)
    return np.repeat(img[:, :, None], 3, axis=2)


def test_framed_figure_with_white_gutters():
    """A black frame around dark images separated by white gutters: the gutters, not the frame, split."""
    fig = np.zeros((300, 640, 3), np.uint8)
    boxes = []
    for k, x in enumerate((4, 216, 428)):
        fig[4:296, x : x + 208] = _texture(292, 208, k) // 2 + 40
        boxes.append((x, 4, x + 208, 296))
    fig[4:296, 212:216] = 255
    fig[4:296, 424:428] = 255
    panels = split_panels(fig, expected_labels=["A", "B", "C"], ocr=False)
    assert [p.bbox_xyxy for p in panels] == boxes


def test_dark_images_on_black_page_keep_together():
    """Dark scan areas below the black-page ink tolerance must not break a panel across its gutter."""
    fig = np.zeros((420, 620, 3), np.uint8)
    boxes = [(4, 4, 304, 416), (312, 4, 616, 206), (312, 214, 616, 416)]
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        fig[y1:y2, x1:x2] = _ct_like(y2 - y1, x2 - x1, k)
    panels = split_panels(fig, expected_labels=["A", "B", "C"], ocr=False)
    assert sorted(p.bbox_xyxy for p in panels if p.parent_index is None) == sorted(boxes)


def test_lower_case_labels_of_mixed_heights_form_one_set():
    from curate.layout.labels import Glyph, consistent_labels

    glyphs = [
        Glyph((10, 14, 24, 28), "a", 0.99),  # x-height letter
        Glyph((400, 8, 416, 28), "b", 0.99),  # ascender: 1.4 times as tall
        Glyph((10, 434, 24, 448), "c", 0.99),
        Glyph((400, 428, 416, 448), "d", 0.99),
    ]
    assert sorted(g.text for g in consistent_labels(glyphs, ["a", "b", "c", "d"])) == ["a", "b", "c", "d"]


def test_glyph_readings_are_cached(monkeypatch):
    import curate.layout.labels as labels

    calls = []

    def fake(crops):
        calls.append(len(crops))
        return [("B", 0.9)] * len(crops)

    monkeypatch.setattr(labels, "read_texts", fake)
    monkeypatch.setattr(labels, "GLYPH_SURE", 2.0)  # the single-glyph reader would skip these blank crops
    monkeypatch.setattr(labels, "GLYPH_LETTER_SURE", 2.0)
    mask = np.zeros((100, 100), bool)
    cache: dict = {}
    boxes = [(10, 10, 20, 22), (50, 10, 60, 22)]
    first = labels.read_glyphs(mask, boxes, ["A", "B"], cache=cache)
    again = labels.read_glyphs(mask, boxes + [(70, 70, 80, 82)], ["A", "B"], cache=cache)
    assert calls == [2, 1]  # one batched call each; the two known boxes are not read again
    assert [g.text for g in first] == ["B", "B"] and len(again) == 3


def test_widely_spaced_parenthesised_label_is_one_candidate():
    """A "( f )" drawn as three glyphs with gaps wider than the closing bridges: still one candidate."""
    from curate.layout.labels import glyph_candidates

    img = np.full((400, 600, 3), 255, np.uint8)
    for text, x in (("(", 100), ("f", 116), (")", 134)):
        cv2.putText(img, text, (x, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    mask = img.min(axis=2) < 128
    boxes = glyph_candidates(mask, parenthesised=True)
    assert any(b[0] <= 106 and b[2] >= 147 for b in boxes)  # the ink spans x 105-148


def test_overlapping_anchored_boxes_yield_to_gutters():
    from curate.layout.anchors import _prefer_anchors, max_overlap

    gutter = [PanelBox((0, 20, 100, 100), "a"), PanelBox((120, 20, 220, 100), "b")]
    centred = [PanelBox((0, 20, 200, 100), "a"), PanelBox((120, 20, 220, 100), "b")]
    assert max_overlap(gutter) == 0.0 and max_overlap(centred) == 0.8
    assert not _prefer_anchors(centred, gutter, ["a", "b"])
    assert _prefer_anchors(gutter, gutter, ["a", "b"])


def test_parenthesised_candidates_need_a_closing_bracket():
    """Only groups ending in a ``)``-shaped glyph go to the recogniser as ``(a)``-style labels:
    a word, a number and an unclosed ``(0.5`` of the same size are not read."""
    from curate.layout.labels import SMALL_GROUP, glyph_candidates

    img = np.full((400, 900, 3), 255, np.uint8)
    for text, x in (("(b)", 40), ("Thin", 240), ("(0.5", 480), ("24", 700)):
        cv2.putText(img, text, (x, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    mask = img.min(axis=2) < 128
    boxes = [b for b in glyph_candidates(mask, parenthesised=True) if b[3] - b[1] >= SMALL_GROUP]
    assert boxes == [(47, 47, 110, 85)]  # "(b)"; the dot of the "i" is under SMALL_GROUP


def test_small_parenthesised_groups_are_read_from_min_group():
    """Under ``SMALL_GROUP`` px a bracket often breaks up in the ink mask: such groups pass
    unchecked, down to ``MIN_GROUP`` px; smaller groups hold a letter too small to read."""
    from curate.layout.labels import MIN_GROUP, SMALL_GROUP, _closing_bracket

    stats = np.array([[0, 0, 100, 100, 0], [10, 10, 6, 6, 30]])  # background, then one blob, no bracket
    heights = [MIN_GROUP - 1, MIN_GROUP, SMALL_GROUP - 1, SMALL_GROUP]
    boxes = np.array([[10, 10, 20, 10 + h] for h in heights])
    assert _closing_bracket(stats, boxes).tolist() == [False, True, True, False]


def test_words_ending_in_a_thin_letter_are_not_parenthesised_labels(monkeypatch):
    """A word ending in ``l`` has a thin last glyph as tall as ``)``, but not bowed to the right:
    only the ``(b)`` and ``(Kl)`` groups go to the recogniser."""
    from curate.layout import labels

    img = np.full((300, 800, 3), 255, np.uint8)
    for text, x in (("(b)", 40), ("Dil", 240), ("(Kl)", 440)):
        cv2.putText(img, text, (x, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    mask = img.min(axis=2) < 128

    def groups() -> list:
        found = labels.glyph_candidates(mask, parenthesised=True)
        return sorted(b[0] for b in found if b[3] - b[1] >= labels.SMALL_GROUP)

    assert groups() == [47, 447]
    monkeypatch.setattr(labels, "_bowed_right", lambda glyph: True)
    assert groups() == [47, 243, 447]  # without the bow test the word passes
