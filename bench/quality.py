"""Quality stage benchmarks: duplicate detection, image type, modality, throughput.

- ``quality.dedup_f1.sample``: pairwise F1 of duplicate groups on a generated set. Distinct
  real images (every figure in the shared data plus every hand-boxed panel crop of panel-gt,
  which includes many look-alike charts of one figure) and, for every third of them, five
  altered copies: an exact re-save, resized to 70%, recompressed as JPEG quality 60, cropped by
  3-6 pixels per side, and colour-shifted (brightness +18, red -12). A pair is a true duplicate
  when both come from one original.
- ``quality.image_type_acc.shared``: the learned classifier's accuracy under leave-one-paper-out
  cross-validation over every scored item of the four labelled CSVs (``bench/data``; how each
  was labelled is in its header): each paper's crops are predicted by a model fit without any
  crop of that paper (rendered drawings are training data only). ``..._balanced_acc`` averages
  the per-type accuracies; ``..._ece`` is the expected calibration error of those held-out
  probabilities; ``quality.image_type_rules_acc.shared`` is the hand rules on the same items
  (they were tuned on ``quality_labels.csv``, 198 of them, so that figure is optimistic).
- ``quality.image_type_acc.heldout``: ``quality_labels_heldout.csv`` scored by a model fit on the
  other two CSVs minus every crop of a held-out figure; ``..._rules_acc.heldout`` the rules there.
- ``quality.image_type_acc.new_papers``: ``quality_labels_more.csv`` (11 papers no other CSV
  holds: the shared PDFs' figures and PubLayNet's page figures) scored by a model fit on the other
  three CSVs: how the classifier does on sources it has never seen.
- ``quality.image_type_embed_frac.shared``: share of those leave-one-paper-out items on which the
  hand-feature model was unsure and the cascade's second stage (detector embedding) decided;
  ``quality.image_type_hand_acc.shared`` is the hand-feature model alone on the same folds.
- ``quality.image_type_label_agreement.shared`` / ``..._label_kappa.shared``: how far two people
  agree on those labels: raw agreement and Cohen's kappa between the first labels and a blind
  second labelling (``bench.label_agreement``, record ``quality_labels_second.csv``) over the rows
  the first labels scored; it bounds what any classifier can be shown to reach on them.
- ``quality.modality_acc.shared``: modality rules, given a photo, on every item of the CSVs with
  one clear modality, with the texts the pipeline would have (caption, own sub-caption, mentions).
- ``quality.panels_per_s``: tag_image (cues, classifiers, fingerprint) on the labelled items,
  one core, decoded pixels in memory.
- ``quality.dedup_index_per_s.20k`` / ``.1m``: the run-wide near-pair search (multi-index,
  radius 1, pHash <= 10) on 20,000 / 1,000,000 random 63-bit hashes, items per CPU-second.
"""

from __future__ import annotations

import io
import time
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image

from bench.label_agreement import agreement, label_pairs
from curate.quality.dedup import fingerprint, resolve
from curate.quality.features import image_cues
from curate.quality.modality import classify_modality
from curate.quality.tags import tag_image
from curate.quality.vocab import weighted_texts
from curate.runtime.threads import one_opencv_thread

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


def type_scores(root: Path) -> dict[str, float]:
    """Grouped cross-validation and held-out scores of the learned image-type model (see above)."""
    from bench.quality_data import HELDOUT, MORE
    from bench.train_imagetype import (
        CLASSES,
        expected_calibration_error,
        fit,
        grouped_cv,
        labelled_features,
        photo_features,
        synthetic_features,
    )

    data, synth, photos = labelled_features(root), synthetic_features(), photo_features()
    probs, used_embed, hand_probs = grouped_cv(data, synth, photos)
    pred = probs.argmax(axis=1)
    per_class = {c: (int(((pred == data.y) & (data.y == i)).sum()), int((data.y == i).sum()))
                 for i, c in enumerate(CLASSES)}
    confusion = np.zeros((len(CLASSES), len(CLASSES)), int)
    np.add.at(confusion, (data.y, pred), 1)
    held = data.sources == HELDOUT.name
    train = ~held & ~np.isin(data.figures, data.figures[held])  # no crop of a held-out figure
    held_pred = fit(data, train, synth, photos).predict_proba(data.x[held], data.e[held])[0].argmax(axis=1)
    new = data.sources == MORE.name  # papers no other CSV holds: fit on the other CSVs, score these
    new_pred = fit(data, ~new, synth, photos).predict_proba(data.x[new], data.e[new])[0].argmax(axis=1)
    return {"acc": float((pred == data.y).mean()), "n": int(len(data.y)),
            "balanced": float(np.mean([ok / n for ok, n in per_class.values()])),
            "ece": expected_calibration_error(probs, data.y), "rules_acc": float((data.rules == data.y).mean()),
            "per_class": per_class, "confusion": confusion.tolist(),
            "heldout_acc": float((held_pred == data.y[held]).mean()), "heldout_n": int(held.sum()),
            "heldout_rules_acc": float((data.rules[held] == data.y[held]).mean()),
            "new_acc": float((new_pred == data.y[new]).mean()), "new_n": int(new.sum()),
            "new_rules_acc": float((data.rules[new] == data.y[new]).mean()),
            "embed_frac": float(used_embed.mean()), "hand_acc": float((hand_probs.argmax(axis=1) == data.y).mean())}


