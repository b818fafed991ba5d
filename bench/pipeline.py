"""Per-stage throughput of the whole pipeline, in process (one worker, one thread), on the
generated sample and on the shared JATS articles, and each stage's ratio to its floor.

Each dataset runs ``repeats`` times into fresh run directories, stage by stage; a stage's
wall seconds and process CPU seconds are the medians over the repeats. ``figures_per_s`` is
wall-clock (noisy on a shared machine); ``figures_per_s_per_core`` and the floor ratios use
CPU seconds, which other processes on the machine disturb far less. The floors
(``bench.floors``) run on the same run's inputs, blobs and shards right after it.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

from bench.floors import floor_seconds
from curate.ingest.discover import discover_sources
from curate.runtime.config import load_config
from curate.runtime.runner import LocalRunner
from stages import PIPELINE


def _config(input_dir: Path, run_root: Path):
    return load_config(None, [f"input_dir={input_dir}", f"runs_dir={run_root}", "name=bench", "runner=local",
                              "max_quarantine_frac=1.0"])


def _run_once(input_dir: Path, run_root: Path) -> tuple[int, dict[str, tuple[float, float]], Path]:
    """(figures, stage -> (wall s, cpu s), run dir) of one fresh in-process run."""
    shutil.rmtree(run_root, ignore_errors=True)
    cfg = _config(input_dir, run_root)
    runner = LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir)))
    times, figures = {}, 0
    for stage in PIPELINE:
        wall, cpu = time.perf_counter(), time.process_time()
        (report,) = runner.run(only=stage.name)
        times[stage.name] = (time.perf_counter() - wall, time.process_time() - cpu)
        if stage.name == "ingest":
            figures = report.counts.get("rows.figures", 0)
    return figures, times, cfg.run_dir


def bench_dataset(results: dict[str, float], key: str, input_dir: Path, work: Path, repeats: int) -> None:
    runs = [_run_once(input_dir, work / f"{key}-{i}") for i in range(repeats)]
    figures, run_dir = runs[0][0], runs[0][2]
    if not figures:
        return
    wall = {s: statistics.median(r[1][s][0] for r in runs) for s in runs[0][1]}
    cpu = {s: statistics.median(r[1][s][1] for r in runs) for s in runs[0][1]}
    for stage in wall:
        results[f"{stage}.figures_per_s.{key}"] = round(figures / wall[stage], 3) if wall[stage] else 0.0
        results[f"pipeline.cpu_ms_per_figure.{stage}.{key}"] = round(1000 * cpu[stage] / figures, 3)
    total_wall = statistics.median(sum(w for w, _ in r[1].values()) for r in runs)
    total_cpu = statistics.median(sum(c for _, c in r[1].values()) for r in runs)
    results[f"pipeline.figures_per_s.{key}"] = round(figures / total_wall, 3)
    results[f"pipeline.figures_per_s_per_core.{key}"] = round(figures / total_cpu, 3)
    results[f"pipeline.figures.{key}"] = figures
    shards_cfg = _config(input_dir, work).shards
    floors = floor_seconds(run_dir, input_dir, shards_cfg.max_side, shards_cfg.jpeg_quality)
    for stage, seconds in floors.items():
        results[f"pipeline.floor_ms_per_figure.{stage}.{key}"] = round(1000 * seconds / figures, 3)
        if seconds > 0 and stage in cpu:
            ratio = round(cpu[stage] / seconds, 2)
            results[f"pipeline.floor_ratio.{stage}.{key}"] = ratio
            if key == "sample":
                results[f"pipeline.floor_ratio.{stage}"] = ratio
    # A PDF's vector figures must be rendered, which the plain ingest floor never does.
    results[f"pipeline.floor_ratio.ingest_vs_render.{key}"] = round(cpu["ingest"] / floors["ingest_render"], 2)
    # Shards JPEG-encode every sample (figure, panels, patches): the image floor is the fairer yardstick.
    if floors["panels"] > 0:
        results[f"pipeline.floor_ratio.shards_vs_image.{key}"] = round(cpu["shards"] / floors["panels"], 2)
    # ... and that per sample (4 to 5 per figure), after one decode per figure: the tightest yardstick.
    results[f"pipeline.floor_ratio.shards_vs_encode.{key}"] = round(cpu["shards"] / floors["shards_encode"], 2)


def run(results: dict[str, float], data_root: Path, work: Path) -> None:
    from curate.sample.generate import generate_sample

    sample_dir = work / "sample_corpus"
    shutil.rmtree(sample_dir, ignore_errors=True)
    generate_sample(sample_dir, seed=0)
    bench_dataset(results, "sample", sample_dir, work, repeats=3)
    encoda = data_root / "jats-with-images" / "encoda"
    if encoda.is_dir():
        bench_dataset(results, "jats", encoda, work, repeats=1)
