"""SVG drawn over a figure: panel boxes and labels, markers (arrows with tips), regions (boxes and
mask outlines). The SVG's viewBox is the figure's own pixel frame, so every coordinate is a
figure pixel and the browser scales it with the thumbnail; strokes keep their screen width.
"""

from __future__ import annotations

import html
import math

import cv2
import numpy as np

from curate.records import Marker, Panel, Region
from curate.roi.rle import RleError, decode

PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#9a6324",
           "#800000", "#469990", "#000075"]
MARKER_COLOUR = "#ffd700"
REGION_COLOUR = "#00e5ff"


def panel_colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _title(text: str) -> str:
    return f"<title>{html.escape(text)}</title>" if text else ""


def _rect(box, cls: str, colour: str, tip: str = "", dash: bool = False) -> str:
    x1, y1, x2, y2 = box
    extra = ' stroke-dasharray="6,4"' if dash else ""
    return (f'<rect class="{cls}" x="{x1}" y="{y1}" width="{x2 - x1}" height="{y2 - y1}" fill="none" '
            f'stroke="{colour}"{extra}>{_title(tip)}</rect>')


def _shift(box, ox: int, oy: int) -> list[int]:
    """A panel-pixel box moved into figure pixels by the panel's origin."""
    return [box[0] + ox, box[1] + oy, box[2] + ox, box[3] + oy]


def marker_svg(m: Marker, ox: int, oy: int, tip_id: str = "tip") -> str:
    """An arrow (shaft ending in an arrowhead at the tip) when the tip and direction are known,
    otherwise the marker's box; always one ``<g class="marker">``."""
    tip = _title(f"{m.kind} {m.colour}" + (f": {m.phrase}" if m.phrase else ""))
    box = _shift(m.bbox_xyxy_panel, ox, oy)
    inner = _rect(box, "marker-box", MARKER_COLOUR, dash=True)
    if m.tip_xy_panel and m.direction_deg is not None:
        tx, ty = m.tip_xy_panel[0] + ox, m.tip_xy_panel[1] + oy
        length = max(box[2] - box[0], box[3] - box[1], 12)
        rad = math.radians(m.direction_deg)
        sx, sy = tx - length * math.cos(rad), ty - length * math.sin(rad)
        inner += (f'<line class="marker-arrow" x1="{sx:.1f}" y1="{sy:.1f}" x2="{tx}" y2="{ty}" '
                  f'stroke="{MARKER_COLOUR}" marker-end="url(#{tip_id})"/>')
    elif m.tip_xy_panel:
        inner += f'<circle class="marker-tip" cx="{m.tip_xy_panel[0] + ox}" cy="{m.tip_xy_panel[1] + oy}" r="3"/>'
    return f'<g class="marker" data-kind="{html.escape(m.kind)}">{tip}{inner}</g>'


def mask_outline(r: Region, panel: Panel | None, ox: int, oy: int) -> str:
    """Mask contours as SVG paths in figure pixels; '' when there is no (decodable) mask."""
    if not r.mask_rle or panel is None:
        return ""
    x1, y1, x2, y2 = panel.bbox_xyxy
    try:
        mask = decode(r.mask_rle, y2 - y1, x2 - x1)
    except RleError:
        return ""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    paths = []
    for c in contours:
        pts = c.reshape(-1, 2)
        if len(pts) < 3:
            continue
        paths.append("M" + " L".join(f"{x + ox},{y + oy}" for x, y in pts) + " Z")
    if not paths:
        return ""
    return (f'<path class="mask" d="{" ".join(paths)}" fill="{REGION_COLOUR}" fill-opacity="0.2" '
            f'stroke="{REGION_COLOUR}"/>')


def figure_overlay(width: int, height: int, panels: list[Panel], markers: list[Marker],
                   regions: list[Region], uid: str = "0") -> str:
    """The overlay of one figure; ``uid`` keeps its arrowhead definition's id unique in the page."""
    font = max(12, round(max(width, height) / 45))
    tip_id = f"tip-{uid}"
    out = [f'<svg class="overlay" viewBox="0 0 {width} {height}" preserveAspectRatio="none">'
           f'<defs><marker id="{tip_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
           f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{MARKER_COLOUR}"/></marker></defs>']
    by_id = {p.id: p for p in panels}
    origin = {p.id: (p.bbox_xyxy[0], p.bbox_xyxy[1]) for p in panels}
    for i, p in enumerate(panels):
        colour = panel_colour(i)
        label = p.label or "?"
        out.append(_rect(p.bbox_xyxy, "panel", colour, f"panel {label}", dash=p.parent_panel_id is not None))
        if p.label_bbox_xyxy:
            out.append(_rect(p.label_bbox_xyxy, "label-box", colour))
        out.append(f'<text class="panel-label" x="{p.bbox_xyxy[0] + font // 4}" y="{p.bbox_xyxy[1] + font}" '
                   f'fill="{colour}" font-size="{font}">{html.escape(label)}</text>')
    for m in markers:
        out.append(marker_svg(m, *origin.get(m.panel_id, (0, 0)), tip_id=tip_id))
    for r in regions:
        ox, oy = origin.get(r.panel_id, (0, 0))
        out.append(f'<g class="region">{_title(f"{r.source}: {r.phrase}")}'
                   f'{_rect(_shift(r.bbox_xyxy_panel, ox, oy), "region-box", REGION_COLOUR, dash=True)}'
                   f'{mask_outline(r, by_id.get(r.panel_id), ox, oy)}</g>')
    out.append("</svg>")
    return "".join(out)
