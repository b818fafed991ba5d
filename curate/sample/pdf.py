"""A small article PDF with body text, compound figures as embedded JPEGs, and captions.

Pages are A4 in PDF points (595 x 842, origin top-left as pymupdf uses it). The JPEG bytes are
embedded unchanged, so an extractor gets back exactly the figure file of the ground truth.
"""

from __future__ import annotations

from curate.mupdf import pymupdf

PAGE_W, PAGE_H, MARGIN = 595.0, 842.0, 56.0
BODY_PT, CAPTION_PT = 10.0, 8.5


class _Writer:
    """Flows blocks down the pages, starting a new page when a block does not fit."""

    def __init__(self) -> None:
        self.doc = pymupdf.open()
        self.page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        self.y = MARGIN

    def new_page(self) -> None:
        self.page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        self.y = MARGIN

    def text(self, text: str, size: float, font: str = "helv", gap: float = 8.0) -> list[float]:
        """Write a paragraph; returns its rect [x0, y0, x1, y1] in points."""
        for _attempt in range(2):
            rect = pymupdf.Rect(MARGIN, self.y, PAGE_W - MARGIN, PAGE_H - MARGIN)
            left = self.page.insert_textbox(rect, text, fontsize=size, fontname=font)
            if left >= 0:
                used = [rect.x0, rect.y0, rect.x1, rect.y1 - left]
                self.y = used[3] + gap
                return used
            self.new_page()
        raise ValueError("paragraph longer than a page")

    def figure(self, jpeg: bytes, width_px: int, height_px: int, caption: str) -> dict:
        """Image scaled to the text width (at most 55 % of the page tall) with its caption below."""
        max_w, max_h = PAGE_W - 2 * MARGIN, 0.55 * PAGE_H
        scale = min(max_w / width_px, max_h / height_px)
        w, h = width_px * scale, height_px * scale
        need = h + 6 + CAPTION_PT * 1.3 * (len(caption) / 95 + 2)
        if self.y + need > PAGE_H - MARGIN:
            self.new_page()
        x0 = (PAGE_W - w) / 2
        rect = pymupdf.Rect(x0, self.y, x0 + w, self.y + h)
        self.page.insert_image(rect, stream=jpeg)
        self.y = rect.y1 + 6
        cap = self.text(caption, CAPTION_PT, gap=14.0)
        return {
            "page": self.page.number,
            "page_bbox_xyxy": [round(v, 2) for v in rect],
            "caption_page": self.page.number,
            "caption_page_bbox_xyxy": [round(v, 2) for v in cap],
        }


def pdf_bytes(title: str, intro: list[str], figures: list[dict]) -> tuple[bytes, list[dict]]:
    """Build the PDF; each figure dict has jpeg, width, height, caption_printed and
    ``sentences`` (body text citing it). Returns the bytes and, per figure, where it landed."""
    w = _Writer()
    w.text(title, 16.0, font="hebo", gap=14.0)
    w.text(" ".join(intro) + " This sample article was generated for testing a figure pipeline.", BODY_PT)
    placed = []
    for fig in figures:
        w.text(" ".join(fig["sentences"]), BODY_PT)
        placed.append(w.figure(fig["jpeg"], fig["width"], fig["height"], fig["caption_printed"]))
    w.text(
        "In summary, the figures above show typical appearances; they are examples, not criteria.", BODY_PT
    )
    w.text("This article is distributed under the terms of the Creative Commons Attribution 4.0 "
           "International License (CC BY 4.0).", BODY_PT)
    w.doc.set_metadata(
        {
            "title": title,
            "producer": "panel2patch sample generator",
            "creator": "",
            "creationDate": "",
            "modDate": "",
        }
    )
    data = w.doc.tobytes(garbage=4, deflate=True, no_new_id=True)
    w.doc.close()
    return data, placed
