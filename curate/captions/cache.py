"""On-disk cache of validated VLM answers (one JSON file per key under the run's cache dir).

The key hashes everything that decides the answer: image bytes, prompt template and schema
hashes, model id, sampling parameters and the prompt context. Writes are atomic (temp file
in the same folder, then ``os.replace``), so a crash never leaves a half-written answer, and
parallel writers of the same key simply race to an identical file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def cache_key(image: bytes, prompt_sha256: str, schema_sha256: str, model_id: str,
              sampling_json: str, context: dict) -> str:
    """sha256 (hex) over the length-prefixed parts, so no two part lists collide by concatenation."""
    parts = [hashlib.sha256(image).hexdigest(), prompt_sha256, schema_sha256, model_id, sampling_json,
             json.dumps(context, sort_keys=True, ensure_ascii=False, default=str)]
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class CaptionCache:
    """Validated answers as ``<root>/<key[:2]>/<key>.json``; counts hits, misses and writes."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.corrupt = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored answer, or None (a missing or unreadable file counts as a miss)."""
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError):
            self.corrupt += 1
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: dict) -> Path:
        """Store ``value`` atomically; return its path."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(value, f, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1
        return path

    def counters(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "writes": self.writes, "corrupt": self.corrupt}
