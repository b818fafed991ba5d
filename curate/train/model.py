"""RegionMed-CLIP model: ViT image tower + BERT text tower (HF transformers, random init or
mapped BiomedCLIP weights), 512-d projections, L2-normalised embeddings, a learnable
temperature (init 0.07), SigLIP-style scale/bias for the hard-negative loss, and an ROI processor.

Layouts follow BiomedCLIP's open_clip model so its weights map 1:1 (see ``biomedclip_keys``):
the image embedding is the [CLS] token after the final LayerNorm through a bias-free linear; the
text embedding is [CLS] of the last hidden state through a 2-layer bias-free GELU MLP.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from curate.train.config import ModelConfig


class RoiProcessor(nn.Module):
    """Multi-head attention fusing ROI tokens (queries, (N, T, W)) with the global image's patch
    tokens (keys/values, (N, P, W)), then an MLP; returns the mean fused token, (N, W)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.norm_q, self.norm_kv, self.norm_mlp = nn.LayerNorm(width), nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, roi_tokens: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(context)
        x = roi_tokens + self.attn(self.norm_q(roi_tokens), kv, kv, need_weights=False)[0]
        x = x + self.mlp(self.norm_mlp(x))
        return x.mean(dim=1)


def roi_align(tokens: torch.Tensor, boxes: torch.Tensor, image_size: int, grid: int) -> torch.Tensor:
    """Bilinear RoIAlign (one sample per bin centre) over patch tokens.

    tokens: (B, P, W) patch tokens of a square ``image_size`` image (no [CLS]); boxes: (B, 4)
    ``xyxy`` in that image's pixels. Returns (B, grid*grid, W)."""
    b, p, w = tokens.shape
    side = int(math.isqrt(p))
    fmap = tokens.transpose(1, 2).reshape(b, w, side, side)
    steps = (torch.arange(grid, device=tokens.device, dtype=tokens.dtype) + 0.5) / grid
    xs = boxes[:, 0:1] + steps * (boxes[:, 2:3] - boxes[:, 0:1])  # (B, grid) pixels
    ys = boxes[:, 1:2] + steps * (boxes[:, 3:4] - boxes[:, 1:2])
    # align_corners=False: -1 and 1 are the outer edges of the pixel frame, so x_n = 2x/S - 1.
    gx, gy = xs * (2.0 / image_size) - 1, ys * (2.0 / image_size) - 1
    sample_grid = torch.stack([gx[:, None, :].expand(b, grid, grid), gy[:, :, None].expand(b, grid, grid)], -1)
    out = F.grid_sample(fmap, sample_grid.to(fmap.dtype), mode="bilinear", align_corners=False)
    return out.flatten(2).transpose(1, 2)


class RegionClip(nn.Module):
    def __init__(self, cfg: ModelConfig, vocab_size: int):
        super().__init__()
        from transformers import BertConfig, BertModel, ViTConfig, ViTModel

        self.cfg = cfg
        v, t = cfg.vision, cfg.text
        self.vision = ViTModel(ViTConfig(image_size=v.image_size, patch_size=v.patch_size, hidden_size=v.width,
                                         num_hidden_layers=v.layers, num_attention_heads=v.heads,
                                         intermediate_size=v.mlp, layer_norm_eps=1e-6, qkv_bias=True,
                                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
                               add_pooling_layer=False)
        self.text = BertModel(BertConfig(vocab_size=vocab_size, hidden_size=t.width, num_hidden_layers=t.layers,
                                         num_attention_heads=t.heads, intermediate_size=t.mlp,
                                         max_position_embeddings=max(512, t.context_length),
                                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
                              add_pooling_layer=False)
        self.visual_proj = nn.Linear(v.width, cfg.embed_dim, bias=False)
        hidden = (t.width + cfg.embed_dim) // 2
        self.text_proj = nn.Sequential(nn.Linear(t.width, hidden, bias=False), nn.GELU(),
                                       nn.Linear(hidden, cfg.embed_dim, bias=False))
        self.roi = RoiProcessor(v.width, cfg.roi_heads)
        self.roi_proj = nn.Linear(v.width, cfg.embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg.init_temperature)))
        # SigLIP init: t' = log 10, b = -10, so every pair starts near p = 0 and the few positives
        # do not swamp the loss at step 0.
        self.neg_scale = nn.Parameter(torch.tensor(math.log(10.0)))
        self.neg_bias = nn.Parameter(torch.tensor(-10.0))

    def image_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, 1 + P, W) tokens after the final LayerNorm ([CLS] first)."""
        resized = images.shape[-1] != self.cfg.vision.image_size
        return self.vision(pixel_values=images, interpolate_pos_encoding=resized).last_hidden_state

    def encode_image(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.image_tokens(images)
        return F.normalize(self.visual_proj(tokens[:, 0]), dim=-1), tokens

    def encode_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(N, L) ids -> (N, D) unit vectors from the [CLS] token."""
        hidden = self.text(input_ids=ids, attention_mask=mask).last_hidden_state
        return F.normalize(self.text_proj(hidden[:, 0]), dim=-1)

    def encode_rois(self, batch: dict[str, torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
        """ROI embeddings (B, D) from ROI crops (crop mode) or RoIAlign over patch tokens, each fused
        with its own image's patch tokens by the ROI processor."""
        context = tokens[:, 1:]
        if self.cfg.roi_mode == "crop":
            queries = self.image_tokens(batch["roi_images"])
        else:
            queries = roi_align(context, batch["roi_boxes"].to(context.dtype), self.cfg.vision.image_size,
                                self.cfg.roi_grid)
        return F.normalize(self.roi_proj(self.roi(queries, context)), dim=-1)

    def forward(self, batch: dict[str, torch.Tensor], with_roi: bool) -> dict[str, torch.Tensor]:
        image, tokens = self.encode_image(batch["images"])
        out = {"image": image, "text": self.encode_text(batch["input_ids"], batch["attention_mask"])}
        if with_roi and "roi_ids" in batch:
            out["roi"] = self.encode_rois(batch, tokens)
            out["roi_text"] = self.encode_text(batch["roi_ids"], batch["roi_mask"])
            b, k, length = batch["neg_ids"].shape
            neg = self.encode_text(batch["neg_ids"].view(b * k, length), batch["neg_mask"].view(b * k, length))
            out["neg_text"] = neg.view(b, k, -1)
        return out
