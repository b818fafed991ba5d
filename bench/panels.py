"""Benchmarks of panel separation, panel-label reading and caption splitting.

``run(results, data_root)`` adds metric keys to ``results``; a key is skipped when its data
is absent. ``data_root`` is the shared data folder (``../shared/data`` from the repo root).

Scoring notes:
- ImageCLEF accuracy: per figure, a ground-truth panel is matched by a distinct prediction
  whose intersection with it is >= 0.66 of the prediction's area; score = matches /
  max(#truth, #predicted), averaged over figures. Insets (``parent_index`` set) are not counted
  as predictions, because the ground truth puts insets inside their panel.
- Sample: the generated sample corpus (``curate.sample.generate``, seed 0), whose boxes and
  labels are exact; expected labels come from its captions as for the other sets.
- Sub-caption similarity: the gold sub-captions repeat the shared preamble, so each gold text
  is compared with ``preamble + " " + part`` after lower-casing, turning punctuation into
  spaces and collapsing whitespace (difflib ratio; 0 for a gold label we do not produce).
"""

from __future__ import annotations

import difflib
import json
import re
import time
from pathlib import Path

import numpy as np

from bench.panel_data import exsclaim_figures, panelgt_figures, sample_figures, soda_figures
from curate.layout import split_caption, split_panels


def imageclef_score(truth: list[tuple], pred: list[tuple], thr: float = 0.66) -> tuple[float, list[int]]:
    """ImageCLEF figure score and, per truth box, the index of its matched prediction (-1 if none)."""
    used: set[int] = set()
    matched = []
    for t in truth:
        best, best_ov = -1, 0.0
        for j, p in enumerate(pred):
            if j in used:
                continue
            iw = min(t[2], p[2]) - max(t[0], p[0])
            ih = min(t[3], p[3]) - max(t[1], p[1])
            parea = max(1, (p[2] - p[0]) * (p[3] - p[1]))
            ov = max(0, iw) * max(0, ih) / parea
            if ov >= thr and ov > best_ov:
                best, best_ov = j, ov
        if best >= 0:
            used.add(best)
        matched.append(best)
    denom = max(len(truth), len(pred), 1)
    return sum(1 for m in matched if m >= 0) / denom, matched


def _panel_scores(figures: list[dict]) -> tuple[float, float, float]:
    """(mean ImageCLEF accuracy, label accuracy, figures per second) over ``figures``."""
    accs, right, total, seconds = [], 0, 0, 0.0
    for fig in figures:
        start = time.process_time()
        panels = split_panels(fig["rgb"], expected_labels=fig.get("expected"))
        seconds += time.process_time() - start
        panels = [p for p in panels if p.parent_index is None]
        truth = [tuple(t["bbox_xyxy"]) for t in fig["panels"]]
        acc, matched = imageclef_score(truth, [p.bbox_xyxy for p in panels])
        accs.append(acc)
        for t, m in zip(fig["panels"], matched, strict=True):
            if t.get("label") is None:
                continue
            total += 1
            got = panels[m].label if m >= 0 else None
            right += int(got is not None and got.lower() == t["label"].lower())
    return float(np.mean(accs)), right / max(total, 1), len(figures) / max(seconds, 1e-9)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def caption_scores(path: Path) -> tuple[float, float]:
    """(mean sub-caption similarity, label-set exact match) on the compfigsep gold file."""
    gold = json.loads(path.read_text())
    sims, exact = [], 0
    for item in gold.values():
        split = split_caption(item["caption"])
        labels = [g["label"]["text"] for g in item["gt_subfigures"]]
        exact += int(split.labels == labels)
        per = []
        for g in item["gt_subfigures"]:
            part = split.parts.get(g["label"]["text"])
            mine = None if part is None else f"{split.preamble} {part}"
            per.append(
                0.0
                if mine is None
                else difflib.SequenceMatcher(None, _norm(g["caption"]), _norm(mine)).ratio()
            )
        sims.append(float(np.mean(per)) if per else 0.0)
    return float(np.mean(sims)), exact / max(len(gold), 1)


def soda_labelset(figures: list[dict]) -> float:
    """Fraction of soda figures whose read label set equals the curated panel-label set."""
    hits = 0
    for fig in figures:
        panels = split_panels(fig["rgb"], expected_labels=fig.get("expected"))
        found = sorted({p.label for p in panels if p.label and p.parent_index is None})
        hits += int(found == sorted(fig["labels"]))
    return hits / max(len(figures), 1)


def run(results: dict[str, float], data_root: Path) -> None:
    """Add the panel / label / caption-splitting metrics whose data exists under ``data_root``."""
    data_root = Path(data_root)
    gt = panelgt_figures(data_root)
    if gt:
        acc, label_acc, fps = _panel_scores(gt)
        results["panels.imageclef_acc.panelgt"] = acc
        results["panels.label_acc.panelgt"] = label_acc
        results["panels.figures_per_s"] = fps
    ex = exsclaim_figures(data_root)
    if ex:
        acc, label_acc, _ = _panel_scores(ex)
        results["panels.imageclef_acc.exsclaim"] = acc
        results["panels.label_acc.exsclaim"] = label_acc
    sample = sample_figures()
    if sample:
        acc, label_acc, _ = _panel_scores(sample)
        results["panels.imageclef_acc.sample"] = acc
        results["panels.label_acc.sample"] = label_acc
    soda = soda_figures(data_root)
    if soda:
        results["panels.labelset_match.soda"] = soda_labelset(soda)
    cfs = data_root / "caption-splitting-gt" / "compfigsep" / "prostate_data_only_annotated_captions.json"
    if cfs.exists():
        sim, exact = caption_scores(cfs)
        results["subcaptions.similarity.compfigsep"] = sim
        results["subcaptions.labelset_match.compfigsep"] = exact
