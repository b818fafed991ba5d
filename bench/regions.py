"""Latency of the region models at full size on CPU, with random weights.

``run(results, data_root)`` adds ``regions.gdino_s_per_panel.cpu`` (Grounding DINO Swin-T +
BERT-base, processor resizing to shortest edge 800 like grounding-dino-tiny, three caption
phrases) and ``regions.medsam_s_per_panel.cpu`` (SAM ViT-B = MedSAM's layout, 1024 x 1024
input, one embedding + three box prompts), and ``regions.*_cpu_s_per_panel.cpu``, the
process CPU seconds of the same calls. Each is the median over 3 panels after one
warm-up panel; weights are random, so only time is measured. Panels are synthetic
(512 x 640 noise + shapes): latency depends on the model's input size, not on content.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

N_PANELS = 3
PHRASES = ["white arrow", "hypointense lesion", "left ventricle"]
BOXES = [[40, 40, 200, 220], [260, 100, 500, 400], [100, 300, 300, 480]]


def _panel(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    panel = rng.integers(0, 80, (512, 640, 3), dtype=np.uint8)
    panel[100:300, 150:400] += 120
    return panel


def _median_latency(fn) -> tuple[float, float]:
    """Median (wall, process-CPU) seconds per panel. CPU time is reported too because the
    benchmark box's 2 cores are shared: wall time then measures the neighbours as well."""
    fn(_panel(99))  # warm-up: first-call allocations and kernel selection
    wall, cpu = [], []
    for i in range(N_PANELS):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(_panel(i))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _gdino_latency(work: Path) -> tuple[float, float]:
    from curate.roi.grounding import GroundingDinoBackend
    from curate.roi.tiny import full_grounding_dino

    model, proc = full_grounding_dino(work / "regions_tok")
    gdino = GroundingDinoBackend.from_components(model, proc, box_threshold=0.3, text_threshold=0.25)
    return _median_latency(lambda p: gdino.detect([p], [PHRASES]))


def _medsam_latency() -> tuple[float, float]:
    from transformers import SamConfig

    from curate.roi.medsam import MedSamBackend
    from curate.roi.tiny import sam_model

    medsam = MedSamBackend.from_model(sam_model(SamConfig()))
    return _median_latency(lambda p: medsam.segment([p], [BOXES]))


def run(results: dict, data_root: Path, work: Path | None = None) -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return
    work = work or Path(__file__).resolve().parent / "tmp"
    # Each model is built inside its helper and freed on return, so only one is in memory.
    for name, measure in (("gdino", lambda: _gdino_latency(work)), ("medsam", _medsam_latency)):
        wall, cpu = measure()
        results[f"regions.{name}_s_per_panel.cpu"] = round(wall, 3)
        results[f"regions.{name}_cpu_s_per_panel.cpu"] = round(cpu, 3)
