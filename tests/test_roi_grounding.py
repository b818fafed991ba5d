"""Grounding DINO backend on a tiny random-weight model saved to a temp dir (offline, CPU)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from curate.roi.grounding import GroundingDinoBackend, clean_phrase  # noqa: E402
from curate.roi.loading import RoiConfigError  # noqa: E402
from curate.roi.tiny import build_grounding_dino  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def gdino_dir(tmp_path_factory):
    return build_grounding_dino(tmp_path_factory.mktemp("gdino"), image_edge=128)


@pytest.fixture(scope="module")
def gdino(gdino_dir):
    # Thresholds at 0 so random weights still yield detections to check.
    return GroundingDinoBackend(gdino_dir, box_threshold=0.0, text_threshold=0.0)


def _panels():
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (200, 300, 3), dtype=np.uint8),
            rng.integers(0, 256, (90, 120, 3), dtype=np.uint8),
            rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)]


def test_missing_or_empty_model_dir_names_the_path(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(RoiConfigError, match="no-such-model"):
        GroundingDinoBackend(missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RoiConfigError, match="config.json"):
        GroundingDinoBackend(tmp_path / "empty")


def test_loads_from_hf_cache_repo_folder(gdino_dir, tmp_path):
    snap = tmp_path / "models--org--gdino" / "snapshots" / "0123abc"
    shutil.copytree(gdino_dir, snap)
    backend = GroundingDinoBackend(tmp_path / "models--org--gdino")
    assert backend.max_text_len == 32


def test_phrases_cleaned_and_truncated_whole(gdino):
    assert clean_phrase("  White Arrow. Head ") == "white arrow head"
    many = [f"lesion number {i}" for i in range(40)]
    text, spans = gdino.build_prompt(["Lesion.", "lesion", ""] + many)
    assert text.startswith("lesion. ") and [s[0] for s in spans].count("lesion") == 1
    n_tokens = len(gdino.processor.tokenizer(text)["input_ids"])
    assert n_tokens <= gdino.max_text_len
    for phrase, start, end in spans:  # kept phrases are whole, never cut
        assert text[start:end] == phrase and text[end] == "."


def test_ragged_prompts_batch_and_stay_with_their_panel(gdino):
    panels = _panels()
    prompts = [["lesion"], ["white arrow", "tumor cells", "left lung", "nucleus"], []]
    out = gdino.detect(panels, prompts)
    assert len(out) == 3 and out[2] == [] and out[0] and out[1]
    for dets, panel, phrases in zip(out, panels, prompts, strict=True):
        h, w = panel.shape[:2]
        for d in dets:
            assert d.phrase in phrases
            x1, y1, x2, y2 = d.bbox_xyxy
            assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h
            assert 0.0 <= d.score <= 1.0
    assert len(out[1]) <= gdino.max_detections


def test_many_phrases_are_truncated_not_failing(gdino):
    out = gdino.detect(_panels()[:1], [[f"cell type {i}" for i in range(60)]])
    assert len(out) == 1


def test_deterministic(gdino):
    panels, prompts = _panels()[:2], [["lesion", "arrow"], ["nucleus"]]
    assert gdino.detect(panels, prompts) == gdino.detect(panels, prompts)


def test_boxes_map_back_to_panel_pixels_and_phrase(gdino):
    """Known normalised boxes and token logits -> panel pixels (within 1 px) and phrase."""
    text, spans = gdino.build_prompt(["lesion", "white arrow"])
    enc = gdino.processor.tokenizer([text], return_offsets_mapping=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")
    cols = {name: [t for t, (a, b) in enumerate(offsets[0].tolist()) if b > a and s <= a and b <= e]
            for name, s, e in spans}
    logits = torch.full((1, 3, gdino.max_text_len), -10.0)
    logits[0, 0, cols["white arrow"]] = 5.0
    logits[0, 1, cols["lesion"]] = 4.0
    h, w = 200, 300
    targets = [(30, 40, 150, 160), (0, 10, 300, 200)]
    boxes = [[(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h] for x1, y1, x2, y2 in targets]
    boxes.append([0.5, 0.5, 0.1, 0.1])
    fake = SimpleNamespace(logits=logits, pred_boxes=torch.tensor([boxes]), input_ids=enc["input_ids"])
    backend = GroundingDinoBackend.from_components(gdino.model, gdino.processor, box_threshold=0.3,
                                                   text_threshold=0.25)
    dets = backend.outputs_to_detections(fake, enc["input_ids"], offsets, [spans], [(h, w)])[0]
    assert [d.phrase for d in dets] == ["white arrow", "lesion"]  # third query is below threshold
    for det, target in zip(dets, targets, strict=True):
        assert np.allclose(det.bbox_xyxy, target, atol=1.0)
    assert dets[0].score == pytest.approx(torch.sigmoid(torch.tensor(5.0)).item(), abs=1e-5)
