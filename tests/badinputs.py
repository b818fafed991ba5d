"""The bad-input corpus: hostile and unusual inputs, each with the outcome it must have.

``build_corpus(root)`` writes every case under ``root/input`` (a secret file lies beside it,
in ``root/outside``, for the escape cases); ``run_corpus`` runs the whole pipeline over it
once; ``observe`` reads back, per case, what became of it. A case ends either quarantined
(stage, error class and a phrase of the message are fixed here) or as valid output that a
check inspects. ``python -m tests.badinputs --table`` writes RELIABILITY.md from a real run,
and ``tests/test_badinputs.py`` fails when that file no longer matches.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests import badinputs_cases

REPO = Path(__file__).resolve().parents[1]
# Lowered from the defaults only to keep the corpus small and fast; the table names them.
LIMIT_OVERRIDES = ("ingest.max_archive_members=200", "ingest.max_input_bytes=3000000")


@dataclass(frozen=True)
class Case:
    """``name`` is the input's file or folder name, so every id the case produces starts with it."""

    name: str
    category: str
    what: str
    build: Callable[[Path, Path], None]  # (input folder, outside folder) -> writes the case
    stage: str = ""  # quarantine expected: at this stage ...
    error_class: str = ""  # ... with this class ...
    reason: str = ""  # ... and this phrase in the message (case-insensitive)
    caught_by: str = ""
    check: Callable[[np.ndarray], None] | None = None  # valid output: checks the first figure's pixels
    items: int = 1  # input items the case is expected to yield (0: not an input)

    @property
    def outcome(self) -> str:
        if self.items == 0:
            return "not an input"
        return "quarantined" if self.stage else "valid"


def cases() -> list[Case]:
    return [Case(**spec) for spec in badinputs_cases.SPECS]


def build_corpus(root: Path) -> tuple[Path, Path]:
    """Write every case; returns (input folder, outside folder holding the secret)."""
    from tests.badinputs_make import SECRET, jpeg, pdf_with_figure

    inputs, outside = root / "input", root / "outside"
    inputs.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (outside / "secret.jpg").write_bytes(jpeg(seed=7))
    (outside / "real.pdf").write_bytes(pdf_with_figure())
    for case in cases():
        case.build(inputs, outside)
    return inputs, outside


def corpus_config(inputs: Path, runs: Path, *extra: str):
    from curate.runtime.config import load_config

    return load_config(None, [f"input_dir={inputs}", f"runs_dir={runs}", "name=badinputs", "runner=local",
                              "part_size=16", "max_quarantine_frac=1.0", "panels.ocr=false",
                              # the cases reuse a few images, so copies stay in to show each case's samples
                              "shards.drop_duplicates=false", *LIMIT_OVERRIDES, *extra])


def run_corpus(inputs: Path, runs: Path, *extra: str):
    from curate.ingest.discover import discover_sources
    from curate.runtime.runner import LocalRunner
    from stages import PIPELINE

    cfg = corpus_config(inputs, runs, *extra)
    reports = LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    return cfg, reports


@dataclass
class Observed:
    items: list[str]
    documents: list[str]
    figures: list  # Figure records
    quarantine: list  # Quarantine records of every stage
    samples: list  # ShardSample records


def _belongs(row_id: str, name: str) -> bool:
    return row_id == name or row_id.startswith(name + "_")


def observe(run_dir: Path) -> dict[str, Observed]:
    """What became of each case in a finished run."""
    from curate.records import Document, Figure, Quarantine, ShardSample, SourceItem
    from curate.runtime.manifest import read_records

    def table(glob: str, model):
        return [r for p in sorted(run_dir.glob(glob)) for r in read_records(p, model)]

    items = table("inputs.parquet", SourceItem)
    docs = table("ingest/documents/*.parquet", Document)
    figs = table("ingest/figures/*.parquet", Figure)
    quarantine = table("quarantine/*/*.parquet", Quarantine)
    samples = table("shards/samples/*.parquet", ShardSample)
    out = {}
    for case in cases():
        def mine(rows, key, name=case.name):
            return [r for r in rows if _belongs(key(r), name)]
        out[case.name] = Observed(items=[i.id for i in mine(items, lambda r: r.id)],
                                  documents=[d.id for d in mine(docs, lambda r: r.id)],
                                  figures=mine(figs, lambda r: r.id), quarantine=mine(quarantine, lambda r: r.item_id),
                                  samples=mine(samples, lambda r: r.id))
    return out


