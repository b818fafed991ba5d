"""Synthetic panels with markers drawn at known places, for tests and the benchmark.

Markers are drawn with OpenCV into an RGB array; the ground truth is the drawn geometry
(half-open xyxy box of the ink, tip pixel for pointers). Angles: 0 = pointing right, 90 = down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

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
             angle: float, rng: np.random.Generator) -> DrawnMarker:
    """Draw one marker of ``kind`` of about ``size`` px around ``centre``; return its truth."""
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
        draw_asterisk(img, centre, size // 2, colour, thickness=max(1, size // 12))
    elif kind == "box":
        hw, hh = size, int(size * rng.uniform(0.6, 1.2))
        draw_box(img, (cx - hw, cy - hh, cx + hw, cy + hh), colour, int(rng.integers(1, 4)),
                 dashed=bool(rng.random() < 0.4))
    elif kind == "circle":
        draw_circle(img, centre, (size, int(size * rng.uniform(0.6, 1.0))), colour, int(rng.integers(2, 4)))
    return DrawnMarker(kind, colour, _ink_box(before, img), tip)
