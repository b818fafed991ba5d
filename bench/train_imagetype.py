"""Fit the image-type model (``curate/quality/imagetype_model.json``) and measure it honestly.

``python -m bench.train_imagetype [data_root]`` fits on every scored item of the labelled CSVs
(``bench.quality_data.ALL_LABELS``) plus ``SYNTH_PER_TYPE`` rendered drawings per drawn type and
writes the hand-feature model file; the second stage of the cascade (``curate.quality.imagetype``)
is fit on the same items plus ``PHOTOS`` altered photographs (``synth_photos``) over the hand
features and ``EMBED_AXES`` principal axes of the detector embedding, and written with its
projection. The fits are deterministic (SVD with fixed signs, Newton's method on a convex loss),
so running it again on the same data gives the same files. The hyperparameters below were fixed
after comparing settings on the grouped cross-validation, which the BENCHMARKS sections state.

``grouped_cv`` is the honest accuracy: leave-one-paper-out over all labelled items, so no crop
of a test paper's figures is ever in training; the rendered drawings are always training data,
never test data.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.quality_data import ALL_LABELS, load_items, paper_of
from curate.quality.features import image_cues
from curate.quality.imagetype import EMBED_BELOW, EMBED_MODEL_PATH, EMBED_PATH, MODEL_PATH, EmbedModel
from curate.quality.imagetype_rules import IMAGE_TYPES, rule_image_type
from curate.quality.ocrembed import DET_MODEL, EMBED_SIDE, det_embedding
from curate.quality.synth_photos import photo_set
from curate.quality.synth_types import synthetic_set
from curate.quality.typefeatures import EMBED_AXES, embed_feature_names, feature_names, type_features
from curate.quality.typemodel import SoftmaxModel, fit_projection, fit_softmax
from curate.quality.vocab import weighted_texts

L2 = 1.0
EMBED_L2 = 3.0  # the second stage has 135 features
BALANCE = 0.5  # class weights (n / n_class) ** 0.5: halfway to balanced; charts are 58% of the items
SYNTH_PER_TYPE = 40
PHOTOS = 120  # altered photographs, second stage only
CLASSES = list(IMAGE_TYPES)


@dataclass
class Labelled:
    x: np.ndarray  # (n, D) hand features
    e: np.ndarray  # (n, EMBED_DIM) detector embeddings
    y: np.ndarray  # (n,) class index into CLASSES
    groups: np.ndarray  # (n,) paper of each item
    sources: np.ndarray  # (n,) CSV file name of each item
    figures: np.ndarray  # (n,) figure image path of each item
    rules: np.ndarray  # (n,) the hand rules' prediction, for comparison


def labelled_features(root: Path, label_files=ALL_LABELS) -> Labelled:
    xs, es, ys, groups, sources, figures, rules = [], [], [], [], [], [], []
    for labels in label_files:
        for it in load_items(root, labels):
            if it.image_type == "mixed":
                continue
            cues, texts = image_cues(it.rgb), weighted_texts(it.own_text, it.caption, it.mentions)
            xs.append(type_features(it.rgb, cues, texts))
            es.append(det_embedding(it.rgb))
            ys.append(CLASSES.index(it.image_type))
            groups.append(paper_of(it.path))
            sources.append(labels.name)
            figures.append(it.path)
            rules.append(CLASSES.index(rule_image_type(cues, texts)[0]))
    return Labelled(np.stack(xs), np.stack(es), np.asarray(ys), np.asarray(groups), np.asarray(sources),
                    np.asarray(figures), np.asarray(rules))


@dataclass
class Extra:
    """Training-only images (renderings, altered photographs): hand features, embeddings, classes."""

    x: np.ndarray
    e: np.ndarray
    y: np.ndarray


def synthetic_features(per_type: int = SYNTH_PER_TYPE) -> Extra:
    pairs = synthetic_set(per_type)
    return Extra(np.stack([type_features(rgb, image_cues(rgb), []) for _, rgb in pairs]),
                 np.stack([det_embedding(rgb) for _, rgb in pairs]),
                 np.asarray([CLASSES.index(kind) for kind, _ in pairs]))


def photo_features(n: int = PHOTOS) -> Extra:
    photos = photo_set(n)
    return Extra(np.stack([type_features(rgb, image_cues(rgb), []) for rgb in photos]),
                 np.stack([det_embedding(rgb) for rgb in photos]), np.full(n, CLASSES.index("photo")))


def _min_scale(names: list[str]) -> np.ndarray:
    # caption-word counts keep their own unit (one hit = 1): see fit_softmax's min_scale
    return np.asarray([1.0 if name.startswith("words.") else 1e-12 for name in names])


def fit_hand(x: np.ndarray, y: np.ndarray, synth: Extra | None) -> SoftmaxModel:
    if synth is not None:
        x, y = np.vstack([x, synth.x]), np.concatenate([y, synth.y])
    return fit_softmax(x, y, CLASSES, feature_names(), l2=L2, balance=BALANCE, min_scale=_min_scale(feature_names()))


def fit_embed(x: np.ndarray, e: np.ndarray, y: np.ndarray, extras: list[Extra]) -> EmbedModel:
    """Projection (PCA of the training embeddings, extras included) then the regression."""
    x, e, y = (np.vstack([x, *(t.x for t in extras)]), np.vstack([e, *(t.e for t in extras)]),
               np.concatenate([y, *(t.y for t in extras)]))
    projection = fit_projection(e, EMBED_AXES)
    names = embed_feature_names()
    model = fit_softmax(np.hstack([x, projection(e)]), y, CLASSES, names, l2=EMBED_L2, balance=BALANCE,
                        min_scale=_min_scale(names))
    return EmbedModel(model, projection)


@dataclass
class Cascade:
    hand: SoftmaxModel
    embed: EmbedModel

    def predict_proba(self, x: np.ndarray, e: np.ndarray, embed_below: float = EMBED_BELOW):
        """``(probs, used_embed)``: the hand model's probabilities, the second stage's where it is unsure."""
        p = self.hand.predict_proba(x)
        unsure = p.max(axis=1) < embed_below
        if unsure.any():
            p[unsure] = self.embed.predict_proba(x[unsure], e[unsure])
        return p, unsure


def fit(data: Labelled, train: np.ndarray, synth: Extra, photos: Extra) -> Cascade:
    """Both stages fit on the items ``train`` selects (a boolean mask)."""
    x, e, y = data.x[train], data.e[train], data.y[train]
    return Cascade(fit_hand(x, y, synth), fit_embed(x, e, y, [synth, photos]))


def grouped_cv(data: Labelled, synth: Extra, photos: Extra) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leave-one-paper-out ``(cascade probs (n, K), used_embed (n,), hand-model probs (n, K))`` of
    every item, each from models fit without its paper."""
    probs, hand = np.zeros((len(data.y), len(CLASSES))), np.zeros((len(data.y), len(CLASSES)))
    used = np.zeros(len(data.y), bool)
    for group in sorted(set(data.groups)):
        test = data.groups == group
        cascade = fit(data, ~test, synth, photos)
        probs[test], used[test] = cascade.predict_proba(data.x[test], data.e[test])
        hand[test] = cascade.hand.predict_proba(data.x[test])
    return probs, used, hand


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| of the top class over equal-width confidence bins, weighted by size."""
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == y
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(right[edges == b].mean() - conf[edges == b].mean()) * (edges == b).mean()
                     for b in range(bins) if (edges == b).any()))


def train(root: Path, out: Path = MODEL_PATH, embed_out: Path = EMBED_MODEL_PATH,
          projection_out: Path = EMBED_PATH) -> Cascade:
    data = labelled_features(root)
    cascade = fit(data, np.ones(len(data.y), bool), synthetic_features(), photo_features())
    meta = {"n_real": int(len(data.y)), "n_synthetic_per_type": SYNTH_PER_TYPE,
            "labels": [p.name for p in ALL_LABELS], "script": "python -m bench.train_imagetype"}
    cascade.hand.meta.update(meta)
    cascade.embed.model.meta.update({**meta, "n_photos": PHOTOS,
                                     "embed": f"{DET_MODEL} side {EMBED_SIDE}, {EMBED_AXES} axes"})
    cascade.hand.save(out)
    cascade.embed.model.save(embed_out)
    cascade.embed.projection.save(projection_out)
    return cascade


if __name__ == "__main__":
    from bench.run import DATA

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    fitted = train(root)
    print(f"wrote {MODEL_PATH}, {EMBED_MODEL_PATH.name} and {EMBED_PATH.name} ({fitted.hand.meta['n_real']} real "
          f"items, {SYNTH_PER_TYPE} rendered per drawn type, {PHOTOS} altered photographs)")
