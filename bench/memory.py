"""Peak memory of one worker: the whole pipeline, in a fresh process, on a single figure.

Cases: a tiny figure (imports and the OCR model: the floor of any worker), the largest
figure in the shared data, and a generated 100-megapixel compound figure (made at bench
time, never committed), the last with the default ``ingest.max_figure_pixels`` and with the
bound lifted to show what it saves. Peak RSS is the child's ``VmHWM``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif")
CAPTION = "(A) Left panel with an arrow. (B) Right panel. (C) Lower left. (D) Lower right."


def largest_image(root: Path) -> Path | None:
    best, best_px = None, 0
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            try:
                with Image.open(path) as img:
                    px = img.size[0] * img.size[1]
            except Exception:  # noqa: BLE001 - not an image after all: skip it
                continue
            if px > best_px:
                best, best_px = path, px
    return best


def compound_figure(path: Path, side: int = 10_000) -> None:
    """A 2x2 compound figure of ``side``^2 pixels: textured panels, letters, white gutters."""
    rng = np.random.default_rng(0)
    rgb = np.full((side, side, 3), 255, np.uint8)
    half, gap = side // 2, side // 50
    for row in range(2):
        for col in range(2):
            y, x = row * half + gap, col * half + gap
            tile = rng.integers(0, 120, (64, 64, 3), dtype=np.uint8)
            rgb[y: y + half - 2 * gap, x: x + half - 2 * gap] = cv2.resize(tile, (half - 2 * gap,) * 2)
            cv2.putText(rgb, "ABCD"[row * 2 + col], (x - gap + 10, y + 10), cv2.FONT_HERSHEY_SIMPLEX,
                        side / 1500, (0, 0, 0), max(2, side // 1000))
    Image.fromarray(rgb).save(path, format="JPEG", quality=85)


def _child(image: str, work: str, overrides: list[str]) -> None:
    """Runs in the child process: the pipeline on one figure, then its peak RSS as JSON."""
    import shutil

    from curate.ingest.discover import discover_sources
    from curate.runtime.config import load_config
    from curate.runtime.runner import LocalRunner
    from stages import PIPELINE

    root = Path(work)
    shutil.rmtree(root, ignore_errors=True)
    inputs = root / "in"
    inputs.mkdir(parents=True)
    name = "figure" + Path(image).suffix.lower()
    shutil.copyfile(image, inputs / name)
    (inputs / "captions.jsonl").write_text(json.dumps({"image": name, "caption": CAPTION}) + "\n")
    cfg = load_config(None, [f"input_dir={inputs}", f"runs_dir={root / 'runs'}", "name=mem", "runner=local",
                             "max_quarantine_frac=1.0", *overrides])
    reports = LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    print(json.dumps({"peak_mb": _peak_mb(), "quarantined": sum(r.counts.get("quarantined", 0) for r in reports)}))


def _peak_mb() -> float:
    """This process's peak RSS. Linux's ``VmHWM`` belongs to this process image alone;
    ``ru_maxrss`` also carries the parent's RSS over fork and exec, so it is the fallback."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def peak_rss_mb(image: Path, work: Path, overrides: list[str] = ()) -> float:
    code = ("import json, sys; from bench.memory import _child; "
            "_child(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))")
    out = subprocess.run([sys.executable, "-c", code, str(image), str(work), json.dumps(list(overrides))],
                         check=True, capture_output=True, text=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    if report["quarantined"]:
        # a refused figure never reaches the stages whose memory this measures
        raise RuntimeError(f"{image.name} was quarantined with {list(overrides)}: no peak to report")
    return round(report["peak_mb"], 1)


def run(results: dict[str, float], data_root: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    tiny = work / "tiny.png"
    Image.new("RGB", (64, 48), (255, 255, 255)).save(tiny)
    results["pipeline.peak_rss_mb.worker.tiny"] = peak_rss_mb(tiny, work / "mem-tiny")
    largest = largest_image(data_root) if data_root.is_dir() else None
    if largest is not None:
        results["pipeline.peak_rss_mb.worker"] = peak_rss_mb(largest, work / "mem-largest")
        with Image.open(largest) as img:
            results["pipeline.peak_rss_mb.largest_megapixels"] = round(img.size[0] * img.size[1] / 1e6, 2)
    big = work / "compound-100mp.jpg"
    compound_figure(big)
    # By default ingest refuses it (``ingest.max_pixels``, Pillow's bomb threshold of 89.5 MP);
    # admitted, ``ingest.max_figure_pixels`` (25 MP) bounds what every later stage holds.
    admit = "ingest.max_pixels=120000000"
    results["pipeline.peak_rss_mb.worker.100mp"] = peak_rss_mb(big, work / "mem-100mp", [admit])
    results["pipeline.peak_rss_mb.worker.100mp_unbounded"] = peak_rss_mb(
        big, work / "mem-100mp-unbounded", [admit, "ingest.max_figure_pixels=120000000"])
    big.unlink()