def modality_and_speed(root: Path) -> dict[str, float]:
    from bench.quality_data import ALL_LABELS, LABELS, load_items

    items = load_items(root, LABELS)
    start = time.perf_counter()
    with one_opencv_thread():  # one core, as the runner runs every stage
        for it in items:
            tag_image("x", "panel", "f", "d", "unknown", it.rgb, own_text=it.own_text, caption=it.caption,
                      mentions=it.mentions)
    per_s = len(items) / (time.perf_counter() - start)
    mod_ok, mod_n = 0, 0
    for labels in ALL_LABELS:
        for it in load_items(root, labels):
            if it.modality:
                # modality is scored given a photo: a type error is not counted twice
                modality, _ = classify_modality(image_cues(it.rgb), "photo",
                                                weighted_texts(it.own_text, it.caption, it.mentions))
                mod_n += 1
                mod_ok += modality == MODALITY_ALIASES.get(it.modality, it.modality)
    return {"modality_acc": mod_ok / mod_n if mod_n else float("nan"), "modality_n": mod_n, "panels_per_s": per_s}


def index_rate(n: int = 20000, max_distance: int = 10) -> float:
    """Items per CPU-second through the multi-index near-pair search (radius 1) on random hashes."""
    from curate.quality.dedup import near_pairs

    hashes = [int(x) for x in np.random.default_rng(0).integers(0, 2**63, n, dtype=np.int64)]
    start = time.process_time()
    near_pairs(hashes, max_distance, max_radius=1)
    return n / (time.process_time() - start)


def run(results: dict, data_root: Path) -> None:
    results["quality.dedup_index_per_s.20k"] = round(index_rate())
    results["quality.dedup_index_per_s.1m"] = round(index_rate(1_000_000))
    if not (data_root / "panel-gt" / "panels.json").exists():
        return
    dedup = dedup_scores(distinct_images(data_root))
    results["quality.dedup_f1.sample"] = round(dedup["f1"], 4)
    results["quality.dedup_precision.sample"] = round(dedup["precision"], 4)
    results["quality.dedup_recall.sample"] = round(dedup["recall"], 4)
    results["quality.dedup_images.sample"] = dedup["n_images"]
    types = type_scores(data_root)
    results["quality.image_type_acc.shared"] = round(types["acc"], 4)
    results["quality.image_type_balanced_acc.shared"] = round(types["balanced"], 4)
    results["quality.image_type_n.shared"] = types["n"]
    results["quality.image_type_ece.shared"] = round(types["ece"], 4)
    results["quality.image_type_rules_acc.shared"] = round(types["rules_acc"], 4)
    results["quality.image_type_acc.heldout"] = round(types["heldout_acc"], 4)
    results["quality.image_type_rules_acc.heldout"] = round(types["heldout_rules_acc"], 4)
    results["quality.image_type_n.heldout"] = types["heldout_n"]
    results["quality.image_type_acc.new_papers"] = round(types["new_acc"], 4)
    results["quality.image_type_rules_acc.new_papers"] = round(types["new_rules_acc"], 4)
    results["quality.image_type_n.new_papers"] = types["new_n"]
    labellers = agreement(label_pairs())
    results["quality.image_type_label_agreement.shared"] = round(labellers["scored.agreement"], 4)
    results["quality.image_type_label_kappa.shared"] = round(labellers["scored.kappa"], 4)
    # the cascade's second stage: share of the scored items that take it, and the first stage alone
    results["quality.image_type_embed_frac.shared"] = round(types["embed_frac"], 4)
    results["quality.image_type_hand_acc.shared"] = round(types["hand_acc"], 4)
    print("image type per class (right/n):", types["per_class"])
    print("confusion (rows true, cols predicted, order photo chart diagram gel_blot table text):", types["confusion"])
    other = modality_and_speed(data_root)
    results["quality.modality_acc.shared"] = round(other["modality_acc"], 4)
    results["quality.modality_n.shared"] = other["modality_n"]
    results["quality.panels_per_s"] = round(other["panels_per_s"], 2)
