"""Zero-shot classification AUC on a labelled image folder: ``root/<class name>/<image>``.

Each class is embedded as the normalised mean of its prompts (templates filled with the class
name, underscores read as spaces, cleaned like training text); an image's class scores are the
softmax of its cosine similarities times the model's logit scale. AUC is one-vs-rest per class
(Mann-Whitney, ties counted half), and ``mean_auc`` averages the classes that have both
positives and negatives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from curate.train.config import TrainConfig
from curate.train.data import clean_text, to_tensor, tokenize

TEMPLATES = ("a medical image showing {}", "{}", "an image of {}", "this image shows {}",
             "a photo of {} in a biomedical figure")
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC from scores and a boolean positive mask; NaN without both classes."""
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def labelled_images(root: Path | str) -> tuple[list[Path], np.ndarray, list[str]]:
    classes = sorted(p.name for p in Path(root).iterdir() if p.is_dir())
    paths, labels = [], []
    for index, name in enumerate(classes):
        for path in sorted((Path(root) / name).iterdir()):
            if path.suffix.lower() in IMAGE_EXTS:
                paths.append(path)
                labels.append(index)
    return paths, np.array(labels), classes


@torch.no_grad()
def class_embeddings(model, tokenizer, classes: list[str], templates: tuple[str, ...], length: int,
                     device: torch.device) -> torch.Tensor:
    rows = []
    for name in classes:
        prompts = [clean_text(t.format(name.replace("_", " "))) for t in templates]
        ids, mask = tokenize(tokenizer, prompts, length)
        mean = model.encode_text(ids.to(device), mask.to(device)).mean(0)
        rows.append(mean / mean.norm().clamp_min(1e-8))
    return torch.stack(rows)


@torch.no_grad()
def zeroshot_auc(model, tokenizer, config: TrainConfig, root: Path | str, *,
                 templates: tuple[str, ...] = TEMPLATES, device: torch.device | None = None,
                 batch_size: int = 32) -> dict:
    """``{"classes", "auc" (per class), "mean_auc", "n"}`` for the images under ``root``."""
    device = device or torch.device("cpu")
    model.eval()
    paths, labels, classes = labelled_images(root)
    if len(classes) < 2 or not paths:
        raise ValueError(f"{root}: need at least two class folders with images")
    text = class_embeddings(model, tokenizer, classes, templates, config.model.text.context_length, device)
    probs = []
    for start in range(0, len(paths), batch_size):
        chunk = [to_tensor(Image.open(p), config.model.vision.image_size) for p in paths[start:start + batch_size]]
        image, _ = model.encode_image(torch.stack(chunk).to(device))
        probs.append((model.logit_scale.exp() * image @ text.T).softmax(-1).float().cpu())
    scores = torch.cat(probs).numpy()
    per_class = {name: auc(scores[:, i], labels == i) for i, name in enumerate(classes)}
    valid = [v for v in per_class.values() if not np.isnan(v)]
    model.train()
    return {"classes": classes, "auc": per_class, "mean_auc": float(np.mean(valid)) if valid else float("nan"),
            "n": len(paths)}
