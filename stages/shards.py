"""shards: every figure's samples (figure, panel, patch levels) -> WebDataset tars per split.

Reads ``figures`` (items), ``documents``, ``panels``, ``markers``, ``regions``, ``texts``,
``quality`` and the quality stage's run-wide ``duplicates.parquet``: samples carry tags,
licence family and duplicate group, and are filtered as ``curate.shards.tagging`` says.
Writes ``samples`` (where each sample went) and, beside the manifests,
``shards/<split>/p<part>-<n>.tar`` with a Parquet index per tar; ``finalize`` writes
``sizes.json`` per split and ``DATASET.md``. A part rewrites only its own shards, so a rerun
after a kill gives the same bytes.
"""

from __future__ import annotations

from collections import defaultdict

from curate.images import decode_rgb
from curate.quality.licence import item_licence, licence_family
from curate.records import Duplicate, Figure, ShardSample
from curate.runtime.manifest import read_records, write_records
from curate.runtime.stage import PartInput, PartOutput, Resources, Stage, StageContext
from curate.shards.card import write_dataset_card, write_sizes
from curate.shards.samples import build_samples
from curate.shards.splits import split_of
from curate.shards.tagging import TAG_FIELDS, split_documents, tag_samples
from curate.shards.tarwriter import ShardTarWriter
from stages.quality import duplicates_path


class ShardsStage(Stage):
    name = "shards"
    primary = "figures"
    reads = ("documents", "panels", "markers", "regions", "texts", "quality")
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
        tags = {t.id: t for t in inp.rows("quality", figure.id)}
        spdx = item_licence(document.licence, figure.licence)
        kept, dropped = tag_samples(samples, tags, self._duplicates, licence_family(spdx), spdx, cfg)
        # written to tars by process_part, not as manifest tables
        return {"built": kept, "dropped": [(k, n) for k, n in dropped.items() if n]}

    def process_part(self, inp: PartInput, ctx: StageContext) -> PartOutput:
        dups = read_records(duplicates_path(ctx.layout), Duplicate)
        self._duplicates = {d.id: d for d in dups}
        split_doc = split_documents(dups)
        out = super().process_part(inp, ctx)
        for reason, n in out.tables.pop("dropped", []):
            out.counts[f"dropped.{reason}"] = out.counts.get(f"dropped.{reason}", 0) + n
        by_split: dict[str, list] = defaultdict(list)
        for sample in out.tables.pop("built", []):
            by_split[split_of(split_doc.get(sample.document_id, sample.document_id), self.config.shards.splits)].append(sample)
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
                                          licence=s.meta["licence"], width=s.width, height=s.height, txt=s.txt,
                                          dup_group=s.meta["dup_group"], is_duplicate=s.meta["is_duplicate"],
                                          **{f: s.meta[f] for f in TAG_FIELDS})
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
