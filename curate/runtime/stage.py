"""The stage contract: what a stage reads, writes and needs, and how it processes a part.

A stage works on *items* (rows of its ``primary`` table that survived every earlier stage)
and may look at rows of other tables it ``reads``, grouped by ``group_by`` (normally the
figure id). ``process_item`` is the usual entry point; an item that raises becomes a
quarantine row with the error class and message, and the rest of the part goes on.
Models are loaded in ``setup()``, once per worker, never per item.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from curate.records import Quarantine
from curate.runtime.blobs import BlobStore
from curate.runtime.config import RunConfig
from curate.runtime.manifest import RunLayout


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
                produced = self.process_item(item, inp, ctx)
            except Exception as exc:  # noqa: BLE001 - every item error becomes a quarantine row
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

