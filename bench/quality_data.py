"""The labelled image-type / modality set (``bench/data/quality_labels.csv``) with each item's
pixels and the texts the pipeline would have for it (caption, the panel's own sub-caption via
the project's caption splitter, mentions), read from the shared data folder."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from lxml import etree
from PIL import Image

from curate.ingest.jats import hardened_parser, parse_jats
from curate.layout.subcaptions import split_caption

LABELS = Path(__file__).with_name("data") / "quality_labels.csv"
# labelled after the rules were tuned on LABELS and never used to tune them: the honest number
HELDOUT = Path(__file__).with_name("data") / "quality_labels_heldout.csv"
# panel crops of figures neither set holds, labelled before any learned classifier was fit
EXTRA = Path(__file__).with_name("data") / "quality_labels_extra.csv"
# crops of papers none of the above holds: the shared PDFs' figures and PubLayNet's page figures
MORE = Path(__file__).with_name("data") / "quality_labels_more.csv"
ALL_LABELS = (LABELS, HELDOUT, EXTRA, MORE)
PDF_DPI = 150  # bbox_xyxy of a '<pdf>#page=N' row is in pixels of the page rendered at this resolution
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


@dataclass
class LabelledItem:
    path: str
    panel: str
    image_type: str
    modality: str
    body_region: str
    rgb: np.ndarray
    own_text: str
    caption: str
    mentions: list[str]


def read_labels(labels: Path = LABELS) -> list[dict]:
    with labels.open() as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


@lru_cache(maxsize=32)
def _jats_captions(xml_path: Path) -> dict[str, tuple[str, list[str]]]:
    """graphic file stem -> (caption, mentions), for figures and table-wraps of one article."""
    article = parse_jats(xml_path.read_bytes(), doc_id="bench", source_path=xml_path.name)
    out = {Path(f.graphic_href).stem: (f.caption, f.mentions) for f in article.figures if f.graphic_href}
    root = etree.fromstring(xml_path.read_bytes(), hardened_parser())
    for wrap in root.iter("table-wrap"):
        graphics = [g.get(XLINK_HREF) for g in wrap.iter("graphic") if g.get(XLINK_HREF)]
        label = " ".join("".join(el.itertext()) for el in wrap.iter("label"))
        caption = " ".join(" ".join("".join(el.itertext()) for el in wrap.iter("caption")).split())
        for href in graphics:
            out[Path(href).stem] = (f"{label}. {caption}".strip(". "), [])
    return out


@lru_cache(maxsize=4)
def _medicat(root: Path) -> dict[str, tuple[str, list[str]]]:
    out = {}
    for line in (root / "medicat-sample" / "sample.jsonl").read_text().splitlines():
        row = json.loads(line)
        out[f"{row['pdf_hash']}_{row['fig_uri']}"] = (row["s2_caption"], row.get("s2orc_references") or [])
    return out


@lru_cache(maxsize=4)
def _pdf_figures(pdf: Path) -> list:
    from curate.ingest.pdf import ingest_pdf

    return ingest_pdf(pdf, doc_id="bench", source_path=pdf.name, dpi=PDF_DPI).figures


def _pdf_caption(root: Path, rel: str, bbox: str) -> str:
    """The caption of the ingested PDF figure on that page whose region holds the crop's centre."""
    name, page = rel.split("#page=")
    x1, y1, x2, y2 = (int(v) * 72 / PDF_DPI for v in bbox.split())
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    for fig in _pdf_figures(root / name):
        fx1, fy1, fx2, fy2 = fig.page_bbox_xyxy
        if fig.page == int(page) and fx1 <= cx <= fx2 and fy1 <= cy <= fy2:
            return fig.caption
    return ""


def _pdf_page(path: Path) -> np.ndarray:
    import pymupdf

    name, page = str(path).split("#page=")
    with pymupdf.open(name) as doc:
        pix = doc[int(page)].get_pixmap(dpi=PDF_DPI, alpha=False)
        return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3).copy()


def texts_of(root: Path, rel: str, bbox: str = "") -> tuple[str, list[str]]:
    path = root / rel
    if "#page=" in rel:
        return _pdf_caption(root, rel, bbox), []
    if rel.startswith("soda-mmqc-embo/"):
        return (path.parent / "caption.txt").read_text(), []
    if rel.startswith("jats-with-images/"):
        return _jats_captions(path.parent / "main.jats.xml").get(path.stem, ("", []))
    if rel.startswith("medicat-sample/"):
        return _medicat(root).get(path.name, ("", []))
    return "", []


def paper_of(rel: str) -> str:
    """The paper (or source) an image comes from: the unit of grouped cross-validation, so no
    crop of a test paper's figures is ever in the training folds."""
    parts = Path(rel).parts
    if parts[0] == "soda-mmqc-embo":
        return f"soda:{parts[2]}"
    if parts[0] == "jats-with-images":
        return f"jats:{parts[2]}"
    if parts[0] == "exsclaim-nature":
        return "exsclaim:" + Path(rel).stem.rsplit("_fig", 1)[0]
    if parts[0] == "medicat-sample":
        return "medicat:" + Path(rel).name.split("_", 1)[0]
    if parts[0] in ("pdfs", "publaynet-examples"):
        return f"{parts[0]}:" + Path(rel.split("#")[0]).stem.split("_0", 1)[0]
    if parts[0] == "unlabeled-compound-figures":
        return f"compound:{parts[1]}"
    return f"{parts[0]}:{Path(rel).stem}"


def crop_pixels(root: Path, rel: str, bbox: str = "") -> np.ndarray:
    """The RGB pixels a labelled row names: the image (or rendered PDF page), cut to bbox_xyxy if any."""
    path = root / rel
    rgb = _pdf_page(path) if "#page=" in rel else np.asarray(Image.open(path).convert("RGB"))
    if bbox:
        x1, y1, x2, y2 = (int(v) for v in bbox.split())
        rgb = rgb[y1:y2, x1:x2]
    return rgb


def load_items(root: Path, labels: Path = LABELS) -> list[LabelledItem]:
    items = []
    for row in read_labels(labels):
        rgb = crop_pixels(root, row["path"], row["bbox_xyxy"])
        caption, mentions = texts_of(root, row["path"], row["bbox_xyxy"])
        own = caption
        if row["bbox_xyxy"]:
            split = split_caption(caption)
            own = split.parts.get(row["panel"], "")
        items.append(LabelledItem(path=row["path"], panel=row["panel"], image_type=row["image_type"],
                                  modality=row["modality"], body_region=row["body_region"],
                                  rgb=np.ascontiguousarray(rgb), own_text=own, caption=caption, mentions=mentions))
    return items
