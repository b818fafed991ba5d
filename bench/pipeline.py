"""Per-stage throughput of the whole pipeline, in process (one core), on the generated
sample and on the shared JATS articles. Each dataset runs ``repeats`` times into fresh run
directories; the median seconds per stage are reported as figures/s."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from curate.ingest.discover import discover_sources
from curate.runtime.config import load_config
from curate.runtime.runner import LocalRunner
from stages import PIPELINE


def _run_once(input_dir: Path, run_root: Path) -> dict[str, tuple[int, float]]:
    shutil.rmtree(run_root, ignore_errors=True)
    cfg = load_config(None, [f"input_dir={input_dir}", f"runs_dir={run_root}", "name=bench", "runner=local",
                             "max_quarantine_frac=1.0"])
    reports = LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    figures = next(r.counts.get("rows.figures", 0) for r in reports if r.stage == "ingest")
    return {r.stage: (figures, r.seconds) for r in reports}


def bench_dataset(results: dict[str, float], key: str, input_dir: Path, work: Path, repeats: int) -> None:
    runs = [_run_once(input_dir, work / f"{key}-{i}") for i in range(repeats)]
    for stage in runs[0]:
        figures = runs[0][stage][0]
        seconds = statistics.median(run[stage][1] for run in runs)
        results[f"{stage}.figures_per_s.{key}"] = round(figures / seconds, 3) if seconds else 0.0
    total = statistics.median(sum(s for _, s in run.values()) for run in runs)
    results[f"pipeline.figures_per_s.{key}"] = round(runs[0]["ingest"][0] / total, 3) if total else 0.0
    results[f"pipeline.figures.{key}"] = runs[0]["ingest"][0]


def run(results: dict[str, float], data_root: Path, work: Path) -> None:
    from curate.sample.generate import generate_sample

    sample_dir = work / "sample_corpus"
    shutil.rmtree(sample_dir, ignore_errors=True)
    generate_sample(sample_dir, seed=0)
    bench_dataset(results, "sample", sample_dir, work, repeats=3)
    encoda = data_root / "jats-with-images" / "encoda"
    if encoda.is_dir():
        bench_dataset(results, "jats", encoda, work, repeats=1)
