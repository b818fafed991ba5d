"""Shards and manifests read as they are by the tools ML engineers already use: a plain
``webdataset`` pipeline shaped like open_clip's reader, pandas, and HF ``datasets``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stages import STAGE_NAMES

wds = pytest.importorskip("webdataset")

MANIFESTS = {"documents": "ingest", "figures": "ingest", "panels": "panels", "markers": "markers",
             "regions": "regions", "texts": "captions", "samples": "shards"}


def _rows_written(run_dir: Path, stage: str, table: str) -> int:
    return sum(json.loads(p.read_text())["counts"][f"rows.{table}"] for p in (run_dir / stage).glob("part-*.done"))


def test_plain_webdataset_pipeline_decodes_jpg_and_txt_and_sizes_json_matches(sample_run):
    from PIL import Image

    cfg, _ = sample_run
    shards = cfg.run_dir / "shards"
    split_dirs = sorted(d for d in shards.iterdir() if d.is_dir() and list(d.glob("*.tar")))
    # the small sample can leave a split without papers (duplicates tie papers together); train has some
    assert "train" in {d.name for d in split_dirs} and {d.name for d in split_dirs} <= set(cfg.shards.splits)
    total = 0
    for split in split_dirs:
        tars = sorted(split.glob("*.tar"))
        # open_clip's reader: sizes.json beside the shards, a dict of shard file name -> sample count.
        sizes = json.loads((split / "sizes.json").read_text())
        assert set(sizes) == {t.name for t in tars} and all(isinstance(v, int) for v in sizes.values())
        pairs = list(wds.WebDataset([str(t) for t in tars], shardshuffle=False)
                     .decode("pil").to_tuple("jpg", "txt"))
        assert len(pairs) == sum(sizes.values())
        for image, text in pairs:
            assert isinstance(image, Image.Image) and image.mode == "RGB" and min(image.size) > 0
            assert isinstance(text, str) and text.strip()
        # open_clip renames image="jpg;png;jpeg;webp", text="txt" before to_tuple("image", "text").
        renamed = list(wds.WebDataset([str(t) for t in tars], shardshuffle=False).decode("pilrgb")
                       .rename(image="jpg;png;jpeg;webp", text="txt").to_tuple("image", "text"))
        assert len(renamed) == len(pairs)
        total += len(pairs)
    assert total == _rows_written(cfg.run_dir, "shards", "samples")


@pytest.mark.parametrize("table", sorted(MANIFESTS))
def test_manifest_tables_read_with_pandas(sample_run, table):
    import pandas as pd

    cfg, _ = sample_run
    frame = pd.read_parquet(cfg.run_dir / MANIFESTS[table] / table)
    assert len(frame) == _rows_written(cfg.run_dir, MANIFESTS[table], table) > 0
    assert frame["id"].is_unique and "." not in "".join(frame["id"])


def test_manifests_and_shard_indexes_load_with_hf_datasets(sample_run, tmp_path):
    datasets = pytest.importorskip("datasets")

    cfg, _ = sample_run
    run_dir = cfg.run_dir
    loaded = {}
    for table in ("figures", "panels", "regions"):  # one load per table: each has its own schema
        files = sorted(str(p) for p in (run_dir / MANIFESTS[table] / table).glob("part-*.parquet"))
        loaded[table] = datasets.load_dataset("parquet", data_files=files, split="train",
                                              cache_dir=str(tmp_path / table))
        assert loaded[table].num_rows == _rows_written(run_dir, MANIFESTS[table], table)
    panel = loaded["panels"][0]
    assert len(panel["bbox_xyxy"]) == 4 and all(isinstance(v, int) for v in panel["bbox_xyxy"])
    assert loaded["panels"].features["bbox_xyxy"].feature.dtype == "int64"
    # Each tar's parquet index (one row per sample in the tar) loads the same way.
    index = datasets.load_dataset("parquet", data_files=[str(run_dir / "shards" / s / "p*.parquet")
                                                         for s in cfg.shards.splits],
                                  cache_dir=str(tmp_path / "hf2"), split="train")
    assert index.num_rows == _rows_written(run_dir, "shards", "samples")
    assert set(index.unique("level")) == {"figure", "panel", "patch"}


def test_quarantine_tables_read_with_pandas(sample_run):
    import pandas as pd

    cfg, _ = sample_run
    for stage in STAGE_NAMES:
        folder = cfg.run_dir / "quarantine" / stage
        if folder.exists():
            frame = pd.read_parquet(folder)
            assert list(frame.columns) == ["stage", "item_id", "error_class", "message", "part"]
