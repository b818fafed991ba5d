"""Image <-> text retrieval on a shard split: R@1/5/10 in both directions, per level.

Each level is its own candidate pool (a patch query ranks only patch texts), plus ``all`` (every
sample) and ``roi`` (ROI embeddings vs region captions of samples that have one). Chance R@1 of a
pool of N is 1/N. A query counts as a hit when its own pair is within the top K; duplicate texts
are not merged, so identical captions cost recall (a conservative number).
"""

from __future__ import annotations

from pathlib import Path

import torch

from curate.train.config import TrainConfig
from curate.train.data import (
    BadSampleCounter,
    batch_step,
    collate,
    decode_step,
    read_tar_samples,
    shard_urls,
    tokenizer_from_words,
)

KS = (1, 5, 10)


def recall_at_k(sim: torch.Tensor, ks: tuple[int, ...] = KS) -> dict[str, float]:
    """sim: (N, N) query x candidate scores, the true candidate of query i is i. Ties rank the
    true candidate last (pessimistic)."""
    true = sim.diagonal()[:, None]
    rank = (sim >= true).sum(dim=1) - 1  # candidates scoring at least as high, excluding itself
    return {f"r{k}": (rank < k).float().mean().item() for k in ks}


def pool_metrics(queries: torch.Tensor, candidates: torch.Tensor) -> dict[str, float]:
    """``i2t_r*`` with ``queries`` as images, ``t2i_r*`` the other way, ``n`` and ``chance_r1``."""
    sim = queries @ candidates.T
    out = {f"i2t_{k}": v for k, v in recall_at_k(sim).items()}
    out.update({f"t2i_{k}": v for k, v in recall_at_k(sim.T).items()})
    out.update(n=queries.shape[0], chance_r1=1.0 / max(1, queries.shape[0]))
    return out


@torch.no_grad()
def embed_split(model, tokenizer, config: TrainConfig, shards_dir: Path | str, split: str,
                device: torch.device, batch_size: int = 32) -> dict:
    """Embeddings of every decodable sample of a split, in shard order: ``image``/``text`` (N, D),
    ``level`` (N,), and ``roi``/``roi_text`` for the samples with an ROI."""
    m = config.model
    model.eval()
    counter = BadSampleCounter(config.data.max_bad_fraction, config.data.bad_min_seen)
    examples = decode_step(read_tar_samples(shard_urls(shards_dir, split)), counter, image_size=m.vision.image_size,
                           roi_size=m.roi_size, with_roi=True, crop_rois=m.roi_mode == "crop")
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("image", "text", "level", "roi", "roi_text")}
    for batch in batch_step(examples, batch_size, drop_last=False):
        tensors = {k: v.to(device) for k, v in collate(batch, tokenizer, m.text.context_length).items()}
        out = model(tensors, with_roi=True)
        parts["image"].append(out["image"].float().cpu())
        parts["text"].append(out["text"].float().cpu())
        parts["level"].append(tensors["level"].cpu())
        if "roi" in out:
            has = tensors["has_roi"].cpu()
            parts["roi"].append(out["roi"].float().cpu()[has])
            parts["roi_text"].append(out["roi_text"].float().cpu()[has])
    model.train()
    return {k: torch.cat(v) if v else torch.empty(0) for k, v in parts.items()}


def retrieval_metrics(emb: dict) -> dict[str, dict[str, float]]:
    from curate.train.data import LEVEL_INDEX

    out = {"all": pool_metrics(emb["image"], emb["text"])}
    for name, index in LEVEL_INDEX.items():
        keep = emb["level"] == index
        if keep.sum() >= 2:
            out[name] = pool_metrics(emb["image"][keep], emb["text"][keep])
    if emb["roi"].shape[0] >= 2:
        out["roi"] = pool_metrics(emb["roi"], emb["roi_text"])
    return out


def split_retrieval(model, tokenizer, config: TrainConfig, shards_dir: Path | str, split: str,
                    device: torch.device) -> dict[str, dict[str, float]]:
    return retrieval_metrics(embed_split(model, tokenizer, config, shards_dir, split, device))


def load_checkpoint_model(checkpoint: Path | str, device: str = "cpu"):
    """(model, tokenizer, config) from a trainer checkpoint (config and vocab travel inside it)."""
    from curate.train.model import RegionClip

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = TrainConfig.model_validate(state["config"])
    model = RegionClip(config.model, len(state["vocab"]))
    model.load_state_dict(state["model"])
    return model.to(device), tokenizer_from_words(state["vocab"]), config


def evaluate(checkpoint: Path | str, shards_dir: Path | str, *, split: str = "val",
             zeroshot_dir: Path | str | None = None, device: str = "cpu") -> dict:
    """Retrieval on ``split`` of ``shards_dir`` and, given a labelled folder, zero-shot AUC."""
    model, tokenizer, config = load_checkpoint_model(checkpoint, device)
    result: dict = {"retrieval": split_retrieval(model, tokenizer, config, shards_dir, split, torch.device(device))}
    if zeroshot_dir is not None:
        from curate.eval.zeroshot import zeroshot_auc

        result["zeroshot"] = zeroshot_auc(model, tokenizer, config, zeroshot_dir, device=torch.device(device))
    return result
