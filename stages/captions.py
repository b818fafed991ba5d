"""captions: four texts per figure, panel and region.

Reads ``figures`` (items), ``panels`` and ``regions``. Writes ``texts``: one row per figure,
per panel of a compound figure, and per region.

- ``captions.backend: textmined`` (default, CPU): mined from the paper's own words. A
  panel's region text comes from its highest-scoring region; without one, ``No Finding``.
- ``captions.backend: vllm``: each image goes to a VLM behind an OpenAI-compatible server
  with the paper's words as context; answers are validated, cached under ``cache/captions``
  and carry prompt hash, model id and sampling. A target whose answer fails is quarantined
  under its own id (the figure's other texts go on); it never becomes an empty string.
"""

from __future__ import annotations

from curate.captions.textmined import mine_texts
from curate.captions.vllm_client import SERVER_DOWN_ERRORS
from curate.images import crop_xyxy, decode_rgb, encode_jpeg
from curate.records import Figure, Quarantine, Texts
from curate.runtime.stage import EnvironmentFailure, PartInput, Resources, Stage, StageContext


def _texts(target_id: str, figure_id: str, level: str, mined: dict) -> Texts:
    return Texts(id=f"{target_id}_t", target_id=target_id, figure_id=figure_id, level=level, method="textmined",
                 **mined)


class CaptionsStage(Stage):
    name = "captions"
    primary = "figures"
    reads = ("panels", "regions")
    writes = ("texts",)
    config_sections = ("captions",)
    resources = Resources(cpus=1)

    def setup(self) -> None:
        self.captioner = None
        if self.config.captions.backend == "vllm":
            from curate.captions.backend import VlmCaptioner

            self.captioner = VlmCaptioner(self.config.captions.vllm, self.config.run_dir / "cache" / "captions")

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        if self.captioner is not None:
            return self._vlm_texts(figure, inp, ctx)
        panels = inp.rows("panels", figure.id)
        regions = inp.rows("regions", figure.id)
        own_fig = figure.caption_title or figure.caption
        rows = [_texts(figure.id, figure.id, "figure", mine_texts(own_fig, figure.caption, figure.mentions))]
        for panel in panels:
            own_regions = sorted((r for r in regions if r.panel_id == panel.id),
                                 key=lambda r: (-(r.joint_score or r.det_score or 0.0), r.id))
            if not panel.is_whole_figure:
                best = own_regions[0] if own_regions else None
                mined = mine_texts(panel.subcaption or panel.preamble, panel.preamble, panel.mentions,
                                   phrase=best.phrase if best else "", position=best.position if best else "")
                rows.append(_texts(panel.id, figure.id, "panel", mined))
            for region in own_regions:
                mined = mine_texts(region.phrase, panel.subcaption or panel.preamble, (),
                                   phrase=region.phrase, position=region.position)
                rows.append(_texts(region.id, figure.id, "patch", mined))
        return {"texts": rows}

    def _vlm_texts(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        from curate.captions.backend import CaptionRequest

        rgb = decode_rgb(ctx.blobs.get(figure.image_sha256))
        # re-encoded from the normalised pixels (alpha on white, 16-bit rescaled), not the raw bytes
        requests = [CaptionRequest(figure.id, "figure", encode_jpeg(rgb),
                                   {"subcaption": figure.caption, "mentions": figure.mentions})]
        regions = inp.rows("regions", figure.id)
        for panel in inp.rows("panels", figure.id):
            crop = crop_xyxy(rgb, panel.bbox_xyxy)
            if not panel.is_whole_figure:
                requests.append(CaptionRequest(panel.id, "panel", encode_jpeg(crop), {
                    "label": panel.label or "", "subcaption": panel.subcaption, "preamble": panel.preamble,
                    "mentions": panel.mentions}))
            for region in (r for r in regions if r.panel_id == panel.id):
                requests.append(CaptionRequest(region.id, "patch",
                                               encode_jpeg(crop_xyxy(crop, region.bbox_xyxy_panel)),
                                               {"subcaption": panel.subcaption, "marker_phrases": [region.phrase],
                                                "position": region.position}))
        rows, quarantine = [], []
        outcomes = self.captioner.caption(requests)
        down = [o for o in outcomes if not o.ok and o.error_class in SERVER_DOWN_ERRORS]
        if down:  # answers already received are cached: the rerun pays only for the rest
            raise EnvironmentFailure(f"VLM endpoint unavailable after retries: {down[0].message}")
        for outcome in outcomes:
            if outcome.ok:
                rows.append(outcome.to_record(f"{outcome.target_id}_t", figure_id=figure.id))
            else:
                quarantine.append(Quarantine(stage=self.name, item_id=outcome.target_id,
                                             error_class=outcome.error_class, message=outcome.message,
                                             part=inp.part))
        return {"texts": rows, "quarantine": quarantine}
