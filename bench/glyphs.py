"""The single-glyph reader (``curate.layout.glyphreader``) against the recogniser it stands in for.

1. Real crops: every single-glyph label candidate of the shared JATS figures that are not in
   panel-gt (and the unlabelled compound figures), as the panel splitter offers them, each
   read by the recogniser (the reader switched off while they are collected). Per threshold:
   the share of crops the reader is sure of, how often its reading then agrees with the
   recogniser's (both reduced to the label they would give: ``normalise``d, a recogniser
   score under 0.5 or a reject / digit is no label), the share it would answer "no label"
   for (its summed belief in classes naming no label: what ``labels.quick_readings`` skips
   without caption labels) and how many of those
   the recogniser reads as a letter. The recogniser is the reference, not the truth.
2. The letter score: the recogniser's median score where both read the same letter, per bin
   of the reader's confidence, on those same crops (``labels.LETTER_SCORE_KNOTS``; none of
   them is in a scored set).
3. The threshold curves: ``labels.GLYPH_SURE`` ("no label", letters at their default) and
   ``labels.GLYPH_LETTER_SURE`` (the reader's letters) against recogniser calls and the
   accuracy keys of ``bench.panels`` (panel-gt, exsclaim, sample, soda).

Keys: ``glyphs.<metric>.<threshold>``, ``glyphs.letter_score.<bin>``,
``glyphs.curve.<set>.<threshold>`` and ``glyphs.letters.<set>.<threshold>``; ``off`` is that
part of the reader switched off. Measurement only: the module patches ``labels`` functions to count and
record, and restores them.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import numpy as np

from bench.panel_data import (
    _labels_of,
    _rgb,
    exsclaim_figures,
    jats_caption,
    panelgt_figures,
    sample_figures,
    soda_figures,
)
from bench.panels import _panel_scores, soda_labelset
from curate.layout import anchors, glyphreader, labels, split_panels

THRESHOLDS = (0.99, 0.95, 0.9, 0.8, 0.7)
CURVE = (2.0, 0.99, 0.9, 0.8, 0.7)  # 2.0: off
LETTER_CURVE = (2.0, 0.999, 0.99, 0.95, 0.9)
IMAGES = (".jpg", ".png", ".tif", ".tiff", ".gif")


@contextmanager
def _patched(obj, name: str, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def _figures(data_root: Path) -> list[tuple[np.ndarray, list[str] | None]]:
    gt_path = data_root / "panel-gt" / "panels.json"
    in_gt = {f["image"] for f in json.loads(gt_path.read_text())["figures"]} if gt_path.exists() else set()
    out = []
    for p in sorted((data_root / "jats-with-images").rglob("*")):
        if p.suffix.lower() not in IMAGES or str(p.relative_to(data_root)) in in_gt:
            continue
        xml = p.parent / "main.jats.xml"
        caption = jats_caption(xml, p.name) if xml.exists() else None
        out.append((_rgb(p), _labels_of(caption) if caption else None))
    out += [(_rgb(p), None) for p in sorted((data_root / "unlabeled-compound-figures").rglob("*.jpg"))]
    return out


def real_crops(data_root: Path) -> list[tuple[np.ndarray, str, float]]:
    """(ink crop, recogniser text, recogniser score) of every single-glyph candidate read."""
    crops: dict[tuple, tuple[np.ndarray, str, float]] = {}
    original = labels.read_glyphs
    fig = [0]

    def recording(mask, boxes, expected, parenthesised=False, cache=None):
        cache = {} if cache is None else cache
        out = original(mask, boxes, expected, parenthesised, cache)
        if not parenthesised and not (expected and any(len(e) > 1 for e in expected)):
            for x1, y1, x2, y2 in boxes:
                text, score, _ = cache[(x1, y1, x2, y2)]
                crops.setdefault((fig[0], x1, y1, x2, y2), (mask[y1:y2, x1:x2].copy(), text, score))
        return out

    with (
        _patched(labels, "GLYPH_SURE", 2.0), _patched(labels, "GLYPH_LETTER_SURE", 2.0),
        _patched(anchors, "read_glyphs", recording),
    ):
        for fig[0], (rgb, expected) in enumerate(_figures(data_root)):
            split_panels(rgb, expected_labels=expected)
    return list(crops.values())


def _label(text: str) -> str:
    return labels.normalise(text).lower()


def agreement(results: dict[str, float], crops: list[tuple[np.ndarray, str, float]]) -> None:
    start = time.process_time()
    read = glyphreader.read([c[0] for c in crops])
    results["glyphs.ms_per_crop"] = round(1000 * (time.process_time() - start) / max(1, len(crops)), 3)
    results["glyphs.real_crops"] = len(crops)
    ocr = np.array([_label(t) if s >= 0.5 else "" for _, t, s in crops])
    cls = np.array([t for t, _ in read])
    mine = np.array(["" if not labels._may_label(t, None) else _label(t) for t in cls])
    score = np.array([s for _, s in read])
    # "No label" as ``labels.quick_readings`` takes it: the summed belief in classes naming none.
    probs = glyphreader.scores([c[0] for c in crops])
    no_label = probs @ np.array([not labels._may_label(c, None) for c in glyphreader.CLASSES], np.float32)
    for thr in THRESHOLDS:
        sure = score >= thr
        skip = no_label >= thr
        results[f"glyphs.sure_share.{thr}"] = round(float(sure.mean()), 3)
        results[f"glyphs.agree.{thr}"] = round(float((ocr[sure] == mine[sure]).mean()) if sure.any() else 0.0, 3)
        results[f"glyphs.no_label_share.{thr}"] = round(float(skip.mean()), 3)
        results[f"glyphs.no_label_but_letter.{thr}"] = int((skip & (ocr != "")).sum())


LETTER_BINS = (0.9, 0.99, 0.999, 1.01)


def letter_calibration(results: dict[str, float], crops: list[tuple[np.ndarray, str, float]]) -> None:
    """The recogniser's median score where it and the reader read the same letter, per bin of the
    reader's confidence (``labels.LETTER_SCORE_KNOTS``); fit on these crops, none of which is in
    a scored set."""
    read = glyphreader.read([c[0] for c in crops])
    conf = np.array([p for _, p in read])
    same = np.array([
        s >= 0.5 and labels._sure_letter(c, None) and _label(t) == _label(c)
        for (_, t, s), (c, _) in zip(crops, read, strict=True)
    ])
    score = np.array([s for _, _, s in crops])
    for lo, hi in pairwise(LETTER_BINS):
        pick = same & (conf >= lo) & (conf < hi)
        results[f"glyphs.letter_score.{lo}"] = round(float(np.median(score[pick])), 4) if pick.any() else 0.0
        results[f"glyphs.letter_score_n.{lo}"] = int(pick.sum())


def curve(
    results: dict[str, float], data_root: Path, work: Path,
    knob: str = "GLYPH_SURE", values: tuple = CURVE, prefix: str = "glyphs.curve",
) -> None:
    """Accuracy keys and recogniser crops with ``labels.<knob>`` at each of ``values``."""
    sets = {"panelgt": panelgt_figures(data_root), "exsclaim": exsclaim_figures(data_root),
            "sample": sample_figures(work / "glyphs-sample")}
    soda = soda_figures(data_root)
    calls = [0]
    original = labels.read_texts

    def counting(crops):
        calls[0] += len(crops)
        return original(crops)

    labels.ocr_engine()
    with _patched(labels, "read_texts", counting):
        for thr in values:
            key = "off" if thr > 1 else str(thr)
            calls[0], start = 0, time.process_time()
            with _patched(labels, knob, thr):
                for name, figs in sets.items():
                    if figs:
                        acc, label_acc, _ = _panel_scores(figs)
                        results[f"{prefix}.{name}_acc.{key}"] = round(acc, 3)
                        results[f"{prefix}.{name}_label_acc.{key}"] = round(label_acc, 3)
                if soda:
                    results[f"{prefix}.soda_labelset.{key}"] = round(soda_labelset(soda), 3)
            results[f"{prefix}.recogniser_crops.{key}"] = calls[0]
            results[f"{prefix}.cpu_s.{key}"] = round(time.process_time() - start, 1)


def run(results: dict[str, float], data_root: Path, work: Path) -> None:
    data_root = Path(data_root)
    if (data_root / "jats-with-images").is_dir():
        crops = real_crops(data_root)
        agreement(results, crops)
        letter_calibration(results, crops)
    curve(results, data_root, work)
    curve(results, data_root, work, "GLYPH_LETTER_SURE", LETTER_CURVE, "glyphs.letters")
