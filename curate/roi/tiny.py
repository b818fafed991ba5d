"""Builders of random-weight Grounding DINO and SAM models, saved like real checkpoints.

Tests and ``make stages`` experiments use the tiny ones (built from small configs in well
under a second, no download). ``full_*`` build the real architectures (Swin-T + BERT-base
Grounding DINO; SAM ViT-B, MedSAM's layout) in memory for latency benchmarks.
Nothing here fetches from a hub: the tokenizer's vocabulary is written locally.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = ("panel label arrow arrowhead asterisk box circle lesion tumor tumour nodule mass cell cells "
          "nucleus nuclei vessel region area tissue bone lung liver brain kidney heart stain staining "
          "positive negative left right upper lower the a of in with and").split()


def write_vocab(path: Path) -> Path:
    """A small WordPiece vocabulary: specials, punctuation, words, and single characters
    (plain and ``##``) so any lower-case ASCII word tokenizes without ``[UNK]``."""
    chars = list(string.ascii_lowercase + string.digits)
    tokens = _SPECIAL + list(".,;:-()/+") + _WORDS + chars + [f"##{c}" for c in chars]
    seen: dict[str, None] = dict.fromkeys(tokens)
    path.write_text("\n".join(seen) + "\n")
    return path


def _tokenizer(work: Path):
    from transformers import BertTokenizer

    return BertTokenizer(vocab=str(write_vocab(work / "vocab.txt")))


def tiny_grounding_dino_config(vocab_size: int, image_size: int = 256, max_text_len: int = 32):
    from transformers import BertConfig, GroundingDinoConfig, SwinConfig

    text = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=64)
    backbone = SwinConfig(image_size=image_size, patch_size=4, embed_dim=16, depths=[1, 1, 1, 1],
                          num_heads=[1, 1, 2, 2], window_size=4, out_features=["stage2", "stage3", "stage4"])
    # decoder_layers >= 2: with 1, transformers' tied bbox-embed keys fail in post_init.
    return GroundingDinoConfig(backbone_config=backbone, text_config=text, d_model=32, num_queries=20,
                               encoder_layers=1, decoder_layers=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                               encoder_attention_heads=2, decoder_attention_heads=2,
                               max_text_len=max_text_len, num_feature_levels=4)


def build_grounding_dino(out_dir: Path, config=None, image_edge: int = 256, seed: int = 0) -> Path:
    """Save a random-weight Grounding DINO (model, tokenizer, PIL image processor) to ``out_dir``.

    ``config`` None builds the tiny one; ``image_edge`` is the processor's resize edge.
    """
    from transformers import GroundingDinoForObjectDetection, GroundingDinoImageProcessorPil

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = _tokenizer(out_dir)
    torch.manual_seed(seed)
    cfg = config or tiny_grounding_dino_config(tok.vocab_size, image_edge)
    GroundingDinoForObjectDetection(cfg).eval().save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    size = {"shortest_edge": image_edge, "longest_edge": image_edge}
    GroundingDinoImageProcessorPil(size=size).save_pretrained(out_dir)
    return out_dir


def tiny_sam_config(image_size: int = 256):
    from transformers import SamConfig, SamMaskDecoderConfig, SamPromptEncoderConfig, SamVisionConfig

    # num_pos_feats must be the prompt encoder's hidden_size / 2, or _embed_boxes fails.
    vision = SamVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_dim=64,
                             output_channels=32, image_size=image_size, patch_size=16,
                             global_attn_indexes=[1], window_size=4, num_pos_feats=16)
    prompt = SamPromptEncoderConfig(hidden_size=32, image_size=image_size, patch_size=16, mask_input_channels=4)
    decoder = SamMaskDecoderConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_dim=64,
                                   iou_head_hidden_dim=32)
    return SamConfig(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)


def sam_model(config=None, seed: int = 0):
    """A random-weight ``SamModel`` in eval mode (tiny when ``config`` is None)."""
    from transformers import SamModel

    torch.manual_seed(seed)
    return SamModel(config or tiny_sam_config()).eval()


def build_sam(out_dir: Path, config=None, seed: int = 0) -> Path:
    """Save a random-weight SAM (model + SAM image processor sized to it) to ``out_dir``."""
    from transformers import SamImageProcessorPil

    out_dir.mkdir(parents=True, exist_ok=True)
    model = sam_model(config, seed)
    model.save_pretrained(out_dir)
    edge = model.config.vision_config.image_size
    low = edge // 4
    SamImageProcessorPil(size={"longest_edge": edge}, pad_size={"height": edge, "width": edge},
                         mask_size={"longest_edge": low},
                         mask_pad_size={"height": low, "width": low}).save_pretrained(out_dir)
    return out_dir


def full_grounding_dino(work: Path, seed: int = 0):
    """(model, processor) of the full Swin-T + BERT-base Grounding DINO with random weights,
    processor resizing like grounding-dino-tiny (shortest edge 800, longest 1333)."""
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
    )

    work.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = GroundingDinoForObjectDetection(GroundingDinoConfig()).eval()
    proc = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessorPil(size={"shortest_edge": 800, "longest_edge": 1333}),
        tokenizer=_tokenizer(work))
    return model, proc
