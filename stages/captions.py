"""captions: four texts per figure, panel and region, mined from the paper's own words.

Reads ``figures`` (items), ``panels`` and ``regions``. Writes ``texts``: one row per figure,
per panel of a compound figure, and per region. A panel's region text comes from its
highest-scoring region; a panel without one gets ``No Finding``.
"""

from __future__ import annotations

from curate.captions.textmined import mine_texts
from curate.records import Figure, Texts
from curate.runtime.stage import PartInput, Resources, Stage, StageContext


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

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
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
