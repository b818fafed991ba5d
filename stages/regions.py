"""regions: markers (and, with models configured, Grounding DINO + MedSAM) -> regions of interest.

Reads ``figures`` (items), ``panels`` and ``markers``. Writes ``regions`` in panel pixels.

- ``regions.backend: markers`` (default, CPU): for each marker linked to a caption phrase,
  the area around its tip on the side it points to (pointers) or the enclosed area (boxes,
  circles). A detection the caption does not explain is more often a glyph than a marker,
  so unlinked markers make no region.
- ``regions.backend: models``: the panel's phrases prompt Grounding DINO; its boxes and the
  marker patches prompt MedSAM; candidates are scored jointly and the best are kept, with
  masks (RLE) and every score. Models load once per worker in ``setup()``.
"""

from __future__ import annotations

from pathlib import Path

from curate.captions.textmined import load_vocab
from curate.images import crop_xyxy, decode_rgb
from curate.markers import DetectedMarker, patch_box, position_name
from curate.records import Figure, Marker, Panel, Region, child_id
from curate.runtime.stage import PartInput, Resources, Stage, StageContext


def _as_detection(marker: Marker) -> DetectedMarker:
    return DetectedMarker(kind=marker.kind, colour=marker.colour, bbox_xyxy=tuple(marker.bbox_xyxy_panel),
                          tip_xy=None if marker.tip_xy_panel is None else tuple(marker.tip_xy_panel),
                          direction_deg=marker.direction_deg, confidence=marker.confidence)


def panel_phrases(panel: Panel, markers: list[Marker]) -> list[str]:
    """Grounding prompts: the linked marker phrases, then lesion terms named in the sub-caption."""
    words = (panel.subcaption or panel.preamble).lower().replace(",", " ").split()
    terms = [w.strip(".;:()") for w in words if w.strip(".;:()") in load_vocab().lesion_terms]
    return list(dict.fromkeys([m.phrase for m in markers if m.phrase] + terms))


class RegionsStage(Stage):
    name = "regions"
    version = "2"
    primary = "figures"
    reads = ("panels", "markers")
    writes = ("regions",)
    config_sections = ("regions",)
    resources = Resources(cpus=1)

    @classmethod
    def resources_for(cls, config) -> Resources:
        roi = config.regions.roi
        if config.regions.backend == "models" and roi.device.startswith("cuda"):
            return Resources(cpus=1, gpus=1)
        return cls.resources

    @classmethod
    def check_config(cls, config) -> None:
        if config.regions.backend != "models":
            return
        roi = config.regions.roi
        if not (roi.grounding_model or roi.medsam_model):
            raise ValueError("regions.backend=models needs regions.roi.grounding_model and/or medsam_model")
        for path in (roi.grounding_model, roi.medsam_model):
            if path and not Path(path).exists():
                raise FileNotFoundError(f"model weights not found: {path} (nothing is downloaded at run time)")

    def setup(self) -> None:
        self.gdino = self.medsam = None
        if self.config.regions.backend == "models":
            from curate.roi.propose import load_backends

            self.gdino, self.medsam = load_backends(self.config.regions.roi)

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        panels = inp.rows("panels", figure.id)
        markers = inp.rows("markers", figure.id)
        use_models = self.config.regions.backend == "models"
        rgb = decode_rgb(ctx.blobs.get(figure.image_sha256)) if use_models and panels else None
        regions: list[Region] = []
        for panel in panels:
            mine = [m for m in markers if m.panel_id == panel.id and m.phrase]
            x1, y1, x2, y2 = panel.bbox_xyxy
            wh = (x2 - x1, y2 - y1)
            if use_models:
                regions += self._model_regions(panel, mine, crop_xyxy(rgb, panel.bbox_xyxy), wh)
                continue
            for k, marker in enumerate(mine, start=1):
                box = patch_box(_as_detection(marker), wh)
                regions.append(Region(
                    id=child_id(panel.id, "r", k), panel_id=panel.id, figure_id=figure.id,
                    document_id=panel.document_id, bbox_xyxy_panel=[int(v) for v in box], phrase=marker.phrase,
                    position=position_name(box, wh), source="marker", marker_id=marker.id,
                    det_score=marker.confidence))
        return {"regions": regions}

    def _model_regions(self, panel: Panel, markers: list[Marker], crop, wh) -> list[Region]:
        from curate.roi.propose import MarkerPrompt, propose_regions

        prompts = [MarkerPrompt(tuple(patch_box(_as_detection(m), wh)), m.phrase, m.confidence, m.id)
                   for m in markers]
        proposals = propose_regions(crop, panel_phrases(panel, markers), prompts, self.config.regions.roi,
                                    self.gdino, self.medsam)
        return [Region(id=child_id(panel.id, "r", k), panel_id=panel.id, figure_id=panel.figure_id,
                       document_id=panel.document_id, bbox_xyxy_panel=[int(v) for v in p.bbox_xyxy],
                       phrase=p.phrase, position=position_name(p.bbox_xyxy, wh), source=p.source,
                       marker_id=p.marker_id, mask_rle=p.mask_rle, det_score=p.det_score,
                       seg_score=p.seg_score, joint_score=p.joint_score)
                for k, p in enumerate(proposals, start=1)]
