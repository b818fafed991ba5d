"""Shards -> training batches, as a chain of named steps (open_clip's WebDataset layout):

shard list -> shuffle shards -> split by node (rank) -> split by worker -> read tar members
-> shuffle samples -> skip (resume) -> decode -> batch.

Every step is a plain generator, seeded by ``(seed, epoch, pass)`` only, so the same position
always yields the same batches: resuming skips the samples already consumed (before decoding,
so a skip costs tar reads, not JPEG decodes). Images are squashed to ``image_size`` squared,
RGB, CLIP-normalised; ROI boxes are ``xyxy`` in the sample image's pixels on input and in the
resized image's pixels (``roi_box``) on output.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)  # CLIP/BiomedCLIP preprocessing
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
NO_FINDING = "No Finding"
ROI_PHASES = ("roi", "joint")
_PUNCT = re.compile(r"[^\w\s]+")


def clean_text(text: str) -> str:
    """Lower-case, punctuation (``|`` included) replaced by spaces, whitespace collapsed."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def group_hash(text: str) -> int:
    """Stable 62-bit int of an id, so figure/paper identity can travel in an int64 tensor."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def shard_urls(shards_dir: Path | str, split: str) -> list[str]:
    urls = sorted(str(p) for p in (Path(shards_dir) / split).glob("*.tar"))
    if not urls:
        raise FileNotFoundError(f"no shards in {Path(shards_dir) / split}")
    return urls


def split_size(shards_dir: Path | str, split: str) -> int:
    """Samples in a split, from its ``sizes.json`` (shard name -> sample count)."""
    sizes = json.loads((Path(shards_dir) / split / "sizes.json").read_text())
    return int(sum(sizes.values()))


class BadSampleCounter:
    """Counts unusable samples; raises once their share passes the threshold (after ``min_seen``)."""

    def __init__(self, max_fraction: float, min_seen: int):
        self.max_fraction, self.min_seen = max_fraction, min_seen
        self.seen = self.bad = 0
        self.reasons: dict[str, int] = {}

    def ok(self) -> None:
        self.seen += 1

    def failed(self, key: str, exc: Exception) -> None:
        self.seen += 1
        self.bad += 1
        name = type(exc).__name__
        self.reasons[name] = self.reasons.get(name, 0) + 1
        if self.seen >= self.min_seen and self.bad > self.max_fraction * self.seen:
            raise RuntimeError(f"{self.bad}/{self.seen} bad samples (> {self.max_fraction:.1%}), last {key}: "
                               f"{name}: {exc}; by reason {self.reasons}")


# ---- named steps -------------------------------------------------------------------------------

def shuffle_shards(urls: list[str], seed: int) -> list[str]:
    out = list(urls)
    random.Random(seed).shuffle(out)
    return out


def split_by_node(urls: list[str], rank: int, world: int) -> list[str]:
    """Shards of this rank; with fewer shards than ranks every rank reads all (and its own order)."""
    return urls[rank::world] if len(urls) >= world else urls


def split_by_worker(urls: list[str]) -> list[str]:
    info = torch.utils.data.get_worker_info()
    if info is None or len(urls) < info.num_workers:
        return urls
    return urls[info.id::info.num_workers]


def read_tar_samples(urls: list[str]) -> Iterator[dict]:
    """Group tar members by key (text before the first dot) -> ``{"__key__", ext: bytes}``."""
    import tarfile

    for url in urls:
        with tarfile.open(url) as tar:
            current: dict = {}
            for member in tar:
                if not member.isfile():
                    continue
                key, _, ext = member.name.partition(".")
                if current and current["__key__"] != key:
                    yield current
                    current = {}
                current.setdefault("__key__", key)
                current[ext] = tar.extractfile(member).read()
            if current:
                yield current


def shuffle_samples(samples: Iterator[dict], buffer: int, rng: random.Random) -> Iterator[dict]:
    pool: list[dict] = []
    for sample in samples:
        pool.append(sample)
        if len(pool) >= buffer:
            yield pool.pop(rng.randrange(len(pool)))
    rng.shuffle(pool)
    yield from pool


def skip(samples: Iterator[dict], n: int) -> Iterator[dict]:
    for i, sample in enumerate(samples):
        if i >= n:
            yield sample


# ---- decode ------------------------------------------------------------------------------------

@dataclass
class Example:
    key: str
    level: str
    image: torch.Tensor  # (3, S, S) normalised
    text: str  # global text (report), cleaned
    figure: int
    paper: int
    has_roi: bool = False
    roi_text: str = ""
    negatives: list[str] = field(default_factory=list)
    roi_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # xyxy in resized pixels
    roi_image: torch.Tensor | None = None  # (3, R, R), crop mode only


def to_tensor(img: Image.Image, size: int) -> torch.Tensor:
    arr = np.asarray(img.convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.float32) / 255.0
    return torch.from_numpy(((arr - MEAN) / STD).transpose(2, 0, 1).copy())


def select_texts(meta: dict, txt: str) -> tuple[str, str, list[str]]:
    """(global text, region caption, negatives): report for the global pair, else summary, else
    the main caption; the region caption and its negatives for the ROI pair."""
    texts = meta.get("texts") or {}
    main = texts.get("report") or texts.get("summary") or txt
    return main, texts.get("region") or "", list(texts.get("negatives") or [])


def roi_box_of(meta: dict, region_text: str, width: int, height: int) -> list[float] | None:
    """The ROI a region caption describes: the whole image for a patch sample; else the region
    whose position words end the caption, else the first region with a positive-area box."""
    if meta.get("level") == "patch":
        return [0.0, 0.0, float(width), float(height)]
    regions = [r for r in meta.get("regions") or []
               if r["bbox_xyxy"][2] > r["bbox_xyxy"][0] and r["bbox_xyxy"][3] > r["bbox_xyxy"][1]]
    for region in regions:
        if region.get("position") and region_text.endswith(region["position"]):
            return [float(v) for v in region["bbox_xyxy"]]
    return [float(v) for v in regions[0]["bbox_xyxy"]] if regions else None


def decode(sample: dict, *, image_size: int, roi_size: int, with_roi: bool, crop_rois: bool) -> Example:
    """One tar sample -> Example; raises (KeyError, OSError, ValueError) on an unusable sample."""
    meta = json.loads(sample["json"])
    txt = sample["txt"].decode("utf-8")
    img = Image.open(io.BytesIO(sample["jpg"]))
    img.load()
    width, height = img.size
    main, region, negatives = select_texts(meta, txt)
    if not clean_text(main):
        raise ValueError("empty global text")
    ex = Example(key=sample["__key__"], level=meta["level"], image=to_tensor(img, image_size),
                 text=clean_text(main), figure=group_hash(meta["figure_id"]), paper=group_hash(meta["document_id"]))
    box = roi_box_of(meta, region, width, height) if with_roi and region and region != NO_FINDING else None
    if box is not None and len(negatives) >= 1:
        sx, sy = image_size / width, image_size / height
        ex.has_roi, ex.roi_text = True, clean_text(region)
        ex.negatives = [clean_text(n) for n in negatives]
        ex.roi_box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
        if crop_rois:
            ex.roi_image = to_tensor(img.crop(tuple(round(v) for v in box)), roi_size)
    return ex


def decode_step(samples: Iterator[dict], counter: BadSampleCounter, **kw) -> Iterator[Example]:
    for sample in samples:
        try:
            ex = decode(sample, **kw)
        except (KeyError, OSError, ValueError, UnicodeDecodeError) as exc:
            counter.failed(sample.get("__key__", "?"), exc)
            continue
        counter.ok()
        yield ex


def batch_step(examples: Iterator[Example], batch_size: int, drop_last: bool = True) -> Iterator[list[Example]]:
    """Batches of ``batch_size``; training drops a partial one (equal shapes on every rank)."""
    batch: list[Example] = []
    for ex in examples:
        batch.append(ex)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch and not drop_last:
        yield batch


# ---- tokenizer and the assembled stream --------------------------------------------------------

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_vocab(urls: list[str], size: int, max_samples: int = 20000) -> list[str]:
    """A word vocabulary (specials first, then the most frequent cleaned words, ties by word) from
    every text of the first ``max_samples`` samples: for tiny models trained from scratch."""
    counts: dict[str, int] = {}
    for n, sample in enumerate(read_tar_samples(urls)):
        if n >= max_samples:
            break
        meta = json.loads(sample.get("json", b"{}"))
        texts = meta.get("texts") or {}
        pieces = [sample.get("txt", b"").decode("utf-8", "replace"), texts.get("report", ""),
                  texts.get("summary", ""), texts.get("region", ""), *(texts.get("negatives") or [])]
        for word in clean_text(" ".join(pieces)).split():
            counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return SPECIALS + words[: max(0, size - len(SPECIALS))]


def load_tokenizer(vocab_path: Path | str):
    """A BERT WordPiece tokenizer from a local vocab.txt (never a hub id)."""
    from transformers import BertTokenizer

    return BertTokenizer(vocab=str(vocab_path), do_lower_case=True)


def tokenizer_from_words(words: list[str]):
    """``load_tokenizer`` over an in-memory vocabulary (a checkpoint's, a benchmark's)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(words) + "\n")
        return load_tokenizer(vocab)


