"""Synthetic panels with markers drawn at known places, for tests and the benchmark.

Markers are drawn with OpenCV into an RGB array; the ground truth is the drawn geometry
(half-open xyxy box of the ink, tip pixel for pointers). Angles: 0 = pointing right, 90 = down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

RGB = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (230, 25, 25), "yellow": (250, 230, 20),
    "green": (30, 220, 50), "cyan": (0, 225, 235), "magenta": (230, 30, 220), "blue": (30, 60, 240),
}


@dataclass(frozen=True)
class DrawnMarker:
    kind: str
    colour: str
    bbox_xyxy: tuple[int, int, int, int]
    tip_xy: tuple[int, int] | None


def _ink_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.any(before != after, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def draw_arrow(img, tip, angle_deg, length, colour, thickness=2) -> tuple[int, int]:
    """Shaft plus filled head, pointing along ``angle_deg`` to ``tip``; returns the tip pixel."""
    a = math.radians(angle_deg)
    ux, uy = math.cos(a), math.sin(a)
    head_len = max(5.0, length * 0.38)
    head_w = max(3.0 * thickness + 3.0, head_len * 0.9)
    tx, ty = tip
    bx, by = tx - ux * head_len, ty - uy * head_len
    tail = (int(round(tx - ux * length)), int(round(ty - uy * length)))
    cv2.line(img, tail, (int(round(bx)), int(round(by))), RGB[colour], thickness, cv2.LINE_AA)
    px, py = -uy * head_w / 2, ux * head_w / 2
    tri = np.array([[tx, ty], [bx + px, by + py], [bx - px, by - py]], np.float32)
    cv2.fillPoly(img, [np.round(tri).astype(np.int32)], RGB[colour], cv2.LINE_AA)
    return int(tx), int(ty)


def draw_arrowhead(img, tip, angle_deg, size, colour) -> tuple[int, int]:
    a = math.radians(angle_deg)
    ux, uy = math.cos(a), math.sin(a)
    tx, ty = tip
    bx, by = tx - ux * size, ty - uy * size
    px, py = -uy * size * 0.4, ux * size * 0.4
    tri = np.array([[tx, ty], [bx + px, by + py], [bx - px, by - py]], np.float32)
    cv2.fillPoly(img, [np.round(tri).astype(np.int32)], RGB[colour], cv2.LINE_AA)
    return int(tx), int(ty)


def draw_asterisk(img, centre, radius, colour, thickness=2) -> None:
    cx, cy = centre
    for k in range(3):
        a = math.radians(90 + k * 60)
        dx, dy = radius * math.cos(a), radius * math.sin(a)
        p1 = (int(round(cx - dx)), int(round(cy - dy)))
        p2 = (int(round(cx + dx)), int(round(cy + dy)))
        cv2.line(img, p1, p2, RGB[colour], thickness, cv2.LINE_AA)


# Bold faces whose '*' authors typeset onto figures: 5 or 6 teardrop petals, strokes 2-4 px at
# marker sizes. Those present on this machine are used (CI installs DejaVu and Liberation).
ASTERISK_FONTS = (
    "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSerif-Bold.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf",
    "liberation/LiberationSans-Bold.ttf", "liberation/LiberationSerif-Bold.ttf",
    "liberation/LiberationMono-Bold.ttf",
)
FONT_ROOTS = ("/usr/share/fonts/truetype", "/usr/share/fonts", "/usr/local/share/fonts")
ASTERISK_STYLES = ("typeset", "lines", "lines1px")


@cache
def asterisk_fonts() -> tuple[str, ...]:
    """Paths of the ``ASTERISK_FONTS`` installed here ("" stands for Pillow's built-in font)."""
    found = []
    for name in ASTERISK_FONTS:
        for root in FONT_ROOTS:
            if (Path(root) / name).is_file():
                found.append(str(Path(root) / name))
                break
    return tuple(found) or ("",)


def _font(path: str, px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, px) if path else ImageFont.load_default(size=px)


@cache
def asterisk_glyph(font_path: str, size: int, text: str = "*") -> np.ndarray:
    """Coverage (float 0..1) of ``text`` in ``font_path``, scaled so its ink's longer side is ``size`` px."""
    px = 2 * size
    for _ in range(3):
        canvas = Image.new("L", (4 * px, 4 * px), 0)
        ImageDraw.Draw(canvas).text((2 * px, 2 * px), text, fill=255, font=_font(font_path, px), anchor="mm")
        a = np.asarray(canvas)
        ys, xs = np.nonzero(a > 0)
        side = max(xs.max() - xs.min(), ys.max() - ys.min()) + 1
        if abs(side - size) <= 1:
            break
        px = max(4, int(round(px * size / side)))
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0


def draw_glyph(img, centre, coverage: np.ndarray, colour) -> None:
    """Composite a glyph coverage map in ``colour`` centred on ``centre`` (clipped to ``img``)."""
    gh, gw = coverage.shape
    x0, y0 = centre[0] - gw // 2, centre[1] - gh // 2
    ih, iw = img.shape[:2]
    cx0, cy0 = max(0, -x0), max(0, -y0)
    cx1, cy1 = min(gw, iw - x0), min(gh, ih - y0)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    a = coverage[cy0:cy1, cx0:cx1, None]
    region = img[y0 + cy0 : y0 + cy1, x0 + cx0 : x0 + cx1].astype(np.float32)
    ink = np.array(RGB[colour], np.float32)
    img[y0 + cy0 : y0 + cy1, x0 + cx0 : x0 + cx1] = np.round(region * (1 - a) + ink * a).astype(np.uint8)


def draw_asterisk_as_authors_do(img, centre, size, colour, style: str | None = None) -> None:
    """An asterisk of about ``size`` px ink: a bold font's '*' (3 in 4), else three crossed
    lines of 2-3 px; ``style`` forces "typeset", "lines" or "lines1px" (the 1 px form that
    JPEG chroma subsampling erases in yellow or white). The variant comes from its own
    generator seeded by the marker's place, so other kinds' random draws are untouched."""
    vr = np.random.default_rng([centre[0], centre[1], size, list(RGB).index(colour)])
    style = style or ("typeset" if vr.random() < 0.75 else "lines")
    if style not in ASTERISK_STYLES:
        raise ValueError(f"asterisk style {style!r}: one of {ASTERISK_STYLES}")
    if style == "typeset":
        fonts = asterisk_fonts()
        draw_glyph(img, centre, asterisk_glyph(fonts[int(vr.integers(len(fonts)))], size), colour)
    elif style == "lines":
        draw_asterisk(img, centre, size // 2, colour, thickness=max(2, size // 10 + int(vr.integers(0, 2))))
    else:  # lines1px
        draw_asterisk(img, centre, size // 2, colour, thickness=max(1, size // 12))


def draw_box(img, xyxy, colour, thickness=2, dashed=False) -> None:
    x1, y1, x2, y2 = xyxy
    if not dashed:
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), RGB[colour], thickness)
        return
    dash = 6
    for a, b in (((x1, y1), (x2 - 1, y1)), ((x2 - 1, y1), (x2 - 1, y2 - 1)),
                 ((x2 - 1, y2 - 1), (x1, y2 - 1)), ((x1, y2 - 1), (x1, y1))):
        n = max(1, int(math.hypot(b[0] - a[0], b[1] - a[1]) // dash))
        for i in range(0, n, 2):
            p = (a[0] + (b[0] - a[0]) * i // n, a[1] + (b[1] - a[1]) * i // n)
            q = (a[0] + (b[0] - a[0]) * (i + 1) // n, a[1] + (b[1] - a[1]) * (i + 1) // n)
            cv2.line(img, p, q, RGB[colour], thickness)


def draw_circle(img, centre, axes, colour, thickness=2) -> None:
    cv2.ellipse(img, centre, axes, 0, 0, 360, RGB[colour], thickness, cv2.LINE_AA)


def background(rng: np.random.Generator, h: int, w: int, texture: np.ndarray | None = None) -> np.ndarray:
    """Grey micrograph-like background: a real texture if given, else gradient + noise blobs."""
    if texture is not None:
        th, tw = texture.shape[:2]
        y0 = int(rng.integers(0, max(1, th - h)))
        x0 = int(rng.integers(0, max(1, tw - w)))
        crop = texture[y0 : y0 + h, x0 : x0 + w]
        return np.ascontiguousarray(cv2.resize(crop, (w, h)) if crop.shape[:2] != (h, w) else crop)
    base = np.linspace(rng.uniform(30, 120), rng.uniform(60, 160), w)[None, :].repeat(h, 0)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (h, w)), (0, 0), rng.uniform(2, 6))
    g = np.clip(base + noise, 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, 2)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through JPEG at ``quality`` (RGB in, RGB out)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def draw_one(img: np.ndarray, kind: str, colour: str, centre: tuple[int, int], size: int,
             angle: float, rng: np.random.Generator, asterisk_style: str | None = None) -> DrawnMarker:
    """Draw one marker of ``kind`` of about ``size`` px around ``centre``; return its truth.

    ``asterisk_style``: see ``draw_asterisk_as_authors_do`` (``None``: a seeded mix)."""
    before = img.copy()
    cx, cy = centre
    tip = None
    if kind == "arrow":
        a = math.radians(angle)
        tip = draw_arrow(img, (int(cx + math.cos(a) * size / 2), int(cy + math.sin(a) * size / 2)),
                         angle, size, colour, thickness=int(rng.integers(1, 4)))
    elif kind == "arrowhead":
        a = math.radians(angle)
        tip = draw_arrowhead(img, (int(cx + math.cos(a) * size / 2), int(cy + math.sin(a) * size / 2)),
                             angle, size, colour)
    elif kind == "asterisk":
        draw_asterisk_as_authors_do(img, centre, size, colour, asterisk_style)
    elif kind == "box":
        hw, hh = size, int(size * rng.uniform(0.6, 1.2))
        draw_box(img, (cx - hw, cy - hh, cx + hw, cy + hh), colour, int(rng.integers(1, 4)),
                 dashed=bool(rng.random() < 0.4))
    elif kind == "circle":
        draw_circle(img, centre, (size, int(size * rng.uniform(0.6, 1.0))), colour, int(rng.integers(2, 4)))
    return DrawnMarker(kind, colour, _ink_box(before, img), tip)
