"""MedSAM/SAM backend and the .pth converter on tiny random-weight SamModels (offline, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from curate.roi.convert_medsam import convert, to_original, to_transformers  # noqa: E402
from curate.roi.loading import RoiConfigError  # noqa: E402
from curate.roi.medsam import MedSamBackend  # noqa: E402
from curate.roi.rle import decode, tight_bbox  # noqa: E402
from curate.roi.tiny import build_sam, sam_model, tiny_sam_config  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "sam_tiny_keys.json"


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def sam_dir(tmp_path_factory):
    return build_sam(tmp_path_factory.mktemp("sam"))


@pytest.fixture(scope="module")
def sam(sam_dir):
    return MedSamBackend(sam_dir)


def _panels():
    rng = np.random.default_rng(2)
    return [rng.integers(0, 256, (200, 300, 3), dtype=np.uint8),
            rng.integers(0, 256, (80, 60, 3), dtype=np.uint8),
            rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)]


BOXES = [[[10, 20, 120, 150], [150, 30, 290, 190]], [], [[16, 16, 96, 80]]]


def test_missing_weights_name_the_path(tmp_path):
    with pytest.raises(RoiConfigError, match="medsam_vit_b.pth"):
        MedSamBackend(tmp_path / "medsam_vit_b.pth")
    bad = tmp_path / "junk.pth"
    torch.save({"foo": torch.zeros(1)}, bad)
    with pytest.raises(RoiConfigError, match="junk.pth"):
        MedSamBackend(bad)


def test_ragged_box_counts_one_embedding_per_panel(sam):
    calls = []
    hook = sam.model.vision_encoder.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    try:
        out = sam.segment(_panels(), BOXES)
    finally:
        hook.remove()
    assert calls == [2]  # one encoder pass for the two panels that have boxes
    assert [len(r) for r in out] == [2, 0, 1]
    for results, panel in zip(out, _panels(), strict=True):
        for res in results:
            assert res.mask.shape == panel.shape[:2] and res.mask.dtype == bool
            assert np.array_equal(decode(res.rle, *res.mask.shape), res.mask)
            assert res.bbox_xyxy == tight_bbox(res.mask)
            assert 0.0 <= res.stability <= 1.0


def test_batched_equals_single_panel(sam):
    panels = _panels()
    batched = sam.segment(panels, BOXES)
    single = sam.segment(panels[2:], BOXES[2:])
    assert batched[2][0].iou_pred == pytest.approx(single[0][0].iou_pred, abs=1e-4)
    assert (batched[2][0].mask == single[0][0].mask).mean() > 0.99


def test_deterministic(sam):
    a, b = sam.segment(_panels(), BOXES), sam.segment(_panels(), BOXES)
    assert [[r.rle for r in row] for row in a] == [[r.rle for r in row] for row in b]


def test_box_round_trip_and_prompt_frame(sam):
    size = (200, 300)
    box = [10.0, 20.0, 120.0, 150.0]
    model_box = sam.box_to_model(box, size)
    assert np.allclose(sam.box_to_panel(model_box, size), box, atol=1.0)
    seen = []
    hook = sam.model.prompt_encoder.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append(kwargs.get("input_boxes", args[2] if len(args) > 2 else None)),
        with_kwargs=True)
    try:
        sam.segment(_panels()[:1], [[box]])
    finally:
        hook.remove()
    s = sam.input_size
    expected = [10 * s / 300, 20 * s / 200, 120 * s / 300, 150 * s / 200]
    assert np.allclose(seen[0][0, 0].numpy(), expected, atol=1e-4)


def test_mask_maps_back_to_its_box_within_one_pixel(sam):
    """A step in the low-res logits, aligned with a panel box, comes back as that box."""
    size, low = (128, 192), sam.input_size // 4  # each low-res cell is 2 x 3 panel pixels
    box = (30, 20, 150, 100)
    cells = (box[0] // 3, box[1] // 2, box[2] // 3, box[3] // 2)
    logits = torch.full((1, low, low), -10.0)
    logits[0, cells[1]:cells[3], cells[0]:cells[2]] = 10.0
    mask = MedSamBackend.logits_to_panel(logits, size)[0].numpy() > 0
    assert mask.shape == size
    assert np.allclose(tight_bbox(mask), box, atol=1)


def test_medsam_preprocessing_is_minmax_square(sam):
    pix = sam.medsam_pixels(_panels()[0] // 2 + 20)
    assert tuple(pix.shape) == (3, sam.input_size, sam.input_size)
    assert float(pix.min()) == pytest.approx(0.0) and float(pix.max()) == pytest.approx(1.0)


def test_sam_processor_mode_returns_panel_masks(sam_dir):
    backend = MedSamBackend(sam_dir, preprocess="sam")
    out = backend.segment(_panels(), BOXES)
    assert [len(r) for r in out] == [2, 0, 1]
    assert out[0][0].mask.shape == (200, 300) and out[2][0].mask.shape == (128, 128)


def test_key_mapping_matches_fixture():
    fixture = json.loads(FIXTURE.read_text())
    model_keys = set(sam_model().state_dict())
    assert model_keys == set(fixture["transformers"])  # transformers' naming has not moved
    dummy = {k: torch.zeros(1) for k in fixture["original"]}
    assert set(to_transformers(dummy)) == model_keys
    assert set(to_original(sam_model().state_dict())) == set(fixture["original"])


def test_pth_converter_round_trip(tmp_path, sam):
    original = to_original(sam.model.state_dict())
    original["pixel_mean"] = torch.tensor([123.7, 116.3, 103.5]).view(-1, 1, 1)  # dropped on load
    original["pixel_std"] = torch.tensor([58.4, 57.1, 57.4]).view(-1, 1, 1)
    pth = tmp_path / "medsam_tiny.pth"
    torch.save({"model": original}, pth)
    from_pth = MedSamBackend(pth, config=tiny_sam_config())
    a, b = sam.segment(_panels(), BOXES), from_pth.segment(_panels(), BOXES)
    for row_a, row_b in zip(a, b, strict=True):
        for ra, rb in zip(row_a, row_b, strict=True):
            assert ra.rle == rb.rle and ra.iou_pred == pytest.approx(rb.iou_pred, abs=1e-6)
    out_dir = convert(pth, tmp_path / "converted", tiny_sam_config())
    reloaded = MedSamBackend(out_dir)
    assert reloaded.segment(_panels()[2:], BOXES[2:])[0][0].rle == a[2][0].rle
