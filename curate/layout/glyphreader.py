"""A single-glyph reader for panel-label candidates: a small convolutional network, run in numpy.

Most label candidates are one letter standing alone; reading each with the text-line
recogniser costs ~25 ms, this reader well under 1 ms. It answers with a class and a
confidence, and the caller sends what it is unsure of to the recogniser. Weights come from
``python -m curate.layout.glyphtrain`` (glyphs rendered from system fonts, no benchmark data,
trained with torch); inference is numpy only, so the pipeline needs no torch.

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

from curate.runtime.threads import one_blas_thread

SIDE = 32
WEIGHTS = Path(__file__).with_name("glyph_reader.npz")

# Cases that differ only in size: read as the upper case, case unknown.
SAME_SHAPE = "COSUVWXZP"
BAR = "|"
REJECT = "#"
LETTERS = [c for c in "ABDEFGHJKLMNQRTY"] + [c for c in "abdefghjkmnqrty"] + list(SAME_SHAPE)
DIGITS = list("23456789")
CLASSES = [*LETTERS, BAR, *DIGITS, REJECT]

# The network: three 3x3 convolutions (padding 1, ReLU, 2x2 max-pool), then two dense layers.
CHANNELS = (1, 16, 32, 48)
HIDDEN = 96


def glyph_square(ink: np.ndarray) -> np.ndarray:
    """The glyph's ink (uint8 strength or bool, cropped to its box) scaled into a SIDE x SIDE
    square, aspect kept and centred, strength stretched to 0..255."""
    ink = ink.astype(np.uint8) * 255 if ink.dtype == bool else ink
    h, w = ink.shape
    scale = (SIDE - 4) / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (nw, nh), interpolation=interp)
    top = int(small.max()) or 1
    small = cv2.convertScaleAbs(small, alpha=255.0 / top)
    out = np.zeros((SIDE, SIDE), np.uint8)
    y0, x0 = (SIDE - nh) // 2, (SIDE - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out


def _conv_relu_pool(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, h, w, c) -> (n, h/2, w/2, k): 3x3 convolution with zero padding 1 (cross-correlation,
    as torch's Conv2d), bias, ReLU, 2x2 max-pool. ``w`` is (k, c, 3, 3).

    Channels last: each of the nine shifted copies into the (pixels, c x 3 x 3) patch matrix
    moves whole channel rows, where gathering 3 x 3 windows from channels-first maps moved
    three floats at a time. The matrix, and so the product, is the same.
    """
    n, h, wd, c = x.shape
    padded = np.zeros((n, h + 2, wd + 2, c), np.float32)
    padded[:, 1:-1, 1:-1] = x
    cols = np.empty((n, h, wd, c, 3, 3), np.float32)
    for dy in range(3):
        for dx in range(3):
            cols[..., dy, dx] = padded[:, dy : dy + h, dx : dx + wd]
    y = cols.reshape(n * h * wd, c * 9) @ w.reshape(w.shape[0], -1).T + b  # (n*h*w, k)
    return np.maximum(y, 0).reshape(n, h // 2, 2, wd // 2, 2, -1).max(axis=(2, 4))


def forward(params: dict[str, np.ndarray], squares: np.ndarray) -> np.ndarray:
    """Logits (n, classes) of uint8 squares (n, SIDE, SIDE): the same function as glyphtrain's
    torch module, so its trained weights load here unchanged."""
    x = squares.astype(np.float32)[..., None] / 255.0
    for k in range(len(CHANNELS) - 1):
        x = _conv_relu_pool(x, params[f"conv{k}.weight"], params[f"conv{k}.bias"])
    x = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # flattened channels first, as torch's
    x = np.maximum(x @ params["fc0.weight"].T + params["fc0.bias"], 0)
    return x @ params["fc1.weight"].T + params["fc1.bias"]


@functools.lru_cache(maxsize=1)
def _params(path: str = str(WEIGHTS)) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        if list(data["classes"]) != CLASSES:
            raise ValueError(f"{path}: classes differ from glyphreader.CLASSES; rerun glyphtrain")
        return {k: data[k].astype(np.float32) for k in data.files if k != "classes"}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def scores(inks: list[np.ndarray]) -> np.ndarray:
    """(n, len(CLASSES)) softmax scores of the crops, all in one batch."""
    if not inks:
        return np.zeros((0, len(CLASSES)), np.float32)
    squares = np.stack([glyph_square(i) for i in inks])
    # One BLAS thread: OpenBLAS's default (a thread per core) spins on these small products
    # and costs ~25 times the CPU time of one thread when the pipeline's workers fill the cores.
    with one_blas_thread():
        return softmax(forward(_params(), squares))


def read(inks: list[np.ndarray]) -> list[tuple[str, float]]:
    """Per crop the class read (a character, ``|`` for a bar, ``#`` for no glyph) and its score."""
    p = scores(inks)
    best = p.argmax(axis=1)
    return [(CLASSES[k], float(p[i, k])) for i, k in enumerate(best)]
