"""Compose one compound figure from real pixels: grid layout, panel labels, insets, zooms.

All boxes are half-open ``[x1, y1, x2, y2)`` in figure pixels (x right, y down), following
``shared/data/panel-gt``: a panel box is the image content without a gutter letter; a label
box is the tight box of the label's ink. Markers are placed by ``curate.sample.place``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from curate.sample import draw
from curate.sample.pixels import load_view
from curate.sample.place import Placement, place_markers

BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0)}


@dataclass
class MarkerSpec:
    """``count`` markers of one kind and colour sharing one caption ``phrase``.

    ``zoom`` = "inset" or the index of the panel that magnifies this box's region. ``at`` are
    the structures pointed at, as (x, y) fractions of the whole source view (one per marker,
    cycled); without it markers go to salient structure near the panel centre.
    """

    kind: str
    colour: str
    count: int = 1
    dashed: bool = False
    scale: float = 1.0
    phrase: str = ""
    zoom: str | int | None = None
    at: list[tuple[float, float]] | None = None


@dataclass
class PanelSpec:
    """One panel: a pixel view, a fractional crop of it, caption text and markers.

    ``zoom_of`` = index of the panel whose box region this panel magnifies; ``inset`` adds a
    magnified inset of this panel's own boxed region.
    """

    view: str
    text: str = ""
    crop: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    markers: list[MarkerSpec] = field(default_factory=list)
    zoom_of: int | None = None
    inset: bool = False


@dataclass
class FigureSpec:
    """Layout and style of one figure; ``cells`` are grid spans ``(c0, r0, c1, r1)``."""

    title: str
    panels: list[PanelSpec]
    cols: list[float] = field(default_factory=lambda: [1.0])
    rows: list[float] = field(default_factory=lambda: [1.0])
    cells: list[tuple[int, int, int, int]] | None = None
    width: int = 800
    background: str = "white"
    gutter: int = 12
    labels: str | None = "upper"  # upper "A", lower "a", paren "(a)", None = unlabelled
    label_place: str = "outside"  # outside = in the gutter above-left; inside = on the image
    separators: bool = False
    caption_style: str = "paren"  # paren "(A) ...", comma "A, ...", none
    margin: int = 4
    mentions: list[tuple[str, int | None]] = field(default_factory=list)


def label_text(spec: FigureSpec, index: int) -> tuple[str | None, str | None]:
    """(ground-truth label, printed label) of panel ``index``; (None, None) if unlabelled."""
    if spec.labels is None:
        return None, None
    upper = chr(ord("A") + index)
    if spec.labels == "upper":
        return upper, upper
    lower = upper.lower()
    return lower, f"({lower})" if spec.labels == "paren" else lower


def _cells(spec: FigureSpec) -> list[tuple[int, int, int, int]]:
    if spec.cells is not None:
        return spec.cells
    ncols = len(spec.cols)
    return [(i % ncols, i // ncols, i % ncols + 1, i // ncols + 1) for i in range(len(spec.panels))]


def _sizes(total: float, ratios: list[float]) -> list[int]:
    """Split ``total`` px by ``ratios`` with cumulative rounding (sums exactly)."""
    cum = np.cumsum([0.0] + list(ratios)) / sum(ratios) * total
    edges = np.rint(cum).astype(int)
    return [int(b - a) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def layout(spec: FigureSpec, strip: int) -> tuple[int, int, list[list[int]]]:
    """Figure (width, height) and each panel's content box; ``strip`` = label strip height."""
    m, g = spec.margin, spec.gutter
    usable = spec.width - 2 * m - g * (len(spec.cols) - 1)
    colw = _sizes(usable, spec.cols)
    unit = usable / len(spec.cols)
    rowh = [int(round(unit * r)) + strip for r in spec.rows]
    xs = [m + sum(colw[:c]) + g * c for c in range(len(colw))]
    ys = [m + sum(rowh[:r]) + g * r for r in range(len(rowh))]
    height = 2 * m + sum(rowh) + g * (len(rowh) - 1)
    boxes = []
    for c0, r0, c1, r1 in _cells(spec):
        x1 = xs[c1 - 1] + colw[c1 - 1]
        y1 = ys[r1 - 1] + rowh[r1 - 1]
        boxes.append([xs[c0], ys[r0] + strip, x1, y1])
    return spec.width, height, boxes


