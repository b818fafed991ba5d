"""RLE round trips, tight boxes, joint scoring and region selection (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from curate.roi.rle import RleError, box_iou, decode, encode, tight_bbox
from curate.roi.scoring import (
    Candidate,
    RoiConfig,
    RoiWeights,
    fill_ratio,
    joint_score,
    select_regions,
    stability,
)


def test_rle_is_column_major_and_starts_with_background():
    mask = np.array([[0, 1], [1, 1]], dtype=bool)  # column-major: 0,1 | 1,1
    assert encode(mask) == "1 3"
    assert encode(np.ones((2, 3), bool)) == "0 6"
    assert encode(np.zeros((2, 3), bool)) == "6"


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (64, 33)])
def test_rle_round_trip_random(shape):
    rng = np.random.default_rng(sum(shape))
    for density in (0.0, 0.1, 0.5, 1.0):
        mask = rng.random(shape) < density
        rle = encode(mask)
        assert np.array_equal(decode(rle, *shape), mask)
        assert sum(int(t) for t in rle.split()) == mask.size


def test_rle_decode_rejects_wrong_size_and_garbage():
    with pytest.raises(RleError):
        decode("1 3", 3, 3)
    with pytest.raises(RleError):
        decode("1 x", 2, 2)


def test_tight_bbox_is_half_open_panel_pixels():
    mask = np.zeros((10, 20), bool)
    mask[2:5, 7:11] = True
    assert tight_bbox(mask) == (7, 2, 11, 5)
    assert tight_bbox(np.zeros((3, 3), bool)) is None
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def _square_mask(box, size=(50, 50)):
    mask = np.zeros(size, bool)
    mask[box[1]:box[3], box[0]:box[2]] = True
    return mask


def test_joint_score_components_and_ordering():
    box = (10, 10, 30, 30)
    good, parts = joint_score(0.9, 0.95, _square_mask(box), box, False)
    assert parts["box_agreement"] == pytest.approx(1.0) and parts["quality"] == pytest.approx(1.0)
    leaky, _ = joint_score(0.9, 0.95, _square_mask((0, 0, 50, 50)), box, False)
    weak, _ = joint_score(0.3, 0.95, _square_mask(box), box, False)
    assert good > leaky and good > weak
    bonus, parts_m = joint_score(0.3, 0.95, _square_mask(box), box, True)
    assert bonus == pytest.approx(min(1.0, weak + RoiWeights().marker_bonus)) and parts_m["marker"] == 1.0
    empty, _ = joint_score(0.9, 0.9, np.zeros((50, 50), bool), box, True)
    assert empty == 0.0


def test_joint_score_without_detector_or_mask_uses_available_evidence():
    box = (10, 10, 30, 30)
    no_det, parts = joint_score(None, 0.8, _square_mask(box), box, False)
    assert "det" not in parts and 0 < no_det <= 1
    box_only, parts = joint_score(0.6, None, None, box, False)
    assert box_only == pytest.approx(0.6) and set(parts) == {"det", "marker"}


def test_quality_measures():
    ring = _square_mask((0, 0, 10, 10), (10, 10))
    ring[2:8, 2:8] = False
    assert fill_ratio(ring) == pytest.approx(64 / 100)
    sharp = np.where(_square_mask((2, 2, 8, 8), (10, 10)), 10.0, -10.0)
    soft = np.where(_square_mask((2, 2, 8, 8), (10, 10)), 0.5, -0.5)
    assert stability(sharp, 1.0) == 1.0 and stability(soft, 1.0) == 0.0


def test_select_regions_threshold_dedupe_top_k():
    cands = [Candidate((0, 0, 10, 10), "a", "grounding", 0.9),
             Candidate((1, 1, 10, 10), "a", "grounding", 0.8),  # duplicate of the first
             Candidate((20, 20, 30, 30), "b", "grounding", 0.7),
             Candidate((40, 40, 45, 45), "c", "grounding", 0.6),
             Candidate((60, 60, 70, 70), "d", "grounding", 0.1)]
    kept = select_regions(cands, top_k=5, min_score=0.3)
    assert [c.phrase for c in kept] == ["a", "b", "c"] and kept[0].score == 0.9
    assert len(select_regions(cands, top_k=2, min_score=0.0)) == 2


def test_roi_config_validates():
    cfg = RoiConfig(top_k=3, weights={"det": 1.0})
    assert cfg.weights.det == 1.0 and cfg.weights.iou_pred == RoiWeights().iou_pred
    with pytest.raises(ValueError):
        RoiConfig(box_threshold=2.0)
    with pytest.raises(ValueError):
        RoiConfig(unknown=1)
