"""The feature vector of the learned image-type classifier (``typemodel``): the pixel cues of
``features.ImageCues`` (counts on a log scale), the hand rules' scores, cheap shape descriptors
of a small grey thumbnail and the caption words.

The thumbnail descriptors say what the cues summarise too coarsely: gradient orientations
(charts and tables are axis-aligned strokes, photographs spread over all angles), projection
profiles (rows of text and table lines leave regular empty rows), the grey-level histogram
(page white vs dark imaging backgrounds) and the hue of saturated pixels (plot colours vs
stains). All are computed on ``THUMB_SIDE`` pixels: under a millisecond per image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from curate.quality.features import ImageCues
from curate.quality.imagetype_rules import IMAGE_TYPES, TABLE_TITLE, pixel_scores
from curate.quality.vocab import text_evidence

THUMB_SIDE = 128
EMBED_AXES = 64  # principal axes of the detector embedding (``ocrembed``) the second-stage model reads
ORIENT_BINS = 8
WORD_TYPES = ("chart", "diagram", "gel_blot", "table", "text")
_LOG_CUES = {"palette90", "long_hlines", "long_vlines", "n_glyphs_per_kpx", "band_count", "tick_marks",
             "outline_boxes", "height_px", "width_px"}


def _cue_values(c: ImageCues) -> list[tuple[str, float]]:
    out = []
    for name, value in c.as_dict().items():
        value = float(value)
        out.append((f"cue.{name}", math.log1p(value) if name in _LOG_CUES else value))
    out.append(("cue.log_aspect", math.log(max(c.width_px, 1) / max(c.height_px, 1))))
    return out


def _thumb(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = min(1.0, THUMB_SIDE / max(h, w))
    size = (max(4, round(w * scale)), max(4, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else rgb


def _orientations(grey: np.ndarray) -> list[float]:
    """Gradient-magnitude-weighted orientation histogram (0..180 degrees), plus its axis share."""
    g = grey.astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    angle = (np.degrees(np.arctan2(gy, gx)) + 180.0) % 180.0
    bins = np.minimum((angle / (180.0 / ORIENT_BINS)).astype(np.int32), ORIENT_BINS - 1)
    hist = np.bincount(bins.ravel(), weights=mag.ravel(), minlength=ORIENT_BINS)
    total = hist.sum()
    hist = hist / total if total > 0 else np.full(ORIENT_BINS, 1.0 / ORIENT_BINS)
    entropy = float(-(hist * np.log(hist + 1e-9)).sum() / math.log(ORIENT_BINS))
    return [*map(float, hist), entropy, float(mag.mean() / 255.0)]


def _profiles(grey: np.ndarray) -> list[float]:
    """Rows and columns with ink: their share, and how many separate runs (text lines, table rows)."""
    ink = grey < 160
    out = []
    for axis in (1, 0):
        has = ink.any(axis=axis)
        runs = int((np.diff(np.concatenate([[0], has.astype(np.int8)])) == 1).sum())
        out += [float(has.mean()), math.log1p(runs), float(ink.mean(axis=axis).std())]
    return out


def _tones(thumb: np.ndarray, grey: np.ndarray) -> list[float]:
    grey_hist = np.bincount((grey // 32).ravel(), minlength=8) / grey.size
    hsv = cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV)
    sat = hsv[..., 1] > 60
    hue_hist = np.bincount((hsv[..., 0][sat] // 30).ravel(), minlength=6) / grey.size
    return [*map(float, grey_hist), *map(float, hue_hist), float(hsv[..., 1].mean() / 255.0),
            float(grey.std() / 255.0)]


def _words(texts: list[tuple[str, float]], drawn: bool) -> list[float]:
    """Caption-word counts per drawn type, only for images whose pixels the rules read as drawn:
    a caption's "schematic" must not turn a micrograph into a diagram, and with few photos whose
    captions name a drawn type among the labelled items a linear model cannot learn that itself."""
    if not drawn:
        return [0.0] * (2 * len(WORD_TYPES) + 1) + [float(bool(texts))]
    own = text_evidence("image_type", texts[:1])
    every = text_evidence("image_type", texts)
    title = float(bool(texts) and bool(TABLE_TITLE.match(texts[0][0])))
    return [min(own.get(t, 0.0), 3.0) for t in WORD_TYPES] + [min(every.get(t, 0.0), 3.0) for t in WORD_TYPES] \
        + [title, float(bool(texts))]


def feature_names() -> list[str]:
    cue_names = [f"cue.{k}" for k in ImageCues.__dataclass_fields__] + ["cue.log_aspect"]
    return [*cue_names, *(f"rule.{t}" for t in IMAGE_TYPES),
            *(f"orient.{i}" for i in range(ORIENT_BINS)), "orient.entropy", "orient.magnitude",
            *(f"profile.{axis}.{k}" for axis in ("rows", "cols") for k in ("ink", "runs", "std")),
            *(f"grey.{i}" for i in range(8)), *(f"hue.{i}" for i in range(6)), "sat.mean", "grey.std",
            *(f"words.own.{t}" for t in WORD_TYPES), *(f"words.all.{t}" for t in WORD_TYPES),
            "words.table_title", "words.any"]


def embed_feature_names() -> list[str]:
    """The second-stage model's inputs: the hand features, then the projected detector embedding."""
    return [*feature_names(), *(f"embed.pc{i}" for i in range(EMBED_AXES))]


def type_features(rgb: np.ndarray, cues: ImageCues, texts: list[tuple[str, float]]) -> np.ndarray:
    """One image's feature vector, in the order of ``feature_names()``."""
    thumb = np.ascontiguousarray(_thumb(rgb))
    grey = cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY)
    rules = pixel_scores(cues)
    drawn = max(rules, key=rules.get) != "photo"
    values = [v for _, v in _cue_values(cues)] + [rules[t] for t in IMAGE_TYPES] \
        + _orientations(grey) + _profiles(grey) + _tones(thumb, grey) + _words(texts, drawn)
    return np.asarray(values, dtype=np.float64)
