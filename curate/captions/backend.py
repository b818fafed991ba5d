"""VLM captioning backend: images + paper context -> ``Texts``-compatible dicts, cached.

Usage from a stage::

    captioner = VlmCaptioner(VllmConfig(**cfg["captions"]["vllm"]), run_dir / "cache" / "captions")
    outcomes = captioner.caption([CaptionRequest(target_id, level, image_bytes, context), ...])
    for o in outcomes:
        record = o.to_record(record_id, figure_id=figure_id) if o.ok else quarantine(o.error_class, o.message)

``context`` keys used by the ``annotate`` prompt: ``label``, ``subcaption``, ``preamble``,
``mentions`` (list of sentences), ``marker_phrases`` (list); ``level`` is filled from the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from curate.captions.cache import CaptionCache, cache_key
from curate.captions.prompts import load_schema, render_prompt
from curate.captions.schema import Annotation
from curate.captions.vllm_client import ChatRequest, VllmClient, VllmConfig, run_sync
from curate.records import Level, Texts


@dataclass(frozen=True)
class CaptionRequest:
    """One image to caption: its record id, level, encoded bytes and the paper's words about it."""

    target_id: str
    level: Level
    image: bytes = field(repr=False)
    context: dict = field(default_factory=dict)


@dataclass
class CaptionOutcome:
    """``texts`` (``Texts`` fields without id/target_id/level) or ``error_class`` + ``message``."""

    target_id: str
    level: Level
    texts: dict | None = None
    error_class: str = ""
    message: str = ""
    cached: bool = False
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.texts is not None

    def to_record(self, record_id: str, **fields) -> Texts:
        """The ``Texts`` record; ``fields`` adds what the backend does not know (``figure_id``)."""
        if self.texts is None:
            raise ValueError(f"{self.target_id}: no texts ({self.error_class}: {self.message})")
        return Texts(id=record_id, target_id=self.target_id, level=self.level, **fields, **self.texts)


class VlmCaptioner:
    """Captions images through an OpenAI-compatible VLM server with an on-disk answer cache."""

    def __init__(self, config: VllmConfig, cache_dir: Path | str, prompts_dir: Path | None = None,
                 transport=None):
        self.config = config
        self.prompts_dir = prompts_dir or config.prompts_dir
        self.schema, self.schema_sha256 = load_schema(config.prompt_name, self.prompts_dir)
        self.cache = CaptionCache(cache_dir)
        self.client = VllmClient(config, self.schema, transport=transport)
        self.counters = {"cached": 0, "requested": 0, "failed": 0, "repaired": 0}

    def _provenance(self, prompt_sha256: str) -> dict:
        return {"method": "vlm", "prompt_name": self.config.prompt_name, "prompt_sha256": prompt_sha256,
                "model_id": self.config.model_id, "sampling": self.config.sampling_json()}

    async def acaption(self, items: list[CaptionRequest]) -> list[CaptionOutcome]:
        """One outcome per item, in order; identical requests are sent to the server once.

        Counters: ``cached`` items answered from the cache, ``requested`` distinct requests sent,
        ``failed`` items without texts, ``repaired`` requests that passed after the re-ask.
        """
        outcomes = [CaptionOutcome(item.target_id, item.level) for item in items]
        pending: dict[str, tuple[str, list[int]]] = {}  # cache key -> (prompt text, item indexes)
        prompt_shas: list[str] = []
        for i, item in enumerate(items):
            context = {**item.context, "level": item.level}
            text, sha = render_prompt(self.config.prompt_name, context, self.prompts_dir)
            prompt_shas.append(sha)
            key = cache_key(item.image, sha, self.schema_sha256, self.config.model_id,
                            self.config.sampling_json(), context)
            hit = None if key in pending else self.cache.get(key)
            if hit is not None:
                outcomes[i].texts = {**Annotation.model_validate(hit).to_texts(), **self._provenance(sha)}
                outcomes[i].cached = True
                self.counters["cached"] += 1
            else:
                pending.setdefault(key, (text, []))[1].append(i)
        requests = [ChatRequest(key, items[idx[0]].image, text) for key, (text, idx) in pending.items()]
        self.counters["requested"] += len(requests)
        for result in await self.client.caption_batch(requests):
            for i in pending[result.key][1]:
                self._settle(outcomes[i], result, prompt_shas[i])
            if result.ok:
                self.cache.put(result.key, result.answer.model_dump())
            self.counters["repaired"] += int(result.repaired)
            self.counters["failed"] += 0 if result.ok else len(pending[result.key][1])
        return outcomes

    def _settle(self, outcome: CaptionOutcome, result, prompt_sha256: str) -> None:
        if result.ok:
            outcome.texts = {**result.answer.to_texts(), **self._provenance(prompt_sha256)}
            outcome.repaired = result.repaired
        else:
            outcome.error_class = result.error_class or "UnknownError"
            outcome.message = result.message or "no message"

    def caption(self, items: list[CaptionRequest]) -> list[CaptionOutcome]:
        """Blocking form of :meth:`acaption` for stage code."""
        return run_sync(self.acaption(items))

    def stats(self) -> dict[str, int]:
        """Backend counters plus the cache's own (hits/misses/writes/corrupt), for the stage report."""
        return {**self.counters, **{f"cache_{k}": v for k, v in self.cache.counters().items()}}


def sampling_of(texts: dict) -> dict:
    """The sampling parameters recorded in a ``texts`` dict, decoded."""
    return json.loads(texts["sampling"])