Affine = tuple[float, float, float, float]  # (ax, bx, ay, by): panel x = ax * u + bx, y = ay * v + by


def fit_view(
    view: str, crop: tuple[float, float, float, float], size: tuple[int, int]
) -> tuple[np.ndarray, Affine]:
    """Crop a view by fractions, centre-crop it to ``size``'s aspect, resize to ``size`` (w, h).

    Also returns the map from source-view fractions (u, v) to panel pixels."""
    src = load_view(view)
    h, w = src.shape[:2]
    x0, y0, x1, y1 = int(crop[0] * w), int(crop[1] * h), int(crop[2] * w), int(crop[3] * h)
    out, used = resize_region(src, [x0, y0, x1, y1], size, with_box=True)
    sx, sy = size[0] / (used[2] - used[0]), size[1] / (used[3] - used[1])
    return out, (w * sx, -used[0] * sx, h * sy, -used[1] * sy)


def zoom_affine(base: Affine, region: list[int], size: tuple[int, int]) -> Affine:
    """Map of a panel that magnifies ``region`` of a panel with map ``base``."""
    zx, zy = size[0] / (region[2] - region[0]), size[1] / (region[3] - region[1])
    return (base[0] * zx, (base[1] - region[0]) * zx, base[2] * zy, (base[3] - region[1]) * zy)


def resize_region(src: np.ndarray, box: list[int], size: tuple[int, int], with_box: bool = False):
    """The part of ``box`` with ``size``'s aspect, centred, resized to ``size`` = (w, h)
    (and, if ``with_box``, the source box actually used)."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    aspect = size[0] / size[1]
    if bw / bh > aspect:
        nw = max(1, round(bh * aspect))
        x0 += (bw - nw) // 2
        x1 = x0 + nw
    else:
        nh = max(1, round(bw / aspect))
        y0 += (bh - nh) // 2
        y1 = y0 + nh
    region = Image.fromarray(np.ascontiguousarray(src[y0:y1, x0:x1]))
    out = np.asarray(region.resize(size, Image.Resampling.LANCZOS))
    return (out, [x0, y0, x1, y1]) if with_box else out


def _label_size(spec: FigureSpec) -> int:
    return int(np.clip(spec.width / 30, 16, 32))


def _inset_rect(box: list[int]) -> list[int]:
    """Inset frame (panel-local, half-open) in the panel's lower-right corner."""
    w, h = box[2] - box[0], box[3] - box[1]
    side = int(0.36 * min(w, h))
    return [w - side - 6, h - side - 6, w - 6, h - 6]


def _draw_label(canvas: np.ndarray, spec: FigureSpec, box: list[int], printed: str, strip: int) -> list[int]:
    mask, (lw, lh) = draw.text_glyph(printed, _label_size(spec))
    if spec.label_place == "inside":
        x, y = box[0] + 7, box[1] + 6
        under = canvas[y : y + lh, x : x + lw].mean()
        colour = (255, 255, 255) if under < 140 else (0, 0, 0)
    else:
        x, y = box[0], box[1] - strip + (strip - lh) // 2 - 1
        colour = (0, 0, 0) if spec.background == "white" else (255, 255, 255)
    canvas[y : y + lh, x : x + lw][mask] = colour
    return [x, y, x + lw, y + lh]


