"""Find the input items under an input directory, in a stable order.

- a ``.tar.gz``/``.tgz`` file, or a directory holding a ``.nxml``/``.xml`` file: a PMC package;
- a ``.pdf`` file: a PDF;
- each non-blank line of a ``.jsonl`` file: one image with its caption.

Ids come from the path relative to the input root, so they survive moving the root.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from curate.records import SourceItem, safe_token

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
JATS_SUFFIXES = (".nxml", ".xml")


def _strip_suffix(rel: str) -> str:
    for suffix in (*ARCHIVE_SUFFIXES, ".pdf", ".jsonl"):
        if rel.lower().endswith(suffix):
            return rel[: -len(suffix)]
    return rel


def _item(kind: str, root: Path, path: Path, line: int = 0) -> SourceItem:
    rel = path.relative_to(root).as_posix()
    token = safe_token(_strip_suffix(rel).replace("/", "__"))
    if line:
        token = f"{token}_l{line:05d}"
    size = path.stat().st_size if path.is_file() else 0
    return SourceItem(id=token, kind=kind, path=rel, line=line, size_bytes=size)


def _jsonl_items(root: Path, path: Path) -> list[SourceItem]:
    items = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                items.append(_item("folder", root, path, number))
    return items


def discover_sources(root: Path) -> list[SourceItem]:
    """All input items under ``root``, sorted by id; ids made unique with a path hash on collision."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"input directory {root} does not exist")
    items: list[SourceItem] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        if here != root and any(f.lower().endswith(JATS_SUFFIXES) for f in filenames):
            items.append(_item("jats", root, here))
            dirnames.clear()  # a package's own sub-folders hold its images, not more papers
            continue
        for name in sorted(filenames):
            path = here / name
            lower = name.lower()
            if lower.endswith(ARCHIVE_SUFFIXES):
                items.append(_item("jats", root, path))
            elif lower.endswith(".pdf"):
                items.append(_item("pdf", root, path))
            elif lower.endswith(".jsonl"):
                items.extend(_jsonl_items(root, path))
    return _unique(items)


def _unique(items: list[SourceItem]) -> list[SourceItem]:
    seen: dict[str, int] = {}
    for item in items:
        seen[item.id] = seen.get(item.id, 0) + 1
    out = []
    for item in items:
        if seen[item.id] > 1:
            tail = hashlib.sha256(f"{item.path}:{item.line}".encode()).hexdigest()[:8]
            item = item.model_copy(update={"id": f"{item.id}-{tail}"})
        out.append(item)
    return sorted(out, key=lambda s: s.id)
