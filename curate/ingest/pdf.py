"""Ingest a born-digital PDF: figures (rendered regions) with captions and in-text mentions.

How a caption and its figure region are found is described in ``pdf_layout``. Each region
is *rendered* (``page.get_pixmap(clip=...)``) rather than taken from an embedded image:
figures in PDFs are mixes of rasters, vector paths and text (axis labels, panel letters),
often split into tiles or masked, and only rendering gives what a reader sees. Renders are
PNG (lossless; later stages re-encode).

Limits: a PDF with more than ``max_pages`` pages is refused whole (``IngestError``), since a
partial document would carry wrong figure counts and missing mentions; a page larger than
``MAX_PAGE_PT`` on a side is skipped with a ``FigureFailure``; a region whose render at ``dpi``
would exceed ``max_pixels`` (the stage passes ``ingest.max_figure_pixels``) is rendered straight
at the zoom that fits it, never bigger first and shrunk after.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from curate.images import BadImage, encode_png, image_ext, sha256_hex
from curate.ingest.base import FigureFailure, IngestError, IngestResult
from curate.ingest.pdf_layout import (
    Box,
    Caption,
    TextBlock,
    body_style,
    caption_candidate,
    extend_caption,
    figure_regions,
    is_table_caption,
    page_blocks,
)
from curate.ingest.pdf_text import document_meta, find_mentions, join_lines, vocabulary
from curate.mupdf import pymupdf
from curate.records import Document, Figure, child_id

MAX_PAGE_PT = 14_400  # PDF's own page-size limit (200 inches); larger means a broken file
MAX_RENDER_PIXELS = 25_000_000  # default of ``max_pixels``, as ``ingest.max_figure_pixels``
PAD_PT = 1.0  # margin around a region so strokes on its edge are not cut


def ingest_pdf(path: Path, *, doc_id: str, source_path: str, dpi: int = 150,
               max_pages: int = 300, max_pixels: int = MAX_RENDER_PIXELS) -> IngestResult:
    """Read a PDF file and ingest it (see ``ingest_pdf_bytes``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read PDF {source_path}: {exc}") from exc
    return ingest_pdf_bytes(data, doc_id=doc_id, source_path=source_path, dpi=dpi, max_pages=max_pages,
                            max_pixels=max_pixels)


def ingest_pdf_bytes(data: bytes, *, doc_id: str, source_path: str, dpi: int = 150,
                     max_pages: int = 300, max_pixels: int = MAX_RENDER_PIXELS) -> IngestResult:
    """Document, figures (id ``<doc_id>_fNN`` in caption order), rendered PNGs and failures.

    Raises ``IngestError`` for empty, non-PDF, truncated, corrupt, password-protected, page-less or
    too long PDFs.
    """
    doc = _open(data, source_path, max_pages)
    with doc:
        return _ingest(doc, doc_id, source_path, dpi, max_pixels)


def _open(data: bytes, source_path: str, max_pages: int) -> pymupdf.Document:
    if not data:
        raise IngestError(f"{source_path}: empty file (0 bytes)")
    if b"%PDF-" not in data[:1024]:  # MuPDF would open an image or an e-book given as "pdf"
        raise IngestError(f"{source_path}: not a PDF (no %PDF- header in the first 1024 bytes)")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several types for broken files
        raise IngestError(f"{source_path}: not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if doc.is_repaired and b"%%EOF" not in data[-1024:]:
        doc.close()  # a cut download: MuPDF rebuilds what it can, but pages and images are missing
        raise IngestError(f"{source_path}: PDF is truncated (no %%EOF at the end; cross-references rebuilt)")
    if doc.needs_pass:
        doc.close()
        raise IngestError(f"{source_path}: PDF is encrypted and needs a password")
    if doc.page_count == 0:
        doc.close()
        raise IngestError(f"{source_path}: PDF has no pages")
    if doc.page_count > max_pages:
        n = doc.page_count
        doc.close()
        raise IngestError(f"{source_path}: {n} pages exceeds the limit of {max_pages}")
    return doc


def _ingest(doc: pymupdf.Document, doc_id: str, source_path: str, dpi: int, max_pixels: int) -> IngestResult:
    failures: list[FigureFailure] = []
    pages = _read_pages(doc, doc_id, failures)
    body = body_style(pages)
    captions, tables = _captions(pages, body)
    vocab = vocabulary(pages)
    blockers = _blockers(pages, captions, tables, body)
    regions = _regions(doc, pages, captions, blockers)
    meta = document_meta(doc, pages)
    result = IngestResult(Document(id=doc_id, source_kind="pdf", source_path=source_path, **meta))
    body_text = _body_text(pages, captions, regions, body, vocab)
    mentions = find_mentions(body_text, {c.number for c in captions})
    for n, cap in enumerate(captions, start=1):
        fig_id = child_id(doc_id, "f", n)
        box = regions.get(id(cap))
        if box is None:
            failures.append(FigureFailure(fig_id, "NoFigureRegion",
                                          f"{cap.label} on page {cap.page}: no graphics next to the caption"))
            continue
        figure = _figure(doc[cap.page], cap, box, fig_id, doc_id, _Render(dpi, max_pixels), vocab, result)
        figure.mentions = mentions.get(cap.number, [])
        figure.licence = result.document.licence
        result.figures.append(figure)
    result.document.n_figures = len(result.figures)
    result.failures = failures
    return result


def _read_pages(doc: pymupdf.Document, doc_id: str, failures: list[FigureFailure]) -> list[list[TextBlock]]:
    pages: list[list[TextBlock]] = []
    for page in doc:
        w, h = page.rect.width, page.rect.height
        if w > MAX_PAGE_PT or h > MAX_PAGE_PT:
            failures.append(FigureFailure(child_id(doc_id, "pg", page.number), "PageTooLarge",
                                          f"page {page.number} is {w:.0f}x{h:.0f} pt (> {MAX_PAGE_PT}); skipped"))
            pages.append([])
            continue
        pages.append(page_blocks(page))
    return pages


def _captions(pages: list[list[TextBlock]], body: tuple[str, float]) -> tuple[list[Caption], list[TextBlock]]:
    """Figure captions in document order (one per number, the best-scored) and table captions."""
    best: dict[str, Caption] = {}
    order: list[Caption] = []
    tables: list[TextBlock] = []
    for pno, blocks in enumerate(pages):
        for block in blocks:
            if is_table_caption(block):
                tables.append(block)
                continue
            cap = caption_candidate(block, body, pno)
            if cap is None:
                continue
            order.append(cap)
            if cap.number not in best or cap.score > best[cap.number].score:
                best[cap.number] = cap
    kept = [c for c in order if best[c.number] is c]
    heads = {id(c.blocks[0]) for c in order} | {id(b) for b in tables}
    taken: dict[int, set[int]] = {}
    for cap in kept:
        blocks = pages[cap.page]
        if cap.page not in taken:
            taken[cap.page] = {i for i, b in enumerate(blocks) if id(b) in heads}
        extend_caption(cap, blocks, body, taken[cap.page])
    return kept, tables


def _is_body(block: TextBlock, body: tuple[str, float]) -> bool:
    """Running text: several lines of some length in the body font, or a long paragraph in a
    size near it (abstracts, footnotes). Figure-internal text is mostly set in another font."""
    if len(block.lines) < 2 or block.n_chars < 60 or abs(block.style[1] - body[1]) > 0.15 * body[1]:
        return False
    return block.style[0] == body[0] or (len(block.lines) >= 3 and block.n_chars >= 150)


def _blockers(pages: list[list[TextBlock]], captions: list[Caption], tables: list[TextBlock],
              body: tuple[str, float]) -> list[list[TextBlock]]:
    """Per page, the blocks a figure region may not cross: body text and all captions."""
    cap_blocks = {id(b) for c in captions for b in c.blocks} | {id(b) for b in tables}
    return [[b for b in blocks if id(b) in cap_blocks or _is_body(b, body)] for blocks in pages]


def _regions(doc: pymupdf.Document, pages: list[list[TextBlock]], captions: list[Caption],
             blockers: list[list[TextBlock]]) -> dict[int, Box | None]:
    out: dict[int, Box | None] = {}
    for pno in sorted({c.page for c in captions}):
        on_page = sorted((c for c in captions if c.page == pno), key=lambda c: c.bbox[1])
        stop = {id(b) for b in blockers[pno]}
        texts = [ln.bbox for b in pages[pno] if id(b) not in stop for ln in b.lines]
        all_texts = [ln.bbox for b in pages[pno] for ln in b.lines]
        boxes = figure_regions(doc[pno], on_page, [b.bbox for b in blockers[pno]], texts, all_texts)
        out.update({id(c): box for c, box in zip(on_page, boxes, strict=True)})
    return out


class _Render(NamedTuple):
    dpi: int
    max_pixels: int


def render_zoom(clip: pymupdf.Rect, dpi: int, max_pixels: int) -> float | None:
    """None when ``clip`` renders within ``max_pixels`` at ``dpi``; else the zoom (pixels per
    point) whose pixmap, rounded out to whole pixels as MuPDF does, fits ``max_pixels``."""
    def pixels(zoom: float) -> int:
        r = (clip * pymupdf.Matrix(zoom, zoom)).irect
        return r.width * r.height

    zoom = dpi / 72
    if pixels(zoom) <= max_pixels:
        return None
    zoom *= math.sqrt(max_pixels / max(clip.width * clip.height * zoom * zoom, 1.0))
    while zoom > 1e-3 and pixels(zoom) > max_pixels:  # a pixel of rounding on each side, at most
        zoom *= 0.999
    return zoom


def _figure(page: pymupdf.Page, cap: Caption, box: Box, fig_id: str, doc_id: str, render: _Render,
            vocab: set[str], result: IngestResult) -> Figure:
    """Render the region and build the Figure record; the PNG goes into ``result.images``."""
    clip = pymupdf.Rect(box[0] - PAD_PT, box[1] - PAD_PT, box[2] + PAD_PT, box[3] + PAD_PT) & page.rect
    zoom = render_zoom(clip, render.dpi, render.max_pixels)
    if zoom is None:
        pix = page.get_pixmap(dpi=render.dpi, clip=clip, alpha=False)
    else:
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=clip, alpha=False)
    png = _png(pix)
    sha = sha256_hex(png)
    result.images[sha] = png
    caption = join_lines([ln.text for b in cap.blocks for ln in b.lines], vocab)
    return Figure(
        id=fig_id, document_id=doc_id, source_kind="pdf", label=cap.label, caption=caption,
        caption_title=_title_sentence(caption, cap.label), image_sha256=sha, image_ext=image_ext(png),
        width=pix.width, height=pix.height, page=page.number,
        page_bbox_xyxy=[round(v, 2) for v in (clip.x0, clip.y0, clip.x1, clip.y1)],
    )


def _png(pix: pymupdf.Pixmap) -> bytes:
    rgb = np.frombuffer(pix.samples_mv, np.uint8).reshape(pix.height, pix.width, 3)  # a view: pix outlives it
    try:
        return encode_png(rgb)
    except BadImage as exc:
        raise IngestError(f"cannot encode a {pix.width}x{pix.height} rendering as PNG") from exc


def _title_sentence(caption: str, label: str) -> str:
    """The caption's first sentence after its label and delimiter ("Origin of ... archaea.")."""
    rest = caption[len(label):] if caption.startswith(label) else caption
    rest = re.sub(r"^\s*[|.:–—-]?\s*", "", rest)
    m = re.search(r"(?<!\b[A-Z])(?<!\bFig)(?<!\bFigs)(?<!\bet al)\.(\s|$)", rest)
    return (rest[: m.start() + 1] if m else rest).strip()


def _body_text(pages: list[list[TextBlock]], captions: list[Caption], regions: dict[int, Box | None],
               body: tuple[str, float], vocab: set[str]) -> str:
    """Running text of the document, without captions and text inside figure regions."""
    cap_blocks = {id(b) for c in captions for b in c.blocks}
    boxes_by_page: dict[int, list[Box]] = {}
    for c in captions:
        if regions.get(id(c)) is not None:
            boxes_by_page.setdefault(c.page, []).append(regions[id(c)])
    parts: list[str] = []
    for pno, blocks in enumerate(pages):
        for b in blocks:
            if id(b) in cap_blocks or b.n_chars < 40 or b.style[1] < 0.85 * body[1]:
                continue
            cx, cy = (b.bbox[0] + b.bbox[2]) / 2, (b.bbox[1] + b.bbox[3]) / 2
            if any(r[0] <= cx <= r[2] and r[1] <= cy <= r[3] for r in boxes_by_page.get(pno, [])):
                continue
            parts.append(join_lines([ln.text for ln in b.lines], vocab))
    return " ".join(parts)
