"""``runs/<name>/report/index.html``: one static page to check a run by eye.

For each figure: the image with panel boxes and labels, markers (with arrow tips) and
regions drawn over it as SVG, the caption with every panel's sub-caption highlighted in its
panel's colour, and the four texts of each panel and region. Above: the funnel per stage
and the quarantined items with their reasons. Every string from a paper is escaped.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import cv2
import numpy as np

from curate.images import decode_rgb, encode_jpeg
from curate.records import RECORD_TYPES, Quarantine
from curate.runtime.blobs import BlobStore
from curate.runtime.manifest import RunLayout, read_records
from curate.runtime.status import run_funnel

PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#9a6324",
           "#800000", "#469990", "#000075"]
PRODUCERS = {"figures": "ingest", "panels": "panels", "markers": "markers", "regions": "regions",
             "texts": "captions"}
CSS = """body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
.fig{border-top:2px solid #888;margin-top:1.5em;padding-top:.5em;display:flex;gap:1.5em;flex-wrap:wrap}
.view{position:relative;flex:0 0 auto}.view svg{position:absolute;left:0;top:0}.side{flex:1 1 420px}
.sub{padding:0 2px;border-radius:3px}.texts{font-size:12px;color:#444}.unsure{color:#b00}"""


def _table_rows(layout: RunLayout, table: str, n_parts: int) -> list:
    stage = PRODUCERS[table]
    return [r for p in range(n_parts) for r in read_records(layout.table(stage, table, p), RECORD_TYPES[table])]


def _img_tag(rgb: np.ndarray, max_side: int) -> tuple[str, float]:
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                         interpolation=cv2.INTER_AREA)
    data = base64.b64encode(encode_jpeg(np.ascontiguousarray(rgb), 80)).decode()
    return f'<img src="data:image/jpeg;base64,{data}" width="{rgb.shape[1]}" height="{rgb.shape[0]}">', scale


def _rect(box, s: float, colour: str, cls: str, dash: bool = False) -> str:
    x1, y1, x2, y2 = (v * s for v in box)
    extra = ' stroke-dasharray="5,3"' if dash else ""
    return (f'<rect class="{cls}" x="{x1:.1f}" y="{y1:.1f}" width="{x2 - x1:.1f}" height="{y2 - y1:.1f}" '
            f'fill="none" stroke="{colour}" stroke-width="2"{extra}/>')


def _in_figure(box_panel, ox: int, oy: int) -> list[int]:
    """A panel-pixel box moved into figure pixels by the panel's origin."""
    return [box_panel[0] + ox, box_panel[1] + oy, box_panel[2] + ox, box_panel[3] + oy]


def _overlay(panels, markers, regions, s: float, w: int, h: int) -> str:
    parts = [f'<svg width="{w}" height="{h}">']
    origin = {}
    for i, p in enumerate(panels):
        colour = PALETTE[i % len(PALETTE)]
        origin[p.id] = p.bbox_xyxy[:2]
        parts.append(_rect(p.bbox_xyxy, s, colour, "panel"))
        parts.append(f'<text x="{p.bbox_xyxy[0] * s + 3:.1f}" y="{p.bbox_xyxy[1] * s + 14:.1f}" fill="{colour}" '
                     f'font-weight="bold">{html.escape(p.label or "?")}</text>')
    for m in markers:
        ox, oy = origin.get(m.panel_id, (0, 0))
        parts.append(_rect(_in_figure(m.bbox_xyxy_panel, ox, oy), s, "#ffd700", "marker"))
        if m.tip_xy_panel:
            parts.append(f'<circle class="tip" cx="{(m.tip_xy_panel[0] + ox) * s:.1f}" '
                         f'cy="{(m.tip_xy_panel[1] + oy) * s:.1f}" r="3" fill="#ffd700"/>')
    for r in regions:
        ox, oy = origin.get(r.panel_id, (0, 0))
        parts.append(_rect(_in_figure(r.bbox_xyxy_panel, ox, oy), s, "#00e5ff", "region", dash=True))
    parts.append("</svg>")
    return "".join(parts)


def _caption_html(caption: str, panels) -> str:
    out = html.escape(caption)
    for i, p in enumerate(panels):
        if p.subcaption and not p.is_whole_figure:
            sub = html.escape(p.subcaption)
            style = f'style="background:{PALETTE[i % len(PALETTE)]}33"'
            out = out.replace(sub, f'<span class="sub" {style}>{sub}</span>', 1)
    return out


def _texts_html(label: str, t) -> str:
    if t is None:
        return ""
    negs = "; ".join(html.escape(n) for n in t.negatives)
    return (f'<div class="texts"><b>{html.escape(label)}</b> summary: {html.escape(t.summary)}<br>region: '
            f'{html.escape(t.region)}<br>negatives: {negs}</div>')


def _figure_section(fig, panels, markers, regions, texts, blobs: BlobStore, max_side: int) -> str:
    img, s = _img_tag(decode_rgb(blobs.get(fig.image_sha256)), max_side)
    w, h = round(fig.width * s), round(fig.height * s)
    side = [f"<h3>{html.escape(fig.id)} · {html.escape(fig.label)}</h3>", f"<p>{_caption_html(fig.caption, panels)}</p>"]
    for p in panels:
        flag = f' <span class="unsure">unsure: {html.escape(p.unsure_reason)}</span>' if p.unsure else ""
        side.append(f"<div>panel {html.escape(p.label or '?')} (confidence {p.confidence:.2f}){flag}</div>")
        side.append(_texts_html(f"panel {p.label or '?'}", texts.get(p.id)))
    for r in regions:
        side.append(_texts_html(f"region {r.id[-3:]} ({html.escape(r.phrase)})", texts.get(r.id)))
    return (f'<div class="fig" data-figure="{html.escape(fig.id)}"><div class="view">{img}'
            f'{_overlay(panels, markers, regions, s, w, h)}</div><div class="side">{"".join(side)}</div></div>')


def write_report(run_dir: Path, stage_names: list[str], max_figures: int = 200, max_side: int = 720) -> Path:
    layout = RunLayout(run_dir)
    n_items, n_parts, funnels = run_funnel(run_dir, stage_names)
    rows = {t: _table_rows(layout, t, n_parts) for t in PRODUCERS}
    by_fig: dict[str, dict[str, list]] = {}
    for table in ("panels", "markers", "regions", "texts"):
        for row in rows[table]:
            by_fig.setdefault(row.figure_id, {}).setdefault(table, []).append(row)
    quarantine = [q for st in stage_names for p in range(n_parts)
                  for q in read_records(layout.quarantine(st, p), Quarantine)]
    body = [f"<h1>Run {html.escape(run_dir.name)}</h1>", f"<p>{n_items} input items, {n_parts} parts.</p>",
            "<table><tr><th>stage</th><th>in</th><th>out</th><th>quarantined</th><th>seconds</th></tr>"]
    for f in funnels:
        body.append(f"<tr><td>{f.stage}</td><td>{f.counts.get('in', 0)}</td><td>{f.counts.get('out', 0)}</td>"
                    f"<td>{f.counts.get('quarantined', 0)}</td><td>{f.seconds:.1f}</td></tr>")
    body.append("</table><h2>Quarantined</h2>")
    body.append("<ul>" + "".join(f"<li>{html.escape(q.stage)} · {html.escape(q.item_id)} · "
                                 f"{html.escape(q.error_class)}: {html.escape(q.message)}</li>" for q in quarantine)
                + "</ul>" if quarantine else "<p>None.</p>")
    body.append(f"<h2>Figures ({min(len(rows['figures']), max_figures)} of {len(rows['figures'])})</h2>")
    blobs = BlobStore(layout.blobs)
    for fig in sorted(rows["figures"], key=lambda f: f.id)[:max_figures]:
        mine = by_fig.get(fig.id, {})
        texts = {t.target_id: t for t in mine.get("texts", [])}
        body.append(_figure_section(fig, sorted(mine.get("panels", []), key=lambda p: p.index),
                                    mine.get("markers", []), mine.get("regions", []), texts, blobs, max_side))
    out = layout.root / "report" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>panel2patch run</title>"
                   f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
    return out
