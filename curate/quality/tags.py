"""One figure's or panel's QualityTag: fingerprint, image type, modality, body region."""

from __future__ import annotations

import numpy as np

from curate.quality.dedup import fingerprint
from curate.quality.features import image_cues
from curate.quality.imagetype import classify_image_type
from curate.quality.modality import classify_body_region, classify_modality
from curate.quality.vocab import weighted_texts
from curate.records import QualityTag


def tag_image(item_id: str, level: str, figure_id: str, document_id: str, licence: str, rgb: np.ndarray, *,
              own_text: str, caption: str, mentions: list[str], zeroshot=None) -> QualityTag:
    """``zeroshot``: an object with ``probabilities(rgb) -> {modality: p}`` (or None)."""
    texts = weighted_texts(own_text, caption, mentions)
    cues = image_cues(rgb)
    image_type, type_conf, _ = classify_image_type(rgb, cues, texts)
    zs = zeroshot.probabilities(rgb) if zeroshot is not None and image_type == "photo" else None
    modality, modality_conf = classify_modality(cues, image_type, texts, zs)
    region, region_conf = classify_body_region(modality, texts)
    fp = fingerprint(item_id, document_id, rgb, figure_id=figure_id)
    return QualityTag(id=item_id, level=level, figure_id=figure_id, document_id=document_id,
                      image_type=image_type, image_type_conf=type_conf, modality=modality,
                      modality_conf=modality_conf, body_region=region, body_region_conf=region_conf,
                      method="rules+zeroshot" if zs is not None else "rules", pixel_sha256=fp.pixel_sha256,
                      phash=f"{fp.phash:016x}", dhash=f"{fp.dhash:016x}", aspect=round(fp.aspect, 6),
                      informative=fp.informative, licence=licence)
