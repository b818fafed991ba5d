"""The learned image-type cascade: the committed parameter files load and match their training
script, the fit is deterministic and learns, probabilities are a distribution, the second stage
runs only where the first is unsure."""

from __future__ import annotations

import numpy as np
import pytest

from curate.quality.features import image_cues
from curate.quality.imagetype import (
    EMBED_MODEL_PATH,
    EMBED_PATH,
    MODEL_PATH,
    classify_image_type,
    load_embed_model,
    load_model,
)
from curate.quality.ocrembed import EMBED_DIM
from curate.quality.synth_types import SYNTH_TYPES, render, synthetic_set
from curate.quality.typefeatures import EMBED_AXES, embed_feature_names, feature_names, type_features
from curate.quality.typemodel import Projection, SoftmaxModel, fit_projection, fit_softmax


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

    refit = train(shared_data, out=tmp_path / "refit.json", embed_out=tmp_path / "refit_embed.json",
                  projection_out=tmp_path / "refit.npz")
    committed = SoftmaxModel.load(MODEL_PATH)
    assert committed.meta["n_real"] == refit.hand.meta["n_real"]
    assert np.allclose(committed.coef, refit.hand.coef, atol=1e-5)
    assert np.allclose(committed.mean, refit.hand.mean, atol=1e-6)
    second = SoftmaxModel.load(EMBED_MODEL_PATH)
    assert second.meta["n_photos"] == refit.embed.model.meta["n_photos"] > 0
    # the projection is stored in float32, so the projected features and weights agree to ~1e-4
    assert np.allclose(second.coef, refit.embed.model.coef, atol=2e-3)
    assert np.allclose(second.mean, refit.embed.model.mean, atol=1e-3)
    assert np.allclose(Projection.load(EMBED_PATH).axes, Projection.load(tmp_path / "refit.npz").axes, atol=1e-5)


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


def test_projection_is_sign_fixed_deterministic_and_survives_a_save(tmp_path):
    e = np.random.default_rng(0).normal(size=(40, 12)) @ np.diag(np.linspace(3, 0.1, 12))
    a, b = fit_projection(e, 4), fit_projection(e[::-1].copy(), 4)  # same rows, other order
    assert np.allclose(a.axes, b.axes, atol=1e-9)  # a flipped axis sign would fail this
    z = a(e)
    assert z.shape == (40, 4) and z[:, 0].var() > z[:, 3].var()  # axes ordered by variance
    a.save(tmp_path / "p.npz")
    assert np.allclose(Projection.load(tmp_path / "p.npz")(e), z, atol=1e-4)


def test_second_stage_loads_and_reads_the_embedding_axes():
    embed = load_embed_model()
    assert embed.model.features == embed_feature_names() and embed.projection.axes.shape == (EMBED_DIM, EMBED_AXES)
    rows = [i for i, name in enumerate(embed.model.features) if name.startswith("embed.")]
    assert len(rows) == EMBED_AXES and np.abs(embed.model.coef[rows]).max() > 0.1  # not a dead block


def test_the_cascade_asks_the_second_stage_only_below_its_threshold():
    rgb = render("diagram", 11)
    cues, texts = image_cues(rgb), []
    hand = load_model().predict_proba(type_features(rgb, cues, texts))[0]
    _, conf_first, p_first = classify_image_type(rgb, cues, texts, embed_below=0.0)  # never unsure
    _, _, p_second = classify_image_type(rgb, cues, texts, embed_below=1.01)  # always unsure
    assert np.allclose([p_first[c] for c in load_model().classes], hand)
    assert conf_first == round(hand.max(), 4)
    assert max(abs(p_first[c] - p_second[c]) for c in p_first) > 1e-3  # the second stage is another model
    _, _, p_default = classify_image_type(rgb, cues, texts)
    assert p_default == (p_first if hand.max() >= 0.8 else p_second)


@pytest.mark.parametrize("embed_below", [0.0, 1.01])
def test_both_stages_read_the_sample_fundus_photograph_as_a_photo(embed_below):
    """The detector embedding alone once read scikit-image's retina image as a diagram; the altered
    photographs in the second stage's training data (never this image) fixed that."""
    from curate.sample.pixels import load_view

    rgb = load_view("fundus")
    cues = image_cues(rgb)
    kind, _, _ = classify_image_type(rgb, cues, [("Colour fundus photograph", 1.0)], embed_below=embed_below)
    assert kind == "photo"