def render(spec: FigureSpec, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Draw the figure; returns (RGB uint8 array, ground-truth dict with panels and markers)."""
    printed = [label_text(spec, i)[1] for i in range(len(spec.panels))]
    _, (_, probe_h) = draw.text_glyph("(A)" if spec.labels == "paren" else "A", _label_size(spec))
    strip = probe_h + 10 if spec.label_place == "outside" and printed[0] else 0
    width, height, boxes = layout(spec, strip)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = BACKGROUNDS[spec.background]
    if spec.separators:
        xs0, ys0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        line = 255 - np.array(BACKGROUNDS[spec.background], np.uint8)
        canvas[ys0 : max(b[3] for b in boxes), xs0 : max(b[2] for b in boxes)] = line
    contents, maps = {}, {}
    for i, ps in enumerate(spec.panels):
        if ps.zoom_of is None:
            b = boxes[i]
            contents[i], maps[i] = fit_view(ps.view, ps.crop, (b[2] - b[0], b[3] - b[1]))
    label_boxes = {i: _label_local(spec, boxes[i], printed[i]) for i in range(len(spec.panels))}
    insets = {i: _inset_rect(boxes[i]) for i in range(len(boxes))}
    base = sorted(contents)
    placed = place_markers(spec, boxes, contents, label_boxes, insets, maps, rng, base, Placement())
    zooms = [i for i, ps in enumerate(spec.panels) if ps.zoom_of is not None]
    for i in zooms:  # a zoom panel copies its region before any marker is drawn on it
        size, src = (boxes[i][2] - boxes[i][0], boxes[i][3] - boxes[i][1]), spec.panels[i].zoom_of
        contents[i] = resize_region(contents[src], placed.zoom_regions[i], size)
        maps[i] = zoom_affine(maps[src], placed.zoom_regions[i], size)
    placed = place_markers(spec, boxes, contents, label_boxes, insets, maps, rng, zooms, placed)
    panels_gt = []
    for i, ps in enumerate(spec.panels):
        b = boxes[i]
        tile = contents[i].copy()
        insets = []
        if ps.inset:
            insets.append(_paste_inset(tile, placed.inset_regions[i], spec.background, b))
        canvas[b[1] : b[3], b[0] : b[2]] = tile
        label, shown = label_text(spec, i)
        panels_gt.append(
            {
                "label": label,
                "label_printed": shown,
                "bbox_xyxy": list(b),
                "label_bbox_xyxy": None,
                "view": ps.view,
                "insets": insets,
                "zoom_of": label_text(spec, ps.zoom_of)[0] if ps.zoom_of is not None else None,
            }
        )
    for mk in placed.markers:
        b = boxes[mk.panel]
        draw.composite(canvas, mk.glyph, (b[0], b[1]), mk.colour)
    for i, shown in enumerate(printed):
        if shown:
            panels_gt[i]["label_bbox_xyxy"] = _draw_label(canvas, spec, boxes[i], shown, strip)
    gt = {
        "width": width,
        "height": height,
        "background": spec.background,
        "gutter_px": spec.gutter,
        "separators": spec.separators,
        "label_place": spec.label_place if printed[0] else None,
        "panels": panels_gt,
        "markers": [mk.to_gt(boxes, spec) for mk in placed.markers],
    }
    return canvas, gt


def _label_local(spec: FigureSpec, box: list[int], printed: str | None) -> list[int] | None:
    """Panel-local area an inside label will cover (markers keep off it); None otherwise."""
    if not printed or spec.label_place != "inside":
        return None
    _, (lw, lh) = draw.text_glyph(printed, _label_size(spec))
    return [0, 0, 7 + lw + 6, 6 + lh + 6]


def _paste_inset(tile: np.ndarray, region: list[int], background: str, box: list[int]) -> dict:
    """Magnify ``region`` of ``tile`` into the lower-right inset frame, in place."""
    h, w = tile.shape[:2]
    x1, y1, x2, y2 = _inset_rect([0, 0, w, h])
    frame = (255, 255, 255) if background == "black" or tile.mean() < 128 else (0, 0, 0)
    tile[y1:y2, x1:x2] = frame
    tile[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2] = resize_region(tile, region, (x2 - x1 - 4, y2 - y1 - 4))
    ox, oy = box[0], box[1]
    return {
        "bbox_xyxy": [x1 + ox, y1 + oy, x2 + ox, y2 + oy],
        "source_bbox_xyxy": [region[0] + ox, region[1] + oy, region[2] + ox, region[3] + oy],
    }
