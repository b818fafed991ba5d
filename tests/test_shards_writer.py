from __future__ import annotations

import json

import numpy as np
import pytest

from curate.records import Document, Figure, Marker, Panel, Region
from curate.shards.samples import build_samples
from curate.shards.splits import split_of
from curate.shards.tarwriter import ShardTarWriter

wds = pytest.importorskip("webdataset")


def _records():
    doc = Document(id="doc1", source_kind="jats", source_path="doc1", licence="CC BY 4.0")
    fig = Figure(id="doc1_f01", document_id="doc1", source_kind="jats", caption="Figure caption.",
                 image_sha256="0" * 64, width=200, height=100, licence="CC BY 4.0")
    panels = [Panel(id="doc1_f01_p01", figure_id=fig.id, document_id="doc1", index=1, bbox_xyxy=[0, 0, 100, 100],
                    label="A", subcaption="Left panel text."),
              Panel(id="doc1_f01_p02", figure_id=fig.id, document_id="doc1", index=2,
                    bbox_xyxy=[100, 0, 200, 100], label="B", subcaption="Right panel text.")]
    marker = Marker(id="doc1_f01_p02_m01", panel_id="doc1_f01_p02", figure_id=fig.id, kind="box", colour="red",
                    bbox_xyxy_panel=[10, 10, 60, 60])
    region = Region(id="doc1_f01_p02_r01", panel_id="doc1_f01_p02", figure_id=fig.id, document_id="doc1",
                    bbox_xyxy_panel=[12, 12, 58, 58], phrase="boxed region", position="left upper",
                    source="marker", marker_id=marker.id)
    return doc, fig, panels, [marker], [region]


def test_samples_keep_boxes_in_their_own_image_frame():
    doc, fig, panels, markers, regions = _records()
    rgb = np.zeros((100, 200, 3), np.uint8)
    samples = build_samples(doc, fig, panels, markers, regions, {}, rgb, max_side=100, min_side=8, quality=90,
                            levels=["figure", "panel", "patch"])
    assert [s.level for s in samples] == ["figure", "panel", "panel", "patch"]
    figure_meta = samples[0].meta
    # figure downscaled by 0.5: panel B's region moves by the panel origin, then scales
    assert figure_meta["regions"][0]["bbox_xyxy"] == [56, 6, 79, 29]
    assert samples[2].meta["regions"][0]["bbox_xyxy"] == [12, 12, 58, 58]
    assert samples[1].txt == "Left panel text." and samples[3].txt == "boxed region"
    assert samples[3].meta["parent_id"] == "doc1_f01_p02"


def test_tar_is_byte_deterministic_and_readable_by_webdataset(tmp_path):
    doc, fig, panels, markers, regions = _records()
    rgb = (np.arange(100 * 200 * 3) % 251).astype(np.uint8).reshape(100, 200, 3)
    samples = build_samples(doc, fig, panels, markers, regions, {}, rgb, max_side=256, min_side=8, quality=90,
                            levels=["figure", "panel", "patch"])
    for name in ("a.tar", "b.tar"):
        with ShardTarWriter(tmp_path / name) as writer:
            for s in samples:
                writer.write(s.key, s.members())
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    ds = wds.WebDataset(str(tmp_path / "a.tar"), shardshuffle=False, empty_check=False).decode("pil")
    got = [(x["__key__"], x["txt"], json.loads(x["json"]) if isinstance(x["json"], bytes) else x["json"])
           for x in ds]
    assert [k for k, _, _ in got] == [s.key for s in samples]
    assert got[0][2]["level"] == "figure" and got[3][1] == "boxed region"


def test_writer_refuses_a_dotted_key(tmp_path):
    with pytest.raises(ValueError, match="key"):
        with ShardTarWriter(tmp_path / "x.tar") as writer:
            writer.write("PMC1.fig2", {"txt": b"x"})
    assert not (tmp_path / "x.tar").exists() and not (tmp_path / "x.tar.tmp").exists()


def test_split_is_stable_and_roughly_proportional():
    fractions = {"train": 0.8, "val": 0.1, "test": 0.1}
    splits = [split_of(f"doc{i}", fractions) for i in range(2000)]
    assert splits == [split_of(f"doc{i}", fractions) for i in range(2000)]
    assert 0.75 < splits.count("train") / 2000 < 0.85
