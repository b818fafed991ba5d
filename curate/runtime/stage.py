"""The stage contract: what a stage reads, writes and needs, and how it processes a part.

A stage works on *items* (rows of its ``primary`` table that survived every earlier stage)
and may look at rows of other tables it ``reads``, grouped by ``group_by`` (normally the
figure id). ``process_item`` is the usual entry point; an item that raises becomes a
quarantine row with the error class and message, and the rest of the part goes on.
Models are loaded in ``setup()``, once per worker, never per item.

Some errors are not the item's fault and stop the part instead of quarantining it, since
every later item would fail the same way and be lost: a full or read-only disk
(``ENVIRONMENT_ERRNOS``), an ``EnvironmentFailure`` (a server down), anything outside ``Exception``. An item that runs past the run's
``max_seconds_per_item`` is quarantined as ``ItemTimeout``.
"""

from __future__ import annotations

import errno
import signal
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from curate.records import Quarantine
from curate.runtime.blobs import BlobStore
from curate.runtime.config import RunConfig
from curate.runtime.manifest import RunLayout

# OSErrors that say the machine, not the item, is broken: the part fails and a rerun resumes it.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


class EnvironmentFailure(Exception):
    """A failure of something the stage depends on (a model server down past its retries), not
    of the item: the part stops unpublished and a rerun does it again."""


class ItemTimeout(Exception):
    """One item ran past ``max_seconds_per_item``."""


@contextmanager
def item_deadline(seconds: float) -> Iterator[None]:
    """Raise ItemTimeout in the block after ``seconds``, with a SIGALRM interval timer: Python
    code is interrupted at once, a long C call (a PDF render) as soon as it returns. Signals
    reach only a process's main thread, which is where the local runner and Ray's (non-async)
    actors run items; in any other thread the block runs without a limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum, _frame):
        raise ItemTimeout(f"item ran past max_seconds_per_item={seconds:g}")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Resources:
    """What one worker of the stage needs: Ray schedules on these."""

    cpus: float = 1.0
    gpus: float = 0.0


@dataclass
class StageContext:
    config: RunConfig
    layout: RunLayout
    blobs: BlobStore
    part: int = 0


@dataclass
class PartInput:
    part: int
    items: list[Any]
    related: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def rows(self, table: str, key: str) -> list[Any]:
        return self.related.get(table, {}).get(key, [])


@dataclass
class PartOutput:
    tables: dict[str, list[BaseModel]]
    quarantine: list[Quarantine] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class Stage:
    """Base class of every pipeline stage (see module docstring)."""

    name: ClassVar[str]
    primary: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    group_by: ClassVar[str] = "figure_id"
    config_sections: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[Resources] = Resources()
    # Bump when the stage's code changes its output, so old parts are not reused.
    version: ClassVar[str] = "1"

    def __init__(self, config: RunConfig):
        self.config = config

    @classmethod
    def resources_for(cls, config: RunConfig) -> Resources:
        """What one worker needs under ``config`` (a model stage may need a GPU only when
        its models are configured)."""
        return cls.resources

    @classmethod
    def check_config(cls, config: RunConfig) -> None:
        """Fail before any work starts when the config cannot work (e.g. a missing model path)."""

    def setup(self) -> None:
        """Load models or engines; called once per worker before any part."""

    def process_item(self, item: Any, inp: PartInput, ctx: StageContext) -> dict[str, list[Any]]:
        """Rows per table for one item. Keys outside ``writes`` (and ``quarantine``) are the
        stage's own intermediate results: ``process_part`` collects them, the runner never
        writes them."""
        raise NotImplementedError

    def process_part(self, inp: PartInput, ctx: StageContext) -> PartOutput:
        tables: dict[str, list[Any]] = {name: [] for name in self.writes}
        quarantine: list[Quarantine] = []
        counts: dict[str, int] = defaultdict(int)
        for item in inp.items:
            try:
                with item_deadline(self.config.max_seconds_per_item):
                    produced = self.process_item(item, inp, ctx)
            except Exception as exc:  # noqa: BLE001 - every item error becomes a quarantine row
                if isinstance(exc, EnvironmentFailure) or (isinstance(exc, OSError)
                                                           and exc.errno in ENVIRONMENT_ERRNOS):
                    raise
                quarantine.append(self.quarantine_row(item.id, exc, inp.part))
                continue
            counts["out"] += 1
            for table, rows in produced.items():
                if table == "quarantine":
                    quarantine.extend(rows)  # type: ignore[arg-type]
                else:
                    tables.setdefault(table, []).extend(rows)
        return PartOutput(tables=tables, quarantine=quarantine, counts=dict(counts))

    def quarantine_row(self, item_id: str, exc: BaseException, part: int) -> Quarantine:
        message = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else repr(exc)
        return Quarantine(stage=self.name, item_id=item_id, error_class=type(exc).__name__,
                          message=message, part=part)

    def finalize(self, ctx: StageContext, n_parts: int) -> None:
        """Run once after every part is done (e.g. write indexes); must be idempotent."""

