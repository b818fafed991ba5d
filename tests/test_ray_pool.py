"""The Ray runner keeps its actors for the whole run: consecutive stages with the same
resources run in the same worker processes, and each stage is set up once per worker."""

from __future__ import annotations

import json
import os

import pytest

from curate.runtime.manifest import RunLayout
from curate.runtime.stage import PartOutput
from tests.test_runtime import PIPE, CountPanels, MakeFigures, SplitFigures, _config, _discover


class _WithPid:
    """Adds the worker's pid and how often ``setup`` ran in it to each part's counts."""

    def setup(self):
        self.setups = getattr(self, "setups", 0) + 1

    def process_part(self, inp, ctx) -> PartOutput:
        out = super().process_part(inp, ctx)
        out.counts.update({"pid": os.getpid(), "setups": self.setups})
        return out


class PidFigures(_WithPid, MakeFigures):
    pass


class PidPanels(_WithPid, SplitFigures):
    pass


class PidCount(_WithPid, CountPanels):
    pass


@pytest.mark.ray
def test_stages_share_the_run_actors(tmp_path, ray_session):
    from curate.runtime.ray_runner import RayRunner

    assert [s.name for s in (PidFigures, PidPanels, PidCount)] == [s.name for s in PIPE]
    cfg = _config(tmp_path, "runner=ray", "num_workers=2")
    RayRunner(cfg, [PidFigures, PidPanels, PidCount], _discover(list("abcdefgh"))).run()
    layout = RunLayout(cfg.run_dir)
    pids = {}
    for stage in ("ingest", "panels", "count"):
        counts = [json.loads(layout.done(stage, part).read_text())["counts"] for part in range(4)]
        assert all(c["setups"] == 1 for c in counts)
        pids[stage] = {c["pid"] for c in counts}
    assert 1 <= len(pids["ingest"]) <= 2
    assert pids["ingest"] == pids["panels"] == pids["count"]
    assert os.getpid() not in pids["ingest"]
