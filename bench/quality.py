"""Quality stage benchmarks: duplicate detection, image type, modality, throughput.

- ``quality.dedup_f1.sample``: pairwise F1 of duplicate groups on a generated set. Distinct
  real images (every figure in the shared data plus every hand-boxed panel crop of panel-gt,
  which includes many look-alike charts of one figure) and, for every third of them, five
  altered copies: an exact re-save, resized to 70%, recompressed as JPEG quality 60, cropped by
  3-6 pixels per side, and colour-shifted (brightness +18, red -12). A pair is a true duplicate
  when both come from one original.
- ``quality.image_type_acc.shared`` / ``quality.modality_acc.shared``: accuracy on the labelled
  set ``bench/data/quality_labels.csv`` (how it was labelled is in its header), with the texts
  the pipeline would have (caption, the panel's own sub-caption, mentions).
- ``quality.image_type_acc.heldout``: the same on ``bench/data/quality_labels_heldout.csv``,
  labelled after the rules were tuned on the set above and never used to tune them (the honest
  figure; the ``.shared`` one is a training-set score).
- ``quality.panels_per_s``: tag_image (cues, classifiers, fingerprint) on the labelled items,
  one core, decoded pixels in memory.
- ``quality.dedup_index_per_s.20k``: the run-wide near-pair search (multi-index, radius 1,
  pHash <= 10) on 20,000 random 64-bit hashes, items per second.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image

from curate.quality.dedup import fingerprint, resolve
from curate.quality.features import image_cues
from curate.quality.imagetype import classify_image_type
from curate.quality.modality import classify_modality
from curate.quality.tags import tag_image
from curate.quality.vocab import weighted_texts

FIGURE_GLOBS = ("soda-mmqc-embo/examples/*/content/*/content/*.[jp][pn]g",
                "jats-with-images/encoda/*/*.jpg", "jats-with-images/encoda/*/g*.png",
                "medicat-sample/figures/*.png", "unlabeled-compound-figures/*/*.jpg",
                "exsclaim-nature/figures/*.jpg", "medical-images-from-packages/scikit-image/*")
MODALITY_ALIASES = {"fundus": "fundus_oct"}


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def distinct_images(root: Path) -> list[tuple[str, np.ndarray]]:
    """(figure it belongs to, pixels): whole figures, then panel-gt's panel crops of each figure."""
    import json

    images = [(str(p), _rgb(p)) for g in FIGURE_GLOBS for p in sorted(root.glob(g))]
    for fig in json.loads((root / "panel-gt" / "panels.json").read_text())["figures"]:
        rgb = _rgb(root / fig["image"])
        images += [(fig["image"], np.ascontiguousarray(rgb[y1:y2, x1:x2]))
                   for x1, y1, x2, y2 in (p["bbox_xyxy"] for p in fig["panels"])]
    unique: dict[bytes, tuple[str, np.ndarray]] = {}
    for figure, img in images:
        unique.setdefault(img.tobytes()[:4096] + bytes(str(img.shape), "ascii"), (figure, img))
    return list(unique.values())


def altered_copies(rgb: np.ndarray, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rgb)
    out = [np.asarray(Image.open(io.BytesIO(_encode(img, "PNG"))).convert("RGB"))]
    w, h = img.size
    out.append(np.asarray(img.resize((max(8, round(w * 0.7)), max(8, round(h * 0.7))), Image.Resampling.LANCZOS)))
    out.append(np.asarray(Image.open(io.BytesIO(_encode(img, "JPEG", quality=60))).convert("RGB")))
    d = rng.integers(3, 7, size=4)
    out.append(np.ascontiguousarray(rgb[d[1]:h - d[3], d[0]:w - d[2]]))
    shifted = rgb.astype(np.int16) + np.array([6, 18, 18], dtype=np.int16)
    out.append(np.clip(shifted, 0, 255).astype(np.uint8))
    return out


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def dedup_scores(images: list[tuple[str, np.ndarray]]) -> dict[str, float]:
    """Copies count as figures of other papers; originals keep their figure (sibling panels)."""
    prints, origin = [], {}
    for i, (figure, rgb) in enumerate(images):
        variants = [rgb] + (altered_copies(rgb, i) if i % 3 == 0 else [])
        for k, img in enumerate(variants):
            item = f"img{i:05d}_{k}"
            prints.append(fingerprint(item, f"doc{i:05d}_{k}", img, figure_id=figure if k == 0 else item))
            origin[item] = i
    canon = {p.id: p.id for p in prints}
    canon.update({link.id: link.canonical_id for link in resolve(prints)})
    groups: dict[str, list[str]] = {}
    for item, c in canon.items():
        groups.setdefault(c, []).append(item)
    predicted = {frozenset(pair) for members in groups.values() for pair in combinations(sorted(members), 2)}
    by_origin: dict[int, list[str]] = {}
    for item, o in origin.items():
        by_origin.setdefault(o, []).append(item)
    truth = {frozenset(pair) for members in by_origin.values() for pair in combinations(sorted(members), 2)}
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_images": len(prints), "n_true_pairs": len(truth)}


