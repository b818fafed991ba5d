"""The ray.data.llm HTTP path against the loopback OpenAI-protocol TEST DOUBLE: every row
comes back once, with validated texts and provenance, or with its error."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from curate.captions.vllm_client import VllmConfig
from tests.openai_test_server import OpenAITestDouble

pytest.importorskip("aiohttp")
pytest.importorskip("ray.data.llm")


def _jpeg(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 40), (shade, 40, 90)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.mark.ray
def test_http_processor_returns_every_row_with_texts_or_error(ray_session):
    from curate.captions.ray_llm import build_http_caption_processor

    rows = [{"target_id": f"doc_f01_p0{i}", "level": "panel", "image": _jpeg(20 * i),
             "context": json.dumps({"subcaption": f"[row:r{i}] Axial CT of the chest."})} for i in range(4)]
    with OpenAITestDouble() as server:
        server.script = {"r3": ["badschema", "badschema"]}
        config = VllmConfig(endpoint=server.base_url, model_id="test-double-vl", max_retries=0)
        processor = build_http_caption_processor(config, batch_size=2)
        out = sorted(processor(ray_session.data.from_items(rows)).take_all(), key=lambda r: r["target_id"])
    assert [r["target_id"] for r in out] == [r["target_id"] for r in rows]
    for row in out[:3]:
        texts = json.loads(row["texts"])
        assert row["error"] is None and texts["model_id"] == "test-double-vl" and len(texts["negatives"]) == 5
        assert len(texts["prompt_sha256"]) == 64
    assert out[3]["texts"] is None and out[3]["error"]
