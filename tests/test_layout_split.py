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
