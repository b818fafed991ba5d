"""Run configuration: one YAML per run, ``key=value`` overrides, validated once here.

Every section is hashed into the completion marker of the stage that uses it, so a change
re-runs that stage and the stages after it, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.captions.vllm_client import VllmConfig
from curate.images import MAX_PIXELS
from curate.roi.scoring import RoiConfig


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class IngestConfig(Section):
    """Limits on untrusted inputs; an item over a limit is quarantined with the limit's name.
    ``max_pixels`` defaults to Pillow's own decompression-bomb threshold and cannot exceed the
    hard ceiling every decode enforces (``curate.images.MAX_PIXELS``); ``max_input_bytes``
    bounds a PDF file or a folder image (archives have their own limits below)."""

    pdf_dpi: int = Field(150, ge=36, le=600)
    max_pdf_pages: int = Field(300, ge=1)
    max_pixels: int = Field(89_478_485, ge=1, le=MAX_PIXELS)
    max_input_bytes: int = Field(1_000_000_000, ge=1)
    max_caption_chars: int = Field(20_000, ge=1)  # PMC's longest real captions are a few thousand
    min_side: int = Field(16, ge=1)  # pixels; a thinner figure is an icon or a rule, not a figure
    max_archive_members: int = Field(5000, ge=1)
    max_archive_bytes: int = Field(2_000_000_000, ge=1)
    max_member_bytes: int = Field(500_000_000, ge=1)
    max_compression_ratio: float = Field(200.0, gt=1)
    # Larger figures are downscaled once at ingest (a PDF region is rendered straight at this
    # size), so no later stage holds more pixels than this (a worker's peak memory grows with
    # it: see BENCHMARKS.md, memory).
    max_figure_pixels: int = Field(25_000_000, ge=10_000)


class PanelsConfig(Section):
    ocr: bool = True
    min_panel_frac: float = Field(0.02, gt=0, lt=1)


class MarkersConfig(Section):
    enabled: bool = True


class RegionsConfig(Section):
    """``markers``: regions are the patches of caption-linked markers (CPU, no weights).
    ``models``: Grounding DINO (phrase -> box) and MedSAM (box -> mask) refine them; the model
    directories in ``roi`` must exist locally (nothing is downloaded)."""

    backend: Literal["markers", "models"] = "markers"
    roi: RoiConfig = Field(default_factory=RoiConfig)


class CaptionsConfig(Section):
    """``textmined``: texts from the paper's own words (CPU). ``vllm``: Qwen2.5-VL (or any VLM)
    behind an OpenAI-compatible server, configured in ``vllm``; answers are cached in the run."""

    backend: Literal["textmined", "vllm"] = "textmined"
    vllm: VllmConfig | None = None

    @model_validator(mode="after")
    def _vllm_needs_its_config(self) -> CaptionsConfig:
        if self.backend == "vllm" and self.vllm is None:
            raise ValueError("captions.backend=vllm needs captions.vllm (endpoint, model_id, ...)")
        return self


class QualityConfig(Section):
    """Duplicates, image type, modality and body region (stage ``quality``).

    ``max_phash``/``max_dhash``: Hamming distances (of 64 bits) under which two images are near
    duplicates; both must hold. ``zeroshot_checkpoint``: a checkpoint of our own trainer
    (``checkpoint.pt``) whose image-text similarity joins the modality vote; it must exist locally.
    """

    dedup: bool = True
    max_phash: int = Field(10, ge=0, le=11)
    max_dhash: int = Field(12, ge=0, le=64)
    max_log_aspect: float = Field(0.12, ge=0)
    probe_radius: int = Field(1, ge=0, le=2)  # 2: complete up to 11 bits, ~8x slower (curate.quality.dedup)
    zeroshot_checkpoint: Path | None = None


class ShardsConfig(Section):
    """``licence_filter: commercial`` writes only samples whose licence allows commercial use
    (CC0, public domain, CC-BY, CC-BY-SA). ``drop_duplicates``: copies found by the quality
    stage are left out (default) or written with ``is_duplicate``; either way a duplicate group
    lands in one split. ``patch_image_types``: panels of these types give patch samples."""

    licence_filter: Literal["any", "commercial"] = "any"
    drop_duplicates: bool = True
    patch_image_types: list[str] = Field(default_factory=lambda: ["photo", "gel_blot", "unknown"])
    max_samples_per_shard: int = Field(1000, ge=1)
    jpeg_quality: int = Field(90, ge=50, le=100)
    max_side: int = Field(1024, ge=64)
    min_side: int = Field(24, ge=1)
    splits: dict[str, float] = Field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    levels: list[Literal["figure", "panel", "patch"]] = Field(
        default_factory=lambda: ["figure", "panel", "patch"]
    )

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> ShardsConfig:
        if abs(sum(self.splits.values()) - 1.0) > 1e-6:
            raise ValueError(f"split fractions must sum to 1, got {self.splits}")
        if "samples" in self.splits:
            raise ValueError("'samples' is the shards stage's manifest folder; name the split otherwise")
        return self


class RunConfig(Section):
    """A whole run. Relative paths are relative to the directory the command runs in."""

    name: str = "sample"
    input_dir: Path
    runs_dir: Path = Path("runs")
    runner: Literal["local", "ray"] = "ray"
    ray_address: str | None = None
    num_workers: int | None = Field(None, ge=1)
    part_size: int = Field(4, ge=1)
    max_quarantine_frac: float = Field(0.5, ge=0, le=1)
    # A bound on the environment, not on the output: not hashed, so changing it re-runs nothing.
    max_seconds_per_item: float = Field(600.0, gt=0)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    panels: PanelsConfig = Field(default_factory=PanelsConfig)
    markers: MarkersConfig = Field(default_factory=MarkersConfig)
    regions: RegionsConfig = Field(default_factory=RegionsConfig)
    captions: CaptionsConfig = Field(default_factory=CaptionsConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    shards: ShardsConfig = Field(default_factory=ShardsConfig)

    @property
    def run_dir(self) -> Path:
        return self.runs_dir / self.name


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply ``a.b.c=value`` to nested ``data``; the value is parsed as YAML (``3``, ``true``, ``[a, b]``)."""
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} is not key=value")
    key, raw = assignment.split("=", 1)
    node = data
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {assignment!r}: {part} is not a section")
    node[parts[-1]] = yaml.safe_load(raw)


def load_config(path: Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Read a YAML config (or start empty), apply overrides, validate once."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text())
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError(f"{path}: top level must be a mapping")
        data = loaded or {}
    for assignment in overrides:
        apply_override(data, assignment)
    return RunConfig.model_validate(data)
