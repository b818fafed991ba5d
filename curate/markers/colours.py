"""Named marker colours: caption words to the canonical set, and pixels to names.

The canonical set is the one of the panel-gt markers: white, black, red, yellow, green,
cyan, magenta, blue, other. Hue is OpenCV's 0..180 scale; saturation and value 0..255.
"""

from __future__ import annotations

import cv2
import numpy as np

CANONICAL = ("white", "black", "red", "yellow", "green", "cyan", "magenta", "blue", "other")

_WORD_MAP = {
    "grey": "other", "gray": "other", "orange": "other", "brown": "other",
    "purple": "magenta", "violet": "magenta", "pink": "magenta",
    "light blue": "cyan", "dark blue": "blue", "light green": "green",
}

# Hue ranges (OpenCV 0..180) of the saturated colour names; red wraps around 0.
HUE_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "red": ((0, 8), (170, 180)),
    "other": ((8, 20),),  # orange
    "yellow": ((20, 36),),
    "green": ((36, 80),),
    "cyan": ((80, 100),),
    "blue": ((100, 135),),
    "magenta": ((135, 170),),
}
SATURATED = ("red", "yellow", "green", "cyan", "blue", "magenta", "other")


def canonical_colour(word: str | None) -> str | None:
    """Caption colour word to the canonical name (``None`` stays ``None``)."""
    if word is None:
        return None
    w = " ".join(word.lower().split())
    if w in CANONICAL:
        return w
    return _WORD_MAP.get(w, "other")


def hue_mask(hsv: np.ndarray, name: str, min_sat: int = 90, min_val: int = 90) -> np.ndarray:
    """uint8 0/255 mask of pixels of a saturated colour name in an HSV (OpenCV) image."""
    masks = [
        cv2.inRange(hsv, (lo, min_sat, min_val), (hi - 1 if hi < 180 else 179, 255, 255))
        for lo, hi in HUE_RANGES[name]
    ]
    out = masks[0]
    for m in masks[1:]:
        out = cv2.bitwise_or(out, m)
    return out


def name_of_pixels(rgb_pixels: np.ndarray) -> str:
    """Colour name of a set of RGB pixels (N x 3 uint8), by median HSV."""
    if len(rgb_pixels) == 0:
        return "other"
    hsv = cv2.cvtColor(rgb_pixels.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    h, s, v = (float(np.median(hsv[:, i])) for i in range(3))
    if s < 60:
        if v > 190:
            return "white"
        if v < 70:
            return "black"
        return "other"
    # Median hue is wrong for red (wraps), so vote per pixel among the saturated pixels.
    sat = hsv[hsv[:, 1] >= 60]
    best, best_n = "other", -1
    for name in SATURATED:
        n = sum(int(((sat[:, 0] >= lo) & (sat[:, 0] < hi)).sum()) for lo, hi in HUE_RANGES[name])
        if n > best_n:
            best, best_n = name, n
    return best
