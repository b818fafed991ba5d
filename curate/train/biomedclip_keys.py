"""BiomedCLIP (open_clip: timm ViT-B/16 + HF PubMedBERT) state dict -> ``RegionClip`` keys.

Source layout (``open_clip_pytorch_model.bin`` of BiomedCLIP-PubMedBERT_256-vit_base_patch16_224):
``visual.trunk.*`` is a timm VisionTransformer (fused ``attn.qkv``), ``visual.head.proj.weight``
the bias-free image projection, ``text.transformer.*`` a HF BertModel, ``text.proj.{0,2}.weight``
the bias-free 2-layer MLP text projection, ``logit_scale`` the log inverse temperature.
Target: our HF ``ViTModel`` (separate q/k/v projections) and ``BertModel`` names. timm's qkv
weight is ``(3*W, W)`` with rows ordered q, k, v, so it splits into three ``(W, W)`` blocks.
The ROI processor, ROI projection and SigLIP scale/bias have no source and keep their init.
"""

from __future__ import annotations

import re

import torch

_VIT_BLOCK = {
    "norm1": "layernorm_before", "norm2": "layernorm_after", "attn.proj": "attention.o_proj",
    "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2",
}
_VIT_FIXED = {
    "visual.trunk.cls_token": "vision.embeddings.cls_token",
    "visual.trunk.pos_embed": "vision.embeddings.position_embeddings",
    "visual.trunk.patch_embed.proj.weight": "vision.embeddings.patch_embeddings.projection.weight",
    "visual.trunk.patch_embed.proj.bias": "vision.embeddings.patch_embeddings.projection.bias",
    "visual.trunk.norm.weight": "vision.layernorm.weight",
    "visual.trunk.norm.bias": "vision.layernorm.bias",
    "visual.head.proj.weight": "visual_proj.weight",
    "text.proj.0.weight": "text_proj.0.weight",
    "text.proj.2.weight": "text_proj.2.weight",
    "logit_scale": "logit_scale",
}
_BLOCK = re.compile(r"visual\.trunk\.blocks\.(\d+)\.(.+)\.(weight|bias)$")
# Present in the source, unused by our model: BERT's pooler (we pool [CLS] of the last hidden
# state, as BiomedCLIP's cls_last_hidden_state_pooler does) and non-persistent id buffers.
_SKIP = re.compile(r"text\.transformer\.(pooler\.|embeddings\.position_ids$|embeddings\.token_type_ids$)")
NO_SOURCE = ("roi.", "roi_proj.", "neg_scale", "neg_bias")


def _block_key(block: str, part: str, kind: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    prefix = f"vision.layers.{block}."
    if part == "attn.qkv":
        q, k, v = value.chunk(3, dim=0)
        return {f"{prefix}attention.{n}_proj.{kind}": t.clone() for n, t in zip("qkv", (q, k, v), strict=True)}
    if part not in _VIT_BLOCK:
        raise KeyError(f"unknown timm block parameter {part}.{kind}")
    return {f"{prefix}{_VIT_BLOCK[part]}.{kind}": value}


def map_biomedclip(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """open_clip BiomedCLIP keys -> RegionClip keys; raises KeyError on any key it does not know."""
    out: dict[str, torch.Tensor] = {}
    unknown = []
    for key, value in state.items():
        if key in _VIT_FIXED:
            out[_VIT_FIXED[key]] = value
        elif match := _BLOCK.match(key):
            out.update(_block_key(*match.groups(), value))
        elif _SKIP.match(key):
            continue
        elif key.startswith("text.transformer."):
            out["text." + key[len("text.transformer."):]] = value
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f"keys outside the BiomedCLIP layout: {unknown[:5]} (+{max(0, len(unknown) - 5)})")
    return out


def load_biomedclip(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """Load mapped weights; every model key must be covered except those with no source (returned)."""
    if "state_dict" in state:  # open_clip training checkpoints wrap it
        state = {k.removeprefix("module."): v for k, v in state["state_dict"].items()}
    mapped = map_biomedclip(state)
    result = model.load_state_dict(mapped, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(NO_SOURCE)]
    if missing or result.unexpected_keys:
        raise KeyError(f"BiomedCLIP mapping incomplete: missing {missing[:5]}, unexpected "
                       f"{result.unexpected_keys[:5]} (sizes must match the model config)")
    return list(result.missing_keys)
