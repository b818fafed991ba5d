"""Prompt templates for the VLM captioner: load by name, hash the template, fill the context.

A template is ``prompts/<name>.md`` at the repository root, with ``{{field}}`` placeholders.
Its JSON schema (the answer's shape, sent as ``response_format``) is ``prompts/<name>.schema.json``.
The sha256 of the template's bytes is recorded with every VLM answer, so an answer can be traced
to the exact wording that produced it.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MISSING = "(not given)"


def _path(name: str, suffix: str, prompts_dir: Path | None) -> Path:
    if not _NAME.match(name):
        raise ValueError(f"prompt name {name!r} may hold only letters, digits, '_' and '-'")
    return (prompts_dir or PROMPTS_DIR) / f"{name}{suffix}"


@lru_cache(maxsize=32)
def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        name = path.name.split(".")[0]
        raise FileNotFoundError(f"prompt file {path} not found: set captions.vllm.prompts_dir to the folder "
                                f"holding {name}.md and {name}.schema.json") from None


def load_prompt(name: str, prompts_dir: Path | None = None) -> tuple[str, str]:
    """The template text of prompt ``name`` and the sha256 (hex) of its bytes."""
    data = _read(_path(name, ".md", prompts_dir))
    return data.decode("utf-8"), hashlib.sha256(data).hexdigest()


def load_schema(name: str, prompts_dir: Path | None = None) -> tuple[dict, str]:
    """The answer JSON schema of prompt ``name`` and the sha256 (hex) of its bytes."""
    data = _read(_path(name, ".schema.json", prompts_dir))
    return json.loads(data), hashlib.sha256(data).hexdigest()


def template_fields(name: str, prompts_dir: Path | None = None) -> list[str]:
    """Placeholder names used by the template, in order of first use."""
    text, _ = load_prompt(name, prompts_dir)
    return list(dict.fromkeys(_FIELD.findall(text)))


def _format_value(value) -> str:
    """Lists become one ``- item`` line each; empty or missing values say so explicitly."""
    if value is None:
        return MISSING
    if isinstance(value, (list, tuple)):
        items = [" ".join(str(v).split()) for v in value if str(v).strip()]
        return "\n".join(f"- {v}" for v in items) if items else MISSING
    text = str(value).strip()
    return text or MISSING


def render_prompt(name: str, context: dict, prompts_dir: Path | None = None) -> tuple[str, str]:
    """Fill the template's placeholders from ``context``; return (text, sha256 of the template).

    Placeholders absent from ``context`` render as ``(not given)`` so the model is told, rather
    than shown an empty line; context keys the template does not use are ignored.
    """
    template, sha = load_prompt(name, prompts_dir)
    text = _FIELD.sub(lambda m: _format_value(context.get(m.group(1))), template)
    return text, sha
