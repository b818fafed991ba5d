"""quality: image type, modality, body region and a fingerprint per figure and panel; then,
across the whole run, duplicate groups.

Reads ``figures`` (items), ``documents`` and ``panels``. Writes ``quality`` (one QualityTag per
figure and per panel that is not the whole figure). Duplicates are cross-document, so no part
can see them: ``finalize`` reads every part's fingerprints once all parts are done and writes
``quality/duplicates.parquet`` (one Duplicate row per non-canonical copy; see
``curate.quality.dedup`` for how that scales). A figure whose image cannot be decoded is
quarantined with the reason. With ``quality.zeroshot_checkpoint`` set, a trained checkpoint of
our trainer joins the modality vote.
"""

from __future__ import annotations

from curate.images import crop_xyxy, decode_rgb
from curate.quality.dedup import Fingerprint, resolve
from curate.quality.licence import item_licence, licence_family
from curate.quality.tags import tag_image
from curate.records import Duplicate, Figure, QualityTag
from curate.runtime.manifest import read_records, write_records
from curate.runtime.stage import PartInput, Resources, Stage, StageContext

DUPLICATES_FILE = "duplicates.parquet"


class QualityStage(Stage):
    name = "quality"
    primary = "figures"
    reads = ("documents", "panels")
    writes = ("quality",)
    config_sections = ("quality",)
    resources = Resources(cpus=1)

    @classmethod
    def check_config(cls, config) -> None:
        ckpt = config.quality.zeroshot_checkpoint
        if ckpt is not None and not (ckpt.is_file() or (ckpt / "checkpoint.pt").is_file()):
            raise FileNotFoundError(f"quality.zeroshot_checkpoint: no trainer checkpoint at {ckpt}")

    def setup(self) -> None:
        self.zeroshot = None
        if self.config.quality.zeroshot_checkpoint is not None:
            from curate.quality.zeroshot import ZeroShotModality

            self.zeroshot = ZeroShotModality(self.config.quality.zeroshot_checkpoint)

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        document = inp.rows("documents", figure.document_id)[0]
        licence = licence_family(item_licence(document.licence, figure.licence))
        rgb = decode_rgb(ctx.blobs.get(figure.image_sha256))
        common = {"figure_id": figure.id, "document_id": figure.document_id, "licence": licence,
                  "zeroshot": self.zeroshot}
        rows = [tag_image(figure.id, "figure", rgb=rgb, own_text=figure.caption, caption=figure.caption,
                          mentions=figure.mentions, **common)]
        for panel in inp.rows("panels", figure.id):
            if panel.is_whole_figure:
                continue  # same pixels as the figure: its tag stands for the panel
            rows.append(tag_image(panel.id, "panel", rgb=crop_xyxy(rgb, panel.bbox_xyxy),
                                  own_text=panel.subcaption, caption=panel.preamble or figure.caption,
                                  mentions=panel.mentions, **common))
        return {"quality": rows}

    def finalize(self, ctx: StageContext, n_parts: int) -> None:
        cfg = self.config.quality
        tags = [t for part in range(n_parts)
                for t in read_records(ctx.layout.table(self.name, "quality", part), QualityTag)]
        rows: list[Duplicate] = []
        if cfg.dedup:
            for level in ("figure", "panel"):
                prints = [Fingerprint(id=t.id, document_id=t.document_id, pixel_sha256=t.pixel_sha256,
                                      phash=int(t.phash, 16), dhash=int(t.dhash, 16), aspect=t.aspect,
                                      informative=t.informative, figure_id=t.figure_id)
                          for t in tags if t.level == level]
                rows += [Duplicate(id=link.id, level=level, document_id=link.document_id,
                                   canonical_id=link.canonical_id, canonical_document_id=link.canonical_document_id,
                                   kind=link.kind, distance=link.distance)
                         for link in resolve(prints, max_phash=cfg.max_phash, max_dhash=cfg.max_dhash,
                                             max_log_aspect=cfg.max_log_aspect, probe_radius=cfg.probe_radius)]
        write_records(duplicates_path(ctx.layout), rows, Duplicate)


def duplicates_path(layout):
    return layout.root / QualityStage.name / DUPLICATES_FILE
