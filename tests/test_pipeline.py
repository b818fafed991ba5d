"""The whole pipeline on the generated sample corpus: funnel, shards, determinism, resume
after SIGKILL, and the Ray runner producing the same bytes as the in-process runner."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.ingest.discover import discover_sources
from curate.runtime.config import load_config
from curate.runtime.runner import LocalRunner
from curate.runtime.status import run_funnel
from stages import PIPELINE, STAGE_NAMES

REPO = Path(__file__).resolve().parents[1]
wds = pytest.importorskip("webdataset")


@pytest.fixture(scope="module")
def sample_dir(sample_corpus_dir) -> Path:
    return sample_corpus_dir


def _config(input_dir: Path, runs: Path, *extra: str):
    return load_config(REPO / "manifests" / "sample.yaml",
                       [f"input_dir={input_dir}", f"runs_dir={runs}", "runner=local", "part_size=3", *extra])


def _run_local(cfg):
    return LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()


def _digests(folder: Path) -> dict[str, str]:
    """sha256 of every file but completion markers and the run log (they hold timings)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".done" and p.name != "last_run.json"}


@pytest.fixture(scope="module")
def reference_run(sample_run):
    """The session's sample run (conftest), made with the same settings as ``_config``."""
    return sample_run


def test_funnel_adds_up_and_every_stage_ran(reference_run, sample_dir):
    cfg, reports = reference_run
    truth = json.loads((sample_dir / "ground_truth.json").read_text())
    assert [r.stage for r in reports] == STAGE_NAMES
    ingest = reports[0]
    assert ingest.counts["rows.figures"] == len(truth["figures"])
    for report in reports:
        c = report.counts
        assert c["in"] == c["out"] + c["quarantined"], report.stage
    n_items, _, funnels = run_funnel(cfg.run_dir, STAGE_NAMES)
    assert n_items == ingest.counts["in"]
    figures = ingest.counts["rows.figures"]
    for funnel in funnels[1:]:
        assert funnel.counts["in"] == figures - sum(f.counts["quarantined"] for f in funnels[1:funnels.index(funnel)])


def test_shards_hold_all_three_levels_and_read_with_webdataset(reference_run):
    cfg, reports = reference_run
    shards = cfg.run_dir / "shards"
    tars = sorted(shards.glob("*/*.tar"))
    assert tars and (shards / "DATASET.md").exists()
    levels: dict[str, int] = {}
    docs_by_split: dict[str, set] = {}
    for tar in tars:
        for sample in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            meta = json.loads(sample["json"])
            assert "." not in sample["__key__"] and sample["txt"].strip()
            assert meta["texts"]["summary"].endswith(".") and len(meta["texts"]["negatives"]) == 5
            levels[meta["level"]] = levels.get(meta["level"], 0) + 1
            docs_by_split.setdefault(tar.parent.name, set()).add(meta["document_id"])
            assert meta["image_type"] and meta["modality"] and meta["body_region"] and meta["licence"]
            assert meta["dup_group"] and not meta["is_duplicate"]
    duplicates = pq.read_table(cfg.run_dir / "quality" / "duplicates.parquet").to_pylist()
    figure_copies = sum(1 for d in duplicates if d["level"] == "figure")
    assert levels.get("figure", 0) == reports[0].counts["rows.figures"] - figure_copies
    assert levels.get("panel", 0) > levels["figure"] and levels.get("patch", 0) > 0
    splits = list(docs_by_split.values())
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            assert not a & b, "a document spans two splits"
    for split_dir in {t.parent for t in tars}:
        sizes = json.loads((split_dir / "sizes.json").read_text())
        assert sum(sizes.values()) == sum(1 for t in split_dir.glob("*.tar")
                                          for _ in wds.WebDataset(str(t), shardshuffle=False, empty_check=False))


def test_every_sample_has_four_texts_and_summaries_follow_the_rules(reference_run):
    from curate.captions.schema import summary_problems

    cfg, _ = reference_run
    metas = [json.loads(s["json"]) for tar in sorted((cfg.run_dir / "shards").glob("*/*.tar"))
             for s in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False)]
    assert metas
    for meta in metas:
        texts = meta["texts"]
        assert texts["summary"] and texts["report"] and texts["region"] and len(texts["negatives"]) == 5
        assert texts["method"] == "textmined"
    ok = sum(not summary_problems(m["texts"]["summary"]) for m in metas)
    assert ok / len(metas) >= 0.95, [m["texts"]["summary"] for m in metas if summary_problems(m["texts"]["summary"])]


def test_same_input_and_config_give_byte_identical_output(reference_run, sample_dir, tmp_path):
    cfg, _ = reference_run
    again = _config(sample_dir, tmp_path)
    _run_local(again)
    first, second = _digests(cfg.run_dir), _digests(again.run_dir)
    assert second == first
    # the comparison covers every manifest table, tar, tar index, sizes.json and the card
    for stage in STAGE_NAMES:
        assert any(k.startswith(f"{stage}/") and k.endswith(".parquet") for k in first), stage
    for split in cfg.shards.splits:  # every split has its sizes.json, {} when no paper hashed into it
        assert f"shards/{split}/sizes.json" in first
        sizes = json.loads((cfg.run_dir / "shards" / split / "sizes.json").read_text())
        tars = {k.rsplit("/", 1)[1] for k in first if k.startswith(f"shards/{split}/") and k.endswith(".tar")}
        assert set(sizes) == tars, split
    assert any(k.endswith(".tar") for k in first)
    assert "inputs.parquet" in first and "shards/DATASET.md" in first
    assert {k[:-4] for k in first if k.endswith(".tar")} <= {k[:-8] for k in first if k.endswith(".parquet")}

    def counts(run_dir):  # completion markers agree too, timings aside
        return {p.relative_to(run_dir).as_posix(): json.loads(p.read_text())["counts"]
                for p in sorted(run_dir.rglob("*.done"))}
    assert counts(again.run_dir) == counts(cfg.run_dir)


@pytest.mark.slow
def test_sigkill_mid_stage_then_rerun_gives_identical_shards(reference_run, sample_dir, tmp_path):
    cfg, _ = reference_run
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "curate.cli", "run", str(REPO / "manifests" / "sample.yaml"), f"input_dir={sample_dir}",
           f"runs_dir={runs}", "runner=local", "part_size=3", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first_marker = runs / "sample" / "panels" / "part-00000.done"
    deadline = time.monotonic() + 300
    while not first_marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed mid-stage"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (runs / "sample" / "shards" / "DATASET.md").exists()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _digests(runs / "sample" / "shards") == _digests(cfg.run_dir / "shards")
    assert not list((runs / "sample").rglob("*.tmp"))


@pytest.mark.ray
@pytest.mark.slow
def test_ray_runner_gives_the_same_shards(reference_run, sample_dir, tmp_path, ray_session):
    from curate.runtime.ray_runner import RayRunner

    cfg, _ = reference_run
    ray_cfg = _config(sample_dir, tmp_path, "runner=ray")
    RayRunner(ray_cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    assert _digests(ray_cfg.run_dir / "shards") == _digests(cfg.run_dir / "shards")

