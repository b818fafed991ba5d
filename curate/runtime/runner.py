"""Runners: run a pipeline's stages part by part, in process or on Ray, with resume.

Both runners share ``execute_part``; they differ only in where it runs. A part is skipped
when its ``.done`` marker carries the same chained config hash, so a rerun resumes, and a
changed config re-runs the stage whose sections changed and every stage after it.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow.parquet as pq

from curate.records import RECORD_TYPES, Quarantine, SourceItem
from curate.runtime.blobs import BlobStore
from curate.runtime.config import RunConfig
from curate.runtime.manifest import RunLayout, read_column, read_records, write_json_atomic, write_records
from curate.runtime.stage import PartInput, Stage, StageContext
from curate.runtime.threads import one_opencv_thread

PLAN = "plan"


class PipelineError(RuntimeError):
    """The pipeline is mis-assembled, or a stage failed beyond its error budget."""


class QuarantineBudgetExceeded(PipelineError):
    """A stage finished, but quarantined more of its items than ``max_quarantine_frac`` allows."""


@dataclass(frozen=True)
class Progress:
    """What a runner reports when it starts a stage and after each finished part.

    ``cached_items`` were done by an earlier run (reused parts): a rate should leave them out.
    """

    stage: str
    parts_done: int
    parts_total: int
    items_done: int
    items_total: int
    cached_items: int = 0


@dataclass
class StageReport:
    stage: str
    parts: int = 0
    cached_parts: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0


def table_producers(pipeline: Sequence[type[Stage]]) -> dict[str, str]:
    """Map each table to the stage that writes it; refuse a pipeline that reads an unwritten table."""
    producers = {"sources": PLAN}
    for stage in pipeline:
        for table in (stage.primary, *stage.reads):
            if table not in producers:
                raise PipelineError(f"stage {stage.name} reads {table!r}, which no earlier stage writes")
        for table in stage.writes:
            if table in producers:
                raise PipelineError(f"table {table!r} is written by {producers[table]} and {stage.name}")
            producers[table] = stage.name
    return producers


def stage_hashes(pipeline: Sequence[type[Stage]], config: RunConfig) -> dict[str, str]:
    """Chained hash per stage: its version and config sections, plus every earlier stage's hash."""
    hashes: dict[str, str] = {}
    chain = hashlib.sha256(f"parts={config.part_size}".encode()).hexdigest()
    for stage in pipeline:
        h = hashlib.sha256(chain.encode())
        h.update(f"{stage.name}:{stage.version}".encode())
        for section in stage.config_sections:
            h.update(getattr(config, section).digest().encode())
        chain = h.hexdigest()
        hashes[stage.name] = chain
    return hashes


def load_part_input(stage: type[Stage], pipeline: Sequence[type[Stage]], layout: RunLayout,
                    producers: dict[str, str], part: int, part_size: int) -> PartInput:
    """Items of ``stage`` for ``part``: its primary rows minus ids quarantined by earlier stages."""
    if stage.primary == "sources":
        sources = read_records(layout.inputs, SourceItem)
        items = sources[part * part_size:(part + 1) * part_size]
    else:
        items = read_records(layout.table(producers[stage.primary], stage.primary, part),
                             RECORD_TYPES[stage.primary])
    failed = earlier_quarantined(stage, pipeline, layout, part)
    items = [item for item in items if item.id not in failed]
    related: dict[str, dict[str, list]] = {}
    for table in stage.reads:
        grouped: dict[str, list] = defaultdict(list)
        for row in read_records(layout.table(producers[table], table, part), RECORD_TYPES[table]):
            grouped[getattr(row, stage.group_by, None) or row.id].append(row)
        related[table] = dict(grouped)
    return PartInput(part=part, items=items, related=related)


def earlier_quarantined(stage: type[Stage], pipeline: Sequence[type[Stage]], layout: RunLayout,
                        part: int) -> set[str]:
    """Ids of ``part`` that a stage before ``stage`` quarantined (they never reach it). Reads
    only the id column."""
    failed: set[str] = set()
    for earlier in pipeline:
        if earlier.name == stage.name:
            break
        path = layout.quarantine(earlier.name, part)
        if path.exists():
            failed.update(read_column(path, "item_id"))
    return failed


