"""Joint scoring of region candidates (detector x segmenter x marker) and their selection.

All boxes are ``xyxy`` in panel pixels; masks are ``H x W`` bool arrays over the panel.
Every component lies in [0, 1]; the joint score is their weighted mean plus a marker
bonus, clipped to [0, 1]. The weights live in ``RoiConfig.weights`` so a run records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curate.roi.rle import box_iou, tight_bbox


class RoiWeights(BaseModel):
    """Weights of the joint score.

    - ``det``: detector confidence (Grounding DINO phrase score, or the marker detector's).
    - ``iou_pred``: SAM's own predicted IoU of its mask.
    - ``quality``: mask stability (IoU of the mask at logit thresholds -delta and +delta,
      as in SAM's automatic generator) or, without logits, the mask's fill of its box.
    - ``box_agreement``: IoU of the prompt box with the mask's tight box: a mask that
      leaks far out of, or covers a sliver of, its prompt box is suspect.
    - ``marker_bonus``: added (not averaged) when an author-drawn marker points at the
      region, because that is independent evidence the region matters.
    """

    model_config = ConfigDict(extra="forbid")
    det: float = Field(0.35, ge=0)
    iou_pred: float = Field(0.25, ge=0)
    quality: float = Field(0.15, ge=0)
    box_agreement: float = Field(0.25, ge=0)
    marker_bonus: float = Field(0.10, ge=0, le=1)


class RoiConfig(BaseModel):
    """Settings of the region-of-interest models (paths are local; no hub ids are fetched).

    ``grounding_model`` / ``medsam_model``: a transformers model directory (or an HF-cache
    repo/snapshot directory); ``medsam_model`` may also be an original MedSAM ``.pth``.
    ``sam_preprocess``: ``medsam`` = square resize to the model's input size and min-max
    scaling to [0, 1] (MedSAM's recipe); ``sam`` = the directory's SAM image processor
    (longest-edge resize, ImageNet normalisation, padding).
    """

    model_config = ConfigDict(extra="forbid")
    grounding_model: str | None = None
    medsam_model: str | None = None
    device: str = "cpu"
    box_threshold: float = Field(0.3, ge=0, le=1)
    text_threshold: float = Field(0.25, ge=0, le=1)
    nms_iou: float = Field(0.5, gt=0, le=1)
    max_detections: int = Field(20, ge=1)
    sam_preprocess: Literal["medsam", "sam"] = "medsam"
    stability_delta: float = Field(1.0, gt=0)
    marker_overlap: float = Field(0.5, gt=0, le=1)
    min_mask_px: int = Field(16, ge=0)
    dedupe_iou: float = Field(0.7, gt=0, le=1)
    top_k: int = Field(5, ge=1)
    min_score: float = Field(0.3, ge=0, le=1)
    weights: RoiWeights = Field(default_factory=RoiWeights)


@dataclass
class Candidate:
    """A scored region candidate before selection (panel pixels)."""

    bbox_xyxy: tuple[int, int, int, int]
    phrase: str
    source: str
    score: float
    det_score: float | None = None
    seg_score: float | None = None
    mask: np.ndarray | None = None
    components: dict[str, float] = field(default_factory=dict)
    marker_id: str | None = None


def fill_ratio(mask: np.ndarray) -> float:
    """Fraction of the mask's tight box that the mask covers (1 for a filled rectangle)."""
    box = tight_bbox(mask)
    if box is None:
        return 0.0
    area = (box[2] - box[0]) * (box[3] - box[1])
    return float(mask[box[1]:box[3], box[0]:box[2]].sum() / area)


def stability(logits: np.ndarray, delta: float) -> float:
    """IoU of ``logits > +delta`` with ``logits > -delta`` (1 = the mask edge is sharp)."""
    high = logits > delta
    low = logits > -delta
    union = int(low.sum())
    return float(high.sum() / union) if union else 0.0


def joint_score(det_score: float | None, iou_pred: float | None, mask: np.ndarray | None,
                prompt_box, marker_hint: bool, weights: RoiWeights | None = None,
                quality: float | None = None) -> tuple[float, dict[str, float]]:
    """Joint score in [0, 1] and its components.

    Missing evidence (no detector score, no mask) is left out of the weighted mean rather
    than counted as zero, so a marker-only box is not punished for having no detector.
    ``quality`` is the stability score when the caller has logits; else the fill ratio.
    An empty mask scores 0: SAM found nothing inside the prompt.
    """
    w = weights or RoiWeights()
    parts: dict[str, float] = {}
    if det_score is not None:
        parts["det"] = _clip(det_score)
    if mask is not None:
        box = tight_bbox(mask)
        if box is None:
            return 0.0, {"empty_mask": 1.0}
        parts["iou_pred"] = _clip(iou_pred if iou_pred is not None else 0.0)
        parts["quality"] = _clip(quality if quality is not None else fill_ratio(mask))
        parts["box_agreement"] = box_iou(prompt_box, box)
    total_w = sum(getattr(w, k) for k in parts)
    base = sum(getattr(w, k) * v for k, v in parts.items()) / total_w if total_w > 0 else 0.0
    bonus = w.marker_bonus if marker_hint else 0.0
    parts["marker"] = 1.0 if marker_hint else 0.0
    return _clip(base + bonus), parts


def select_regions(candidates: list[Candidate], top_k: int, min_score: float,
                   dedupe_iou: float = 0.7) -> list[Candidate]:
    """Best candidates first: drop those under ``min_score``, then any whose box overlaps a
    better kept one by IoU >= ``dedupe_iou`` (one region per object), then keep ``top_k``."""
    kept: list[Candidate] = []
    ranked = sorted(candidates, key=lambda c: (-c.score, c.bbox_xyxy, c.phrase))
    for cand in ranked:
        if cand.score < min_score:
            break
        if any(box_iou(cand.bbox_xyxy, k.bbox_xyxy) >= dedupe_iou for k in kept):
            continue
        kept.append(cand)
        if len(kept) == top_k:
            break
    return kept


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))
