"""What the ``curate`` command prints: progress while a run goes, and a run's status after.

The runners know nothing of terminals; they call a ``Progress`` callback and this module
draws it. On a terminal each stage gets a live bar (items, items/s, ETA); in a log file
(batch jobs) each stage gets one line when it ends, so logs stay short on a large run.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from curate.runtime.manifest import RunLayout
from curate.runtime.runner import Progress, StageReport
from curate.runtime.status import StageFunnel, quarantined, run_funnel


class _ItemsPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} items/s" if speed else "- items/s", style="progress.data.speed")


class ProgressView:
    """The runner's progress callback. Use as a context manager around ``runner.run()``."""

    def __init__(self, console: Console):
        self.console = console
        self.live = console.is_terminal
        self.bars = RichProgress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("items  {task.fields[parts]}"), _ItemsPerSecond(),
                                 TextColumn("eta"), TimeRemainingColumn(), TimeElapsedColumn(),
                                 console=console, transient=False) if self.live else None
        self.tasks: dict[str, int] = {}
        self.started: dict[str, float] = {}

    def __enter__(self) -> ProgressView:
        if self.bars:
            self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bars:
            self.bars.stop()

    def __call__(self, event: Progress) -> None:
        parts = f"{event.parts_done}/{event.parts_total} parts"
        if event.stage not in self.started:
            self.started[event.stage] = time.perf_counter()
            if self.bars:
                # Items of reused parts start the bar filled without counting toward the rate.
                self.tasks[event.stage] = self.bars.add_task(event.stage, total=max(event.items_total, 1),
                                                             completed=event.items_done, parts=parts)
        if self.bars:
            self.bars.update(self.tasks[event.stage], completed=event.items_done,
                             total=max(event.items_total, event.items_done, 1), parts=parts)
        elif event.parts_done == event.parts_total:
            seconds = time.perf_counter() - self.started[event.stage]
            fresh = event.items_done - event.cached_items
            rate = f", {fresh / seconds:.1f} items/s" if fresh and seconds > 0 else ""
            self.console.print(f"{event.stage:<9} {event.items_done} items, {parts} "
                               f"({event.cached_items} items reused), {seconds:.1f}s{rate}", highlight=False)


def _rows_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("rows."))


def funnel_table(title: str, funnels: list[StageFunnel]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("stage", "parts", "in", "out", "quarantined", "cached", "seconds", "rows written"):
        table.add_column(col, justify="left" if col in ("stage", "rows written") else "right")
    for f in funnels:
        cached = "-" if f.cached_parts is None else str(f.cached_parts)
        table.add_row(f.stage, str(f.parts_done), str(f.counts.get("in", 0)), str(f.counts.get("out", 0)),
                      str(f.counts.get("quarantined", 0)), cached, f"{f.seconds:.2f}", _rows_text(f.counts))
    return table


def report_funnels(reports: list[StageReport]) -> list[StageFunnel]:
    """A finished ``run``'s reports in the shape ``status`` prints (seconds: wall time of this run)."""
    return [StageFunnel(stage=r.stage, parts_done=r.parts, counts=dict(r.counts), seconds=r.seconds,
                        cached_parts=r.cached_parts) for r in reports]


def unsure_panels(run_dir: Path, limit: int) -> tuple[int, list[tuple[str, str]]]:
    """Panels whose evidence conflicted: (how many, first ``limit`` (id, reason))."""
    found: list[tuple[str, str]] = []
    for path in sorted((RunLayout(run_dir).root / "panels" / "panels").glob("part-*.parquet")):
        table = pq.read_table(path, columns=["id", "unsure", "unsure_reason"]).to_pylist()
        found.extend((row["id"], row["unsure_reason"]) for row in table if row["unsure"])
    return len(found), found[:limit]


def status_dict(run_dir: Path, stage_names: list[str], limit: int) -> dict:
    """Everything ``curate status`` shows, as plain data (``--json``)."""
    return _status(run_dir, stage_names, limit)[0]


def _status(run_dir: Path, stage_names: list[str], limit: int) -> tuple[dict, list]:
    """(``status_dict``, the funnels it was made from), reading the completion markers once."""
    from curate.runtime.status import last_run

    n_items, n_parts, funnels = run_funnel(run_dir, stage_names)
    n_unsure, unsure = unsure_panels(run_dir, limit)
    return {
        "run": str(run_dir), "input_items": n_items, "parts": n_parts,
        "last_run": {k: v for k, v in last_run(run_dir).items() if k != "stages"},
        "stages": [{"stage": f.stage, "parts_done": f.parts_done, "in": f.counts.get("in", 0),
                    "out": f.counts.get("out", 0), "quarantined": f.counts.get("quarantined", 0),
                    "cached_parts": f.cached_parts, "seconds": round(f.seconds, 3),
                    "rows": {k.split(".", 1)[1]: v for k, v in f.counts.items() if k.startswith("rows.")}}
                   for f in funnels],
        "quarantine": [{"stage": q.stage, "total": q.total, "reasons": q.reasons,
                        "items": [r.model_dump() for r in q.shown]} for q in quarantined(run_dir, stage_names, limit)],
        "unsure_panels": {"total": n_unsure, "items": [{"id": i, "reason": r} for i, r in unsure]},
    }, funnels


def print_status(console: Console, run_dir: Path, stage_names: list[str], limit: int) -> None:
    info, funnels = _status(run_dir, stage_names, limit)
    last = info["last_run"]
    when = f"; last run {last.get('outcome')} at {last.get('finished_at')}" if last else ""
    console.print(funnel_table(f"{run_dir}: {info['input_items']} input items in {info['parts']} parts{when}",
                               funnels))
    console.print("[dim]cached: parts the latest run reused; seconds: compute time summed over parts[/dim]")
    if not info["quarantine"]:
        console.print("quarantined: none")
    for q in info["quarantine"]:
        reasons = ", ".join(f"{k} {v}" for k, v in q["reasons"].items())
        console.print(f"\n[bold]quarantined in {q['stage']}[/bold]: {q['total']} ({escape(reasons)})")
        for item in q["items"]:
            console.print(f"  part {item['part']:>4}  {escape(item['item_id'])}  "
                          f"[red]{escape(item['error_class'])}[/red]: {escape(item['message'])}", soft_wrap=True)
        more = q["total"] - len(q["items"])
        if more > 0:
            console.print(f"  ... and {more} more (--limit, or {RunLayout(run_dir).root / 'quarantine' / q['stage']})")
    unsure = info["unsure_panels"]
    if unsure["total"]:
        console.print(f"\n[bold]panels marked unsure[/bold]: {unsure['total']}")
        for item in unsure["items"]:
            console.print(f"  {escape(item['id'])}  {escape(item['reason'])}", soft_wrap=True)
        if unsure["total"] > len(unsure["items"]):
            console.print(f"  ... and {unsure['total'] - len(unsure['items'])} more")
