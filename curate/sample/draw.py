"""Glyphs of the sample figures: bold label fonts and author-style markers.

Every glyph is drawn into its own ``L`` mask (panel-content pixels) and then composited in
one colour, so its ground-truth box is the exact box of the ink, not an estimate. Angles are
in degrees in image coordinates: 0 = pointing right, 90 = pointing down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/DejaVuSans-Bold.ttf",
)

COLOURS = {
    "white": (255, 255, 255),
    "yellow": (255, 228, 0),
    "red": (235, 20, 20),
    "green": (30, 210, 60),
    "cyan": (0, 225, 235),
    "black": (0, 0, 0),
}


@cache
def bold_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans Bold at ``size`` px; Pillow's scalable default font if DejaVu is absent."""
    for cand in FONT_CANDIDATES:
        if Path(cand).is_file():
            return ImageFont.truetype(cand, size)
    return ImageFont.load_default(size=size)


@dataclass
class Glyph:
    """A drawn marker in panel-content pixels: ink box (half-open) and, for pointers, the apex."""

    mask: np.ndarray
    bbox: list[int]
    tip: list[int] | None = None
    tail: list[int] | None = None
    direction_deg: float | None = None


def ink_box(mask: np.ndarray) -> list[int] | None:
    """Tight half-open box ``[x1, y1, x2, y2)`` of the non-zero pixels, or None if empty."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def _unit(angle_deg: float) -> tuple[float, float]:
    rad = math.radians(angle_deg)
    return math.cos(rad), math.sin(rad)


def _finish(img: Image.Image, tip=None, tail=None, direction=None) -> Glyph | None:
    mask = np.asarray(img) > 0
    box = ink_box(mask)
    if box is None:
        return None
    if tip is not None:
        # The apex pixel must carry ink: snap to the nearest inked pixel.
        ys, xs = np.nonzero(mask)
        k = int(np.argmin((xs - tip[0]) ** 2 + (ys - tip[1]) ** 2))
        tip = [int(xs[k]), int(ys[k])]
    return Glyph(mask, box, tip, tail, direction)


def _head(tip: tuple[float, float], angle: float, length: float, width: float) -> list[tuple[float, float]]:
    ux, uy = _unit(angle)
    bx, by = tip[0] - length * ux, tip[1] - length * uy
    nx, ny = -uy, ux
    return [tip, (bx + nx * width / 2, by + ny * width / 2), (bx - nx * width / 2, by - ny * width / 2)]


def arrow(
    size: tuple[int, int], tip: tuple[int, int], angle: float, length: float, shaft: int
) -> Glyph | None:
    """Shaft plus filled head; ``tip`` is the apex, the arrow points along ``angle``."""
    img = Image.new("L", size, 0)
    draw = ImageDraw.Draw(img)
    head_len = max(8.0, min(0.4 * length, 5.0 * shaft + 6))
    ux, uy = _unit(angle)
    tail = (tip[0] - length * ux, tip[1] - length * uy)
    neck = (tip[0] - 0.8 * head_len * ux, tip[1] - 0.8 * head_len * uy)
    draw.line([tail, neck], fill=255, width=shaft)
    draw.polygon(_head(tip, angle, head_len, head_len * 0.9), fill=255)
    return _finish(img, tip, [round(tail[0]), round(tail[1])], angle)


def arrowhead(size: tuple[int, int], tip: tuple[int, int], angle: float, length: float) -> Glyph | None:
    """A filled triangle used as a pointer (no shaft)."""
    img = Image.new("L", size, 0)
    ImageDraw.Draw(img).polygon(_head(tip, angle, length, length * 0.75), fill=255)
    return _finish(img, tip, None, angle)


def asterisk(size: tuple[int, int], centre: tuple[int, int], font_px: int) -> Glyph | None:
    """A bold '*' glyph centred on ``centre``."""
    img = Image.new("L", size, 0)
    ImageDraw.Draw(img).text(centre, "*", fill=255, font=bold_font(font_px), anchor="mm")
    return _finish(img)


def _dashed_polyline(
    draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: int, dash: float, gap: float
):
    """Draw a closed polyline as dashes whose phase runs on across corners."""
    phase = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        seg = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while pos < seg:
            period_pos = (phase + pos) % (dash + gap)
            if period_pos < dash:
                run = min(dash - period_pos, seg - pos)
                a, b = pos / seg, (pos + run) / seg
                draw.line(
                    [(x0 + a * (x1 - x0), y0 + a * (y1 - y0)), (x0 + b * (x1 - x0), y0 + b * (y1 - y0))],
                    fill=255,
                    width=width,
                )
                pos += run
            else:
                pos += dash + gap - period_pos
        phase += seg


def box(size: tuple[int, int], rect: tuple[int, int, int, int], width: int, dashed: bool) -> Glyph | None:
    """Rectangle outline through the corners of ``rect`` (inclusive pixel corners)."""
    img = Image.new("L", size, 0)
    draw = ImageDraw.Draw(img)
    x1, y1, x2, y2 = rect
    if dashed:
        _dashed_polyline(
            draw, [(x1, y1), (x2, y1), (x2, y2), (x1, y2)], width, 3.0 * width + 4, 2.0 * width + 3
        )
    else:
        draw.rectangle(rect, outline=255, width=width)
    return _finish(img)


def ellipse(size: tuple[int, int], rect: tuple[int, int, int, int], width: int, dashed: bool) -> Glyph | None:
    """Circle or ellipse outline inscribed in ``rect``; dashed as 14-degree arcs every 24 degrees."""
    img = Image.new("L", size, 0)
    draw = ImageDraw.Draw(img)
    if dashed:
        for start in range(0, 360, 24):
            draw.arc(rect, start, start + 14, fill=255, width=width)
    else:
        draw.ellipse(rect, outline=255, width=width)
    return _finish(img)


def composite(canvas: np.ndarray, glyph: Glyph, offset: tuple[int, int], colour: str) -> None:
    """Paint ``glyph`` onto ``canvas`` (figure pixels) in place at ``offset`` = (x, y)."""
    h, w = glyph.mask.shape
    x, y = offset
    region = canvas[y : y + h, x : x + w]
    region[glyph.mask] = COLOURS[colour]


def text_glyph(text: str, font_px: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Mask of ``text`` in the bold font, cropped to its ink, and the ink's (width, height)."""
    font = bold_font(font_px)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right + 4, bottom + 4), 0)
    ImageDraw.Draw(img).text((2, 2), text, fill=255, font=font)
    mask = np.asarray(img) > 0
    x1, y1, x2, y2 = ink_box(mask)
    crop = mask[y1:y2, x1:x2]
    return crop, (x2 - x1, y2 - y1)
