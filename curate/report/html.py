"""``runs/<name>/report/index.html``: one static page to check a run by eye.

Above: the funnel per stage, counts per level and split, licence (and, where the manifests
carry it, modality) breakdowns, and every quarantined item with its reason. Below: a gallery
of figures, each drawn with its panel boxes and labels, markers and regions as an SVG overlay,
next to the caption (each panel's sub-caption highlighted in the panel's colour) and the four
texts of the figure, each panel and each region. Figures with quarantined items or unsure
panels come first, and client-side filters pick them out. Every string from a paper is
escaped. Thumbnails sit in ``report/img/``, so the folder can be copied or served as it is.
"""

from __future__ import annotations

import html
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import pyarrow.parquet as pq

from curate.images import decode_rgb, encode_jpeg
from curate.records import RECORD_TYPES, Quarantine
from curate.report.assets import CSS, JS
from curate.report.overlay import figure_overlay, panel_colour
from curate.runtime.blobs import BlobStore
from curate.runtime.manifest import RunLayout, read_records
from curate.runtime.status import last_run, read_quarantine, run_funnel

SHOWN_TABLES = ("documents", "figures", "panels", "markers", "regions", "texts")  # rows counted and drawn
BREAKDOWN_FIELDS = ("licence", "modality", "image_type")  # used where a table has the column
e = html.escape


def _table_paths(layout: RunLayout, table: str) -> list[Path]:
    """A table's parts under the stage that writes it, found on disk: each stage writes
    ``<run>/<stage>/<table>/``, and ``quarantine/<stage>/`` holds no table directories."""
    return sorted(p for p in layout.root.glob(f"*/{table}/part-*.parquet") if p.parent.parent.name != "quarantine")


def _rows(layout: RunLayout, table: str) -> list:
    return [r for p in _table_paths(layout, table) for r in read_records(p, RECORD_TYPES[table])]


def _column_counts(layout: RunLayout, table: str, by: tuple[str, ...]) -> Counter:
    """Counts of value tuples of columns ``by`` over a table; empty when a column is absent."""
    counts: Counter = Counter()
    for path in _table_paths(layout, table):
        if not set(by) <= set(pq.read_schema(path).names):
            return Counter()
        cols = pq.read_table(path, columns=list(by)).to_pydict()
        counts.update(zip(*(cols[c] for c in by), strict=True))
    return counts


