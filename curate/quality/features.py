"""Image cues for the image-type and modality classifiers, from pixels alone.

All measures are computed on a copy whose longer side is ``WORK_SIDE`` pixels, so they do
not depend on resolution; fractions are of that copy's pixels. Cheap by design (a few ms per
panel on one core): these run on every figure and panel of a run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from curate.images import label_components, mask_above, mask_below

WORK_SIDE = 384
_HUES = np.arange(256)
_PINK = ((_HUES >= 130) | (_HUES <= 5)).astype(np.uint8)  # H&E pink/purple (OpenCV hue 0..179)
_BROWN = ((_HUES > 5) & (_HUES <= 22)).astype(np.uint8)  # DAB brown


@dataclass(frozen=True)
class ImageCues:
    white_frac: float  # near-white pixels (all channels > 235): page background
    black_frac: float  # near-black pixels (grey < 25): dark imaging background
    flat_frac: float  # pixels with no local gradient: drawn (flat-filled) content
    palette90: int  # distinct colours (4 bits per channel) that cover 90% of pixels
    colourful_frac: float  # saturated, not dark pixels
    grey_frac: float  # pixels with R, G, B within 12 of each other
    long_hlines: int  # horizontal dark lines spanning >= 35% of the width
    long_vlines: int  # vertical dark lines spanning >= 35% of the height
    axis_corner: bool  # a long vertical and a long horizontal line meeting at a lower-left corner
    text_cover: float  # area of character-sized dark components
    n_glyphs_per_kpx: float  # character-sized components per 1000 pixels
    band_count: int  # wide, short dark blobs on a light background (gel/blot bands)
    hue_pink: float  # share of pixels in the H&E pink/purple hue range
    hue_brown: float  # share of pixels in the DAB brown range (IHC)
    mean_grey: float  # mean grey level, 0..255
    edge_frac: float  # Canny edge pixels
    tick_marks: int  # short strokes sticking out of a long axis line (chart ticks)
    outline_boxes: int  # hollow closed shapes (ink border, light inside) big enough to hold words
    height_px: int  # original size: equations and text lines come as short, wide strips
    width_px: int

    def as_dict(self) -> dict:
        return asdict(self)


def _work_copy(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = WORK_SIDE / max(h, w)
    if scale >= 1.0:
        return rgb  # never upscale: strokes of a small equation would turn into "long lines"
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _palette90(rgb: np.ndarray) -> int:
    # bins of 16 levels per channel: bin index = value >> 4, flattened as (r << 8) | (g << 4) | b
    hist = cv2.calcHist([rgb], [0, 1, 2], None, [16, 16, 16], [0, 256, 0, 256, 0, 256])
    counts = np.sort(hist.ravel().astype(np.int64))[::-1]
    return int(np.searchsorted(np.cumsum(counts), 0.9 * (rgb.shape[0] * rgb.shape[1])) + 1)


def _frac(mask: np.ndarray) -> float:
    """Share of non-zero pixels (the value ``(mask > 0).mean()`` gives)."""
    return cv2.countNonZero(mask) / mask.size


def _median(grey: np.ndarray) -> float:
    """``np.median`` of a uint8 image from its histogram (exact: the middle value, or the mean
    of the middle two)."""
    cum = np.cumsum(cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    n = grey.size
    hi = int(np.searchsorted(cum, n // 2, side="right"))
    if n % 2:
        return float(hi)
    lo = int(np.searchsorted(cum, n // 2 - 1, side="right"))
    return (lo + hi) / 2


def _long_lines(dark: np.ndarray, axis: int, frac: float) -> tuple[int, np.ndarray]:
    """Count runs of rows (axis=1: horizontal lines) holding a dark run >= frac of the side."""
    length = max(40, int(dark.shape[axis] * frac))
    opened = _open_along(dark, axis, length)
    # a line is thin across its length; the long edge of a filled box is not a line
    across = np.ones((5, 1) if axis == 1 else (1, 5), np.uint8)
    opened = _open_along(cv2.subtract(opened, cv2.morphologyEx(opened, cv2.MORPH_OPEN, across)), axis, length)
    # rows (axis 1) or columns (axis 0) holding a line pixel
    profile = (cv2.reduce(opened, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() > 0).astype(np.int8)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], profile])) == 1)
    return len(starts), opened


def _open_along(mask: np.ndarray, axis: int, length: int) -> np.ndarray:
    """What ``cv2.morphologyEx(mask, MORPH_OPEN, kernel)`` gives a 0/1 mask for a line kernel of
    ``length`` along ``axis`` (1: a row, ``np.ones((1, length))``), for a fraction of its time.

    OpenCV erodes and then dilates over the same window, ``[x - length // 2, x - length // 2 +
    length)`` (it does not mirror the kernel), counting pixels beyond the border as set for the
    erosion and as unset for the dilation. Both are window sums, which a box filter computes in
    a few operations per pixel whatever the length. Such a kernel never mixes rows, and a kept
    run is at least ``length`` long inside the image and about half that where it touches the
    border (a whole row shorter than that is kept too), so rows with fewer pixels stay empty: in
    a drawing most rows do, and only the others are filtered."""
    side = mask.shape[axis]
    counts = cv2.reduce(mask, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    lines = np.flatnonzero(counts >= min((length - 1) // 2, side))
    if len(lines) > len(counts) // 2:
        return _box_open(mask, axis, length)
    out = np.zeros_like(mask)
    if len(lines):
        if axis == 1:
            out[lines] = _box_open(np.ascontiguousarray(mask[lines]), axis, length)
        else:
            out[:, lines] = _box_open(np.ascontiguousarray(mask[:, lines]), axis, length)
    return out


def _box_open(mask: np.ndarray, axis: int, length: int) -> np.ndarray:
    half = length // 2
    ksize, anchor = ((length, 1), (half, 0)) if axis == 1 else ((1, length), (0, half))
    # 8-bit sums saturate at 255, which keeps "none" and "some" apart
    holes = cv2.boxFilter(mask_below(mask, 1, 1), cv2.CV_8U, ksize, anchor=anchor, normalize=False,
                          borderType=cv2.BORDER_CONSTANT)
    cover = cv2.boxFilter(mask_below(holes, 1, 1), cv2.CV_8U, ksize, anchor=anchor, normalize=False,
                          borderType=cv2.BORDER_CONSTANT)
    return mask_above(cover, 0, 1)


def _axis_corner(h_open: np.ndarray, v_open: np.ndarray) -> bool:
    """A horizontal and a vertical long line that touch, with the corner in the lower-left quarter-ish."""
    meet = cv2.dilate(h_open, np.ones((5, 5), np.uint8)) & cv2.dilate(v_open, np.ones((5, 5), np.uint8))
    h, w = meet.shape
    lower = np.arange(h) > 0.4 * h
    left = np.arange(w) < 0.5 * w
    return bool(meet[lower][:, left].any())


_TICK_MARGIN = 24


def _tick_marks(ink: np.ndarray, h_open: np.ndarray, v_open: np.ndarray) -> int:
    """Short ink strokes perpendicular to, and touching, a long axis line."""
    ticks = 0
    for lines, kernel in ((v_open, (1, 4)), (h_open, (4, 1))):
        x, y, w, h = cv2.boundingRect(lines)
        if not w:
            continue
        # A tick (<= 12 px, touching the lines) lies within 13 px of their bounding box, and the
        # 4-px opening below reads 6 px around each pixel, so a crop with a wider margin counts the
        # same ticks: what the crop changes near its edges belongs to strokes too large to count.
        m = _TICK_MARGIN
        box = (slice(max(0, y - m), y + h + m), slice(max(0, x - m), x + w + m))
        lines = lines[box]
        # strokes at least 4 px long across the line, not part of the line itself
        strokes = cv2.morphologyEx(cv2.subtract(ink[box], lines), cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
        near = cv2.dilate(lines, np.ones((3, 3), np.uint8))
        n, labels, stats = label_components(strokes)
        if n <= 1:
            continue
        hit = np.zeros(n, bool)
        hit[labels[near > 0]] = True
        hit[0] = False
        touching = np.flatnonzero(hit)
        small = (stats[touching, cv2.CC_STAT_WIDTH] <= 12) & (stats[touching, cv2.CC_STAT_HEIGHT] <= 12)
        ticks += int(small.sum())
    return ticks


def _outline_boxes(ink: np.ndarray) -> int:
    """Closed ink outlines (boxes, ellipses of a flow chart) around a mostly light interior."""
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    h, w = ink.shape
    count = 0
    for i, parent in enumerate(hierarchy[0][:, 3]):
        if parent < 0:
            continue  # holes (inner borders) only: the inside of a drawn outline
        x, y, bw, bh = cv2.boundingRect(contours[i])
        if bw < 20 or bh < 10 or bw * bh > 0.4 * h * w:
            continue
        area = cv2.contourArea(contours[i])
        if area >= 0.6 * bw * bh:
            count += 1
    return count


def _components(dark: np.ndarray) -> tuple[float, float, int]:
    n, _, stats = label_components(dark)
    if n <= 1:
        return 0.0, 0.0, 0
    w, h, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    glyph = (h >= 4) & (h <= 24) & (w >= 1) & (w <= 30) & (area >= 6)
    band = (w >= 10) & (h >= 3) & (w >= 2.5 * h) & (h <= 0.12 * dark.shape[0]) & (area >= 0.5 * w * h)
    px = dark.size
    return float((w[glyph] * h[glyph]).sum() / px), float(glyph.sum() * 1000.0 / px), int(band.sum())


def image_cues(rgb: np.ndarray) -> ImageCues:
    """Cues of one RGB image (H, W, 3) uint8."""
    # (a strided crop is read in place: OpenCV takes the row stride as it is)
    img = _work_copy(rgb)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hue, sat, val = cv2.split(cv2.cvtColor(img, cv2.COLOR_RGB2HSV))
    # per-pixel channel max/min with OpenCV on uint8 planes: NumPy's reduction over a
    # length-3 last axis was a third of this function's time. Masks are uint8 (0/1) from
    # OpenCV thresholds and shares come from countNonZero: the values NumPy's boolean
    # arrays and their means gave, for a fraction of the time.
    r, g, b = cv2.split(img)
    top, low = cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b)
    spread = cv2.subtract(top, low)
    white, not_white = mask_above(low, 235, 1), mask_below(low, 236, 1)
    gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3)
    # |gx| + |gy| <= 8, from gradients saturated to 255 (a sum over 8 stays over 8)
    flat = mask_below(cv2.add(cv2.convertScaleAbs(gx), cv2.convertScaleAbs(gy)), 9, 1)
    dark = cv2.bitwise_and(mask_below(grey, 110, 1), not_white)
    ink = mask_below(grey, 170, 1)  # thin axis lines turn grey when a plot is downscaled
    n_h, h_open = _long_lines(ink, 1, 0.35)
    n_v, v_open = _long_lines(ink, 0, 0.35)
    text_cover, glyphs, _ = _components(dark)
    ticks = _tick_marks(ink, h_open, v_open)
    boxes = _outline_boxes(ink)
    median = _median(grey)
    light_bg = median > 150
    # grey < median - 40 for uint8 grey: grey below the next integer at or above that bound
    bands = _components(cv2.bitwise_and(mask_below(grey, math.ceil(median - 40), 1), not_white))[2] if light_bg else 0
    tissue = cv2.bitwise_and(cv2.bitwise_and(mask_above(sat, 40, 1), mask_above(val, 60, 1)), not_white)
    return ImageCues(
        white_frac=_frac(white), black_frac=_frac(mask_below(grey, 25, 1)), flat_frac=_frac(flat),
        palette90=_palette90(img), colourful_frac=_frac(cv2.bitwise_and(mask_above(sat, 90, 1), mask_above(val, 80, 1))),
        grey_frac=_frac(mask_below(spread, 13, 1)), long_hlines=n_h, long_vlines=n_v,
        axis_corner=bool(n_h and n_v) and _axis_corner(h_open, v_open), text_cover=text_cover, n_glyphs_per_kpx=glyphs,
        band_count=bands, hue_pink=_frac(cv2.bitwise_and(tissue, cv2.LUT(hue, _PINK))),
        hue_brown=_frac(cv2.bitwise_and(tissue, cv2.LUT(hue, _BROWN))), mean_grey=cv2.sumElems(grey)[0] / grey.size,
        edge_frac=_frac(cv2.Canny(grey, 60, 150)), tick_marks=ticks, outline_boxes=boxes,
        height_px=int(rgb.shape[0]), width_px=int(rgb.shape[1]))
