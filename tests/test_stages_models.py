"""The regions stage with Grounding DINO + MedSAM (tiny random-weight models built from
configs) and the captions stage against the loopback OpenAI-protocol TEST DOUBLE, run in the
real pipeline: regions carry masks, scores and provenance into manifests and shards, and
every text carries its prompt hash and model id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.ingest.discover import discover_sources
from curate.records import Region, Texts
from curate.runtime.config import load_config
from curate.runtime.manifest import RunLayout, read_records
from curate.runtime.runner import LocalRunner
from stages import PIPELINE
from tests.openai_test_server import OpenAITestDouble

pytest.importorskip("torch")
pytest.importorskip("transformers")
wds = pytest.importorskip("webdataset")


@pytest.fixture(scope="module")
def pmc_sample(tmp_path_factory) -> Path:
    from curate.sample.generate import generate_sample

    out = tmp_path_factory.mktemp("sample") / "corpus"
    generate_sample(out, seed=0)
    return out / "pmc"


@pytest.mark.slow
def test_model_regions_and_vlm_captions_in_the_pipeline(pmc_sample, tmp_path):
    from curate.roi.tiny import build_grounding_dino, build_sam

    gdino, sam = build_grounding_dino(tmp_path / "gdino"), build_sam(tmp_path / "sam")
    with OpenAITestDouble() as server:
        cfg = load_config(None, [f"input_dir={pmc_sample}", f"runs_dir={tmp_path / 'runs'}", "name=m", "runner=local",
                                 "panels.ocr=false", "regions.backend=models", f"regions.roi.grounding_model={gdino}",
                                 f"regions.roi.medsam_model={sam}", "regions.roi.box_threshold=0.0",
                                 "regions.roi.min_score=0.0", "captions.backend=vllm",
                                 f"captions.vllm={{endpoint: '{server.base_url}', model_id: test-double-vl}}",
                                 "shards.drop_duplicates=false"])  # every region gives a patch, copies too
        reports = LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    assert all(r.counts["in"] == r.counts["out"] for r in reports)
    layout = RunLayout(cfg.run_dir)
    regions = [r for p in range(reports[0].parts) for r in read_records(layout.table("regions", "regions", p), Region)]
    assert regions and all(r.joint_score is not None for r in regions)
    masked = [r for r in regions if r.mask_rle]
    assert masked and {r.source for r in masked} <= {"marker+sam", "grounding+sam", "sam"}
    texts = [t for p in range(reports[0].parts) for t in read_records(layout.table("captions", "texts", p), Texts)]
    assert texts and all(t.method == "vlm" and t.model_id == "test-double-vl" and len(t.prompt_sha256) == 64
                         for t in texts)
    patch_samples = [json.loads(s["json"]) for tar in sorted(layout.shards.glob("*/*.tar"))
                     for s in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False)
                     if json.loads(s["json"])["level"] == "patch"]
    assert len(patch_samples) == len([r for r in regions if min(r.bbox_xyxy_panel[2] - r.bbox_xyxy_panel[0],
                                                                r.bbox_xyxy_panel[3] - r.bbox_xyxy_panel[1]) >= 24])
    assert all(s["texts"]["method"] == "vlm" for s in patch_samples)


def test_missing_weights_fail_fast_naming_the_path(tmp_path):
    cfg = load_config(None, [f"input_dir={tmp_path}", f"runs_dir={tmp_path}", "regions.backend=models",
                             "regions.roi.medsam_model=/nonexistent/medsam"])
    with pytest.raises(FileNotFoundError, match="/nonexistent/medsam"):
        LocalRunner(cfg, PIPELINE, lambda c: [])
