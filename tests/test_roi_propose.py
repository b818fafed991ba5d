"""propose_regions end to end with tiny random-weight Grounding DINO and SAM (offline, CPU)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from curate.roi.grounding import GroundingDinoBackend  # noqa: E402
from curate.roi.medsam import MedSamBackend  # noqa: E402
from curate.roi.propose import MarkerPrompt, load_backends, propose_regions  # noqa: E402
from curate.roi.rle import decode, tight_bbox  # noqa: E402
from curate.roi.scoring import RoiConfig  # noqa: E402
from curate.roi.tiny import build_grounding_dino, build_sam  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    root = tmp_path_factory.mktemp("roi")
    cfg = RoiConfig(grounding_model=str(build_grounding_dino(root / "gd", image_edge=128)),
                    medsam_model=str(build_sam(root / "sam")), box_threshold=0.0, text_threshold=0.0,
                    min_score=0.0, min_mask_px=0, top_k=4)
    gdino, medsam = load_backends(cfg)
    assert isinstance(gdino, GroundingDinoBackend) and isinstance(medsam, MedSamBackend)
    return cfg, gdino, medsam


PANEL = np.random.default_rng(3).integers(0, 256, (160, 240, 3), dtype=np.uint8)
MARKER = MarkerPrompt((40, 30, 120, 110), "lesion", 0.8, "m1")


def test_proposals_are_scored_selected_and_in_panel_pixels(backends):
    cfg, gdino, medsam = backends
    out = propose_regions(PANEL, ["lesion", "white arrow"], [MARKER], cfg, gdino, medsam)
    assert 0 < len(out) <= cfg.top_k
    scores = [p.joint_score for p in out]
    assert scores == sorted(scores, reverse=True)
    for p in out:
        assert p.source in {"grounding+sam", "marker+sam"}
        mask = decode(p.mask_rle, *PANEL.shape[:2])
        assert tight_bbox(mask) == p.bbox_xyxy
        assert p.phrase in {"lesion", "white arrow"}
        assert set(p.components) >= {"iou_pred", "quality", "box_agreement", "marker"}


def test_marker_only_without_detector(backends):
    cfg, _, medsam = backends
    out = propose_regions(PANEL, ["lesion"], [((40, 30, 120, 110), "lesion", 0.8)], cfg, None, medsam)
    assert len(out) == 1 and out[0].source == "marker+sam" and out[0].components["marker"] == 1.0


def test_detector_only_gives_boxes_without_masks(backends):
    cfg, gdino, _ = backends
    out = propose_regions(PANEL, ["lesion"], [], cfg, gdino, None)
    assert out and all(p.source == "grounding" and p.mask_rle is None for p in out)
    assert propose_regions(PANEL, [], [], cfg, gdino, None) == []


def test_min_score_filters_and_marker_id_carried(backends):
    cfg, gdino, medsam = backends
    loose = propose_regions(PANEL, ["lesion"], [MARKER], cfg, gdino, medsam)
    cut = loose[len(loose) // 2].joint_score
    strict = propose_regions(PANEL, ["lesion"], [MARKER], cfg.model_copy(update={"min_score": cut}), gdino, medsam)
    assert strict and all(p.joint_score >= cut for p in strict)
    assert len(strict) < len(loose) or min(p.joint_score for p in loose) >= cut
    marker_rows = [p for p in loose if p.source == "marker+sam"]
    assert all(p.marker_id == "m1" for p in marker_rows)