def describe(case: Case, seen: Observed) -> str:
    """The observed outcome in words (what the table prints)."""
    if not seen.items:
        return "no input item"
    if seen.quarantine:
        first = sorted(seen.quarantine, key=lambda q: (q.stage != case.stage, q.item_id))[0]
        kept = f"; document kept, {len(seen.figures)} figure(s)" if seen.documents else ""
        reason = f' "{case.reason}"' if case.reason and case.reason.lower() in first.message.lower() else ""
        return f"quarantined at {first.stage}: {first.error_class}{reason}{kept}"
    return f"valid: {len(seen.figures)} figure(s), {len(seen.samples)} shard sample(s)"


def problems(case: Case, seen: Observed, blobs) -> list[str]:
    """Where a case's outcome differs from what it must be ([] when it is right)."""
    from curate.images import decode_rgb

    if len(seen.items) != case.items:
        return [f"{len(seen.items)} input items, expected {case.items}"]
    if case.items == 0:
        return []
    if case.stage:
        hits = [q for q in seen.quarantine if q.stage == case.stage and q.error_class == case.error_class
                and case.reason.lower() in q.message.lower()]
        return [] if hits else [f"no {case.stage}/{case.error_class} quarantine mentioning {case.reason!r}; "
                                f"got {[(q.stage, q.error_class, q.message) for q in seen.quarantine]}"]
    errs = []
    if seen.quarantine:
        errs.append(f"unexpected quarantine {[(q.stage, q.error_class, q.message) for q in seen.quarantine]}")
    if case.check is not None:
        if not seen.figures:
            return errs + ["no figure to check"]
        try:
            case.check(decode_rgb(blobs.get(seen.figures[0].image_sha256)))
        except AssertionError as exc:
            errs.append(f"pixel check failed: {exc}")
    if seen.figures and not seen.samples:
        errs.append("figures ingested but no shard sample written")
    return errs


def render_table(observed: dict[str, Observed]) -> str:
    """RELIABILITY.md: counts, then one row per case grouped by category."""
    all_cases = cases()
    n_q = sum(c.outcome == "quarantined" for c in all_cases)
    n_v = sum(c.outcome == "valid" for c in all_cases)
    n_none = sum(c.outcome == "not an input" for c in all_cases)
    lines = [
        "# Reliability: the bad-input corpus",
        "",
        "Generated by `python -m tests.badinputs --table` from one run of the whole pipeline (ingest, panels,",
        "markers, regions, captions, shards) over the corpus that `tests/badinputs_cases.py` builds;",
        "`tests/test_badinputs.py` runs the same corpus and fails when this file is out of date.",
        f"Limits lowered for the run (to keep the corpus small): `{' '.join(LIMIT_OVERRIDES)}`;",
        "every other limit is the default of `curate/runtime/config.py`.",
        "",
        f"**{len(all_cases)} cases tried: {n_q} quarantined with a specific reason, {n_v} valid outputs, "
        f"{n_none} not inputs (ignored by discovery), 0 crashes** (the run completes; every input item",
        "ends as a document or a quarantine row, and each stage's `in = out + quarantined`).",
        "",
        "| category | case | input | outcome | caught by |",
        "|---|---|---|---|---|",
    ]
    for case in sorted(all_cases, key=lambda c: (c.category, c.name)):
        lines.append(f"| {case.category} | `{case.name}` | {case.what} | {describe(case, observed[case.name])} "
                     f"| {case.caught_by} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="write RELIABILITY.md at the repo root")
    args = parser.parse_args()
    from curate.runtime.blobs import BlobStore

    with tempfile.TemporaryDirectory() as tmp:
        inputs, _ = build_corpus(Path(tmp))
        cfg, _ = run_corpus(inputs, Path(tmp) / "runs")
        observed = observe(cfg.run_dir)
        blobs = BlobStore(cfg.run_dir / "blobs")
        bad = {c.name: problems(c, observed[c.name], blobs) for c in cases()}
        print(json.dumps({k: v for k, v in bad.items() if v}, indent=1))
        if args.table:
            (REPO / "RELIABILITY.md").write_text(render_table(observed))


if __name__ == "__main__":
    main()
