"""markers: panels -> visual markers (arrows, arrowheads, asterisks, boxes, circles) linked to
the caption phrases that explain them.

Reads ``figures`` (items) and ``panels``. Writes ``markers`` in panel pixels. Unlinked
markers are kept with an empty phrase. A box or circle whose phrase names the panel that
magnifies it ("boxed area magnified in C") gets that panel's id as ``zoom_panel_id``.
"""

from __future__ import annotations

import functools

from curate.images import crop_xyxy, decode_rgb
from curate.markers import detect_markers, link_markers, parse_marker_phrases
from curate.markers.link import zoom_panel
from curate.markers.phrases import expected_markers
from curate.records import Figure, Marker, child_id
from curate.runtime.stage import PartInput, Resources, Stage, StageContext


class MarkersStage(Stage):
    name = "markers"
    version = "3"
    primary = "figures"
    reads = ("panels",)
    writes = ("markers",)
    config_sections = ("markers",)
    resources = Resources(cpus=1)

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        panels = inp.rows("panels", figure.id)
        if not self.config.markers.enabled or not panels:
            return {"markers": []}
        rgb = decode_rgb(ctx.blobs.get(figure.image_sha256))
        markers: list[Marker] = []
        labels = {p.label: p.id for p in panels if p.label}
        # The caption says which markers to expect: named kinds gain confidence, others lose it.
        expected = expected_markers(figure.caption)
        phrases_of = functools.cache(parse_marker_phrases)  # panels share their preamble: parse each text once
        for panel in panels:
            text = panel.subcaption if panel.subcaption else panel.preamble
            phrases = phrases_of(text) or phrases_of(panel.preamble)
            scan = detect_markers(crop_xyxy(rgb, panel.bbox_xyxy), expected=expected)
            links = {ln.marker_index: ln for ln in link_markers(scan.markers, phrases)
                     if ln.marker_index is not None}
            for index, det in enumerate(scan.markers):
                link = links.get(index)
                phrase = phrases[link.phrase_index] if link and link.phrase_index is not None else None
                markers.append(Marker(
                    id=child_id(panel.id, "m", index + 1), panel_id=panel.id, figure_id=figure.id,
                    kind=det.kind, colour=det.colour, bbox_xyxy_panel=[int(v) for v in det.bbox_xyxy],
                    tip_xy_panel=None if det.tip_xy is None else [int(v) for v in det.tip_xy],
                    direction_deg=det.direction_deg, confidence=float(det.confidence),
                    phrase=phrase.object_phrase if phrase else "",
                    phrase_source=phrase.sentence if phrase else "",
                    # An outline whose phrase says where it is enlarged links to that panel.
                    zoom_panel_id=zoom_panel(phrase.zoom_target, labels, panel.label)
                    if phrase and det.kind in ("box", "circle") else None,
                ))
        return {"markers": markers}
