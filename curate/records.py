"""Typed records for every level of the corpus, and their stable ids.

Frames and formats are part of each field's name or docstring:
- ``bbox_xyxy`` on a Figure-level record (Panel) is in *figure pixels*, half-open
  ``[x1, y1, x2, y2)``, x to the right, y down.
- ``*_panel`` fields (Marker, Region) are in *panel pixels*: the panel crop's own frame,
  origin at the panel's top-left corner.
- ``page_bbox_xyxy`` (Figure from a PDF) is in PDF points of that page.

Ids contain only letters, digits, ``_`` and ``-``: WebDataset cuts a sample key at the
first dot, so a dotted id would silently merge samples. Every child id starts with its
parent's id, so an id alone says where a sample comes from.

This module imports nothing of the project.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

SourceKind = Literal["jats", "pdf", "folder"]
Level = Literal["figure", "panel", "patch"]
MarkerKind = Literal["arrow", "arrowhead", "asterisk", "box", "circle"]
RegionSource = Literal["marker", "zoom", "grounding", "sam", "marker+sam", "grounding+sam"]


def safe_token(text: str, max_len: int = 80) -> str:
    """Turn any text into an id token: unsafe runs become ``-``; long tokens keep a hash tail."""
    token = _UNSAFE.sub("-", text).strip("-") or "x"
    if len(token) > max_len:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        token = f"{token[: max_len - 9]}-{digest}"
    return token


def child_id(parent_id: str, prefix: str, index: int | str) -> str:
    """Id of the ``index``-th child of ``parent_id``: ``PMC1_f2`` + ``p`` + 3 -> ``PMC1_f2_p03``."""
    part = f"{index:02d}" if isinstance(index, int) else safe_token(index, 40)
    return f"{parent_id}_{prefix}{part}"


class Record(BaseModel):
    """Base of every record: strict fields, ids checked against ``ID_PATTERN``."""

    model_config = ConfigDict(extra="forbid")
    id: str

    @field_validator("id")
    @classmethod
    def _id_is_key_safe(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"id {value!r} may hold only letters, digits, '_' and '-'")
        return value


class SourceItem(Record):
    """One unit of input as frozen in ``inputs.parquet``: a package, a PDF, or one JSONL line.

    ``path`` is relative to the run's input root; ``line`` is the JSONL line number (1-based)
    for folder inputs and 0 otherwise.
    """

    kind: SourceKind
    path: str
    line: int = 0
    size_bytes: int = 0


class Document(Record):
    """A paper; for folder input, one JSONL line (an image with its caption) is its own document."""

    source_kind: SourceKind
    source_path: str
    title: str = ""
    journal: str = ""
    year: int | None = None
    pmcid: str | None = None
    pmid: str | None = None
    doi: str | None = None
    licence: str = "unknown"
    licence_url: str | None = None
    n_figures: int = 0


class Figure(Record):
    """A figure with its caption, in-text mentions and image (stored by content hash).

    ``mentions`` are body sentences that cite this figure. ``bold_labels`` are the bold runs
    of a JATS caption (``<bold>A</bold>``), in order: evidence for panel labels. ``image_sha256`` names the
    original image bytes in the run's blob store; ``width``/``height`` are its pixel size.
    ``page``/``page_bbox_xyxy`` are set only for figures taken from a PDF (0-based page,
    PDF points).
    """

    document_id: str
    source_kind: SourceKind
    label: str = ""
    caption: str = ""
    caption_title: str = ""
    bold_labels: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    image_sha256: str
    image_ext: str = "jpg"
    width: int
    height: int
    page: int | None = None
    page_bbox_xyxy: list[float] | None = None
    graphic_href: str | None = None
    licence: str = "unknown"


class Panel(Record):
    """One panel of a figure: its box in figure pixels, label, and its part of the caption.

    ``subcaption`` is the panel's own text; ``preamble`` is the caption text shared by all
    panels (kept apart so a consumer can choose). ``parent_panel_id`` is set for an inset.
    ``unsure`` marks conflicting evidence (label vs caption vs layout) instead of a forced guess.
    """

    figure_id: str
    document_id: str
    index: int
    bbox_xyxy: list[int]
    label: str | None = None
    label_bbox_xyxy: list[int] | None = None
    label_score: float = 0.0
    confidence: float = 1.0
    subcaption: str = ""
    preamble: str = ""
    mentions: list[str] = Field(default_factory=list)
    parent_panel_id: str | None = None
    is_whole_figure: bool = False
    unsure: bool = False
    unsure_reason: str = ""


class Marker(Record):
    """A visual marker drawn by the authors (arrow, arrowhead, asterisk, box, circle).

    Boxes and points are in panel pixels. ``direction_deg`` is the pointing direction of an
    arrow (0 = right, 90 = down). ``phrase`` is the caption phrase linked to it ("" if none).
    ``zoom_panel_id`` is the panel that shows the outlined area magnified ("boxed area
    magnified in C"), when the caption says so and that panel exists.
    """

    panel_id: str
    figure_id: str
    kind: MarkerKind
    colour: str
    bbox_xyxy_panel: list[int]
    tip_xy_panel: list[int] | None = None
    direction_deg: float | None = None
    confidence: float = 0.0
    phrase: str = ""
    phrase_source: str = ""
    zoom_panel_id: str | None = None


class Region(Record):
    """A region of interest in a panel, with the phrase that names it (panel pixels).

    ``mask_rle`` is a COCO-style uncompressed RLE (column-major counts, space-separated) of
    the region's mask over the panel, or None when only a box is known.
    """

    panel_id: str
    figure_id: str
    document_id: str
    bbox_xyxy_panel: list[int]
    phrase: str = ""
    position: str = ""
    source: RegionSource
    marker_id: str | None = None
    mask_rle: str | None = None
    det_score: float | None = None
    seg_score: float | None = None
    joint_score: float | None = None


class Texts(Record):
    """The four texts for one image (figure, panel or patch region).

    ``region`` is ``adjective|term|position`` or ``No Finding``. ``status`` is
    ``insufficient_text`` when the paper said too little to mine (texts are still filled, but a
    consumer may drop them). ``method`` says how they were made; for a VLM, the prompt name and content hash, model id and sampling are recorded.
    """

    target_id: str
    figure_id: str
    level: Level
    summary: str
    report: str
    region: str
    negatives: list[str]
    method: Literal["textmined", "vlm"]
    status: Literal["ok", "insufficient_text"] = "ok"
    prompt_name: str = ""
    prompt_sha256: str = ""
    model_id: str = ""
    sampling: str = ""


class QualityTag(Record):
    """Tags and fingerprint of one figure or panel (``id`` is that figure's or panel's id).

    ``image_type`` is photo | chart | diagram | gel_blot | table | text; ``modality`` one of
    ``curate.quality.modality.MODALITIES`` or ``unknown`` (drawn images have none);
    ``body_region`` one of the 12 regions or ``unknown``; each with a confidence in [0, 1].
    ``method`` says what voted: ``rules`` (pixel cues + caption words) or ``rules+zeroshot``.
    ``pixel_sha256`` hashes the decoded pixels; ``phash``/``dhash`` are 64-bit perceptual
    hashes as 16 hex digits; ``informative`` is False for near-blank images, which take part
    in exact matching only. ``licence`` is the document licence's family (``CC-BY``, ``CC0``,
    ``CC-BY-NC``, ..., ``unknown``).
    """

    level: Literal["figure", "panel"]
    figure_id: str
    document_id: str
    image_type: str
    image_type_conf: float
    modality: str
    modality_conf: float
    body_region: str
    body_region_conf: float
    method: str = "rules"
    pixel_sha256: str
    phash: str
    dhash: str
    aspect: float
    informative: bool
    licence: str = "unknown"


class Duplicate(Record):
    """A figure or panel whose image is a copy of another (``id`` is the copy's id).

    ``canonical_id`` is the group member that is kept (the smallest id). ``kind`` is ``exact``
    (same decoded pixels) or ``near`` (perceptual hashes within the configured distance);
    ``distance`` is the pHash Hamming distance to the canonical (0 for exact).
    """

    level: Literal["figure", "panel"]
    document_id: str
    canonical_id: str
    canonical_document_id: str
    kind: Literal["exact", "near"]
    distance: int


class ShardSample(Record):
    """Where one sample was written: its shard (relative to the shards folder) and split.

    ``licence`` is the licence family (``CC-BY``, ``CC-BY-NC``, ``CC0``, ..., ``unknown``).
    Tags come from the quality stage (a patch carries its panel's); ``dup_group`` is the
    canonical id of the sample's duplicate group (its own id when it has no copies), and
    ``is_duplicate`` is True only when duplicates are kept (``shards.drop_duplicates: false``).
    """

    level: Level
    document_id: str
    figure_id: str
    split: str
    shard: str
    licence: str
    width: int
    height: int
    txt: str
    image_type: str = "unknown"
    image_type_conf: float = 0.0
    modality: str = "unknown"
    modality_conf: float = 0.0
    body_region: str = "unknown"
    body_region_conf: float = 0.0
    dup_group: str = ""
    is_duplicate: bool = False


class Quarantine(BaseModel):
    """An input item a stage could not turn into output, and why."""

    model_config = ConfigDict(extra="forbid")
    stage: str
    item_id: str
    error_class: str
    message: str
    part: int = 0


RECORD_TYPES: dict[str, type[BaseModel]] = {
    "sources": SourceItem,
    "documents": Document,
    "figures": Figure,
    "panels": Panel,
    "markers": Marker,
    "regions": Region,
    "texts": Texts,
    "quality": QualityTag,
    "duplicates": Duplicate,
    "samples": ShardSample,
    "quarantine": Quarantine,
}