def _html_table(head: list[str], rows: list[list]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"


def _crosstab(title: str, counts: Counter) -> str:
    """Rows: first key; columns: second key; plus totals."""
    rows_k = sorted({k[0] for k in counts}, key=str)
    cols_k = sorted({k[1] for k in counts}, key=str)
    rows = [[r, *(counts.get((r, c), 0) for c in cols_k), sum(counts.get((r, c), 0) for c in cols_k)] for r in rows_k]
    return f"<div><h3>{e(title)}</h3>{_html_table(['', *cols_k, 'total'], rows)}</div>"


def _funnel_section(run_dir: Path, stage_names: list[str]) -> str:
    n_items, n_parts, funnels = run_funnel(run_dir, stage_names)
    last = last_run(run_dir)
    top = max([f.counts.get("in", 0) for f in funnels] + [1])
    bars = []
    for f in funnels:
        n_in, n_out, n_q = (f.counts.get(k, 0) for k in ("in", "out", "quarantined"))
        bars.append(f'<div>{e(f.stage)}</div><div class="bar" title="{n_in} in">'
                    f'<span class="out" style="width:{100 * n_out / top:.2f}%"></span>'
                    f'<span class="q" style="width:{100 * n_q / top:.2f}%"></span></div>'
                    f'<div class="nums">in {n_in} · out {n_out} · quarantined {n_q}</div>')
    rows = [[f.stage, f.parts_done, f.counts.get("in", 0), f.counts.get("out", 0), f.counts.get("quarantined", 0),
             "-" if f.cached_parts is None else f.cached_parts, f"{f.seconds:.1f}",
             ", ".join(f"{k[5:]} {v}" for k, v in sorted(f.counts.items()) if k.startswith("rows."))]
            for f in funnels]
    when = f" Last run: {e(str(last.get('outcome')))} at {e(str(last.get('finished_at')))}." if last else ""
    return (f"<p>{n_items} input items in {n_parts} parts.{when}</p><h2>Funnel</h2>"
            f'<div class="funnel" id="funnel">{"".join(bars)}</div>'
            + _html_table(["stage", "parts", "in", "out", "quarantined", "cached parts", "seconds", "rows"], rows))


def _corpus_section(layout: RunLayout, tables: dict[str, list]) -> tuple[str, list[str]]:
    """Counts per level/split and breakdowns; also returns the licences for the filter."""
    parts = [_crosstab("samples per level and split", _column_counts(layout, "samples", ("level", "split")))]
    for fld in BREAKDOWN_FIELDS:
        counts = _column_counts(layout, "samples", ("level", fld)) or Counter(
            ("panel", v[0]) for v in _column_counts(layout, "panels", (fld,)).elements())
        if counts:
            parts.append(_crosstab(f"samples per level and {fld}", counts))
    docs = Counter(d.licence for d in tables["documents"])
    parts.append(f"<div><h3>documents per licence</h3>{_html_table(['licence', 'documents'], sorted(docs.items()))}</div>")
    manifest_rows = [[t, len(rows)] for t, rows in tables.items()]
    parts.append(f"<div><h3>manifest rows</h3>{_html_table(['table', 'rows'], manifest_rows)}</div>")
    return '<h2>Corpus</h2><div class="grid" id="corpus">' + "".join(parts) + "</div>", sorted(docs)


def _quarantine_section(quarantine: list[Quarantine], stage_names: list[str], limit: int = 2000) -> str:
    if not quarantine:
        return '<h2>Quarantined</h2><p id="quarantine">None.</p>'
    by_stage = Counter(q.stage for q in quarantine)
    opts = "".join(f'<option value="{e(s)}">{e(s)} ({by_stage[s]})</option>' for s in stage_names if by_stage[s])
    rows = "".join(f'<tr class="q-row" data-stage="{e(q.stage)}"><td>{e(q.stage)}</td><td>{q.part}</td>'
                   f"<td>{e(q.item_id)}</td><td>{e(q.error_class)}</td><td>{e(q.message)}</td></tr>"
                   for q in quarantine[:limit])
    more = f'<p class="muted">... and {len(quarantine) - limit} more</p>' if len(quarantine) > limit else ""
    return (f'<h2>Quarantined ({len(quarantine)})</h2><p>stage <select id="f-qstage"><option value="">all</option>'
            f'{opts}</select></p><table id="quarantine"><tr><th>stage</th><th>part</th><th>item</th><th>error</th>'
            f"<th>reason</th></tr>{rows}</table>{more}")


def _figure_of(item_id: str, figure_ids: set[str]) -> str | None:
    """The figure an id belongs to: child ids extend their parent's id at ``_`` boundaries."""
    head = item_id
    while head:
        if head in figure_ids:
            return head
        head = head.rpartition("_")[0]
    return None


def _texts(what: str, t) -> str:
    if t is None:
        return f'<div class="texts muted">{e(what)}: no texts</div>'
    negs = "".join(f"<li>{e(n)}</li>" for n in t.negatives)
    note = f' <span class="reason">{e(t.status)}</span>' if t.status != "ok" else ""
    return (f'<dl class="texts" data-target="{e(t.target_id)}"><dt>{e(what)}</dt><dd>{e(t.method)}{note}</dd>'
            f"<dt>summary</dt><dd>{e(t.summary)}</dd><dt>report</dt><dd>{e(t.report)}</dd>"
            f"<dt>region</dt><dd>{e(t.region)}</dd><dt>negatives</dt><dd><ol>{negs}</ol></dd></dl>")


def _caption(caption: str, panels) -> str:
    out = e(caption)
    for i, p in enumerate(panels):
        sub = e(p.subcaption)
        if sub and not p.is_whole_figure and sub in out:
            out = out.replace(sub, f'<span class="sub" style="background:{panel_colour(i)}40">{sub}</span>', 1)
    return out


def _thumbnail(fig, blobs: BlobStore, img_dir: Path, max_side: int) -> tuple[str, int, int]:
    rgb = decode_rgb(blobs.get(fig.image_sha256))
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    w, h = max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    (img_dir / f"{fig.id}.jpg").write_bytes(encode_jpeg(rgb.copy(), 82))
    return f"img/{fig.id}.jpg", w, h


def _figure(n: int, fig, mine: dict[str, list], texts: dict, problems: list[Quarantine], licence: str,
            blobs: BlobStore, img_dir: Path, max_side: int) -> str:
    panels = sorted(mine.get("panels", []), key=lambda p: p.index)
    markers, regions = mine.get("markers", []), mine.get("regions", [])
    src, w, h = _thumbnail(fig, blobs, img_dir, max_side)
    unsure = [p for p in panels if p.unsure]
    flags = "".join(f'<span class="flag">quarantined in {e(q.stage)}</span>' for q in problems)
    flags += '<span class="flag unsure">unsure</span>' if unsure else ""
    side = [f"<h3>{e(fig.label or 'figure')} <span class='muted'>{e(fig.id)} · {e(licence)}</span>{flags}</h3>"]
    side += [f'<div class="reason">{e(q.stage)}: {e(q.item_id)} {e(q.error_class)}: {e(q.message)}</div>'
             for q in problems]
    side.append(f'<p class="caption">{_caption(fig.caption, panels)}</p>')
    side.append(_texts("figure", texts.get(fig.id)))
    for i, p in enumerate(panels):
        why = f' <span class="reason">unsure: {e(p.unsure_reason)}</span>' if p.unsure else ""
        side.append(f'<div class="panel-row"><span class="swatch" style="background:{panel_colour(i)}"></span>'
                    f"<b>panel {e(p.label or '?')}</b> <span class='muted'>confidence {p.confidence:.2f}</span>{why}"
                    f"<div class='muted'>{e(p.subcaption)}</div></div>")
        side.append(_texts(f"panel {p.label or '?'}", texts.get(p.id)))
    for r in regions:
        side.append(_texts(f"region “{r.phrase}” ({r.source})", texts.get(r.id)))
    return (f'<div class="fig" data-figure="{e(fig.id)}" data-quarantined="{int(bool(problems))}" '
            f'data-unsure="{int(bool(unsure))}" data-licence="{e(licence)}" data-markers="{len(markers)}" '
            f'data-panels="{len(panels)}" data-regions="{len(regions)}"><div class="view" style="width:{w}px">'
            f'<img src="{e(src)}" width="{w}" height="{h}" loading="lazy" alt="{e(fig.id)}">'
            f'{figure_overlay(fig.width, fig.height, panels, markers, regions, uid=str(n))}</div>'
            f'<div class="side">{"".join(side)}</div></div>')


def write_report(run_dir: Path, stage_names: list[str], max_figures: int = 200, max_side: int = 640) -> Path:
    """Write ``report/index.html`` (and its thumbnails) for a run; returns the page's path."""
    layout = RunLayout(run_dir)
    tables = {t: _rows(layout, t) for t in SHOWN_TABLES}
    quarantine = [q for st in stage_names for q in read_quarantine(run_dir, st)]
    figure_ids = {f.id for f in tables["figures"]}
    problems: dict[str, list[Quarantine]] = defaultdict(list)
    for q in quarantine:
        fid = _figure_of(q.item_id, figure_ids)
        if fid:
            problems[fid].append(q)
    by_fig: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for table in ("panels", "markers", "regions", "texts"):
        for row in tables[table]:
            by_fig[row.figure_id][table].append(row)
    texts = {t.target_id: t for t in tables["texts"]}
    licences = {d.id: d.licence for d in tables["documents"]}
    unsure = {fid for fid, m in by_fig.items() if any(p.unsure for p in m["panels"])}
    # Figures that need a look come first: quarantined, then unsure, then the rest by id.
    order = sorted(tables["figures"], key=lambda f: (f.id not in problems, f.id not in unsure, f.id))[:max_figures]
    report_dir = layout.root / "report"
    img_dir = report_dir / "img"
    shutil.rmtree(img_dir, ignore_errors=True)
    img_dir.mkdir(parents=True)
    blobs = BlobStore(layout.blobs)
    corpus, licence_names = _corpus_section(layout, tables)
    gallery = [_figure(n, f, by_fig[f.id], texts, problems.get(f.id, []), licences.get(f.document_id, f.licence),
                       blobs, img_dir, max_side) for n, f in enumerate(order)]
    lic_opts = "".join(f'<option value="{e(x)}">{e(x)}</option>' for x in licence_names)
    filters = ('<div class="filters"><label><input type="checkbox" id="f-quarantined"> only quarantined</label>'
               '<label><input type="checkbox" id="f-unsure"> only unsure</label>'
               f'<label>licence <select id="f-licence"><option value="">any</option>{lic_opts}</select></label>'
               '<label>search <input type="search" id="f-search" placeholder="id, caption, text"></label>'
               '<span id="shown" class="muted"></span></div>')
    body = [f"<h1>Run {e(run_dir.name)}</h1>", _funnel_section(run_dir, stage_names), corpus,
            _quarantine_section(quarantine, stage_names),
            f"<h2>Figures ({len(order)} of {len(tables['figures'])}; quarantined and unsure first)</h2>",
            filters, f'<div id="gallery">{"".join(gallery)}</div>']
    out = report_dir / "index.html"
    tmp = out.with_name("index.html.tmp")
    tmp.write_text(f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>panel2patch run "
                   f"{e(run_dir.name)}</title><style>{CSS}</style></head><body>{''.join(body)}"
                   f"<script>{JS}</script></body></html>", encoding="utf-8")
    tmp.replace(out)
    return out
