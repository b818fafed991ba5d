"""The runtime contract, exercised with small test stages (the pipeline's real stages are
tested end to end in test_pipeline.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.records import Document, Figure, Panel, Quarantine, SourceItem, child_id
from curate.runtime.config import load_config
from curate.runtime.manifest import RunLayout, read_records
from curate.runtime.runner import LocalRunner, PipelineError, table_producers
from curate.runtime.stage import Stage
from curate.runtime.status import run_funnel


class MakeFigures(Stage):
    """Two figures per source; a source whose path contains 'bad' raises."""

    name, primary, writes, group_by, config_sections = "ingest", "sources", ("documents", "figures"), "id", ("ingest",)

    def process_item(self, item, inp, ctx):
        if "bad" in item.path:
            raise ValueError(f"cannot read {item.path}")
        doc = Document(id=item.id, source_kind="folder", source_path=item.path)
        figs = [Figure(id=child_id(item.id, "f", i), document_id=item.id, source_kind="folder",
                       image_sha256="0" * 64, width=10, height=10, caption=f"caption {i}") for i in (1, 2)]
        return {"documents": [doc], "figures": figs}


CALLS: list[str] = []


class SplitFigures(Stage):
    """One panel per figure; the second figure of a doc named 'flaky' raises."""

    name, primary, writes, config_sections = "panels", "figures", ("panels",), ("panels",)

    def process_item(self, figure, inp, ctx):
        CALLS.append(figure.id)
        if "flaky" in figure.id and figure.id.endswith("f02"):
            raise RuntimeError("no panels")
        return {"panels": [Panel(id=child_id(figure.id, "p", 1), figure_id=figure.id,
                                 document_id=figure.document_id, index=1, bbox_xyxy=[0, 0, 10, 10])]}


class CountPanels(Stage):
    name, primary, reads, writes = "count", "figures", ("panels",), ("markers",)

    def process_item(self, figure, inp, ctx):
        assert inp.rows("panels", figure.id), "a surviving figure must have its panels"
        return {"markers": []}


PIPE = [MakeFigures, SplitFigures, CountPanels]


def _discover(names):
    return lambda cfg: [SourceItem(id=n, kind="folder", path=n) for n in names]


def _config(tmp_path: Path, *overrides: str):
    return load_config(None, [f"input_dir={tmp_path}", f"runs_dir={tmp_path / 'runs'}", "name=t", "part_size=2",
                              "runner=local", *overrides])


def test_every_item_ends_as_output_or_quarantine(tmp_path):
    cfg = _config(tmp_path)
    reports = LocalRunner(cfg, PIPE, _discover(["a", "bad1", "c", "flaky", "e"])).run()
    ingest, panels, count = reports
    assert ingest.counts["in"] == 5 and ingest.counts["out"] == 4 and ingest.counts["quarantined"] == 1
    assert panels.counts["in"] == 8 and panels.counts["out"] == 7 and panels.counts["quarantined"] == 1
    # the figure quarantined by `panels` is not an item of `count`
    assert count.counts["in"] == 7 and count.counts["out"] == 7
    layout = RunLayout(cfg.run_dir)
    q = [r for part in range(3) for r in read_records(layout.quarantine("panels", part), Quarantine)]
    assert [r.item_id for r in q] == ["flaky_f02"] and q[0].error_class == "RuntimeError"


def test_rerun_resumes_and_changed_config_reruns_downstream(tmp_path):
    cfg = _config(tmp_path)
    CALLS.clear()
    LocalRunner(cfg, PIPE, _discover(["a", "b", "c"])).run()
    assert len(CALLS) == 6
    CALLS.clear()
    reports = LocalRunner(cfg, PIPE, _discover(["a", "b", "c"])).run()
    assert CALLS == [] and all(r.cached_parts == r.parts for r in reports)
    # a torn/removed marker re-runs exactly that part
    RunLayout(cfg.run_dir).done("panels", 1).unlink()
    LocalRunner(cfg, PIPE, _discover(["a", "b", "c"])).run()
    assert sorted(CALLS) == ["c_f01", "c_f02"]
    # a change in the panels section re-runs panels (and count), not ingest
    CALLS.clear()
    reports = LocalRunner(_config(tmp_path, "panels.ocr=false"), PIPE, _discover(["a", "b", "c"])).run()
    assert reports[0].cached_parts == 2 and reports[1].cached_parts == 0 and len(CALLS) == 6


class RecordOpenCVThreads(Stage):
    name, primary, writes = "panels", "figures", ("panels",)
    seen: list[int] = []

    def process_item(self, figure, inp, ctx):
        import cv2

        self.seen.append(cv2.getNumThreads())
        return {"panels": []}


def test_parts_run_on_one_opencv_thread_and_the_callers_count_comes_back(tmp_path):
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        LocalRunner(_config(tmp_path), [MakeFigures, RecordOpenCVThreads], _discover(["a", "b", "c"])).run()
        assert RecordOpenCVThreads.seen == [1] * 6
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)


def test_inputs_are_frozen_on_first_run(tmp_path):
    cfg = _config(tmp_path)
    LocalRunner(cfg, PIPE, _discover(["a", "b"])).run()
    reports = LocalRunner(cfg, PIPE, _discover(["a", "b", "zzz"])).run()
    assert reports[0].counts["in"] == 2


def test_pipeline_refuses_a_read_nobody_writes():
    class Orphan(Stage):
        name, primary, reads, writes = "orphan", "figures", ("regions",), ("texts",)

    with pytest.raises(PipelineError, match="regions"):
        table_producers([MakeFigures, Orphan])


def test_quarantine_budget_fails_loudly(tmp_path):
    cfg = _config(tmp_path, "max_quarantine_frac=0.1")
    with pytest.raises(PipelineError, match="quarantined"):
        LocalRunner(cfg, PIPE, _discover([f"bad{i}" for i in range(12)])).run()


def test_status_funnel_adds_up(tmp_path):
    cfg = _config(tmp_path)
    LocalRunner(cfg, PIPE, _discover(["a", "bad", "c"])).run()
    n_items, parts, funnels = run_funnel(cfg.run_dir, ["ingest", "panels", "count"])
    assert (n_items, parts) == (3, 2)
    for f in funnels:
        assert f.counts["in"] == f.counts["out"] + f.counts["quarantined"]
    markers = json.loads(RunLayout(cfg.run_dir).done("ingest", 0).read_text())
    assert markers["counts"]["rows.figures"] == 2


@pytest.mark.ray
def test_ray_runner_writes_the_same_manifests_as_local(tmp_path, ray_session):
    from curate.runtime.ray_runner import RayRunner

    names = ["a", "bad", "c", "flaky", "e"]
    local = _config(tmp_path / "l")
    LocalRunner(local, PIPE, _discover(names)).run()
    remote = _config(tmp_path / "r", "runner=ray")
    RayRunner(remote, PIPE, _discover(names)).run()
    for rel in sorted(p.relative_to(local.run_dir) for p in local.run_dir.rglob("*.parquet")):
        assert (remote.run_dir / rel).read_bytes() == (local.run_dir / rel).read_bytes(), rel


def test_publish_sweeps_a_dead_writers_tmp_but_not_a_live_writers(tmp_path):
    """Two workers can store one blob at once: the first to publish must not delete the other's file."""
    import os
    import subprocess
    import sys

    from curate.runtime.blobs import BlobStore

    store = BlobStore(tmp_path)
    digest = "ab" * 32
    target = store.path(digest)
    target.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_tmp = target.with_name(f"{digest}.{dead.stdout.strip()}.tmp")
    live_tmp = target.with_name(f"{digest}.{os.getppid()}.tmp")  # our parent runs as long as we do
    dead_tmp.write_bytes(b"half")
    live_tmp.write_bytes(b"half")
    store.put(b"payload", digest)
    assert store.get(digest) == b"payload"
    assert not dead_tmp.exists() and live_tmp.exists()
