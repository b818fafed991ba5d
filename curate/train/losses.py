"""Losses: symmetric InfoNCE (global image <-> report), InfoNCE (ROI <-> region caption), and a
sigmoid hard-negative loss (ROI vs its region caption and its 5 negative captions).

Embeddings are unit vectors. Across ranks the *columns* (candidates) are gathered with gradient
(``torch.distributed.nn.all_gather``), and each rank scores only its own rows against all columns
(open_clip's ``local_loss``): the same gradients as one big batch for 1/world of the logits.

Every row carries a weight (``level_weight`` of its level, 0 for rows without the needed texts)
and a temperature multiplier (``level_temperature`` of its level). Pairs from the same paper (or
figure, ``mask_same``) other than the positive are removed from the negatives: sibling panels and
their patches often share captions, and pushing them apart teaches the model noise.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from curate.train.config import LEVELS, LossConfig


def world_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """(B, ...) per rank -> (world*B, ...) in rank order; gradient flows back to every rank's slice."""
    _, world = world_info()
    if world == 1:
        return x
    import torch.distributed.nn

    return torch.cat(torch.distributed.nn.all_gather(x), dim=0)


def gather_nograd(x: torch.Tensor) -> torch.Tensor:
    _, world = world_info()
    if world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def negative_mask(rows: dict[str, torch.Tensor], cols: dict[str, torch.Tensor], labels: torch.Tensor,
                  mode: str) -> torch.Tensor:
    """(Nr, Nc) bool, True where a pair must not be a negative: same ``paper`` (or ``figure``) ids
    and not the positive ``labels[i]`` column. ``mode='none'`` masks nothing."""
    n_rows, n_cols = labels.shape[0], cols["figure"].shape[0]
    if mode == "none":
        return torch.zeros(n_rows, n_cols, dtype=torch.bool, device=labels.device)
    key = "paper" if mode == "paper" else "figure"
    same = rows[key][:, None] == cols[key][None, :]
    positive = torch.zeros_like(same)
    positive[torch.arange(n_rows, device=labels.device), labels] = True
    return same & ~positive


def weighted_ce(logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per row, averaged with row weights (0 when every weight is 0)."""
    per_row = F.cross_entropy(logits, labels, reduction="none")
    return (per_row * weight).sum() / weight.sum().clamp_min(1e-8)


def info_nce(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor, meta: dict[str, torch.Tensor],
             cfg: LossConfig, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE between local rows ``a[i]`` <-> ``b[i]`` (B, D), against gathered columns.

    ``meta`` holds (B,) int tensors ``level``, ``figure``, ``paper``; ``valid`` (B,) bool marks rows
    that have a pair (others get weight 0 and are removed as candidates)."""
    rank, _ = world_info()
    n = a.shape[0]
    valid = torch.ones(n, dtype=torch.bool, device=a.device) if valid is None else valid
    all_a, all_b = gather_with_grad(a), gather_with_grad(b)
    cols = {k: gather_nograd(meta[k]) for k in ("figure", "paper")}
    all_valid = gather_nograd(valid)
    labels = torch.arange(n, device=a.device) + rank * n
    drop = negative_mask(meta, cols, labels, cfg.mask_same) | ~all_valid[None, :]
    drop[torch.arange(n, device=a.device), labels] = False  # an invalid row keeps a finite (weight-0) loss
    temp = torch.tensor([cfg.level_temperature[name] for name in LEVELS], device=a.device)[meta["level"]]
    weight = torch.tensor([cfg.level_weight[name] for name in LEVELS], device=a.device)[meta["level"]]
    weight = weight * valid.to(weight.dtype)
    row_scale = (scale / temp)[:, None]
    loss_ab = weighted_ce((row_scale * (a @ all_b.T)).masked_fill(drop, float("-inf")), labels, weight)
    loss_ba = weighted_ce((row_scale * (b @ all_a.T)).masked_fill(drop, float("-inf")), labels, weight)
    return (loss_ab + loss_ba) / 2


def hard_negative_loss(roi: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, scale: torch.Tensor,
                       bias: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Sigmoid loss per ROI row: -log s(z_pos) - sum_k log(1 - s(z_k)), z = scale * cos + bias.

    roi, pos: (B, D); neg: (B, K, D); weight: (B,). The -log(1 - s(z_neg)) terms are the mission's
    L_neg. Why sigmoid with a learnable scale and bias (SigLIP) rather than softmax over the 5
    negatives or a raw cosine: each pair is scored on its own, so the loss does not depend on
    batch size or rank count; with a raw cosine s(cos) stays in [0.27, 0.73] and the gradient
    never fades, pulling every ROI away from all text; the learned scale lets it saturate. The
    positive term keeps the learnable bias from solving the negative-only loss by going to -inf.
    """
    z_pos = scale * (roi * pos).sum(-1) + bias
    z_neg = scale * torch.einsum("bd,bkd->bk", roi, neg) + bias
    per_row = F.softplus(-z_pos) + F.softplus(z_neg).sum(-1)
    return (per_row * weight).sum() / weight.sum().clamp_min(1e-8)


def region_clip_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], model, phase: str,
                     cfg: LossConfig) -> dict[str, torch.Tensor]:
    """The phase's terms as a dict of ``*_loss`` tensors (their sum is the total): warmup/global
    use ``global_loss``; roi uses ``roi_loss`` + ``neg_loss``; joint uses all three."""
    scale = model.logit_scale.exp().clamp(max=cfg.max_logit_scale)
    meta = {k: batch[k] for k in ("level", "figure", "paper")}
    losses: dict[str, torch.Tensor] = {}
    if phase in ("warmup", "global", "joint") and cfg.w_global:
        losses["global_loss"] = cfg.w_global * info_nce(out["image"], out["text"], scale, meta, cfg)
    if phase in ("roi", "joint") and "roi" in out:
        has = batch["has_roi"]
        if cfg.w_roi:
            losses["roi_loss"] = cfg.w_roi * info_nce(out["roi"], out["roi_text"], scale, meta, cfg, valid=has)
        if cfg.w_neg:
            weight = torch.tensor([cfg.level_weight[n] for n in LEVELS], device=has.device)[batch["level"]]
            losses["neg_loss"] = cfg.w_neg * hard_negative_loss(
                out["roi"], out["roi_text"], out["neg_text"], model.neg_scale.exp(), model.neg_bias,
                weight * has.to(weight.dtype))
    return losses
