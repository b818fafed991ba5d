"""The learned image-type model: the committed parameter file loads and matches its training
script, the fit is deterministic and learns, probabilities are a distribution."""

from __future__ import annotations

import numpy as np
import pytest

from curate.quality.features import image_cues
from curate.quality.imagetype import MODEL_PATH, load_model
from curate.quality.synth_types import SYNTH_TYPES, render, synthetic_set
from curate.quality.typefeatures import feature_names, type_features
from curate.quality.typemodel import SoftmaxModel, fit_softmax


def _features(pairs):
    x = np.stack([type_features(rgb, image_cues(rgb), []) for _, rgb in pairs])
    return x, np.asarray([SYNTH_TYPES.index(kind) for kind, _ in pairs])


def test_committed_model_loads_for_the_current_features():
    model = load_model()
    assert model.features == feature_names() and model.coef.shape == (len(feature_names()), 6)
    x, _ = _features(synthetic_set(1, seed=7))
    probs = model.predict_proba(x)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs >= 0).all()


def test_fit_is_deterministic_learns_and_survives_a_save(tmp_path):
    x, y = _features(synthetic_set(8, seed=1))
    a = fit_softmax(x, y, list(SYNTH_TYPES), feature_names(), l2=1.0)
    b = fit_softmax(x, y, list(SYNTH_TYPES), feature_names(), l2=1.0)
    assert np.array_equal(a.coef, b.coef) and np.array_equal(a.intercept, b.intercept)
    x_test, y_test = _features([(kind, render(kind, 900 + i)) for kind in SYNTH_TYPES for i in range(4)])
    assert (a.predict_proba(x_test).argmax(axis=1) == y_test).mean() >= 0.8  # unseen renderings
    a.save(tmp_path / "m.json")
    again = SoftmaxModel.load(tmp_path / "m.json")
    assert np.allclose(again.predict_proba(x_test), a.predict_proba(x_test), atol=1e-6)


def test_a_stronger_penalty_gives_less_confident_probabilities():
    x, y = _features(synthetic_set(5, seed=2))
    sharp = fit_softmax(x, y, list(SYNTH_TYPES), feature_names(), l2=0.1).predict_proba(x).max(axis=1).mean()
    soft = fit_softmax(x, y, list(SYNTH_TYPES), feature_names(), l2=100.0).predict_proba(x).max(axis=1).mean()
    assert soft < sharp


def test_committed_model_is_what_the_training_script_fits(shared_data, tmp_path):
    from bench.train_imagetype import train

    refit = train(shared_data, out=tmp_path / "refit.json")
    committed = SoftmaxModel.load(MODEL_PATH)
    assert committed.meta["n_real"] == refit.meta["n_real"]
    assert np.allclose(committed.coef, refit.coef, atol=1e-5) and np.allclose(committed.mean, refit.mean, atol=1e-6)


def test_a_model_file_for_other_features_is_refused(tmp_path):
    x, y = _features(synthetic_set(2, seed=3))
    model = fit_softmax(x[:, :-1], y, list(SYNTH_TYPES), feature_names()[:-1])
    model.save(tmp_path / "old.json")
    with pytest.raises(ValueError, match="other features"):
        load_model(tmp_path / "old.json")


def test_label_rows_of_pdf_pages_and_page_images_load_with_their_papers(shared_data):
    from bench.quality_data import MORE, load_items, paper_of, read_labels

    rows = read_labels(MORE)
    items = load_items(shared_data, MORE)
    assert len(items) == len(rows)
    for row, it in zip(rows, items, strict=True):
        x1, y1, x2, y2 = (int(v) for v in row["bbox_xyxy"].split())
        assert it.rgb.shape[:2] == (y2 - y1, x2 - x1)  # the box lies inside the rendered page
        assert it.rgb.std() > 5  # a real crop, not a blank render
    pdf_items = [it for it in items if "#page=" in it.path and "paper-qa-litqa" in it.path]
    assert pdf_items and all(it.caption.startswith(("Fig", "FIG")) for it in pdf_items)
    assert paper_of("publaynet-examples/pages/PMC4527132_00004.jpg") == "publaynet-examples:PMC4527132"
    assert paper_of("pdfs/paper-qa-litqa/10.1093_g3journal_jkad293.pdf#page=5") == \
        "pdfs:10.1093_g3journal_jkad293"
