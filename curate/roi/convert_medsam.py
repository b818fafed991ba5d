"""Original segment-anything / MedSAM ``.pth`` state dicts <-> transformers ``SamModel``.

MedSAM ships ``medsam_vit_b.pth`` in segment-anything's key naming (``image_encoder.blocks.0
.norm1.weight`` ...). ``to_transformers`` renames those keys to ``SamModel``'s; the
``to_original`` table is the inverse, used by tests to make an original-format checkpoint
from a random ``SamModel`` without installing segment-anything (which needs torchvision).

CLI: ``python -m curate.roi.convert_medsam medsam_vit_b.pth out_dir`` writes a transformers
model directory that ``MedSamBackend`` (or ``SamModel.from_pretrained``) loads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import torch

from curate.roi.loading import RoiConfigError

# (pattern, replacement) applied in order to every original key. Sequential indices of
# segment-anything's nn.Sequential blocks become named layers in transformers.
_TO_HF: list[tuple[str, str]] = [
    (r"^image_encoder\.", "vision_encoder."),
    (r"^vision_encoder\.blocks\.", "vision_encoder.layers."),
    (r"^vision_encoder\.patch_embed\.proj\.", "vision_encoder.patch_embed.projection."),
    (r"\.norm(\d)\.", r".layer_norm\1."),
    (r"\.norm_final_attn\.", ".layer_norm_final_attn."),
    (r"\.neck\.0\.", ".neck.conv1."),
    (r"\.neck\.1\.", ".neck.layer_norm1."),
    (r"\.neck\.2\.", ".neck.conv2."),
    (r"\.neck\.3\.", ".neck.layer_norm2."),
    (r"^prompt_encoder\.point_embeddings\.", "prompt_encoder.point_embed."),
    (r"^prompt_encoder\.pe_layer\.positional_encoding_gaussian_matrix$",
     "prompt_encoder.shared_embedding.positional_embedding"),
    (r"\.mask_downscaling\.0\.", ".mask_embed.conv1."),
    (r"\.mask_downscaling\.1\.", ".mask_embed.layer_norm1."),
    (r"\.mask_downscaling\.3\.", ".mask_embed.conv2."),
    (r"\.mask_downscaling\.4\.", ".mask_embed.layer_norm2."),
    (r"\.mask_downscaling\.6\.", ".mask_embed.conv3."),
    (r"\.output_upscaling\.0\.", ".upscale_conv1."),
    (r"\.output_upscaling\.1\.", ".upscale_layer_norm."),
    (r"\.output_upscaling\.3\.", ".upscale_conv2."),
    # 3-layer MLP heads: first and last get names, the middle one becomes layers.0.
    (r"(iou_prediction_head|output_hypernetworks_mlps\.\d+)\.layers\.0\.", r"\1.proj_in."),
    (r"(iou_prediction_head|output_hypernetworks_mlps\.\d+)\.layers\.1\.", r"\1.layers.0."),
    (r"(iou_prediction_head|output_hypernetworks_mlps\.\d+)\.layers\.2\.", r"\1.proj_out."),
]

# Hand-written inverse (transformers -> original), applied in order.
_TO_ORIGINAL: list[tuple[str, str]] = [
    (r"^vision_encoder\.patch_embed\.projection\.", "image_encoder.patch_embed.proj."),
    (r"^vision_encoder\.layers\.", "image_encoder.blocks."),
    (r"^vision_encoder\.neck\.conv1\.", "image_encoder.neck.0."),
    (r"^vision_encoder\.neck\.layer_norm1\.", "image_encoder.neck.1."),
    (r"^vision_encoder\.neck\.conv2\.", "image_encoder.neck.2."),
    (r"^vision_encoder\.neck\.layer_norm2\.", "image_encoder.neck.3."),
    (r"^vision_encoder\.", "image_encoder."),
    (r"^prompt_encoder\.point_embed\.", "prompt_encoder.point_embeddings."),
    (r"^prompt_encoder\.shared_embedding\.positional_embedding$",
     "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"),
    (r"\.mask_embed\.conv1\.", ".mask_downscaling.0."),
    (r"\.mask_embed\.layer_norm1\.", ".mask_downscaling.1."),
    (r"\.mask_embed\.conv2\.", ".mask_downscaling.3."),
    (r"\.mask_embed\.layer_norm2\.", ".mask_downscaling.4."),
    (r"\.mask_embed\.conv3\.", ".mask_downscaling.6."),
    (r"\.upscale_conv1\.", ".output_upscaling.0."),
    (r"\.upscale_layer_norm\.", ".output_upscaling.1."),
    (r"\.upscale_conv2\.", ".output_upscaling.3."),
    (r"\.layers\.0\.(weight|bias)$", r".layers.1.\1"),
    (r"\.proj_in\.", ".layers.0."),
    (r"\.proj_out\.", ".layers.2."),
    (r"\.layer_norm_final_attn\.", ".norm_final_attn."),
    (r"\.layer_norm(\d)\.", r".norm\1."),
]

# Buffers of the original model that SamModel does not keep (its processor normalises).
_DROPPED = ("pixel_mean", "pixel_std")
_SHARED_PE = "shared_image_embedding.positional_embedding"


def _rename(key: str, table: list[tuple[str, str]]) -> str:
    for pattern, repl in table:
        key = re.sub(pattern, repl, key)
    return key


def to_transformers(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original-format state dict -> ``SamModel`` state dict (same tensors, new names)."""
    out = {_rename(k, _TO_HF): v for k, v in state.items() if k not in _DROPPED}
    pe = out.get("prompt_encoder.shared_embedding.positional_embedding")
    if pe is not None:
        # transformers keeps the random Fourier matrix twice (model level and prompt encoder).
        out[_SHARED_PE] = pe.clone()
    return out


