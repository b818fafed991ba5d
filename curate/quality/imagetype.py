"""Image type of a figure or panel: photo (any photograph or medical/microscopy image), chart,
diagram, gel_blot, table or text.

Two multinomial logistic regressions (``typemodel``) in a cascade. The first reads
``typefeatures``: pixel cues, the hand rules' scores (``imagetype_rules``), thumbnail shape
descriptors and caption words. Where it is unsure (top probability below ``EMBED_BELOW``,
about a quarter of real panels) the second decides: the same features plus the principal axes
of a pretrained text-detector embedding (``ocrembed``), which costs ~4x the hand features, so
it is only computed there. Their parameters are data (``imagetype_model.json``,
``imagetype_embed_model.json`` and the projection ``imagetype_embed.npz``), fit by
``python -m bench.train_imagetype`` on the labelled real images in ``bench/data`` plus rendered
drawings (``synth_types``) and, for the second, altered photographs (``synth_photos``); nothing
is fit or downloaded at run time. The probabilities are the deciding model's softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from curate.quality.features import ImageCues
from curate.quality.imagetype_rules import IMAGE_TYPES
from curate.quality.ocrembed import EMBED_DIM, det_embedding
from curate.quality.typefeatures import EMBED_AXES, embed_feature_names, feature_names, type_features
from curate.quality.typemodel import Projection, SoftmaxModel

MODEL_PATH = Path(__file__).with_name("imagetype_model.json")
EMBED_MODEL_PATH = Path(__file__).with_name("imagetype_embed_model.json")
EMBED_PATH = Path(__file__).with_name("imagetype_embed.npz")
# The hand-feature model decides alone at or above this top probability. Chosen by the
# leave-one-paper-out accuracy over 0.5-0.9 (BENCHMARKS, quality round 5); a confident hand
# model also keeps photographs the embedding has seen few of (fundus) where it reads them.
EMBED_BELOW = 0.8


@dataclass
class EmbedModel:
    """The second stage: the regression over hand features followed by the projected embedding."""

    model: SoftmaxModel
    projection: Projection

    def predict_proba(self, hand: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(np.hstack([np.atleast_2d(hand), self.projection(embedding)]))


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> SoftmaxModel:
    model = SoftmaxModel.load(path)
    if model.features != feature_names() or set(model.classes) != set(IMAGE_TYPES):
        raise ValueError(f"{path}: fit for other features or classes; re-run python -m bench.train_imagetype")
    return model


@lru_cache(maxsize=2)
def load_embed_model(path: Path = EMBED_MODEL_PATH, projection_path: Path = EMBED_PATH) -> EmbedModel:
    model = SoftmaxModel.load(path)
    if model.features != embed_feature_names() or set(model.classes) != set(IMAGE_TYPES):
        raise ValueError(f"{path}: fit for other features or classes; re-run python -m bench.train_imagetype")
    projection = Projection.load(projection_path)
    if projection.axes.shape != (EMBED_DIM, EMBED_AXES):
        raise ValueError(f"{projection_path}: projection {projection.axes.shape} does not fit the embedding")
    return EmbedModel(model, projection)


def classify_image_type(rgb: np.ndarray, cues: ImageCues, texts: list[tuple[str, float]],
                        model: SoftmaxModel | None = None, embed: EmbedModel | None = None,
                        embed_below: float = EMBED_BELOW) -> tuple[str, float, dict[str, float]]:
    """``(type, confidence, probabilities)`` of one image from its pixels, cues and weighted texts."""
    model = model or load_model()
    x = type_features(rgb, cues, texts)
    p = model.predict_proba(x)[0]
    classes = model.classes
    if p.max() < embed_below:
        embed = embed or load_embed_model()
        p, classes = embed.predict_proba(x, det_embedding(rgb))[0], embed.model.classes
    probs = {c: float(v) for c, v in zip(classes, p, strict=True)}
    best = max(IMAGE_TYPES, key=lambda k: (probs[k], -IMAGE_TYPES.index(k)))
    return best, round(probs[best], 4), probs
