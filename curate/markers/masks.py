"""Colour masks of marker ink in one panel, their glyph-sized components, and the second
masks in which glyphs that fit no shape in the first are looked at again.

All masks are uint8 0/255 in panel pixels; colour names are those of ``colours``.
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.markers.colours import SATURATED, hue_mask

# Glyphs found only on the second look must be marker-sized: a speck cut out of texture
# fits any small shape.
MIN_RETRY_SIDE = 10


def odd_size(n: float) -> int:
    n = int(n)
    return n if n % 2 else n + 1


def hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Components of ``weak`` that contain a ``strong`` pixel (thin, faint shafts of light
    arrows on fluorescence drop out of the strict mask and would split the glyph)."""
    n, labels = cv2.connectedComponents(weak | strong, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[strong > 0])] = True
    keep[0] = False
    return keep[labels].astype(np.uint8) * 255


def colour_masks(rgb: np.ndarray):
    """uint8 0/255 masks per colour name: (masks, loose, retry).

    ``masks``: saturated hues, plus white/black by local contrast. ``loose``: the same colours
    at lower thresholds (what a marker must stand clear of). ``retry``: second masks for
    glyphs whose component in ``masks`` fits no shape: lower-saturation hues (JPEG chroma
    smear breaks thin coloured shafts and spokes into pieces; grown from the pieces) and the
    pure-white core (a white arrow touching bright texture joins it in the grown white mask).
    """
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    k = odd_size(np.clip(min(h, w) / 10, 15, 61))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    sat, val = hsv[..., 1], hsv[..., 2]
    masks = {name: hue_mask(hsv, name, 90, 90) for name in SATURATED}
    loose = {name: hue_mask(hsv, name, 45, 50) for name in SATURATED}
    retry = {name: hue_mask(hsv, name, 60, 70) for name in SATURATED}
    tophat = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel)
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    strict_white = ((sat < 70) & (val > 165) & (tophat > 45)).astype(np.uint8) * 255
    # Thin (1-2 px) shafts of small arrows are blurred to mid-grey by downscaling: they join
    # the glyph when they still stand far above the local background.
    mid_white = ((sat < 90) & (val > 140) & (tophat > 30)) | ((sat < 60) & (val > 100) & (tophat > 80))
    mid_white = mid_white.astype(np.uint8) * 255
    masks["white"] = hysteresis(strict_white, mid_white)
    retry["white"] = ((sat < 50) & (val > 230) & (tophat > 60)).astype(np.uint8) * 255
    masks["black"] = ((val < 80) & (blackhat > 70)).astype(np.uint8) * 255
    # Loose masks are relative to the local background too, so that a dark marker on a dark
    # image (or a light one on a light image) still has a clear ring around it.
    loose["white"] = ((sat < 100) & (val > 125) & (tophat > 20)).astype(np.uint8) * 255
    loose["black"] = ((val < 125) & (blackhat > 25)).astype(np.uint8) * 255
    return masks, loose, retry


def components(mask: np.ndarray):
    """(labels, stats, indices of glyph-sized components) of one colour mask."""
    ph = mask.shape[0]
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    small = np.where((area >= 4) & (stats[:, 3] <= 0.3 * ph + 20))[0]
    return labels, stats, small[small > 0]


def retry_components(comps, shapeless: np.ndarray, retry: np.ndarray, core: bool = False):
    """Components of the retry mask grown from the first mask's components that fit no
    shape, or (``core``) the retry mask's pixels inside them and inside components too large
    for a marker; those equal to a first-mask component are left out (judged already).
    Works within the box around those components (plus a margin), in panel coordinates."""
    labels, stats, _small = comps
    if core:
        side = np.maximum(stats[:, 2], stats[:, 3])
        big = np.where((stats[:, 3] > 0.3 * labels.shape[0] + 20) | (side > max(12, 0.3 * min(labels.shape))))[0]
        shapeless = np.union1d(shapeless, big[big > 0])
    if not len(shapeless):
        return None
    H, W = labels.shape
    m = 2 * MIN_RETRY_SIDE
    x0 = max(0, int(stats[shapeless, 0].min()) - m)
    y0 = max(0, int(stats[shapeless, 1].min()) - m)
    x1 = min(W, int((stats[shapeless, 0] + stats[shapeless, 2]).max()) + m)
    y1 = min(H, int((stats[shapeless, 1] + stats[shapeless, 3]).max()) + m)
    pick = np.zeros(len(stats), bool)
    pick[shapeless] = True
    seed = pick[labels[y0:y1, x0:x1]].astype(np.uint8) * 255
    grown = np.zeros_like(labels, dtype=np.uint8)
    if core:
        grown[y0:y1, x0:x1] = np.where(seed > 0, retry[y0:y1, x0:x1], 0)
    else:
        grown[y0:y1, x0:x1] = hysteresis(seed, retry[y0:y1, x0:x1])
    rlabels, rstats, rsmall = components(grown)
    seen = {tuple(r) for r in stats[pick, :5].tolist()}
    fresh = np.array(
        [i for i in rsmall if max(rstats[i, 2:4]) >= MIN_RETRY_SIDE and tuple(rstats[i, :5].tolist()) not in seen],
        np.int64,
    )
    return rlabels, rstats, fresh
