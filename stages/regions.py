"""regions: markers -> regions of interest (patches) with the phrase that names them.

Reads ``figures`` (items), ``panels`` and ``markers``. Writes ``regions`` in panel pixels:
for a pointer, the area around its tip on the side it points to; for a box or circle, the
enclosed area. ``position`` is computed from the region's place in its panel.

Only markers linked to a caption phrase become regions: the phrase is the region's text,
and a detection the caption does not explain is more often a glyph than a marker.
"""

from __future__ import annotations

from curate.markers import patch_box, position_name
from curate.records import Figure, Region, child_id
from curate.runtime.stage import PartInput, Resources, Stage, StageContext


class RegionsStage(Stage):
    name = "regions"
    primary = "figures"
    reads = ("panels", "markers")
    writes = ("regions",)
    config_sections = ("regions",)
    resources = Resources(cpus=1)

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        panels = {p.id: p for p in inp.rows("panels", figure.id)}
        regions: list[Region] = []
        counter: dict[str, int] = {}
        for marker in inp.rows("markers", figure.id):
            if not marker.phrase:
                continue
            panel = panels[marker.panel_id]
            x1, y1, x2, y2 = panel.bbox_xyxy
            wh = (x2 - x1, y2 - y1)
            box = patch_box(_as_detection(marker), wh)
            counter[panel.id] = counter.get(panel.id, 0) + 1
            regions.append(Region(
                id=child_id(panel.id, "r", counter[panel.id]), panel_id=panel.id, figure_id=figure.id,
                document_id=panel.document_id, bbox_xyxy_panel=[int(v) for v in box],
                phrase=marker.phrase, position=position_name(box, wh),
                source="marker", marker_id=marker.id, det_score=marker.confidence,
            ))
        return {"regions": regions}


def _as_detection(marker):
    from curate.markers import DetectedMarker

    return DetectedMarker(kind=marker.kind, colour=marker.colour, bbox_xyxy=tuple(marker.bbox_xyxy_panel),
                          tip_xy=None if marker.tip_xy_panel is None else tuple(marker.tip_xy_panel),
                          direction_deg=marker.direction_deg, confidence=marker.confidence)
