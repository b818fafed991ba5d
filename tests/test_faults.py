"""Fault injection: the driver SIGKILLed inside every stage, a Ray worker dying mid-part, the
VLM endpoint down for a while, a full disk under the shard writer and the blob store, and an
item that runs past its time limit. After each, a rerun gives the bytes of an undisturbed run."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from curate.ingest.discover import discover_sources
from curate.records import Quarantine, Texts
from curate.runtime.config import load_config
from curate.runtime.manifest import read_records
from curate.runtime.runner import LocalRunner, PipelineError
from stages import PIPELINE, STAGE_NAMES
from stages.ingest import IngestStage
from stages.panels import PanelsStage
from tests import badinputs_make as mk

REPO = Path(__file__).resolve().parents[1]
N_PAPERS = 8


def small_corpus(root: Path) -> Path:
    """N_PAPERS JATS packages with two figures each and a folder of three captioned images."""
    for n in range(N_PAPERS):
        xml = mk.jats([{"caption": f"CT of patient {n}, axial."}, {"caption": f"MR of patient {n}, coronal."}])
        mk.jats_package(root / f"paper{n:02d}", xml, {"fig1.jpg": mk.jpeg(120, 90, seed=2 * n),
                                                    "fig2.jpg": mk.jpeg(110, 80, seed=2 * n + 1)})
    (root / "images").mkdir()
    lines = []
    for n in range(3):
        (root / "images" / f"i{n}.png").write_bytes(mk.png(100, 70, seed=50 + n))
        lines.append(f'{{"image": "i{n}.png", "caption": "Figure {n}. A lesion (arrow) in the liver.", '
                     '"licence": "CC0"}')
    (root / "images" / "captions.jsonl").write_text("\n".join(lines) + "\n")
    return root


def overrides(inputs: Path, runs: Path, *extra: str) -> list[str]:
    return [f"input_dir={inputs}", f"runs_dir={runs}", "name=faults", "runner=local", "part_size=1",
            "panels.ocr=false", *extra]


def digests(run_dir: Path) -> dict[str, str]:
    """sha256 of every file of a run but completion markers and ``last_run.json`` (they hold timings)."""
    return {p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.suffix != ".done" and p.name != "last_run.json"}


def run_local(inputs: Path, runs: Path, *extra: str, pipeline=PIPELINE, **kw):
    cfg = load_config(None, overrides(inputs, runs, *extra))
    return cfg, LocalRunner(cfg, pipeline, lambda c: discover_sources(Path(c.input_dir))).run(**kw)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return small_corpus(tmp_path_factory.mktemp("faults") / "in")


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    cfg, _ = run_local(corpus, tmp_path_factory.mktemp("ref"))
    return cfg.run_dir


@pytest.mark.slow
def test_driver_sigkilled_in_every_stage_then_rerun_is_byte_identical(corpus, reference, tmp_path):
    """One run killed inside each stage in turn (a seeded part and delay), each rerun resuming
    the last; the final run must equal an undisturbed one, manifests and shards alike."""
    rng = random.Random(8)
    n_parts = len(discover_sources(corpus))
    config = tmp_path / "run.yaml"
    config.write_text("name: faults\n")  # everything else from the overrides, as the reference run
    cmd = [sys.executable, "-m", "curate.cli", "run", str(config), *overrides(corpus, tmp_path), "--quiet"]
    run_dir = tmp_path / "faults"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for stage in STAGE_NAMES:
        # Early in the stage: the fast stages (regions, captions) finish a part in milliseconds, and
        # a kill aimed at one of the last parts could land after the stage under load.
        after = rng.randrange(0, n_parts // 3)
        marker = run_dir / stage / f"part-{after:05d}.done"
        last = run_dir / stage / f"part-{n_parts - 1:05d}.done"
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.02))  # land inside the next part, not between two
        assert proc.poll() is None, f"run ended before the kill in {stage}: {proc.stderr.read()!r}"
        assert not last.exists(), f"{stage} finished before the kill could land in it"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert digests(run_dir) == digests(reference)


def test_full_disk_under_the_shard_writer_fails_clearly_then_resumes(corpus, reference, tmp_path, monkeypatch):
    import curate.shards.tarwriter as tarwriter

    room = [40 << 10]  # bytes left on the "disk" for all shard files together

    class FullDisk:
        """A file on a disk with ``room`` bytes free, then ENOSPC like a full filesystem."""

        def __init__(self, path, mode):
            self.fh = open(path, mode)  # noqa: SIM115 - closed by close()

        def write(self, data):
            if len(data) > room[0]:
                raise OSError(errno.ENOSPC, "No space left on device")
            room[0] -= len(data)
            return self.fh.write(data)

        def __getattr__(self, name):
            return getattr(self.fh, name)

    monkeypatch.setattr(tarwriter, "open", FullDisk, raising=False)
    with pytest.raises(PipelineError, match=r"stage shards failed .*No space left on device"):
        run_local(corpus, tmp_path)
    shards = tmp_path / "faults" / "shards"
    assert not list(shards.rglob("*.tmp"))
    for tar in shards.rglob("*.tar"):  # every tar under its final name is whole and indexed
        assert tar.with_suffix(".parquet").exists(), tar
        assert digests(tmp_path / "faults").get(f"shards/{tar.relative_to(shards)}") == \
            digests(reference).get(f"shards/{tar.relative_to(shards)}")
    assert not read_records(tmp_path / "faults" / "quarantine" / "shards" / "part-00000.parquet", Quarantine)
    monkeypatch.undo()  # space freed
    run_local(corpus, tmp_path)
    assert digests(tmp_path / "faults") == digests(reference)


def test_full_disk_at_ingest_stops_the_stage_instead_of_quarantining(corpus, tmp_path, monkeypatch):
    from curate.runtime.blobs import BlobStore

    def full(self, data, sha256=None):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BlobStore, "put", full)
    with pytest.raises(PipelineError, match="No space left"):
        run_local(corpus, tmp_path, pipeline=[IngestStage])
    assert not list((tmp_path / "faults" / "quarantine").rglob("*.parquet"))  # no item blamed for the disk


class _SleepyIngest(IngestStage):
    """Test stage: the second image line sleeps far past the time limit."""

    def process_item(self, item, inp, ctx):
        if item.id.endswith("_l00002"):
            time.sleep(60)
        return super().process_item(item, inp, ctx)


def test_item_past_its_time_limit_is_quarantined_and_the_part_goes_on(corpus, tmp_path):
    start = time.monotonic()
    cfg, (report,) = run_local(corpus, tmp_path, "max_seconds_per_item=1", "part_size=20",
                               pipeline=[_SleepyIngest])
    assert time.monotonic() - start < 30
    rows = read_records(cfg.run_dir / "quarantine" / "ingest" / "part-00000.parquet", Quarantine)
    assert [(q.item_id, q.error_class) for q in rows] == [("images__captions_l00002", "ItemTimeout")]
    assert "max_seconds_per_item=1" in rows[0].message
    assert report.counts["out"] == report.counts["in"] - 1 == N_PAPERS + 2


def _vlm(port: int, retries: int) -> list[str]:
    return ["captions.backend=vllm", f"captions.vllm.endpoint=http://127.0.0.1:{port}/v1",
            "captions.vllm.model_id=test-double-vl", "captions.vllm.backoff_base_s=0.25",
            "captions.vllm.backoff_max_s=2", f"captions.vllm.max_retries={retries}", "captions.vllm.timeout_s=10",
            "captions.vllm.concurrency=2", "part_size=20"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_vlm_endpoint_down_then_up_finishes_the_stage(corpus, tmp_path):
    """The server is absent for 1.5 s, then answers 503 to its first 4 requests; the client backs
    off and every target gets its texts."""
    from tests.openai_test_server import OpenAITestDouble

    port = _free_port()
    run_local(corpus, tmp_path, *_vlm(port, 8), until="regions")
    server = OpenAITestDouble(fail_first=4)
    timer = threading.Timer(1.5, server.start, kwargs={"port": port})
    timer.start()
    try:
        start = time.monotonic()
        cfg, (report,) = run_local(corpus, tmp_path, *_vlm(port, 8), only="captions")
        elapsed = time.monotonic() - start
    finally:
        timer.join()
        server.stop()
    texts = read_records(cfg.run_dir / "captions" / "texts" / "part-00000.parquet", Texts)
    assert report.counts["quarantined"] == 0 and report.counts["quarantine_rows"] == 0
    assert len(texts) >= report.counts["in"] == 2 * N_PAPERS + 3
    assert all(t.method == "vlm" for t in texts)
    assert elapsed >= 1.5 and sum(e["action"] == "503" for e in server.log) == 4


def test_vlm_endpoint_down_past_the_retries_stops_the_stage_then_resumes(corpus, tmp_path):
    """Down for good: the stage fails naming the endpoint and blames no item; once the server
    is back, a rerun finishes."""
    from tests.openai_test_server import OpenAITestDouble

    port = _free_port()
    with pytest.raises(PipelineError, match="VLM endpoint unavailable"):
        run_local(corpus, tmp_path, *_vlm(port, 1))
    run_dir = tmp_path / "faults"
    assert not (run_dir / "captions" / "part-00000.done").exists()
    assert not (run_dir / "quarantine" / "captions").exists()
    with OpenAITestDouble() as server:
        server.stop()
        server.start(port)
        cfg, reports = run_local(corpus, tmp_path, *_vlm(port, 1))
    captions = next(r for r in reports if r.stage == "captions")
    assert captions.counts["in"] > 0 and captions.counts["quarantined"] == 0
    assert (run_dir / "shards" / "DATASET.md").exists()


class DiesOncePanels(PanelsStage):
    """Test stage: the worker process running the first part exits hard, once per run."""

    def process_part(self, inp, ctx):
        flag = self.config.run_dir / "worker-died-once"
        if not flag.exists():
            flag.touch()
            os._exit(1)
        return super().process_part(inp, ctx)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_worker_dying_mid_part_is_retried_without_duplicates(corpus, reference, tmp_path, ray_session):
    from curate.records import Panel
    from curate.runtime.ray_runner import RayRunner

    cfg = load_config(None, overrides(corpus, tmp_path, "runner=ray", "num_workers=2"))
    RayRunner(cfg, [IngestStage, DiesOncePanels], lambda c: discover_sources(Path(c.input_dir))).run()
    assert (cfg.run_dir / "worker-died-once").exists()
    panels = [p for f in sorted((cfg.run_dir / "panels" / "panels").glob("*.parquet")) for p in read_records(f, Panel)]
    assert len({p.id for p in panels}) == len(panels) > 0
    mine, ref = digests(cfg.run_dir), digests(reference)
    for name in ("ingest", "panels"):
        keys = sorted(k for k in ref if k.startswith(f"{name}/"))
        assert keys and {k: mine.get(k) for k in keys} == {k: ref[k] for k in keys}, name
