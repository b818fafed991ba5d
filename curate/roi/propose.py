"""Region proposals for one panel: Grounding DINO boxes and marker boxes, refined by SAM.

Frames: everything is in panel pixels. Prompts for SAM come from two places: Grounding DINO
boxes for the panel's caption phrases, and the patch boxes of author-drawn markers that are
linked to a phrase. Every candidate gets a joint score (``scoring.joint_score``); the best
non-overlapping ones are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from curate.roi.grounding import Detection, GroundingDinoBackend
from curate.roi.medsam import MedSamBackend
from curate.roi.rle import box_iou, encode
from curate.roi.scoring import Candidate, RoiConfig, joint_score, select_regions


@dataclass(frozen=True)
class MarkerPrompt:
    """A marker's patch box (panel pixels), its linked phrase and detector confidence."""

    bbox_xyxy: tuple[int, int, int, int]
    phrase: str
    confidence: float = 1.0
    marker_id: str | None = None


@dataclass
class RegionProposal:
    """A selected region. ``source``: ``grounding`` (box only), ``grounding+sam``,
    ``marker+sam``, or ``sam`` (a SAM mask from a marker box with no phrase)."""

    bbox_xyxy: tuple[int, int, int, int]
    mask_rle: str | None
    phrase: str
    source: str
    det_score: float | None
    seg_score: float | None
    joint_score: float
    components: dict[str, float] = field(default_factory=dict)
    marker_id: str | None = None


@dataclass
class _Prompt:
    box: tuple[float, float, float, float]
    phrase: str
    det_score: float
    marker_hint: bool
    from_marker: bool
    marker_id: str | None = None


def _as_marker(m) -> MarkerPrompt:
    if isinstance(m, MarkerPrompt):
        return m
    box, phrase, *rest = m
    return MarkerPrompt(tuple(int(v) for v in box), phrase, float(rest[0]) if rest else 1.0)


def _overlap_of(small, big) -> float:
    """Fraction of ``small``'s area inside ``big``."""
    ix = max(0.0, min(small[2], big[2]) - max(small[0], big[0]))
    iy = max(0.0, min(small[3], big[3]) - max(small[1], big[1]))
    area = max(0.0, small[2] - small[0]) * max(0.0, small[3] - small[1])
    return ix * iy / area if area > 0 else 0.0


def _prompts(dets: list[Detection], markers: list[MarkerPrompt], cfg: RoiConfig) -> list[_Prompt]:
    """Detector boxes (marker-agreeing ones flagged) and marker boxes, as SAM prompts."""
    out = []
    for det in dets:
        # A marker inside the detected box (or mostly so) is independent support for it.
        hint = any(_overlap_of(m.bbox_xyxy, det.bbox_xyxy) >= cfg.marker_overlap
                   or box_iou(m.bbox_xyxy, det.bbox_xyxy) >= cfg.marker_overlap for m in markers)
        out.append(_Prompt(det.bbox_xyxy, det.phrase, det.score, hint, False))
    for m in markers:
        out.append(_Prompt(tuple(float(v) for v in m.bbox_xyxy), m.phrase, m.confidence, True, True, m.marker_id))
    return out


def _candidates(prompts: list[_Prompt], masks, cfg: RoiConfig) -> list[Candidate]:
    cands = []
    for n, p in enumerate(prompts):
        res = masks[n] if masks is not None else None
        if res is None:
            score, parts = joint_score(p.det_score, None, None, p.box, p.marker_hint, cfg.weights)
            box = tuple(int(round(v)) for v in p.box)
            source = "marker" if p.from_marker else "grounding"
            cands.append(Candidate(box, p.phrase, source, score, p.det_score, None, None, parts))
        else:
            if res.bbox_xyxy is None or int(res.mask.sum()) < cfg.min_mask_px:
                continue
            score, parts = joint_score(p.det_score, res.iou_pred, res.mask, p.box, p.marker_hint,
                                       cfg.weights, quality=res.stability)
            source = ("marker+sam" if p.phrase else "sam") if p.from_marker else "grounding+sam"
            cands.append(Candidate(res.bbox_xyxy, p.phrase, source, score, p.det_score,
                                   res.iou_pred, res.mask, parts))
        cands[-1].marker_id = p.marker_id
    return cands


def propose_regions(panel_rgb: np.ndarray, phrases: list[str], marker_boxes: list, cfg: RoiConfig,
                    gdino: GroundingDinoBackend | None, medsam: MedSamBackend | None) -> list[RegionProposal]:
    """Scored region proposals for one ``H x W x 3`` panel, best first (at most ``cfg.top_k``).

    ``marker_boxes``: ``MarkerPrompt``s or ``(bbox_xyxy, phrase[, confidence])`` tuples.
    Either backend may be None: without SAM, proposals are boxes only (no mask); without
    Grounding DINO, only marker boxes are segmented.
    """
    markers = [_as_marker(m) for m in marker_boxes]
    dets = gdino.detect([panel_rgb], [phrases])[0] if gdino is not None and phrases else []
    prompts = _prompts(dets, markers, cfg)
    if not prompts:
        return []
    masks = medsam.segment([panel_rgb], [[p.box for p in prompts]])[0] if medsam is not None else None
    cands = _candidates(prompts, masks, cfg)
    kept = select_regions(cands, cfg.top_k, cfg.min_score, cfg.dedupe_iou)
    out = []
    for c in kept:
        out.append(RegionProposal(
            bbox_xyxy=tuple(int(v) for v in c.bbox_xyxy), mask_rle=encode(c.mask) if c.mask is not None else None,
            phrase=c.phrase, source=c.source, det_score=c.det_score, seg_score=c.seg_score,
            joint_score=c.score, components=c.components, marker_id=c.marker_id))
    return out


def load_backends(cfg: RoiConfig) -> tuple[GroundingDinoBackend | None, MedSamBackend | None]:
    """Both backends from ``cfg`` (None where a model path is unset); call once per worker."""
    gdino = medsam = None
    if cfg.grounding_model:
        gdino = GroundingDinoBackend(cfg.grounding_model, cfg.device, cfg.box_threshold, cfg.text_threshold,
                                     cfg.nms_iou, cfg.max_detections)
    if cfg.medsam_model:
        medsam = MedSamBackend(cfg.medsam_model, cfg.device, cfg.sam_preprocess,
                               stability_delta=cfg.stability_delta)
    return gdino, medsam