def tokenize(tokenizer, texts: list[str], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    out = tokenizer(texts, padding="max_length", truncation=True, max_length=length, return_tensors="pt")
    return out["input_ids"], out["attention_mask"]


LEVEL_INDEX = {"figure": 0, "panel": 1, "patch": 2}


def collate(batch: list[Example], tokenizer, length: int, n_neg: int = 5) -> dict[str, torch.Tensor]:
    """Examples -> tensors. ``neg_ids`` is (B, n_neg, L): a row with fewer negatives repeats its
    last; rows without an ROI carry their global text's negatives-free padding and ``has_roi`` 0."""
    ids, mask = tokenize(tokenizer, [e.text for e in batch], length)
    out = {"images": torch.stack([e.image for e in batch]), "input_ids": ids, "attention_mask": mask,
           "level": torch.tensor([LEVEL_INDEX[e.level] for e in batch]),
           "figure": torch.tensor([e.figure for e in batch]), "paper": torch.tensor([e.paper for e in batch]),
           "has_roi": torch.tensor([e.has_roi for e in batch])}
    if any(e.has_roi for e in batch):
        roi_ids, roi_mask = tokenize(tokenizer, [e.roi_text or e.text for e in batch], length)
        negs = [(e.negatives or [e.text])[:n_neg] for e in batch]
        negs = [n + [n[-1]] * (n_neg - len(n)) for n in negs]
        neg_ids, neg_mask = tokenize(tokenizer, [t for n in negs for t in n], length)
        out.update(roi_ids=roi_ids, roi_mask=roi_mask, roi_boxes=torch.tensor([e.roi_box for e in batch]),
                   neg_ids=neg_ids.view(len(batch), n_neg, -1), neg_mask=neg_mask.view(len(batch), n_neg, -1))
        if batch[0].roi_image is not None or any(e.roi_image is not None for e in batch):
            blank = torch.zeros_like(next(e.roi_image for e in batch if e.roi_image is not None))
            out["roi_images"] = torch.stack([e.roi_image if e.roi_image is not None else blank for e in batch])
    return out


class ShardStream(torch.utils.data.IterableDataset):
    """Endless batches for one (epoch, rank): passes over the split repeat with new seeds, so every
    rank yields the same number of batches whatever its shard share. ``skip_batches`` global
    batches (as numbered by a DataLoader that alternates workers) are skipped before decoding."""

    def __init__(self, urls: list[str], *, seed: int, epoch: int, rank: int, world: int, batch_size: int,
                 tokenizer, context_length: int, image_size: int, roi_size: int, phase: str, crop_rois: bool,
                 shuffle_buffer: int, max_bad_fraction: float, bad_min_seen: int, skip_batches: int = 0):
        super().__init__()
        self.urls, self.seed, self.epoch, self.rank, self.world = urls, seed, epoch, rank, world
        self.batch_size, self.tokenizer, self.length = batch_size, tokenizer, context_length
        self.decode_kw = {"image_size": image_size, "roi_size": roi_size, "with_roi": phase in ROI_PHASES,
                          "crop_rois": crop_rois}
        self.buffer, self.skip_batches = shuffle_buffer, skip_batches
        self.bad = (max_bad_fraction, bad_min_seen)

    def _raw(self, worker: int) -> Iterator[dict]:
        for n_pass in range(10**9):
            urls = shuffle_shards(self.urls, hash((self.seed, self.epoch, n_pass)) & 0xFFFFFFFF)
            urls = split_by_worker(split_by_node(urls, self.rank, self.world))
            rng = random.Random(f"{self.seed}-{self.epoch}-{n_pass}-{self.rank}-{worker}")
            yield from shuffle_samples(read_tar_samples(urls), self.buffer, rng)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info else (0, 1)
        mine = (self.skip_batches - worker + n_workers - 1) // n_workers  # batches k < skip with k % W == w
        counter = BadSampleCounter(*self.bad)
        samples = skip(self._raw(worker), mine * self.batch_size)
        for batch in batch_step(decode_step(samples, counter, **self.decode_kw), self.batch_size):
            yield collate(batch, self.tokenizer, self.length)
