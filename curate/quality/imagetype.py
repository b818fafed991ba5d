"""Image type of a figure or panel: photo (any photograph or medical/microscopy image), chart,
diagram, gel_blot, table or text.

A multinomial logistic regression (``typemodel``) over ``typefeatures``: pixel cues, the hand
rules' scores (``imagetype_rules``), thumbnail shape descriptors and caption words. Its
parameters are data (``imagetype_model.json``), fit by ``python -m bench.train_imagetype`` on
the labelled real images in ``bench/data`` plus rendered drawings (``synth_types``); nothing is
fit or downloaded at run time. The probabilities are the model's softmax.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from curate.quality.features import ImageCues
from curate.quality.imagetype_rules import IMAGE_TYPES
from curate.quality.typefeatures import feature_names, type_features
from curate.quality.typemodel import SoftmaxModel

MODEL_PATH = Path(__file__).with_name("imagetype_model.json")


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> SoftmaxModel:
    model = SoftmaxModel.load(path)
    if model.features != feature_names() or set(model.classes) != set(IMAGE_TYPES):
        raise ValueError(f"{path}: fit for other features or classes; re-run python -m bench.train_imagetype")
    return model


def classify_image_type(rgb: np.ndarray, cues: ImageCues, texts: list[tuple[str, float]],
                        model: SoftmaxModel | None = None) -> tuple[str, float, dict[str, float]]:
    """``(type, confidence, probabilities)`` of one image from its pixels, cues and weighted texts."""
    model = model or load_model()
    p = model.predict_proba(type_features(rgb, cues, texts))[0]
    probs = {c: float(v) for c, v in zip(model.classes, p, strict=True)}
    best = max(IMAGE_TYPES, key=lambda k: (probs[k], -IMAGE_TYPES.index(k)))
    return best, round(probs[best], 4), probs
