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
from curate.records import ShardSample
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

    def process_part(self, inp: PartInput, ctx: StageContext) -> PartOutput:
        cfg = self.config.shards
        by_split: dict[str, list] = defaultdict(list)
        quarantine, counts = [], defaultdict(int)
        for figure in inp.items:
            try:
                document = inp.rows("documents", figure.document_id)[0]
                texts = {t.target_id: t for t in inp.rows("texts", figure.id)}
                samples = build_samples(document, figure, inp.rows("panels", figure.id),
                                        inp.rows("markers", figure.id), inp.rows("regions", figure.id), texts,
                                        decode_rgb(ctx.blobs.get(figure.image_sha256)), max_side=cfg.max_side,
                                        min_side=cfg.min_side, quality=cfg.jpeg_quality, levels=cfg.levels)
            except Exception as exc:  # noqa: BLE001 - per-item failure becomes a quarantine row
                quarantine.append(self.quarantine_row(figure.id, exc, inp.part))
                continue
            counts["out"] += 1
            by_split[split_of(figure.document_id, cfg.splits)].extend(samples)
            for sample in samples:
                counts[f"samples.{sample.level}"] += 1
        rows = self._write_shards(ctx, inp.part, by_split)
        return PartOutput(tables={"samples": rows}, quarantine=quarantine, counts=dict(counts))

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
