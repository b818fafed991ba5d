"""What every ingest path returns, whatever the input format."""

from __future__ import annotations

from dataclasses import dataclass, field

from curate.records import Document, Figure


@dataclass
class FigureFailure:
    """A figure the document names but that could not be ingested (e.g. missing image)."""

    item_id: str
    error_class: str
    message: str


@dataclass
class IngestResult:
    """One document with its figures; ``images`` maps sha256 -> original image bytes
    (each figure's ``image_sha256`` is a key)."""

    document: Document
    figures: list[Figure] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    failures: list[FigureFailure] = field(default_factory=list)


class IngestError(Exception):
    """The whole input item is unusable (corrupt archive, unsafe member, unparsable XML...)."""


class UnsafeArchive(IngestError):
    """An archive member would land outside the extraction directory, or breaks a limit."""


def spdx_licence(name: str) -> str:
    """One spelling for every ingest path: ``CC BY-NC 3.0`` / ``cc-by-nc-3.0`` -> ``CC-BY-NC-3.0``,
    ``CC0`` -> ``CC0-1.0``; anything not Creative Commons is returned unchanged."""
    text = " ".join(name.split())
    if text.upper() in ("CC0", "CC0 1.0", "CC0-1.0"):
        return "CC0-1.0"
    if text.upper().startswith("CC ") or text.upper().startswith("CC-"):
        return "-".join(text.replace(" ", "-").upper().split("-")).replace("--", "-")
    return text
