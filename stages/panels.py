"""panels: figures -> panels with boxes, labels, sub-captions, confidences and unsure flags.

Reads ``figures`` (and the figure image from the blob store). Writes ``panels``: at least
one per figure (a non-compound figure yields one whole-figure panel). Sub-captions come from
splitting the caption; the caption's label set guides the image split.
"""

from __future__ import annotations

from curate.images import decode_rgb
from curate.layout import align_panels, split_caption, split_panels
from curate.layout.panelrefs import panel_mentions
from curate.records import Figure, Panel, child_id
from curate.runtime.stage import PartInput, Resources, Stage, StageContext


class PanelsStage(Stage):
    name = "panels"
    primary = "figures"
    writes = ("panels",)
    config_sections = ("panels",)
    resources = Resources(cpus=1)

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        rgb = decode_rgb(ctx.blobs.get(figure.image_sha256))
        split = split_caption(figure.caption, bold_labels=figure.bold_labels or None)
        boxes = split_panels(rgb, expected_labels=split.labels or None, ocr=self.config.panels.ocr)
        alignments = align_panels(boxes, split)
        whole = len(boxes) == 1
        panels = []
        for index, (box, link) in enumerate(zip(boxes, alignments, strict=True), start=1):
            parent = None if box.parent_index is None else child_id(figure.id, "p", box.parent_index + 1)
            own_text = link.subcaption if link.label else ""
            panels.append(Panel(
                id=child_id(figure.id, "p", index), figure_id=figure.id, document_id=figure.document_id,
                index=index, bbox_xyxy=[int(v) for v in box.bbox_xyxy], label=link.label,
                label_bbox_xyxy=None if box.label_bbox_xyxy is None else [int(v) for v in box.label_bbox_xyxy],
                label_score=float(box.label_score), confidence=float(min(box.confidence, link.score or 1.0)),
                subcaption=own_text,
                preamble=split.preamble if split.labels else figure.caption,
                mentions=panel_mentions(figure.mentions, link.label, figure.label) if link.label else [],
                parent_panel_id=parent, is_whole_figure=whole, unsure=bool(link.unsure),
                unsure_reason=link.reason if link.unsure else "",
            ))
        return {"panels": panels}
