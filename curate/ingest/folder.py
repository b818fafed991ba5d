"""Plain image folders: a ``.jsonl`` whose lines name an image and its caption.

Each line is ``{"image": "rel/path.jpg", "caption": "...", ...}`` with optional
``licence``, ``title``, ``doi``, ``mentions`` (list of sentences) and ``label``. The image
path is relative to the JSONL file's folder and must stay inside it.
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.images import MAX_PIXELS, ImageTooLarge, check_decodes, image_ext, sha256_hex
from curate.ingest.base import IngestError, IngestResult
from curate.records import Document, Figure, child_id


def read_jsonl_line(path: Path, line: int) -> dict:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == line:
                try:  # utf-8-sig: a byte-order mark opening the file is not part of line 1
                    entry = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise IngestError(f"{path.name}:{line}: not a JSON object: {exc}") from exc
                except RecursionError as exc:
                    raise IngestError(f"{path.name}:{line}: JSON nested too deeply") from exc
                if not isinstance(entry, dict):
                    raise IngestError(f"{path.name}:{line}: expected a JSON object, got {type(entry).__name__}")
                return entry
    raise IngestError(f"{path.name}: no line {line}")


def _resolve_inside(folder: Path, rel: str) -> Path:
    target = (folder / rel).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise IngestError(f"image path {rel!r} leaves the folder {folder.name}")
    return target


def ingest_folder_line(jsonl: Path, line: int, *, doc_id: str, source_path: str,
                       max_bytes: int = 1_000_000_000, max_pixels: int = MAX_PIXELS) -> IngestResult:
    entry = read_jsonl_line(jsonl, line)
    rel, caption = entry.get("image"), entry.get("caption", "")
    if not isinstance(rel, str) or not rel:
        raise IngestError(f"{jsonl.name}:{line}: missing 'image'")
    if not isinstance(caption, str):
        raise IngestError(f"{jsonl.name}:{line}: 'caption' must be a string")
    image_path = _resolve_inside(jsonl.parent, rel)
    if not image_path.is_file():
        raise IngestError(f"{jsonl.name}:{line}: image {rel!r} not found")
    if image_path.stat().st_size > max_bytes:
        raise ImageTooLarge(f"{jsonl.name}:{line}: image {rel!r} is larger than {max_bytes} bytes")
    data = image_path.read_bytes()
    width, height = check_decodes(data, max_pixels)
    licence = str(entry.get("licence") or entry.get("license") or "unknown")
    mentions = [m for m in entry.get("mentions", []) if isinstance(m, str)]
    document = Document(id=doc_id, source_kind="folder", source_path=source_path,
                        title=str(entry.get("title", "")), doi=entry.get("doi"), licence=licence, n_figures=1)
    digest = sha256_hex(data)
    figure = Figure(id=child_id(doc_id, "f", 1), document_id=doc_id, source_kind="folder",
                    label=str(entry.get("label", "")), caption=" ".join(caption.split()), mentions=mentions,
                    image_sha256=digest, image_ext=image_ext(data), width=width, height=height,
                    graphic_href=rel, licence=licence)
    return IngestResult(document=document, figures=[figure], images={digest: data})
