"""Regions of interest from models: Grounding DINO (phrase -> box) and MedSAM (box -> mask).

Everything loads from local directories (transformers format, an HF-cache snapshot, or an
original MedSAM ``.pth``); nothing is fetched from a hub. Torch and transformers are imported
only by the backends, so ``rle`` and ``scoring`` stay usable without them.
"""

from curate.roi.loading import RoiConfigError, resolve_model_dir
from curate.roi.rle import box_iou, decode, encode, tight_bbox
from curate.roi.scoring import Candidate, RoiConfig, RoiWeights, joint_score, select_regions

__all__ = [
    "Candidate", "RoiConfig", "RoiConfigError", "RoiWeights", "box_iou", "decode", "encode", "joint_score",
    "resolve_model_dir", "select_regions", "tight_bbox",
]
