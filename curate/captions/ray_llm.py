"""Cluster batch captioning through ``ray.data.llm``'s HTTP processor.

For a large run on a Ray cluster, the caption requests can be a Ray Dataset streamed to the
same OpenAI-compatible vLLM endpoint the stage uses: ``build_processor`` with an
``HttpRequestProcessorConfig`` fans requests out over the cluster's CPUs while the GPUs sit
behind the vLLM server. The request body, prompt and answer validation are exactly the
stage's (``VllmClient`` body, ``render_prompt``, ``parse_answer``), so both paths give the same
texts. ``ray.data.llm``'s vLLM-*engine* processor needs GPUs on the Ray workers (it waits
forever on a CPU-only cluster), so it is not used here.

Input rows: ``target_id``, ``level``, ``image`` (encoded bytes), ``context`` (JSON string).
Output rows add ``texts`` (JSON of the four texts plus provenance) or ``error`` (class and
message) — one of the two, never an empty string standing for a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.captions.prompts import load_schema, render_prompt
from curate.captions.vllm_client import VllmClient, VllmConfig, image_data_url, parse_answer


def request_row(row: dict, config: VllmConfig, client: VllmClient, prompts_dir: Path | None = None) -> dict:
    """One dataset row -> the processor's ``payload`` (an OpenAI chat-completions body)."""
    context = {**json.loads(row.get("context") or "{}"), "level": row["level"]}
    text, sha = render_prompt(config.prompt_name, context, prompts_dir)
    url = image_data_url(row["image"], config.max_side, config.jpeg_quality)
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                             {"type": "text", "text": text}]}]
    return {"target_id": row["target_id"], "level": row["level"], "prompt_sha256": sha,
            "payload": client._body(messages)}


def answer_row(row: dict, config: VllmConfig) -> dict:
    """The processor's ``http_response`` -> validated texts, or an error with its reason."""
    out = {"target_id": row["target_id"], "level": row["level"], "texts": None, "error": None}
    try:
        choice = row["http_response"]["choices"][0]
        answer = parse_answer(choice["message"].get("content"), choice.get("finish_reason") or "")
    except Exception as exc:  # noqa: BLE001 - every failure becomes this row's error column
        out["error"] = f"{type(exc).__name__}: {exc}"[:500]
        return out
    out["texts"] = json.dumps({**answer.to_texts(), "method": "vlm", "prompt_name": config.prompt_name,
                               "prompt_sha256": row["prompt_sha256"], "model_id": config.model_id,
                               "sampling": config.sampling_json()}, sort_keys=True)
    return out


def build_http_caption_processor(config: VllmConfig, *, batch_size: int = 16, concurrency: int = 1,
                                 prompts_dir: Path | None = None):
    """A ``ray.data.llm`` processor: ``processor(dataset)`` returns the dataset with texts/errors."""
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    prompts_dir = prompts_dir or config.prompts_dir
    schema, _ = load_schema(config.prompt_name, prompts_dir)
    client = VllmClient(config, schema)
    processor_config = HttpRequestProcessorConfig(
        url=f"{config.endpoint.rstrip('/')}/chat/completions", headers=client._headers() or None,
        max_retries=config.max_retries, base_retry_wait_time_in_s=max(config.backoff_base_s, 0.1),
        batch_size=batch_size, concurrency=concurrency)
    return build_processor(processor_config,
                           preprocess=lambda row: request_row(row, config, client, prompts_dir),
                           postprocess=lambda row: answer_row(row, config))