def labelled_scores(root: Path, labels: Path | None = None) -> dict[str, float]:
    from bench.quality_data import LABELS, load_items

    items = load_items(root, labels or LABELS)
    type_ok, type_n, per_class = 0, 0, Counter()
    mod_ok, mod_n = 0, 0
    start = time.perf_counter()
    for it in items:
        tag_image("x", "panel", "f", "d", "unknown", it.rgb, own_text=it.own_text, caption=it.caption,
                  mentions=it.mentions)
    per_s = len(items) / (time.perf_counter() - start)
    for it in items:
        cues, texts = image_cues(it.rgb), weighted_texts(it.own_text, it.caption, it.mentions)
        if it.image_type != "mixed":
            predicted, _, _ = classify_image_type(cues, texts)
            type_n += 1
            type_ok += predicted == it.image_type
            per_class[(it.image_type, predicted == it.image_type)] += 1
        if it.modality:
            # modality is scored given a photo: a type error above is not counted twice
            modality, _ = classify_modality(cues, "photo", texts)
            mod_n += 1
            mod_ok += modality == MODALITY_ALIASES.get(it.modality, it.modality)
    classes = {c for c, _ in per_class}
    balanced = float(np.mean([per_class[(c, True)] / (per_class[(c, True)] + per_class[(c, False)]) for c in classes]))
    return {"image_type_acc": type_ok / type_n, "image_type_balanced_acc": balanced, "image_type_n": type_n,
            "modality_acc": mod_ok / mod_n if mod_n else float("nan"), "modality_n": mod_n, "panels_per_s": per_s}


def index_rate(n: int = 20000, max_distance: int = 10) -> float:
    """Items per second through the multi-index near-pair search (radius 1) on random hashes."""
    from curate.quality.dedup import near_pairs

    hashes = [int(x) for x in np.random.default_rng(0).integers(0, 2**63, n, dtype=np.int64)]
    start = time.perf_counter()
    near_pairs(hashes, max_distance, max_radius=1)
    return n / (time.perf_counter() - start)


def run(results: dict, data_root: Path) -> None:
    results["quality.dedup_index_per_s.20k"] = round(index_rate())
    if not (data_root / "panel-gt" / "panels.json").exists():
        return
    dedup = dedup_scores(distinct_images(data_root))
    results["quality.dedup_f1.sample"] = round(dedup["f1"], 4)
    results["quality.dedup_precision.sample"] = round(dedup["precision"], 4)
    results["quality.dedup_recall.sample"] = round(dedup["recall"], 4)
    results["quality.dedup_images.sample"] = dedup["n_images"]
    scores = labelled_scores(data_root)
    results["quality.image_type_acc.shared"] = round(scores["image_type_acc"], 4)
    results["quality.image_type_balanced_acc.shared"] = round(scores["image_type_balanced_acc"], 4)
    results["quality.image_type_n.shared"] = scores["image_type_n"]
    results["quality.modality_acc.shared"] = round(scores["modality_acc"], 4)
    results["quality.modality_n.shared"] = scores["modality_n"]
    results["quality.panels_per_s"] = round(scores["panels_per_s"], 2)
    from bench.quality_data import HELDOUT

    held = labelled_scores(data_root, HELDOUT)
    results["quality.image_type_acc.heldout"] = round(held["image_type_acc"], 4)
    results["quality.image_type_balanced_acc.heldout"] = round(held["image_type_balanced_acc"], 4)
    results["quality.image_type_n.heldout"] = held["image_type_n"]
