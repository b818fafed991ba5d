"""The funnel of a run, read from its completion markers: in, out, quarantined, rows, seconds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from curate.records import SourceItem
from curate.runtime.manifest import RunLayout, read_records


@dataclass
class StageFunnel:
    stage: str
    parts_done: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0


def run_funnel(run_dir: Path, stage_names: list[str]) -> tuple[int, int, list[StageFunnel]]:
    """(input items, parts, funnel per stage) for a run directory."""
    layout = RunLayout(run_dir)
    n_items = len(read_records(layout.inputs, SourceItem)) if layout.inputs.exists() else 0
    funnels = []
    parts = 0
    for name in stage_names:
        funnel = StageFunnel(stage=name)
        for marker_path in sorted((layout.root / name).glob("part-*.done")):
            marker = layout.read_done(name, int(marker_path.stem.split("-")[1]))
            if marker is None:
                continue
            funnel.parts_done += 1
            funnel.seconds += marker.get("seconds", 0.0)
            for key, value in marker.get("counts", {}).items():
                funnel.counts[key] += value
        parts = max(parts, funnel.parts_done)
        funnels.append(funnel)
    return n_items, parts, funnels