def count_stage_items(stage: type[Stage], pipeline: Sequence[type[Stage]], layout: RunLayout,
                      producers: dict[str, str], parts: Sequence[int]) -> int:
    """How many items ``stage`` will see in ``parts``: its primary rows minus earlier
    quarantines. Reads only id columns, so it stays cheap on a large run."""
    total = 0
    for part in parts:
        path = layout.table(producers[stage.primary], stage.primary, part)
        if path.exists():
            ids = set(read_column(path, "id"))
            total += len(ids - earlier_quarantined(stage, pipeline, layout, part))
    return total


def execute_part(stage_obj: Stage, pipeline: Sequence[type[Stage]], config: RunConfig,
                 part: int, config_hash: str) -> dict:
    """Run one part of one stage and publish it: tables, quarantine, then the ``.done`` marker."""
    layout = RunLayout(config.run_dir)
    producers = table_producers(pipeline)
    start = time.perf_counter()
    inp = load_part_input(type(stage_obj), pipeline, layout, producers, part, config.part_size)
    ctx = StageContext(config=config, layout=layout, blobs=BlobStore(layout.blobs), part=part)
    with one_opencv_thread():  # a worker owns one core; OpenCV's idle pool threads would spin on the other
        out = stage_obj.process_part(inp, ctx)
    for table in stage_obj.writes:
        write_records(layout.table(stage_obj.name, table, part), out.tables.get(table, []),
                      RECORD_TYPES[table])
    write_records(layout.quarantine(stage_obj.name, part), out.quarantine, Quarantine)
    quarantined_items = {q.item_id for q in out.quarantine} & {item.id for item in inp.items}
    counts = {"in": len(inp.items), "out": out.counts.get("out", 0), "quarantined": len(quarantined_items),
              "quarantine_rows": len(out.quarantine)}
    counts.update({f"rows.{t}": len(out.tables.get(t, [])) for t in stage_obj.writes})
    counts.update({k: v for k, v in out.counts.items() if k != "out"})
    marker = {"stage": stage_obj.name, "part": part, "config_hash": config_hash, "counts": counts,
              "seconds": round(time.perf_counter() - start, 4)}
    write_json_atomic(layout.done(stage_obj.name, part), marker)
    return marker


def freeze_inputs(config: RunConfig, discover: Callable[[RunConfig], list[SourceItem]]) -> int:
    """How many sources the frozen input manifest holds: discovered once, then reused so parts
    never reshuffle. Once frozen, only its footer's row count is read (ingest reads the rows)."""
    layout = RunLayout(config.run_dir)
    if layout.inputs.exists():
        return pq.read_metadata(layout.inputs).num_rows
    items = sorted(discover(config), key=lambda s: s.id)
    write_records(layout.inputs, items, SourceItem)
    return len(items)


