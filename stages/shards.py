"""shards: every figure's samples (figure, panel, patch levels) -> WebDataset tars per split.

Reads ``figures`` (items), ``documents``, ``panels``, ``markers``, ``regions``, ``texts``.
Writes ``samples`` (where each sample went) and, beside the manifests,
``shards/<split>/p<part>-<n>.tar`` with a Parquet index per tar; ``finalize`` writes
``sizes.json`` per split and ``DATASET.md``. A part rewrites only its own shards, so a rerun
after a kill gives the same bytes.
"""

from __future__ import annotations

from collections import defaultdict

from curate.images import decode_rgb
from curate.records import Figure, ShardSample
from curate.runtime.manifest import write_records
from curate.runtime.stage import PartInput, PartOutput, Resources, Stage, StageContext
from curate.shards.card import write_dataset_card, write_sizes
from curate.shards.samples import build_samples
from curate.shards.splits import split_of
from curate.shards.tarwriter import ShardTarWriter


class ShardsStage(Stage):
    name = "shards"
    primary = "figures"
    reads = ("documents", "panels", "markers", "regions", "texts")
    writes = ("samples",)
    config_sections = ("shards",)
    resources = Resources(cpus=1)

    def process_item(self, figure: Figure, inp: PartInput, ctx: StageContext) -> dict:
        cfg = self.config.shards
        document = inp.rows("documents", figure.document_id)[0]
        texts = {t.target_id: t for t in inp.rows("texts", figure.id)}
        samples = build_samples(document, figure, inp.rows("panels", figure.id), inp.rows("markers", figure.id),
                                inp.rows("regions", figure.id), texts, decode_rgb(ctx.blobs.get(figure.image_sha256)),
                                max_side=cfg.max_side, min_side=cfg.min_side, quality=cfg.jpeg_quality,
                                levels=cfg.levels)
        return {"built": samples}  # written to tars by process_part, not as a manifest table

    def process_part(self, inp: PartInput, ctx: StageContext) -> PartOutput:
        out = super().process_part(inp, ctx)
        by_split: dict[str, list] = defaultdict(list)
        for sample in out.tables.pop("built", []):
            by_split[split_of(sample.document_id, self.config.shards.splits)].append(sample)
            out.counts[f"samples.{sample.level}"] = out.counts.get(f"samples.{sample.level}", 0) + 1
        out.tables["samples"] = self._write_shards(ctx, inp.part, by_split)
        return out

    def _write_shards(self, ctx: StageContext, part: int, by_split: dict[str, list]) -> list[ShardSample]:
        root = ctx.layout.shards
        for split in self.config.shards.splits:
            for stale in (root / split).glob(f"p{part:05d}-*"):
                stale.unlink()  # a rerun of this part replaces exactly its own shards
        rows: list[ShardSample] = []
        per_shard = self.config.shards.max_samples_per_shard
        for split in sorted(by_split):
            samples = by_split[split]
            for n, start in enumerate(range(0, len(samples), per_shard)):
                name = f"p{part:05d}-{n:04d}"
                chunk = samples[start:start + per_shard]
                shard_rows = [ShardSample(id=s.key, level=s.level, document_id=s.document_id,
                                          figure_id=s.figure_id, split=split, shard=f"{split}/{name}.tar",
                                          licence=s.meta["licence"], width=s.width, height=s.height, txt=s.txt)
                              for s in chunk]
                with ShardTarWriter(root / split / f"{name}.tar") as writer:
                    for sample in chunk:
                        writer.write(sample.key, sample.members())
                write_records(root / split / f"{name}.parquet", shard_rows, ShardSample)
                rows.extend(shard_rows)
        return rows

    def finalize(self, ctx: StageContext, n_parts: int) -> None:
        write_sizes(ctx.layout, self.config.shards.splits)
        write_dataset_card(ctx.layout, self.config)
