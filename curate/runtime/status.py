"""The funnel of a run, read from its completion markers: in, out, quarantined, rows, seconds.

``cached_parts`` comes from ``last_run.json`` (what the latest ``run`` reused); a ``.done``
marker alone cannot say whether its part was computed now or reused.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from curate.records import Quarantine
from curate.runtime.manifest import RunLayout, read_records


@dataclass
class StageFunnel:
    stage: str
    parts_done: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0
    cached_parts: int | None = None  # None: the latest run did not run this stage


@dataclass
class StageQuarantine:
    """The first ``limit`` quarantined items of a stage (by part, then id), and how many in all."""

    stage: str
    total: int
    shown: list[Quarantine]
    reasons: dict[str, int]  # error class -> count, over all of the stage's quarantine rows


def last_run(run_dir: Path) -> dict:
    path = RunLayout(run_dir).last_run
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:
        return {}


def run_funnel(run_dir: Path, stage_names: list[str]) -> tuple[int, int, list[StageFunnel]]:
    """(input items, parts, funnel per stage) for a run directory."""
    layout = RunLayout(run_dir)
    n_items = pq.read_metadata(layout.inputs).num_rows if layout.inputs.exists() else 0
    cached = {s["stage"]: s.get("cached_parts", 0) for s in last_run(run_dir).get("stages", [])}
    funnels = []
    parts = 0
    for name in stage_names:
        funnel = StageFunnel(stage=name, cached_parts=cached.get(name))
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


def read_quarantine(run_dir: Path, stage_name: str) -> list[Quarantine]:
    """Every quarantine row of one stage, in part order."""
    parts = sorted((RunLayout(run_dir).root / "quarantine" / stage_name).glob("part-*.parquet"))
    return [row for path in parts for row in read_records(path, Quarantine)]


def quarantined(run_dir: Path, stage_names: list[str], limit: int = 20) -> list[StageQuarantine]:
    """Quarantined items per stage with their reasons; stages with none are left out."""
    out = []
    for name in stage_names:
        rows = read_quarantine(run_dir, name)
        if not rows:
            continue
        reasons: dict[str, int] = defaultdict(int)
        for row in rows:
            reasons[row.error_class] += 1
        rows.sort(key=lambda q: (q.part, q.item_id))
        out.append(StageQuarantine(stage=name, total=len(rows), shown=rows[:limit],
                                   reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1]))))
    return out