def to_original(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``SamModel`` state dict -> original segment-anything naming (for tests and export)."""
    out = {}
    for key, value in state.items():
        if key == _SHARED_PE:
            continue
        # Vision blocks keep 'layers.N.'; only the MLP heads' middle layer is renamed.
        if key.startswith("vision_encoder.") or ".transformer.layers." in key:
            new = _rename(key, [r for r in _TO_ORIGINAL if r[0] != r"\.layers\.0\.(weight|bias)$"])
        else:
            new = _rename(key, _TO_ORIGINAL)
        out[new] = value
    return out


def load_original(pth: Path) -> dict[str, torch.Tensor]:
    """Tensors of an original ``.pth`` (a bare state dict or one under ``model``/``state_dict``)."""
    try:
        obj = torch.load(pth, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise RoiConfigError(f"cannot read SAM checkpoint {pth}: {exc}") from exc
    for wrapper in ("model", "state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not any(str(k).startswith("image_encoder.") for k in obj):
        raise RoiConfigError(f"{pth} is not a segment-anything/MedSAM state dict")
    return obj


def infer_config(state: dict[str, torch.Tensor]):
    """``SamConfig`` of a standard ViT-B/L/H checkpoint, read from the patch-embedding width."""
    from transformers import SamConfig, SamVisionConfig

    width = state["image_encoder.patch_embed.proj.weight"].shape[0]
    layouts = {768: (12, 12, [2, 5, 8, 11]), 1024: (24, 16, [5, 11, 17, 23]), 1280: (32, 16, [7, 15, 23, 31])}
    if width not in layouts:
        raise RoiConfigError(f"non-standard SAM image encoder width {width}: pass a SamConfig")
    depth, heads, global_idx = layouts[width]
    vision = SamVisionConfig(hidden_size=width, num_hidden_layers=depth, num_attention_heads=heads,
                             global_attn_indexes=global_idx)
    return SamConfig(vision_config=vision)


def load_pth_as_sam(pth: Path, config=None):
    """A ``SamModel`` (eval) with the weights of an original-format ``.pth``; strict loading."""
    from transformers import SamModel

    original = load_original(pth)
    model = SamModel(config or infer_config(original)).eval()
    missing, unexpected = model.load_state_dict(to_transformers(original), strict=False)
    if missing or unexpected:
        raise RoiConfigError(f"{pth}: keys do not match SamModel: missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}")
    return model


def convert(pth: Path, out_dir: Path, config=None) -> Path:
    """Write ``pth`` as a transformers model directory ``out_dir``."""
    load_pth_as_sam(pth, config).save_pretrained(out_dir)
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m curate.roi.convert_medsam MODEL.pth OUT_DIR")
    print(convert(Path(sys.argv[1]), Path(sys.argv[2])))
