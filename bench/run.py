"""`make bench`: every benchmark, one flat ``bench/results.json`` (metric -> number).

Benchmarks measure; they never assert. Each module's ``run(results, data_root[, work])``
adds its keys; a module whose data is absent adds none.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MODULES = ["bench.pipeline", "bench.panels", "bench.markers", "bench.captions", "bench.regions", "bench.train",
           "bench.quality", "bench.scaling", "bench.memory", "bench.glyphs"]


def main(argv: list[str]) -> int:
    wanted = argv or MODULES
    work = REPO / "bench" / "tmp"
    work.mkdir(parents=True, exist_ok=True)
    out = REPO / "bench" / "results.json"
    results: dict[str, float] = json.loads(out.read_text()) if out.exists() else {}
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        start = time.perf_counter()
        params = inspect.signature(module.run).parameters
        module.run(results, DATA, work) if len(params) >= 3 else module.run(results, DATA)
        print(f"{name}: {time.perf_counter() - start:.1f}s", file=sys.stderr)
    out.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    for key, value in sorted(results.items()):
        print(f"{key:<48} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
