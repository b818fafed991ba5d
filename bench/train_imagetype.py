"""Fit the image-type model (``curate/quality/imagetype_model.json``) and measure it honestly.

``python -m bench.train_imagetype [data_root]`` fits on every scored item of the labelled CSVs
(``bench.quality_data.ALL_LABELS``) plus ``SYNTH_PER_TYPE`` rendered drawings per drawn type and
writes the model file; the fit is deterministic (Newton's method on a convex loss), so running
it again on the same data gives the same file. The hyperparameters below were fixed after
comparing three settings on the grouped cross-validation, which the BENCHMARKS section states.

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
from curate.quality.imagetype import MODEL_PATH
from curate.quality.imagetype_rules import IMAGE_TYPES, rule_image_type
from curate.quality.synth_types import synthetic_set
from curate.quality.typefeatures import feature_names, type_features
from curate.quality.typemodel import SoftmaxModel, fit_softmax
from curate.quality.vocab import weighted_texts

L2 = 1.0
BALANCE = 0.5  # class weights (n / n_class) ** 0.5: halfway to balanced; charts are 58% of the items
SYNTH_PER_TYPE = 40
CLASSES = list(IMAGE_TYPES)


@dataclass
class Labelled:
    x: np.ndarray  # (n, D) features
    y: np.ndarray  # (n,) class index into CLASSES
    groups: np.ndarray  # (n,) paper of each item
    sources: np.ndarray  # (n,) CSV file name of each item
    figures: np.ndarray  # (n,) figure image path of each item
    rules: np.ndarray  # (n,) the hand rules' prediction, for comparison


def labelled_features(root: Path, label_files=ALL_LABELS) -> Labelled:
    xs, ys, groups, sources, figures, rules = [], [], [], [], [], []
    for labels in label_files:
        for it in load_items(root, labels):
            if it.image_type == "mixed":
                continue
            cues, texts = image_cues(it.rgb), weighted_texts(it.own_text, it.caption, it.mentions)
            xs.append(type_features(it.rgb, cues, texts))
            ys.append(CLASSES.index(it.image_type))
            groups.append(paper_of(it.path))
            sources.append(labels.name)
            figures.append(it.path)
            rules.append(CLASSES.index(rule_image_type(cues, texts)[0]))
    return Labelled(np.stack(xs), np.asarray(ys), np.asarray(groups), np.asarray(sources), np.asarray(figures),
                    np.asarray(rules))


def synthetic_features(per_type: int = SYNTH_PER_TYPE) -> tuple[np.ndarray, np.ndarray]:
    pairs = synthetic_set(per_type)
    x = np.stack([type_features(rgb, image_cues(rgb), []) for _, rgb in pairs])
    return x, np.asarray([CLASSES.index(kind) for kind, _ in pairs])


def fit(x: np.ndarray, y: np.ndarray, synth: tuple[np.ndarray, np.ndarray] | None) -> SoftmaxModel:
    if synth is not None:
        x, y = np.vstack([x, synth[0]]), np.concatenate([y, synth[1]])
    # caption-word counts keep their own unit (one hit = 1): see fit_softmax's min_scale
    min_scale = np.asarray([1.0 if name.startswith("words.") else 1e-12 for name in feature_names()])
    return fit_softmax(x, y, CLASSES, feature_names(), l2=L2, balance=BALANCE, min_scale=min_scale)


def grouped_cv(data: Labelled, synth: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Leave-one-paper-out class probabilities (n, K) of every item, from a model fit without its paper."""
    probs = np.zeros((len(data.y), len(CLASSES)))
    for group in sorted(set(data.groups)):
        test = data.groups == group
        probs[test] = fit(data.x[~test], data.y[~test], synth).predict_proba(data.x[test])
    return probs


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| of the top class over equal-width confidence bins, weighted by size."""
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == y
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(right[edges == b].mean() - conf[edges == b].mean()) * (edges == b).mean()
                     for b in range(bins) if (edges == b).any()))


def train(root: Path, out: Path = MODEL_PATH) -> SoftmaxModel:
    data = labelled_features(root)
    model = fit(data.x, data.y, synthetic_features())
    model.meta.update({"n_real": int(len(data.y)), "n_synthetic_per_type": SYNTH_PER_TYPE,
                       "labels": [p.name for p in ALL_LABELS], "script": "python -m bench.train_imagetype"})
    model.save(out)
    return model


if __name__ == "__main__":
    from bench.run import DATA

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    fitted = train(root)
    print(f"wrote {MODEL_PATH} ({fitted.meta['n_real']} real items, {SYNTH_PER_TYPE} rendered per drawn type)")
