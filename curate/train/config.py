"""Typed trainer configuration: model sizes, the curriculum, optimiser and loss settings.

Validated once when loaded (``load_train_config``: a YAML file plus ``key=value`` overrides with
dotted keys). A checkpoint stores ``TrainConfig.model_dump()``; resuming with a config whose
``identity()`` differs fails loudly instead of silently taking either side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PhaseName = Literal["warmup", "global", "roi", "joint"]
LEVELS = ("figure", "panel", "patch")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VisionConfig(Strict):
    """ViT image tower; ``image_size``/``patch_size`` in pixels. ViT-B/16: 224/16/768/12/12/3072."""

    image_size: int = 224
    patch_size: int = 16
    width: int = 768
    layers: int = 12
    heads: int = 12
    mlp: int = 3072


class TextConfig(Strict):
    """BERT text tower (PubMedBERT layout). ``context_length`` in tokens, [CLS]/[SEP] included."""

    width: int = 768
    layers: int = 12
    heads: int = 12
    mlp: int = 3072
    context_length: int = 64


class ModelConfig(Strict):
    vision: VisionConfig = VisionConfig()
    text: TextConfig = TextConfig()
    embed_dim: int = 512
    roi_heads: int = 8
    # crop: re-encode each ROI cut from the sample image (exact, one extra ViT pass per ROI);
    # roialign: bilinear RoIAlign over the global patch-token grid (free, coarser at 16 px/token).
    roi_mode: Literal["crop", "roialign"] = "crop"
    roi_size: int = 224
    roi_grid: int = 2
    init_temperature: float = 0.07

    @model_validator(mode="after")
    def _heads_divide(self) -> ModelConfig:
        for name, width, heads in (("vision", self.vision.width, self.vision.heads),
                                   ("text", self.text.width, self.text.heads),
                                   ("roi", self.vision.width, self.roi_heads)):
            if width % heads:
                raise ValueError(f"{name} width {width} is not divisible by its {heads} heads")
        if self.vision.image_size % self.vision.patch_size or self.roi_size % self.vision.patch_size:
            raise ValueError("image_size and roi_size must be multiples of patch_size")
        return self


class PhaseConfig(Strict):
    """One curriculum phase. ``batch_size`` is per optimiser step and per rank; ``warmup_frac`` of
    the phase's steps ramp the lr linearly from 0, the rest follow a cosine to ``min_lr_frac * lr``."""

    name: PhaseName
    epochs: int = Field(ge=0)
    lr: float = Field(gt=0)
    batch_size: int = Field(ge=2)
    warmup_frac: float = Field(default=0.1, ge=0, lt=1)
    min_lr_frac: float = 0.0


def default_phases() -> list[PhaseConfig]:
    """The RegionMed-CLIP curriculum: warmup -> global -> ROI refinement -> joint fine-tuning."""
    return [PhaseConfig(name="warmup", epochs=2, lr=1e-4, batch_size=16),
            PhaseConfig(name="global", epochs=8, lr=2e-4, batch_size=16),
            PhaseConfig(name="roi", epochs=8, lr=2e-4, batch_size=16),
            PhaseConfig(name="joint", epochs=8, lr=3e-5, batch_size=12)]


class LossConfig(Strict):
    """Weights of ``global_loss``/``roi_loss``/``neg_loss`` (a phase only computes the terms it
    uses), per-level sample weights, and per-level temperature multipliers (a row of level L is
    scaled by ``logit_scale / level_temperature[L]``)."""

    w_global: float = 1.0
    w_roi: float = 1.0
    w_neg: float = 1.0
    level_weight: dict[str, float] = Field(default_factory=lambda: {"figure": 1.0, "panel": 1.0, "patch": 1.0})
    level_temperature: dict[str, float] = Field(default_factory=lambda: {"figure": 1.0, "panel": 1.0, "patch": 1.0})
    # Pairs that must not act as negatives: same paper (covers same figure), same figure, or none.
    mask_same: Literal["paper", "figure", "none"] = "paper"
    max_logit_scale: float = 100.0


class DataConfig(Strict):
    split: str = "train"
    eval_split: str = "train"
    shuffle_buffer: int = 256
    num_workers: int = 0
    # Fail the run when more than this fraction of the samples read so far were unusable
    # (checked once ``bad_min_seen`` samples were seen, so one early bad sample is not fatal).
    max_bad_fraction: float = 0.01
    bad_min_seen: int = 100
    vocab: str | None = None  # a vocab.txt (PubMedBERT's); None: build a word vocab from the shards
    vocab_size: int = 4096


class TrainConfig(Strict):
    name: str = "train"
    model: ModelConfig = ModelConfig()
    phases: list[PhaseConfig] = Field(default_factory=default_phases)
    loss: LossConfig = LossConfig()
    data: DataConfig = DataConfig()
    weight_decay: float = 0.02
    betas: tuple[float, float] = (0.9, 0.98)
    grad_clip: float = 0.5
    accum_steps: int = Field(default=1, ge=1)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = True  # bf16 autocast, used on CUDA only
    cpu_threads: int = 0  # torch intra-op threads; 0 keeps torch's default (1 is fastest for tiny CPU models)
    log_every: int = 10
    checkpoint_every: int = 0  # optimiser steps; 0: at each epoch end only
    init_checkpoint: str | None = None  # a BiomedCLIP open_clip state dict (.bin/.pt) to start from

    @model_validator(mode="after")
    def _batches_split(self) -> TrainConfig:
        for phase in self.phases:
            if phase.batch_size % self.accum_steps:
                raise ValueError(f"phase {phase.name}: batch {phase.batch_size} not divisible by accum_steps")
        return self

    def identity(self) -> dict:
        """The fields a resumed run must share with its checkpoint (all but logging/device knobs)."""
        return self.model_dump(mode="json", exclude={"device", "log_every", "checkpoint_every", "amp",
                                                               "cpu_threads"})


def _set_dotted(tree: dict, key: str, value) -> None:
    """Set ``a.b.0.c`` in nested dicts/lists; a digit part indexes a list (``phases.1.epochs=2``)."""
    node = tree
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value


def load_train_config(path: Path | str | None, overrides: list[str] = ()) -> TrainConfig:
    """YAML file (or defaults) + ``a.b=value`` overrides, values parsed as YAML scalars."""
    tree = (yaml.safe_load(Path(path).read_text()) if path else None) or {}
    if any(k.startswith("phases.") for k in overrides) and "phases" not in tree:
        tree["phases"] = [p.model_dump() for p in default_phases()]
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} is not key=value")
        _set_dotted(tree, key.strip(), yaml.safe_load(raw))
    return TrainConfig.model_validate(tree or {})
