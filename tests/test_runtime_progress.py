"""What runners report while they work (progress in items) and after (``last_run.json``), with
the small test stages of test_runtime."""

from __future__ import annotations

import json

import pytest

from curate.runtime.manifest import RunLayout
from curate.runtime.runner import LocalRunner, QuarantineBudgetExceeded
from curate.runtime.status import run_funnel
from tests.test_runtime import PIPE, _config, _discover


def test_progress_counts_items_per_stage_and_reused_ones(tmp_path):
    events = []
    cfg = _config(tmp_path)
    LocalRunner(cfg, PIPE, _discover(["a", "bad1", "c", "flaky", "e"]), events.append).run()
    by_stage = {}
    for ev in events:
        by_stage.setdefault(ev.stage, []).append(ev)
    ingest, panels, count = by_stage["ingest"], by_stage["panels"], by_stage["count"]
    assert [(e.parts_done, e.items_done) for e in ingest] == [(0, 0), (1, 2), (2, 4), (3, 5)]
    assert {e.items_total for e in ingest} == {5} and {e.parts_total for e in ingest} == {3}
    # bad1 yields no figures; 4 documents x 2 figures reach panels; flaky's f02 is dropped before count.
    assert panels[-1].items_done == panels[0].items_total == 8
    assert count[-1].items_done == count[0].items_total == 7
    assert all(e.cached_items == 0 for e in events)

    again = []
    LocalRunner(cfg, PIPE, _discover(["a", "bad1", "c", "flaky", "e"]), again.append).run()
    assert [(e.stage, e.items_done, e.cached_items) for e in again] == [("ingest", 5, 5), ("panels", 8, 8),
                                                                        ("count", 7, 7)]
    log = json.loads(RunLayout(cfg.run_dir).last_run.read_text())
    assert log["outcome"] == "done" and [s["cached_parts"] for s in log["stages"]] == [3, 3, 3]
    _, _, funnels = run_funnel(cfg.run_dir, [s.name for s in PIPE])
    assert [f.cached_parts for f in funnels] == [3, 3, 3]


def test_quarantine_budget_has_its_own_error_and_is_logged(tmp_path):
    cfg = _config(tmp_path, "max_quarantine_frac=0.05")
    names = ["a", "b", "bad1", "c", "d", "e", "f", "g", "h", "i"]
    with pytest.raises(QuarantineBudgetExceeded, match="1 of 10"):
        LocalRunner(cfg, PIPE, _discover(names)).run()
    log = json.loads(RunLayout(cfg.run_dir).last_run.read_text())
    assert log["outcome"] == "quarantine_budget_exceeded" and [s["stage"] for s in log["stages"]] == ["ingest"]
    assert not RunLayout(cfg.run_dir).done("panels", 0).exists()
