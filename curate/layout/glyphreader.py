"""A single-glyph reader for panel-label candidates: a linear classifier over gradient histograms.

Most label candidates are one letter standing alone; reading each with the text-line
recogniser costs ~25 ms, this reader well under 1 ms. It answers with a class and a
confidence, and the caller sends what it is unsure of to the recogniser. Weights come from
``python -m curate.layout.glyphtrain`` (glyphs rendered from system fonts, no benchmark data).

Classes name what a panel label can be: letters whose two cases differ in shape, one class
per letter whose cases only differ in size (``C``/``c``: a crop scaled to a fixed height
cannot tell them apart), one class for upright bars (``I l 1 |``), digits (never a label, but
the commonest look-alike blobs), and a reject class for everything else.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

SIDE = 24
WEIGHTS = Path(__file__).with_name("glyph_reader.npz")

# Cases that differ only in size: read as the upper case, case unknown.
SAME_SHAPE = "COSUVWXZP"
BAR = "|"
REJECT = "#"
LETTERS = [c for c in "ABDEFGHJKLMNQRTY"] + [c for c in "abdefghjkmnqrty"] + list(SAME_SHAPE)
DIGITS = list("23456789")
CLASSES = [*LETTERS, BAR, *DIGITS, REJECT]

CELL, BINS = 6, 9
INK = 80  # strength above which a pixel is ink: the ink mask's tolerance (40), doubled as in ink_strength


def glyph_square(ink: np.ndarray) -> np.ndarray:
    """The glyph's ink (uint8 strength or bool, cropped to its box) scaled into a SIDE x SIDE
    square, aspect kept and centred, strength stretched to 0..255."""
    ink = ink.astype(np.uint8) * 255 if ink.dtype == bool else ink
    h, w = ink.shape
    scale = (SIDE - 2) / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (nw, nh), interpolation=interp)
    top = int(small.max()) or 1
    small = cv2.convertScaleAbs(small, alpha=255.0 / top)
    out = np.zeros((SIDE, SIDE), np.uint8)
    y0, x0 = (SIDE - nh) // 2, (SIDE - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out


def gradient_histograms(square: np.ndarray) -> np.ndarray:
    """Histograms of oriented gradients: unsigned direction in BINS bins per CELL x CELL cell,
    each 2 x 2 block of cells L2-normalised (Dalal and Triggs' layout, on a SIDE-px square)."""
    img = square.astype(np.float32)
    mag, ang = cv2.cartToPolar(
        cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=1), cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=1)
    )
    pos = (ang % np.pi) * (BINS / np.pi)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    cells = SIDE // CELL
    cell_of = (np.arange(SIDE) // CELL)[:, None] * cells + (np.arange(SIDE) // CELL)[None, :]
    base = cell_of * BINS
    idx = np.concatenate([(base + lo % BINS).ravel(), (base + (lo + 1) % BINS).ravel()])
    wts = np.concatenate([(mag * (1 - frac)).ravel(), (mag * frac).ravel()])
    hist = (
        np.bincount(idx, wts, minlength=cells * cells * BINS).astype(np.float32).reshape(cells, cells, BINS)
    )
    blocks = np.stack(
        [hist[i : i + 2, j : j + 2].ravel() for i in range(cells - 1) for j in range(cells - 1)]
    )
    blocks /= np.sqrt((blocks * blocks).sum(axis=1, keepdims=True) + 1e-3)
    return np.minimum(blocks, 0.2).ravel()


def features(ink: np.ndarray) -> np.ndarray:
    """float32 feature vector of one glyph crop: gradient histograms, coarse pixels, box shape."""
    ink = ink.astype(np.uint8) * 255 if ink.dtype == bool else ink
    square = glyph_square(ink)
    hog = gradient_histograms(square)
    coarse = cv2.resize(square, (12, 12), interpolation=cv2.INTER_AREA).ravel().astype(np.float32) / 255.0
    h, w = ink.shape
    aspect = np.log(max(w, 1) / max(h, 1))
    fill = float(np.count_nonzero(ink > INK)) / max(1, ink.size)
    return np.concatenate([hog, coarse, np.array([aspect, aspect * aspect, fill, 1.0], np.float32)])


@functools.lru_cache(maxsize=1)
def _weights(path: str = str(WEIGHTS)) -> np.ndarray:
    with np.load(path) as data:
        if list(data["classes"]) != CLASSES:
            raise ValueError(f"{path}: classes differ from glyphreader.CLASSES; rerun glyphtrain")
        return data["weights"].astype(np.float32)


def scores(inks: list[np.ndarray]) -> np.ndarray:
    """(n, len(CLASSES)) softmax scores of the crops."""
    if not inks:
        return np.zeros((0, len(CLASSES)), np.float32)
    x = np.stack([features(i) for i in inks])
    logits = x @ _weights()
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def read(inks: list[np.ndarray]) -> list[tuple[str, float]]:
    """Per crop the class read (a character, ``|`` for a bar, ``#`` for no glyph) and its score."""
    p = scores(inks)
    best = p.argmax(axis=1)
    return [(CLASSES[k], float(p[i, k])) for i, k in enumerate(best)]
