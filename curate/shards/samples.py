"""Build WebDataset samples (figure, panel, patch) from the records of one figure.

Every box in a sample's JSON is in *that sample's image pixels* (after any downscale),
``xyxy``. ``txt`` is the main caption: the figure caption, the panel's own sub-caption
(falling back to the figure caption when a panel has none), or the patch's phrase.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from curate.images import crop_xyxy, encode_jpeg, fit_side
from curate.records import Document, Figure, Marker, Panel, Region, Texts


@dataclass
class Sample:
    key: str
    level: str
    document_id: str
    figure_id: str
    txt: str
    meta: dict
    jpg: bytes
    width: int
    height: int

    def members(self) -> dict[str, bytes]:
        body = json.dumps(self.meta, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return {"jpg": self.jpg, "txt": self.txt.encode("utf-8"), "json": body.encode("utf-8")}


def _scaled(box, scale: float, dx: int = 0, dy: int = 0) -> list[int]:
    x1, y1, x2, y2 = box
    return [round((x1 + dx) * scale), round((y1 + dy) * scale), round((x2 + dx) * scale), round((y2 + dy) * scale)]


def _texts_dict(texts: Texts | None) -> dict | None:
    if texts is None:
        return None
    return texts.model_dump(include={"summary", "report", "region", "negatives", "method", "status",
                                     "prompt_name", "prompt_sha256", "model_id"})


def _region_meta(region: Region, scale: float, dx: int, dy: int) -> dict:
    return {"id": region.id, "bbox_xyxy": _scaled(region.bbox_xyxy_panel, scale, dx, dy), "phrase": region.phrase,
            "position": region.position, "source": region.source, "mask_rle": region.mask_rle}


def _marker_meta(marker: Marker, scale: float, dx: int, dy: int) -> dict:
    tip = marker.tip_xy_panel
    return {"id": marker.id, "kind": marker.kind, "colour": marker.colour, "phrase": marker.phrase,
            "bbox_xyxy": _scaled(marker.bbox_xyxy_panel, scale, dx, dy),
            "tip_xy": None if tip is None else [round((tip[0] + dx) * scale), round((tip[1] + dy) * scale)]}


def _provenance(document: Document, figure: Figure) -> dict:
    return {"source_kind": document.source_kind, "source_path": document.source_path, "doi": document.doi,
            "pmcid": document.pmcid, "title": document.title, "journal": document.journal, "year": document.year,
            "figure_label": figure.label, "page": figure.page}


def build_samples(document: Document, figure: Figure, panels: list[Panel], markers: list[Marker],
                  regions: list[Region], texts: dict[str, Texts], rgb: np.ndarray, *, max_side: int,
                  min_side: int, quality: int, levels: list[str]) -> list[Sample]:
    """All samples of one figure, in a fixed order (figure, then panels, then their patches)."""
    base = {"document_id": document.id, "figure_id": figure.id, "licence": figure.licence,
            "provenance": _provenance(document, figure)}
    panel_of = {p.id: p for p in panels}
    out: list[Sample] = []
    if "figure" in levels:
        img, s = fit_side(rgb, max_side)
        meta = dict(base, id=figure.id, level="figure", parent_id=document.id, caption=figure.caption,
                    mentions=figure.mentions, texts=_texts_dict(texts.get(figure.id)),
                    panels=[{"id": p.id, "label": p.label, "bbox_xyxy": _scaled(p.bbox_xyxy, s)} for p in panels],
                    regions=[_region_meta(r, s, *panel_of[r.panel_id].bbox_xyxy[:2]) for r in regions],
                    markers=[_marker_meta(m, s, *panel_of[m.panel_id].bbox_xyxy[:2]) for m in markers])
        out.append(_sample(figure.id, "figure", figure.caption, meta, img, quality))
    for panel in panels:
        crop = crop_xyxy(rgb, panel.bbox_xyxy)
        if "panel" in levels and not panel.is_whole_figure and min(crop.shape[:2]) >= min_side:
            img, s = fit_side(crop, max_side)
            meta = dict(base, id=panel.id, level="panel", parent_id=figure.id, label=panel.label,
                        subcaption=panel.subcaption, preamble=panel.preamble, mentions=panel.mentions,
                        confidence=panel.confidence, unsure=panel.unsure, unsure_reason=panel.unsure_reason,
                        bbox_in_figure_xyxy=panel.bbox_xyxy, texts=_texts_dict(texts.get(panel.id)),
                        regions=[_region_meta(r, s, 0, 0) for r in regions if r.panel_id == panel.id],
                        markers=[_marker_meta(m, s, 0, 0) for m in markers if m.panel_id == panel.id])
            out.append(_sample(panel.id, "panel", panel.subcaption or figure.caption, meta, img, quality))
        if "patch" not in levels:
            continue
        for region in (r for r in regions if r.panel_id == panel.id):
            patch = crop_xyxy(crop, region.bbox_xyxy_panel)
            if min(patch.shape[:2]) < min_side:
                continue
            img, _ = fit_side(patch, max_side)
            meta = dict(base, id=region.id, level="patch", parent_id=panel.id, panel_label=panel.label,
                        phrase=region.phrase, position=region.position, source=region.source,
                        marker_id=region.marker_id, bbox_in_panel_xyxy=region.bbox_xyxy_panel,
                        panel_subcaption=panel.subcaption, texts=_texts_dict(texts.get(region.id)))
            out.append(_sample(region.id, "patch", region.phrase, meta, img, quality))
    return out


def _sample(key: str, level: str, txt: str, meta: dict, img: np.ndarray, quality: int) -> Sample:
    h, w = img.shape[:2]
    meta = dict(meta, width=w, height=h)
    return Sample(key=key, level=level, document_id=meta["document_id"], figure_id=meta["figure_id"],
                  txt=" ".join(txt.split()), meta=meta, jpg=encode_jpeg(np.ascontiguousarray(img), quality),
                  width=w, height=h)
