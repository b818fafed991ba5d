"""Trainer throughput on CPU and the tiny model's retrieval on the sample shards.

Keys: ``train.samples_per_s.cpu.tiny`` (manifests/train_tiny.yaml model, joint-phase step with
ROI crops and negatives, batch 16), ``train.samples_per_s.cpu.vitb16`` (ViT-B/16 + BERT-base,
random weights, global-phase step, batch 8, median of 3 after one warm-up step),
``train.roi_overhead_ratio.cpu.tiny`` (joint step / plain CLIP global step, same encoders),
``train.sample_r1.after`` (mean of image->text and text->image R@1 over the train split after
the tiny curriculum) and ``train.sample_r1.chance`` (1 / samples).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from curate.train.config import TrainConfig, load_train_config
from curate.train.data import ShardStream, build_vocab, shard_urls, tokenizer_from_words
from curate.train.losses import region_clip_loss
from curate.train.model import RegionClip

REPO = Path(__file__).resolve().parents[1]


def _shards(work: Path) -> Path:
    """The sample corpus as shards (the test fixture builder: generator ground truth -> build_samples)."""
    from tests.test_train_loop import build_sample_shards

    root = work / "train_shards"
    return root / "shards" if (root / "shards" / "train" / "sizes.json").exists() else build_sample_shards(root)


def _step_times(cfg: TrainConfig, shards: Path, words: list[str], phase: str, batch: int,
                steps: int) -> list[float]:
    tok = tokenizer_from_words(words)
    m = cfg.model
    stream = ShardStream(shard_urls(shards, "train"), seed=0, epoch=0, rank=0, world=1, batch_size=batch,
                         tokenizer=tok, context_length=m.text.context_length, image_size=m.vision.image_size,
                         roi_size=m.roi_size, phase=phase, crop_rois=m.roi_mode == "crop", shuffle_buffer=64,
                         max_bad_fraction=0.05, bad_min_seen=100)
    torch.manual_seed(0)
    model = RegionClip(m, len(words))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.02)
    times, batches = [], iter(stream)
    for _ in range(steps + 1):
        b = next(batches)
        start = time.perf_counter()
        out = model(b, with_roi=phase in ("roi", "joint"))
        sum(region_clip_loss(out, b, model, phase, cfg.loss).values()).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return times[1:]  # the first step pays allocator and kernel warm-up


def run(results: dict, data_root: Path, work: Path | None = None) -> None:
    from curate.train.loop import train

    work = Path(work or tempfile.mkdtemp())
    shards = _shards(work)
    before = torch.get_num_threads()
    tiny = load_train_config(REPO / "manifests" / "train_tiny.yaml")
    words = build_vocab(shard_urls(shards, "train"), tiny.data.vocab_size)
    torch.set_num_threads(1)
    joint = statistics.median(_step_times(tiny, shards, words, "joint", 16, 5))
    plain = statistics.median(_step_times(tiny, shards, words, "global", 16, 5))
    results["train.samples_per_s.cpu.tiny"] = round(16 / joint, 1)
    results["train.roi_overhead_ratio.cpu.tiny"] = round(joint / plain, 2)
    torch.set_num_threads(before)
    full = TrainConfig()
    # full size: pad to PubMedBERT's vocabulary so the embedding table is realistic
    padded = build_vocab(shard_urls(shards, "train"), full.data.vocab_size)
    padded += [f"unused{i}" for i in range(30522 - len(padded))]
    vitb = statistics.median(_step_times(full, shards, padded, "global", 8, 3))
    results["train.samples_per_s.cpu.vitb16"] = round(8 / vitb, 2)
    summary = train(tiny, shards, Path(tempfile.mkdtemp(dir=work)) / "run")
    r = summary["retrieval"]["all"]
    results["train.sample_r1.after"] = round((r["i2t_r1"] + r["t2i_r1"]) / 2, 4)
    results["train.sample_r1.chance"] = round(r["chance_r1"], 4)
