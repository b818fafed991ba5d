"""Where markers go: near salient structure, inside their panel, off labels, insets and each other.

Everything here is in panel-content pixels (origin at the panel's top-left); ``Placed.to_gt``
converts to figure pixels. Boxes are half-open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageFilter

from curate.sample import draw

if TYPE_CHECKING:
    from curate.sample.compose import FigureSpec, MarkerSpec

ANGLES = (45.0, 135.0, 225.0, 315.0, 0.0, 180.0, 90.0, 270.0)


@dataclass
class Placed:
    """One drawn marker: its panel index, spec, glyph (panel pixels) and colour."""

    panel: int
    spec: MarkerSpec
    glyph: draw.Glyph
    colour: str
    zoom_target: str | None = None

    def to_gt(self, boxes: list[list[int]], fig: FigureSpec) -> dict:
        """Ground-truth dict in figure pixels."""
        from curate.sample.compose import label_text

        ox, oy = boxes[self.panel][0], boxes[self.panel][1]
        g = self.glyph
        shift = lambda p: None if p is None else [p[0] + ox, p[1] + oy]  # noqa: E731
        style = (
            "dashed"
            if self.spec.dashed
            else ("filled" if self.spec.kind in ("arrow", "arrowhead") else "solid")
        )
        return {
            "kind": self.spec.kind,
            "colour": self.colour,
            "style": style,
            "bbox_xyxy": [g.bbox[0] + ox, g.bbox[1] + oy, g.bbox[2] + ox, g.bbox[3] + oy],
            "tip_xy": shift(g.tip),
            "tail_xy": shift(g.tail),
            "direction_deg": g.direction_deg,
            "panel_index": self.panel,
            "panel_label": label_text(fig, self.panel)[0],
            "phrase": self.spec.phrase,
            "zoom_target": self.zoom_target,
        }


@dataclass
class Placement:
    markers: list[Placed] = field(default_factory=list)
    zoom_regions: dict[int, list[int]] = field(default_factory=dict)  # zoom panel -> box in its source
    inset_regions: dict[int, list[int]] = field(default_factory=dict)  # panel -> box it magnifies


def candidates(content: np.ndarray, rng: np.random.Generator, k: int = 36) -> list[tuple[int, int]]:
    """Points on local structure (fine-minus-coarse blur contrast) in the central 64 %,
    the strongest ``k`` in random order, then random fallbacks anywhere."""
    gray = Image.fromarray(content.mean(axis=2).astype(np.uint8))
    fine = np.asarray(gray.filter(ImageFilter.GaussianBlur(2)), np.float64)
    coarse = np.asarray(gray.filter(ImageFilter.GaussianBlur(10)), np.float64)
    sal = np.abs(fine - coarse)
    h, w = sal.shape
    step = max(4, min(w, h) // 40)
    ys, xs = np.mgrid[int(0.18 * h) : int(0.82 * h) : step, int(0.18 * w) : int(0.82 * w) : step]
    order = np.argsort(-sal[ys, xs].ravel(), kind="stable")[:k]
    pts = [(int(xs.ravel()[j]), int(ys.ravel()[j])) for j in rng.permutation(order)]
    extra = rng.integers([int(0.1 * w), int(0.1 * h)], [int(0.9 * w), int(0.9 * h)], size=(120, 2))
    return pts + [(int(x), int(y)) for x, y in extra]


def _overlaps(a: list[int], b: list[int], pad: int) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _fits(bbox: list[int] | None, size: tuple[int, int], avoid: list[list[int]]) -> bool:
    if bbox is None:
        return False
    w, h = size
    inside = bbox[0] >= 3 and bbox[1] >= 3 and bbox[2] <= w - 3 and bbox[3] <= h - 3
    return inside and not any(_overlaps(bbox, a, 5) for a in avoid)


def aimed(
    mk: MarkerSpec,
    k: int,
    affine: tuple[float, float, float, float],
    size: tuple[int, int],
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """Targets for the ``k``-th marker of an aimed spec: the mapped point, then small jitters."""
    u, v = mk.at[k % len(mk.at)]
    x, y = affine[0] * u + affine[1], affine[2] * v + affine[3]
    r = 0.06 * min(size)
    jit = rng.uniform(-r, r, size=(30, 2))
    return [(int(round(x)), int(round(y)))] + [(int(round(x + dx)), int(round(y + dy))) for dx, dy in jit]


def _make(
    mk: MarkerSpec,
    target: tuple[int, int],
    size: tuple[int, int],
    rng: np.random.Generator,
    aspect: float | None,
) -> list[tuple[draw.Glyph | None, list[int] | None]]:
    """Candidate glyphs for one target point; each with the region it outlines (boxes only)."""
    s = min(size)
    if mk.kind == "arrow":
        length = float(np.clip(0.17 * s * mk.scale, 28, 95))
        shaft = 2 if s < 320 else 3
        out = []
        for angle in rng.permutation(ANGLES)[: 8 if mk.at else 4]:
            ux, uy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
            tip = (int(round(target[0] - 4 * ux)), int(round(target[1] - 4 * uy)))
            out.append((draw.arrow(size, tip, float(angle), length, shaft), None))
        return out
    if mk.kind == "arrowhead":
        length = float(np.clip(0.065 * s * mk.scale, 11, 26))
        angle = float(rng.choice(ANGLES))
        ux, uy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        tip = (int(round(target[0] - 3 * ux)), int(round(target[1] - 3 * uy)))
        return [(draw.arrowhead(size, tip, angle, length), None)]
    if mk.kind == "asterisk":
        px = int(np.clip(0.13 * s * mk.scale, 28, 60))
        dx = int(rng.choice([-1, 1])) * px // 3
        return [(draw.asterisk(size, (target[0] + dx, target[1] - px // 3), px), None)]
    width = 2 if s < 420 else 3
    half_w = 0.14 * s * mk.scale * float(rng.uniform(0.85, 1.15))
    half_h = half_w / aspect if aspect else half_w * float(rng.uniform(0.7, 1.3))
    rect = (
        int(target[0] - half_w),
        int(target[1] - half_h),
        int(target[0] + half_w),
        int(target[1] + half_h),
    )
    if rect[0] < 0 or rect[1] < 0:
        return []
    region = [rect[0], rect[1], rect[2] + 1, rect[3] + 1]
    if mk.kind == "box":
        return [(draw.box(size, rect, width, mk.dashed), region)]
    return [(draw.ellipse(size, rect, width, mk.dashed), None)]


def _zoom_aspect(mk: MarkerSpec, boxes: list[list[int]], inset: list[int]) -> float | None:
    if mk.zoom is None:
        return None
    if mk.zoom == "inset":
        return (inset[2] - inset[0]) / (inset[3] - inset[1])
    b = boxes[int(mk.zoom)]
    return (b[2] - b[0]) / (b[3] - b[1])


def place_markers(
    fig: FigureSpec,
    boxes: list[list[int]],
    contents: dict[int, np.ndarray],
    label_boxes: dict[int, list[int] | None],
    insets: dict[int, list[int]],
    maps: dict[int, tuple[float, float, float, float]],
    rng: np.random.Generator,
    panels: list[int],
    out: Placement,
) -> Placement:
    """Place every marker of the given panels into ``out``; raises if one cannot fit."""
    from curate.sample.compose import label_text

    for i in panels:
        ps = fig.panels[i]
        size = (boxes[i][2] - boxes[i][0], boxes[i][3] - boxes[i][1])
        avoid = [a for a in (label_boxes.get(i),) if a]
        if ps.inset:
            avoid.append(insets[i])
        pts = candidates(contents[i], rng)
        for mk in ps.markers:
            aspect = _zoom_aspect(mk, boxes, insets[i])
            for k in range(mk.count):
                targets = aimed(mk, k, maps[i], size, rng) if mk.at else pts
                glyph, region = _first_fit(mk, targets, size, avoid, rng, aspect)
                # Keep same-panel markers visibly apart, not just non-overlapping.
                gap = max(6, min(size) // 14)
                b = glyph.bbox
                avoid.append([b[0] - gap, b[1] - gap, b[2] + gap, b[3] + gap])
                zoom = None
                if mk.zoom == "inset":
                    out.inset_regions[i], zoom = region, "inset"
                elif mk.zoom is not None:
                    out.zoom_regions[int(mk.zoom)] = region
                    zoom = label_text(fig, int(mk.zoom))[0]
                out.markers.append(Placed(i, mk, glyph, mk.colour, zoom))
    return out


class NoRoom(RuntimeError):
    """A marker found no free spot in its panel: the figure is re-drawn from another seed."""


def _first_fit(mk, pts, size, avoid, rng, aspect) -> tuple[draw.Glyph, list[int] | None]:
    for target in pts:
        for glyph, region in _make(mk, target, size, rng, aspect):
            if glyph is not None and _fits(glyph.bbox, size, avoid):
                return glyph, region
    raise NoRoom(f"no room for a {mk.kind} marker ({mk.phrase!r}) in a {size[0]}x{size[1]} panel")