class Runner:
    """Runs stages in order; subclasses say where parts execute."""

    def __init__(self, config: RunConfig, pipeline: Sequence[type[Stage]],
                 discover: Callable[[RunConfig], list[SourceItem]],
                 progress: Callable[[Progress], None] | None = None):
        self.producers = table_producers(pipeline)
        for stage in pipeline:
            stage.check_config(config)
        self.config, self.pipeline, self.discover = config, list(pipeline), discover
        self.progress = progress or (lambda event: None)

    def run(self, until: str | None = None, only: str | None = None) -> list[StageReport]:
        names = [s.name for s in self.pipeline]
        for wanted in (until, only):
            if wanted is not None and wanted not in names:
                raise PipelineError(f"unknown stage {wanted!r}; stages are {names}")
        n_sources = freeze_inputs(self.config, self.discover)
        n_parts = max(1, math.ceil(n_sources / self.config.part_size))
        hashes = stage_hashes(self.pipeline, self.config)
        layout = RunLayout(self.config.run_dir)
        reports: list[StageReport] = []
        outcome = "failed"
        try:
            for stage in self.pipeline:
                if only is None or stage.name == only:
                    reports.append(self._run_stage(stage, n_parts, hashes[stage.name], layout, n_sources))
                    self._write_run_log(layout, reports, "running")
                    self._check_budget(stage, reports[-1])
                if stage.name == until:
                    break
            outcome = "done"
        except QuarantineBudgetExceeded:
            outcome = "quarantine_budget_exceeded"
            raise
        except KeyboardInterrupt:
            outcome = "interrupted"
            raise
        finally:
            self._write_run_log(layout, reports, outcome)
            self.close()
        return reports

    @staticmethod
    def _write_run_log(layout: RunLayout, reports: list[StageReport], outcome: str) -> None:
        """``last_run.json``: what the latest invocation did per stage (``curate status`` shows its
        cached parts; the ``.done`` markers cannot tell a reused part from a fresh one)."""
        write_json_atomic(layout.last_run, {
            "outcome": outcome, "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stages": [{"stage": r.stage, "parts": r.parts, "cached_parts": r.cached_parts,
                        "counts": dict(r.counts), "seconds": round(r.seconds, 4)} for r in reports]})

    def _run_stage(self, stage: type[Stage], n_parts: int, config_hash: str, layout: RunLayout,
                   n_sources: int) -> StageReport:
        report = StageReport(stage=stage.name, parts=n_parts)
        todo, cached_items = [], 0
        for part in range(n_parts):
            done = layout.read_done(stage.name, part)
            if done and done.get("config_hash") == config_hash:
                report.cached_parts += 1
                cached_items += done.get("counts", {}).get("in", 0)
            else:
                todo.append(part)
        # cached parts' markers hold their counts; only the parts to run are counted from the tables
        n_items = n_sources if stage.primary == "sources" else \
            cached_items + count_stage_items(stage, self.pipeline, layout, self.producers, todo)
        completed, items_done = report.cached_parts, cached_items
        self.progress(Progress(stage.name, completed, n_parts, items_done, n_items, cached_items))
        start = time.perf_counter()
        try:
            for marker in self.execute(stage, todo, config_hash):
                completed += 1
                items_done += marker["counts"]["in"]
                self.progress(Progress(stage.name, completed, n_parts, items_done, n_items, cached_items))
        except PipelineError:
            raise
        except Exception as exc:  # a part failed as a whole (e.g. disk full): name it, keep the cause
            cause = getattr(exc, "cause", None) or exc  # Ray wraps the worker's exception
            raise PipelineError(f"stage {stage.name} failed ({completed} of {n_parts} parts done; a rerun "
                                f"resumes): {type(cause).__name__}: {cause}") from exc
        report.seconds = time.perf_counter() - start
        for part in range(n_parts):
            for key, value in (layout.read_done(stage.name, part) or {}).get("counts", {}).items():
                report.counts[key] += value
        ctx = StageContext(config=self.config, layout=layout, blobs=BlobStore(layout.blobs))
        stage(self.config).finalize(ctx, n_parts)
        return report

    def _check_budget(self, stage: type[Stage], report: StageReport) -> None:
        n_in, n_bad = report.counts.get("in", 0), report.counts.get("quarantined", 0)
        if n_in >= 10 and n_bad / n_in > self.config.max_quarantine_frac:
            raise QuarantineBudgetExceeded(f"stage {stage.name}: {n_bad} of {n_in} items quarantined, over the "
                                f"max_quarantine_frac={self.config.max_quarantine_frac} budget; see "
                                f"{self.config.run_dir / 'quarantine' / stage.name}")

    def execute(self, stage: type[Stage], parts: list[int], config_hash: str):
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalRunner(Runner):
    """Everything in this process: for tests, debugging and tiny runs."""

    def execute(self, stage: type[Stage], parts: list[int], config_hash: str):
        if not parts:
            return
        stage_obj = stage(self.config)
        stage_obj.setup()
        for part in parts:
            yield execute_part(stage_obj, self.pipeline, self.config, part, config_hash)

