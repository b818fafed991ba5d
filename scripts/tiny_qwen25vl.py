"""Build a tiny, randomly initialised Qwen2.5-VL checkpoint offline, for exercising vLLM on CPU.

Run with the vLLM venv's python (scripts/vllm_cpu_env.sh), not the project venv:

    .vllm-venv/bin/python scripts/tiny_qwen25vl.py OUT_DIR [--steered] [--seed 0]

Nothing is downloaded: the byte-level BPE tokenizer is trained here on a few sentences, and the
weights are random (seeded, so two builds are byte-identical). Shape notes:
- text model: hidden 64, 2 layers, 2 heads x head_dim 32 (vLLM's CPU attention rejects head_dim
  16), 1 KV head, ``mrope_section`` [4, 6, 6] (sums to head_dim / 2);
- vision tower: depth 2, hidden 64, patch 14, merge 2; at most 16 image tokens per image;
- ``max_position_embeddings`` 16384, so long prompts plus long constrained answers fit.
``--steered`` makes every logit constant (ranked quote > end > 'x' > JSON punctuation), so greedy
schema-constrained decoding closes each string as soon as the schema allows; the default random
model produces varied (distinct) strings, which rules such as "five different negatives" need.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2TokenizerFast

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
            "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
            "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
CORPUS = [
    "Axial CT shows an irregular mass in the left upper lobe of the lung.",
    "Immunohistochemistry of the tumour: brown staining marks positive nuclei in the lower field.",
    '{"summary_caption": "a caption", "detailed_report": "details", "region_extraction": '
    '"focal|lesion|right lower", "negative_variations": ["a", "b", "c", "d", "e"]}',
    "You are an expert radiologist and pathologist annotating one image from a paper.",
    "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ !?.,:;'\"[]{}()<>-_/\\|@#$%^&*+=~`",
]
# Qwen-style chat template: image parts become <|vision_start|><|image_pad|><|vision_end|>.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant."
    "<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
HIDDEN, HEADS = 64, 2
MIN_PIXELS, MAX_PIXELS = 28 * 28 * 4, 28 * 28 * 16


def build_tokenizer(out: Path) -> Qwen2TokenizerFast:
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[], show_progress=False)
    tok.train_from_iterator(CORPUS * 50, trainer=trainer)
    tok.add_special_tokens(SPECIALS)
    hf_tok = Qwen2TokenizerFast(
        tokenizer_object=tok, bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token=None, additional_special_tokens=SPECIALS, model_max_length=16384,
        clean_up_tokenization_spaces=False, errors="replace", split_special_tokens=False)
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(out)
    return hf_tok


def build_config(hf_tok: Qwen2TokenizerFast) -> Qwen2_5_VLConfig:
    ids = {t: hf_tok.convert_tokens_to_ids(t) for t in SPECIALS}
    cfg = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(hf_tok), hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=HEADS, num_key_value_heads=1, max_position_embeddings=16384,
            max_window_layers=2, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "mrope_section": [4, 6, 6], "rope_theta": 1000000.0},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
            pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=False),
        vision_config=dict(
            depth=2, hidden_size=64, intermediate_size=128, num_heads=4, in_channels=3, patch_size=14,
            spatial_merge_size=2, temporal_patch_size=2, window_size=112, out_hidden_size=HIDDEN,
            fullatt_block_indexes=[1], tokens_per_second=2),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False)
    cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id = (
        ids["<|endoftext|>"], ids["<|im_end|>"], ids["<|endoftext|>"])
    return cfg


@torch.no_grad()
def steer(model, hf_tok: Qwen2TokenizerFast) -> None:
    """Make the logits the same at every position, ranked so constrained strings close early."""
    lm = model.model.language_model
    for layer in lm.layers:  # residual stream = token embedding only
        layer.self_attn.o_proj.weight.zero_()
        layer.mlp.down_proj.weight.zero_()
    lm.embed_tokens.weight.fill_(1.0)
    lm.norm.weight.fill_(1.0)
    vocab = len(hf_tok)
    score = torch.rand(vocab) * 0.5
    for token, i in hf_tok.get_vocab().items():  # whitespace-only tokens lose to everything
        if i < vocab and hf_tok.decode([i]).strip() == "" and token not in SPECIALS:
            score[i] = -5.0
    for token, value in {'"': 10.0, "x": 8.0, ":": 7.5, ",": 7.0, "[": 6.5, "]": 6.0, "{": 5.5, "}": 5.0}.items():
        score[hf_tok.convert_tokens_to_ids(token)] = value
    score[hf_tok.convert_tokens_to_ids("<|im_end|>")] = 9.0
    model.lm_head.weight.copy_(score[:, None].expand(-1, HIDDEN) / HIDDEN)


def write_processor_files(out: Path) -> None:
    (out / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2_5_VLProcessor",
        "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "do_convert_rgb": True, "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711], "min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS,
        "size": {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}, "patch_size": 14,
        "temporal_patch_size": 2, "merge_size": 2, "resample": 3}, indent=2))
    (out / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}, indent=2))


def build(out: Path, steered: bool = False, seed: int = 0) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    hf_tok = build_tokenizer(out)
    model = Qwen2_5_VLForConditionalGeneration(build_config(hf_tok))
    if steered:
        steer(model, hf_tok)
    model.to(torch.bfloat16).eval().save_pretrained(out, safe_serialization=True)
    end, pad = hf_tok.convert_tokens_to_ids("<|im_end|>"), hf_tok.convert_tokens_to_ids("<|endoftext|>")
    (out / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": pad, "eos_token_id": [end, pad], "pad_token_id": pad, "do_sample": False}, indent=2))
    write_processor_files(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--steered", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(build(args.out, args.steered, args.seed))


if __name__ == "__main__":
    main()
