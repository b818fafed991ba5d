"""BiomedCLIP's open_clip state-dict layout (timm ViT with fused qkv + HF BERT) maps onto our
modules: every encoder key is covered, qkv is split in q/k/v order, and the image embedding equals
a timm-style forward written from the source tensors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from curate.train.biomedclip_keys import NO_SOURCE, load_biomedclip, map_biomedclip
from curate.train.config import ModelConfig, TextConfig, VisionConfig
from curate.train.model import RegionClip

W, HEADS, LAYERS, MLP, PATCH, IMAGE, EMBED, VOCAB = 32, 4, 2, 64, 16, 32, 16, 30


def open_clip_layout(gen: torch.Generator) -> dict[str, torch.Tensor]:
    """A random state dict with BiomedCLIP's key names and (tiny) shapes."""
    def r(*shape):
        return torch.randn(*shape, generator=gen) * 0.2

    tokens = (IMAGE // PATCH) ** 2 + 1
    sd = {"visual.trunk.cls_token": r(1, 1, W), "visual.trunk.pos_embed": r(1, tokens, W),
          "visual.trunk.patch_embed.proj.weight": r(W, 3, PATCH, PATCH), "visual.trunk.patch_embed.proj.bias": r(W),
          "visual.trunk.norm.weight": 1 + r(W), "visual.trunk.norm.bias": r(W),
          "visual.head.proj.weight": r(EMBED, W), "logit_scale": torch.tensor(4.6052),
          "text.proj.0.weight": r((W + EMBED) // 2, W), "text.proj.2.weight": r(EMBED, (W + EMBED) // 2)}
    for i in range(LAYERS):
        p = f"visual.trunk.blocks.{i}."
        sd.update({p + "norm1.weight": 1 + r(W), p + "norm1.bias": r(W), p + "attn.qkv.weight": r(3 * W, W),
                   p + "attn.qkv.bias": r(3 * W), p + "attn.proj.weight": r(W, W), p + "attn.proj.bias": r(W),
                   p + "norm2.weight": 1 + r(W), p + "norm2.bias": r(W), p + "mlp.fc1.weight": r(MLP, W),
                   p + "mlp.fc1.bias": r(MLP), p + "mlp.fc2.weight": r(W, MLP), p + "mlp.fc2.bias": r(W)})
    from transformers import BertConfig, BertModel

    bert = BertModel(BertConfig(vocab_size=VOCAB, hidden_size=W, num_hidden_layers=1, num_attention_heads=HEADS,
                                intermediate_size=MLP, max_position_embeddings=512))  # with its pooler, as HF saves it
    sd.update({f"text.transformer.{k}": v for k, v in bert.state_dict().items()})
    return sd


def timm_image_embedding(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """timm VisionTransformer forward (token pooling) + open_clip's linear head, from the source keys."""
    t = "visual.trunk."
    x = F.conv2d(x, sd[t + "patch_embed.proj.weight"], sd[t + "patch_embed.proj.bias"], stride=PATCH)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([sd[t + "cls_token"].expand(x.shape[0], -1, -1), x], 1) + sd[t + "pos_embed"]
    for i in range(LAYERS):
        p = f"{t}blocks.{i}."
        h = F.layer_norm(x, (W,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], eps=1e-6)
        qkv = F.linear(h, sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"])
        q, k, v = qkv.view(x.shape[0], x.shape[1], 3, HEADS, W // HEADS).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-1, -2)) * (W // HEADS) ** -0.5).softmax(-1) @ v
        x = x + F.linear(attn.transpose(1, 2).reshape_as(x), sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"])
        h = F.layer_norm(x, (W,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], eps=1e-6)
        x = x + F.linear(F.gelu(F.linear(h, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
                         sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])
    x = F.layer_norm(x, (W,), sd[t + "norm.weight"], sd[t + "norm.bias"], eps=1e-6)
    return F.normalize(x[:, 0] @ sd["visual.head.proj.weight"].T, dim=-1)


@pytest.fixture
def model() -> RegionClip:
    cfg = ModelConfig(vision=VisionConfig(image_size=IMAGE, patch_size=PATCH, width=W, layers=LAYERS, heads=HEADS,
                                          mlp=MLP),
                      text=TextConfig(width=W, layers=1, heads=HEADS, mlp=MLP, context_length=16),
                      embed_dim=EMBED, roi_size=IMAGE)
    return RegionClip(cfg, VOCAB).eval()


def test_mapping_covers_the_encoders_and_splits_qkv(model):
    sd = open_clip_layout(torch.Generator().manual_seed(0))
    missing = load_biomedclip(model, sd)
    assert missing and all(k.startswith(NO_SOURCE) for k in missing)
    mapped = map_biomedclip(sd)
    qkv = sd["visual.trunk.blocks.1.attn.qkv.weight"]
    assert torch.equal(mapped["vision.layers.1.attention.q_proj.weight"], qkv[:W])
    assert torch.equal(mapped["vision.layers.1.attention.k_proj.weight"], qkv[W:2 * W])
    assert torch.equal(mapped["vision.layers.1.attention.v_proj.weight"], qkv[2 * W:])
    assert not any(k.startswith("text.pooler") for k in mapped)
    assert model.logit_scale.item() == pytest.approx(4.6052)


def test_mapped_model_reproduces_the_timm_forward(model):
    sd = open_clip_layout(torch.Generator().manual_seed(1))
    load_biomedclip(model, sd)
    x = torch.randn(2, 3, IMAGE, IMAGE, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ours, _ = model.encode_image(x)
    assert torch.allclose(ours, timm_image_embedding(sd, x), atol=1e-5)


def test_unknown_or_misshapen_keys_fail_loudly(model):
    sd = open_clip_layout(torch.Generator().manual_seed(0))
    with pytest.raises(KeyError, match="outside the BiomedCLIP layout"):
        map_biomedclip({**sd, "visual.attnpool.weight": torch.zeros(1)})
    del sd["visual.trunk.blocks.0.mlp.fc1.bias"]
    with pytest.raises(KeyError, match="mapping incomplete"):
        load_biomedclip(model, sd)
