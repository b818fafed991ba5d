"""Altered real photographs as extra ``photo`` training images for the image-type model.

The labelled set's photographs are micrographs, blots' neighbours and a few clinical images;
it holds almost no colour photographs of a round field on black (fundus, endoscopy,
dermatoscopy), which the detector embedding (``ocrembed``) then places among the drawings. These
are scikit-image's bundled natural photographs (never the images the sample corpus is built
from: retina, ihc, cell, microaneurysms), randomly cropped, resized, sometimes masked to a disc
or greyed, overlaid with the arrows and letters figures draw on photographs, and re-compressed.
Training data only: no accuracy is ever measured on them. Deterministic for a given seed.
"""

from __future__ import annotations

import importlib.util
import io
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# scikit-image/data files that are photographs and that curate.sample does not use
PHOTO_FILES = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png",
               "hubble_deep_field.jpg", "camera.png", "moon.png", "coins.png", "brick.png", "grass.png",
               "gravel.png")


@cache
def _source(name: str) -> np.ndarray:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.origin:
        raise RuntimeError("the altered training photographs need scikit-image (the 'dev' extra)")
    path = Path(spec.origin).parent / "data" / name
    return np.asarray(Image.open(path).convert("RGB"))


def _overlay(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Arrows, an asterisk and a panel letter in a saturated or white colour, as figures draw them."""
    out = rgb.copy()
    h, w = out.shape[:2]
    colour = [(255, 255, 255), (255, 255, 0), (255, 0, 0), (0, 255, 0), (0, 255, 255)][int(rng.integers(5))]
    thick = max(1, round(min(h, w) / 120))
    for _ in range(int(rng.integers(0, 4))):
        tip = (int(rng.integers(w // 5, w - w // 5)), int(rng.integers(h // 5, h - h // 5)))
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.08, 0.18) * min(h, w)
        tail = (int(tip[0] + length * np.cos(ang)), int(tip[1] + length * np.sin(ang)))
        cv2.arrowedLine(out, tail, tip, colour, thick, cv2.LINE_AA, tipLength=0.35)
    scale = min(h, w) / 250
    if rng.random() < 0.5:
        org = (int(rng.integers(w // 5, w - w // 5)), int(rng.integers(h // 5, h - h // 5)))
        cv2.putText(out, "*", org, cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale, colour, thick, cv2.LINE_AA)
    if rng.random() < 0.6:
        letter = "abcdefABCDEF"[int(rng.integers(12))]
        cv2.putText(out, letter, (int(0.04 * w), int(0.04 * h + 30 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, colour, thick + 1, cv2.LINE_AA)
    return out


def altered_photo(seed: int) -> np.ndarray:
    """One training photograph: a random view of one source photograph, altered."""
    rng = np.random.default_rng([seed, 7])
    src = _source(PHOTO_FILES[seed % len(PHOTO_FILES)])
    h, w = src.shape[:2]
    ch, cw = int(h * rng.uniform(0.35, 1.0)), int(w * rng.uniform(0.35, 1.0))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    img = src[y0:y0 + ch, x0:x0 + cw]
    side = rng.uniform(120, 600)
    s = side / max(img.shape[:2])
    img = cv2.resize(img, (max(8, round(img.shape[1] * s)), max(8, round(img.shape[0] * s))),
                     interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    if rng.random() < 0.35:  # a round field of view on black, as fundus and endoscopy images are framed
        yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
        cy, cx, r = img.shape[0] / 2, img.shape[1] / 2, rng.uniform(0.42, 0.55) * min(img.shape[:2])
        img = np.where(((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r)[..., None], img, 0).astype(np.uint8)
    if rng.random() < 0.2:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if rng.random() < 0.7:
        img = _overlay(np.ascontiguousarray(img), rng)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=int(rng.integers(40, 96)))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def photo_set(n: int, seed: int = 0) -> list[np.ndarray]:
    return [altered_photo(seed * 100_000 + i) for i in range(n)]
