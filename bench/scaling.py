"""Scaling: the whole pipeline on a local Ray with 1 and 2 workers, and Ray's start-up cost.

The corpus is ``COPIES`` copies of the generated sample (seed 0) plus a copy of the shared
JATS set, cut into small parts so two workers stay busy. Ray is started once and timed on
its own (``ray.init`` plus one round trip to a fresh actor); each run then joins it, so a
run's wall time holds the per-stage actor start-up (and OCR model load) but not Ray's.
Speed-up = wall(1 worker) / wall(2 workers); efficiency = speed-up / 2. Beside them: the
speed-up the parts allow (``parts_bound``), the one-worker run's time outside its parts, and
how much longer the same parts took with two workers (contention for the cores), with the
load average at the start: other processes on the machine depress the speed-up.

Rerun alone on a quiet machine: ``PYTHONPATH=$PWD python -m bench.run bench.scaling``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from curate.ingest.discover import discover_sources
from curate.runtime.config import load_config
from stages import PIPELINE

COPIES = 4
PART_SIZE = 2


class _Ping:
    def ping(self) -> int:
        return os.getpid()


def build_corpus(root: Path, data_root: Path, copies: int = COPIES) -> Path:
    from curate.sample.generate import generate_sample

    shutil.rmtree(root, ignore_errors=True)
    generate_sample(root / "sample0", seed=0)
    for copy in range(1, copies):  # copies under other paths: other ids, the same work
        shutil.copytree(root / "sample0", root / f"sample{copy}")
    encoda = data_root / "jats-with-images" / "encoda"
    if encoda.is_dir():
        shutil.copytree(encoda, root / "encoda")
    return root


def timed_run(input_dir: Path, runs: Path, workers: int) -> tuple[float, int]:
    """(wall seconds, figures) of one fresh Ray run with ``workers`` workers."""
    from curate.runtime.ray_runner import RayRunner

    shutil.rmtree(runs, ignore_errors=True)
    cfg = load_config(None, [f"input_dir={input_dir}", f"runs_dir={runs}", f"name=w{workers}", "runner=ray",
                             f"num_workers={workers}", f"part_size={PART_SIZE}", "max_quarantine_frac=1.0"])
    start = time.perf_counter()
    reports = RayRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    wall = time.perf_counter() - start
    return wall, next(r.counts.get("rows.figures", 0) for r in reports if r.stage == "ingest")


def part_seconds(run_dir: Path) -> float:
    return sum(json.loads(done.read_text())["seconds"] for done in run_dir.glob("*/part-*.done"))


def parts_bound(run_dir: Path, workers: int = 2) -> float:
    """The speed-up ``workers`` workers could reach on this run's parts if each had a core of
    its own: summed part seconds over the summed per-stage makespans when parts go in order
    to the first free worker (as the runner hands them out), stages one after another."""
    total = makespan = 0.0
    for stage in PIPELINE:
        free = [0.0] * workers
        for done in sorted((run_dir / stage.name).glob("part-*.done")):
            seconds = json.loads(done.read_text())["seconds"]
            total += seconds
            free[free.index(min(free))] += seconds
        makespan += max(free)
    return total / makespan if makespan else 0.0


def run(results: dict[str, float], data_root: Path, work: Path, copies: int = COPIES) -> None:
    import ray

    corpus = build_corpus(work / "scale_corpus", data_root, copies)
    results["pipeline.ray_loadavg_1m_at_start"] = round(os.getloadavg()[0], 2)
    if ray.is_initialized():
        ray.shutdown()
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", str(Path.cwd()))}})
    ping = ray.remote(num_cpus=1)(_Ping).remote()
    ray.get(ping.ping.remote())
    results["pipeline.ray_startup_s"] = round(time.perf_counter() - start, 2)
    ray.kill(ping)  # frees its CPU for the runs
    try:
        walls = {}
        for workers in (1, 2):
            walls[workers], figures = timed_run(corpus, work / f"scale-runs-{workers}", workers)
            results[f"pipeline.ray_figures_per_s.{workers}w"] = round(figures / walls[workers], 3)
        results["pipeline.ray_figures"] = figures
        one, two = work / "scale-runs-1" / "w1", work / "scale-runs-2" / "w2"
        results["pipeline.ray_speedup.2w.parts_bound"] = round(parts_bound(one), 3)
        # Driver and actor start-up: what the one-worker run spent outside its parts.
        results["pipeline.ray_overhead_s.1w"] = round(walls[1] - part_seconds(one), 2)
        # Near 1 on a quiet machine; above 1 when the two workers did not each get a core.
        results["pipeline.ray_part_seconds_ratio.2w_over_1w"] = round(part_seconds(two) / part_seconds(one), 3)
        speedup = walls[1] / walls[2]
        results["pipeline.ray_speedup.2w"] = round(speedup, 3)
        results["pipeline.ray_efficiency.2w"] = round(speedup / 2, 3)
    finally:
        ray.shutdown()
