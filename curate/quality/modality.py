"""Imaging modality and body region of a photo-type image, from its texts and pixel cues.

Words (``vocab.yaml``) are the main evidence: a caption that says "axial CT" is rarely wrong.
Pixel cues are a prior that decides when the words are silent or split:

- greyscale on a large black field: cross-sectional radiology (CT first: the commonest in PMC);
- greyscale on a mid-grey field without black: electron microscopy;
- saturated colour on black: fluorescence microscopy;
- pink/purple on a light field: H&E histology; brown (DAB) on a light field: IHC;
- saturated red-orange on black: a fundus photograph.

A drawn image (chart, diagram, ...) has no modality: ``unknown``. Body region is text-only,
except where the modality implies it (fundus -> fundus, endoscopy -> endoscopy,
histopathology -> pathology, dermatoscopy -> dermatology).
"""

from __future__ import annotations

from curate.quality.features import ImageCues
from curate.quality.imagetype_rules import softmax
from curate.quality.vocab import text_evidence

MODALITIES = ("ct", "mri", "xray", "ultrasound", "pet_nuclear", "endoscopy", "fundus_oct", "dermatoscopy",
              "histopathology", "fluorescence", "electron_microscopy", "other")
BODY_REGIONS = ("abdominal", "bone_and_joint", "breast", "cardiac", "chest", "cranial", "dental", "dermatology",
                "endoscopy", "fundus", "gynecology", "pathology")
REGION_OF_MODALITY = {"fundus_oct": "fundus", "endoscopy": "endoscopy", "histopathology": "pathology",
                      "dermatoscopy": "dermatology"}
MIN_EVIDENCE = 0.3  # below this, a photo is "other": better no modality than a guessed one


def pixel_prior(c: ImageCues) -> dict[str, float]:
    grey = c.grey_frac >= 0.9 and c.colourful_frac < 0.02
    prior = dict.fromkeys(MODALITIES, 0.0)
    warm = c.hue_pink + c.hue_brown
    if grey and c.black_frac >= 0.12:
        prior.update(ct=0.6, mri=0.45, xray=0.35, pet_nuclear=0.1, ultrasound=0.2)
    elif grey and c.black_frac < 0.1 and 60 <= c.mean_grey <= 200:
        prior.update(electron_microscopy=0.5, xray=0.2, other=0.3)
    if c.black_frac >= 0.25 and c.colourful_frac >= 0.02 and warm < 0.5:
        prior["fluorescence"] += 1.0
    if c.black_frac < 0.1 and c.hue_pink >= 0.15:
        prior["histopathology"] += 1.0
    if c.black_frac < 0.1 and c.hue_brown >= 0.1:
        prior["histopathology"] += 0.8
    if c.black_frac >= 0.15 and warm >= 0.5 and c.colourful_frac >= 0.4:
        prior["fundus_oct"] += 1.0
    return prior


def classify_modality(cues: ImageCues, image_type: str, texts: list[tuple[str, float]],
                      zeroshot: dict[str, float] | None = None) -> tuple[str, float]:
    """``(modality, confidence)``; ``zeroshot`` (probabilities from a trained model) joins the vote."""
    if image_type != "photo":
        return "unknown", 0.0
    scores = pixel_prior(cues)
    for label, hits in text_evidence("modality", texts).items():
        scores[label] += min(hits, 3.0)
    if zeroshot:
        for label, p in zeroshot.items():
            scores[label] += 2.0 * p
    best = max(MODALITIES, key=lambda k: (scores[k], -MODALITIES.index(k)))
    if scores[best] < MIN_EVIDENCE:
        return "other", 0.5
    return best, round(softmax(scores, temperature=0.5)[best], 4)


def classify_body_region(modality: str, texts: list[tuple[str, float]]) -> tuple[str, float]:
    if modality in REGION_OF_MODALITY:
        return REGION_OF_MODALITY[modality], 0.9
    scores = text_evidence("body_region", texts)
    if not scores:
        return "unknown", 0.0
    full = dict.fromkeys(BODY_REGIONS, 0.0) | scores
    best = max(BODY_REGIONS, key=lambda k: (full[k], -BODY_REGIONS.index(k)))
    return best, round(softmax(full, temperature=0.5)[best], 4)
