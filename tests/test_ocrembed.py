"""The pretrained detector embedding of ``curate.quality.ocrembed``: input shaping, determinism,
a clear error on bad input, and that it tells drawn kinds apart (nearest rendering of a new
rendering is one of its own kind)."""

from __future__ import annotations

import numpy as np
import pytest

from curate.quality.ocrembed import EMBED_DIM, det_embedding, detector_input
from curate.quality.synth_types import SYNTH_TYPES, render


def test_detector_input_keeps_the_aspect_and_pads_to_the_stride():
    x = detector_input(np.zeros((100, 400, 3), np.uint8), side=320)
    assert x.shape == (1, 3, 96, 320) and x.dtype == np.float32
    assert x[0, :, 80:, :].min() == 1.0 and x[0, :, :80, :].max() == -1.0  # white padding under black


def test_embedding_is_deterministic_and_rejects_grey_arrays():
    rgb = render("chart", 3)
    a, b = det_embedding(rgb), det_embedding(rgb.copy())
    assert a.shape == (EMBED_DIM,) and np.array_equal(a, b) and np.isfinite(a).all()
    with pytest.raises(ValueError, match="RGB"):
        det_embedding(rgb[..., 0])


def test_nearest_rendering_is_of_the_same_kind():
    kinds = [k for k in SYNTH_TYPES if k != "photo"]
    ref = {k: [det_embedding(render(k, s)) for s in range(4)] for k in kinds}
    mean, scale = (np.stack([e for es in ref.values() for e in es]).mean(0),
                   np.stack([e for es in ref.values() for e in es]).std(0) + 1e-6)
    hits = 0
    for k in kinds:
        for seed in (500, 501):
            q = (det_embedding(render(k, seed)) - mean) / scale
            best = min(kinds, key=lambda c: min(np.linalg.norm(q - (e - mean) / scale) for e in ref[c]))
            hits += best == k
    assert hits >= 0.8 * 2 * len(kinds)
