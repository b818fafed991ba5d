"""Colour masks of marker ink in one panel, their glyph-sized components, and the second
masks in which glyphs that fit no shape in the first are looked at again.

All masks are uint8 0/255 in panel pixels; colour names are those of ``colours``.
"""

from __future__ import annotations

import cv2
import numpy as np

from curate.images import label_components, mask_above, mask_below
from curate.markers.colours import HUE_RANGES, SATURATED

# Glyphs found only on the second look must be marker-sized: a speck cut out of texture
# fits any small shape.
MIN_RETRY_SIDE = 10


# The three hue masks per colour (strict, retry, loose) differ only in their saturation and
# value floors, and each floor pair lies inside the next looser one, so one pass labels every
# pixel with its hue class and the strictest level it meets: code = 4 * class + level. Each
# mask is then one single-channel range test of that code (21 three-channel ones before).
LEVELS = {"masks": (90, 90, 3), "retry": (60, 70, 2), "loose": (45, 50, 1)}  # (min sat, min val, level)
_HUE_CODE = np.zeros(256, np.uint8)
for _k, _name in enumerate(SATURATED):
    for _lo, _hi in HUE_RANGES[_name]:
        _HUE_CODE[_lo:_hi] = 4 * _k
_SAT_LEVEL = np.zeros(256, np.uint8)
_VAL_LEVEL = np.zeros(256, np.uint8)
for _sat, _val, _level in sorted(LEVELS.values(), key=lambda t: t[2]):
    _SAT_LEVEL[_sat:] = _level
    _VAL_LEVEL[_val:] = _level


def hue_codes(hue: np.ndarray, sat: np.ndarray, val: np.ndarray) -> np.ndarray:
    """uint8 ``4 * (index in SATURATED) + level`` per pixel of OpenCV HSV planes; level
    3 / 2 / 1 / 0: the pixel meets the strict / retry / loose floors of ``LEVELS`` / none."""
    return cv2.add(cv2.LUT(hue, _HUE_CODE), cv2.min(cv2.LUT(sat, _SAT_LEVEL), cv2.LUT(val, _VAL_LEVEL)))


def _all(*masks: np.ndarray) -> np.ndarray:
    out = masks[0]
    for m in masks[1:]:
        out = cv2.bitwise_and(out, m)
    return out


def odd_size(n: float) -> int:
    n = int(n)
    return n if n % 2 else n + 1


def hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Components of ``weak`` that contain a ``strong`` pixel (thin, faint shafts of light
    arrows on fluorescence drop out of the strict mask and would split the glyph)."""
    both = cv2.bitwise_or(weak, strong)
    out = np.zeros_like(both)
    x, y, w, h = cv2.boundingRect(both)  # labelling only the box around the ink is the same
    if w == 0:
        return out
    n, labels, _ = label_components(both[y : y + h, x : x + w], with_stats=False)
    seeds = strong[y : y + h, x : x + w]
    if n <= 256:
        # Few components (most panels): as 8-bit labels, those under a seed come from one
        # masked histogram and the kept pixels from one LUT instead of two gathers over the box.
        labels8 = labels.astype(np.uint8)
        seeded = cv2.calcHist([labels8], [0], seeds, [256], [0, 256]).ravel() > 0
        seeded[0] = False
        out[y : y + h, x : x + w] = cv2.LUT(labels8, seeded.astype(np.uint8) * 255)
        return out
    keep = np.zeros(n, np.uint8)
    keep[labels[seeds > 0]] = 255
    keep[0] = 0
    # ``take`` with clipping (every label is below ``n``): the same gather as ``keep[labels]``
    # without its per-element bounds checks, in a third of the time.
    out[y : y + h, x : x + w] = keep.take(labels, mode="clip")
    return out


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
    hue, sat, val = cv2.split(hsv)
    codes = hue_codes(hue, sat, val)
    # A colour without a strict pixel has nothing to detect: its masks are not made.
    # (256 bins over the whole uint8 range: OpenCV's fast path, twice as quick as 28 bins)
    present = cv2.calcHist([codes], [0], None, [256], [0, 256]).ravel()[3 : 4 * len(SATURATED) : 4] > 0
    empty = np.zeros_like(codes)
    empty.flags.writeable = False
    masks, retry, loose = {}, {}, {}
    for i, name in enumerate(SATURATED):
        for out, (_s, _v, level) in zip((masks, retry, loose), LEVELS.values(), strict=True):
            out[name] = cv2.inRange(codes, 4 * i + level, 4 * i + 3) if present[i] else empty
    tophat = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel)
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    strict_white = _all(mask_below(sat, 70), mask_above(val, 165), mask_above(tophat, 45))
    # Thin (1-2 px) shafts of small arrows are blurred to mid-grey by downscaling: they join
    # the glyph when they still stand far above the local background.
    mid_white = cv2.bitwise_or(_all(mask_below(sat, 90), mask_above(val, 140), mask_above(tophat, 30)),
                               _all(mask_below(sat, 60), mask_above(val, 100), mask_above(tophat, 80)))
    masks["white"] = hysteresis(strict_white, mid_white)
    retry["white"] = _all(mask_below(sat, 50), mask_above(val, 230), mask_above(tophat, 60))
    masks["black"] = _all(mask_below(val, 80), mask_above(blackhat, 70))
    # Loose masks are relative to the local background too, so that a dark marker on a dark
    # image (or a light one on a light image) still has a clear ring around it.
    loose["white"] = _all(mask_below(sat, 100), mask_above(val, 125), mask_above(tophat, 20))
    loose["black"] = _all(mask_below(val, 125), mask_above(blackhat, 25))
    return masks, loose, retry


def components(mask: np.ndarray, box: tuple[int, int, int, int] | None = None):
    """(labels, stats, indices of glyph-sized components) of one colour mask.

    Only the box around the mask's pixels is labelled (masks are mostly empty): the labels,
    their order and their stats are those of the whole mask, except row 0 of ``stats`` (the
    background's), which describes the box's background and is not used. ``box``: the mask's
    ``cv2.boundingRect`` when the caller has it (it scans the whole of a sparse mask). Another
    box gives the same components, but OpenCV's numbering follows its scan of the box, so their
    order could differ."""
    ph = mask.shape[0]
    x, y, w, h = cv2.boundingRect(mask) if box is None else box
    if w == 0:
        return np.zeros(mask.shape, np.uint16), np.zeros((1, 5), np.int32), np.zeros(0, np.int64)
    _n, box_labels, stats = label_components(mask[y : y + h, x : x + w])
    # The panel-sized labels in the box's own dtype (16-bit unless it overflowed): a plain
    # copy, not a widening to 32 bits.
    labels = np.zeros(mask.shape, box_labels.dtype)
    labels[y : y + h, x : x + w] = box_labels
    stats[1:, 0] += x
    stats[1:, 1] += y
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
    pick = np.zeros(len(stats), np.uint8)
    pick[shapeless] = 255
    seed = pick.take(labels[y0:y1, x0:x1], mode="clip")  # every label indexes ``pick``
    grown = np.zeros_like(labels, dtype=np.uint8)
    if core:
        grown[y0:y1, x0:x1] = cv2.bitwise_and(retry[y0:y1, x0:x1], seed)
    else:
        grown[y0:y1, x0:x1] = hysteresis(seed, retry[y0:y1, x0:x1])
    # grown is empty outside the crop: its box, found in the crop, is the whole array's
    gx, gy, gw, gh = cv2.boundingRect(grown[y0:y1, x0:x1])
    rlabels, rstats, rsmall = components(grown, (gx + x0, gy + y0, gw, gh) if gw else (0, 0, 0, 0))
    seen = {tuple(r) for r in stats[pick > 0, :5].tolist()}
    fresh = np.array(
        [i for i in rsmall if max(rstats[i, 2:4]) >= MIN_RETRY_SIDE and tuple(rstats[i, :5].tolist()) not in seen],
        np.int64,
    )
    return rlabels, rstats, fresh
