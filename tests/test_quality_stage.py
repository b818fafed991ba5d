"""The quality stage in a run: duplicates across parts and documents, tags on every sample,
duplicate groups in one split, the commercial-licence filter, and the dataset card; plus the
shards-side join on its own and the zero-shot path with a tiny checkpoint built from config."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from curate.ingest.discover import discover_sources
from curate.records import Duplicate, QualityTag
from curate.runtime.config import ShardsConfig, load_config
from curate.runtime.runner import LocalRunner
from curate.shards.samples import Sample
from curate.shards.tagging import split_documents, tag_samples
from stages import PIPELINE
from tests.test_quality import bar_chart, micrograph

wds = pytest.importorskip("webdataset")

LINES = [("a.png", 1, "CC0", "Axial CT of the chest showing a nodule."),
         ("b.png", 1, "CC BY-NC 4.0", "The same CT slice reprinted."),
         ("c.png", 2, "CC BY 4.0", "H&E stained section of the liver."),
         ("d.png", None, None, "Bar graph of cell counts (mean ± SD)."),
         ("e.png", 3, "CC BY-SA 4.0", "T2-weighted MRI of the brain.")]


def _inputs(root: Path) -> None:
    folder = root / "imgs"
    folder.mkdir(parents=True)
    rows = []
    for name, seed, licence, caption in LINES:
        rgb = bar_chart() if seed is None else micrograph(seed, (200, 260))
        Image.fromarray(rgb).save(folder / name)
        rows.append({"image": name, "caption": caption} | ({"licence": licence} if licence else {}))
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def _run(inputs: Path, runs: Path, *overrides: str):
    cfg = load_config(None, [f"input_dir={inputs}", f"runs_dir={runs}", "name=q", "runner=local", "part_size=2",
                             "panels.ocr=false", *overrides])
    LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    return cfg


def _samples(cfg) -> list[dict]:
    out = []
    for tar in sorted((cfg.run_dir / "shards").glob("*/*.tar")):
        for s in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            out.append(json.loads(s["json"]) | {"split": tar.parent.name})
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    _inputs(root / "in")
    return root, _run(root / "in", root / "runs")


def test_copies_across_parts_are_found_and_left_out(run):
    _, cfg = run
    dups = pq.read_table(cfg.run_dir / "quality" / "duplicates.parquet").to_pylist()
    figure_dups = [d for d in dups if d["level"] == "figure"]
    assert len(figure_dups) == 1 and figure_dups[0]["kind"] == "exact"
    copy, canonical = figure_dups[0]["id"], figure_dups[0]["canonical_id"]
    assert canonical < copy  # the smallest id is kept
    samples = _samples(cfg)
    ids = {s["id"] for s in samples}
    assert canonical in ids and copy not in ids
    assert len([s for s in samples if s["level"] == "figure"]) == len(LINES) - 1


def test_every_sample_carries_tags_licence_and_group(run):
    _, cfg = run
    samples = _samples(cfg)
    by_caption = {s["caption"]: s for s in samples if s["level"] == "figure"}
    for s in samples:
        assert s["image_type"] and 0 <= s["image_type_conf"] <= 1 and s["modality"] and s["body_region"]
        assert s["dup_group"] and s["licence"] in ("CC0", "CC-BY", "CC-BY-SA", "CC-BY-NC", "unknown")
    ct = by_caption[LINES[0][3]]
    assert (ct["image_type"], ct["modality"], ct["body_region"], ct["licence"]) == ("photo", "ct", "chest", "CC0")
    assert by_caption[LINES[3][3]]["image_type"] == "chart" and by_caption[LINES[3][3]]["licence"] == "unknown"
    assert by_caption[LINES[3][3]]["modality"] == "unknown"
    index = pq.read_table(sorted((cfg.run_dir / "shards").glob("*/*.parquet"))[0]).to_pylist()
    assert {"image_type", "modality", "body_region", "dup_group", "licence"} <= set(index[0])


def test_dataset_card_reports_distributions(run):
    _, cfg = run
    card = (cfg.run_dir / "shards" / "DATASET.md").read_text()
    for heading in ("## Licences", "## Image types", "## Modalities", "## Body regions", "## Duplicates"):
        assert heading in card
    assert "| CC0 |" in card and "| chart |" in card and "| ct |" in card and "sha256" not in card.split("## Licences")[0]


def test_kept_duplicates_share_split_and_group(run):
    root, _ = run
    cfg = _run(root / "in", root / "runs", "shards.drop_duplicates=false")
    figures = [s for s in _samples(cfg) if s["level"] == "figure"]
    copies = [s for s in figures if s["is_duplicate"]]
    assert len(copies) == 1
    group = [s for s in figures if s["dup_group"] == copies[0]["dup_group"]]
    assert len(group) == 2 and len({s["split"] for s in group}) == 1


def test_commercial_filter_writes_only_commercial_licences(run):
    root, _ = run
    cfg = _run(root / "in", root / "runs", "shards.licence_filter=commercial")
    samples = _samples(cfg)
    assert samples and {s["licence"] for s in samples} <= {"CC0", "CC-BY", "CC-BY-SA"}
    assert {s["licence"] for s in samples if s["level"] == "figure"} == {"CC0", "CC-BY", "CC-BY-SA"}
    assert "Licence filter: `commercial`" in (cfg.run_dir / "shards" / "DATASET.md").read_text()


def _sample(key: str, level: str, doc: str, figure: str, parent: str) -> Sample:
    return Sample(key=key, level=level, document_id=doc, figure_id=figure, txt="t",
                  meta={"parent_id": parent}, jpg=b"", width=1, height=1)


def _tag(id_: str, image_type: str) -> QualityTag:
    return QualityTag(id=id_, level="panel", figure_id="f", document_id="d", image_type=image_type,
                      image_type_conf=0.9, modality="unknown", modality_conf=0.0, body_region="unknown",
                      body_region_conf=0.0, pixel_sha256="0", phash="0", dhash="0", aspect=1.0, informative=True)


def test_duplicate_documents_form_one_split_group():
    dups = [Duplicate(id="x1", level="panel", document_id="docB", canonical_id="y", canonical_document_id="docA",
                      kind="near", distance=3),
            Duplicate(id="x2", level="figure", document_id="docC", canonical_id="z", canonical_document_id="docB",
                      kind="exact", distance=0)]
    assert split_documents(dups) == {"docA": "docA", "docB": "docA", "docC": "docA"}


def test_tag_samples_drops_copies_with_their_children_and_patches_of_charts():
    samples = [_sample("f", "figure", "d", "f", "d"), _sample("f_p01", "panel", "d", "f", "f"),
               _sample("f_p01_r01", "patch", "d", "f", "f_p01"), _sample("f_p02", "panel", "d", "f", "f"),
               _sample("f_p02_r01", "patch", "d", "f", "f_p02")]
    tags = {"f": _tag("f", "photo"), "f_p01": _tag("f_p01", "chart"), "f_p02": _tag("f_p02", "photo")}
    copy = {"f_p02": Duplicate(id="f_p02", level="panel", document_id="d", canonical_id="g_p01",
                               canonical_document_id="e", kind="near", distance=2)}
    kept, dropped = tag_samples(samples, tags, copy, "CC-BY", "CC BY 4.0", ShardsConfig())
    assert [s.key for s in kept] == ["f", "f_p01"]
    assert dropped == {"duplicate": 2, "patch_image_type": 1, "licence": 0}
    assert kept[1].meta["image_type"] == "chart" and kept[0].meta["dup_group"] == "f"
    kept, _ = tag_samples(samples, tags, copy, "CC-BY", "CC BY 4.0", ShardsConfig(drop_duplicates=False))
    marked = {s.key: s.meta for s in kept}
    assert marked["f_p02"]["is_duplicate"] and marked["f_p02"]["dup_group"] == "g_p01"
    assert marked["f_p02_r01"]["is_duplicate"] and marked["f_p02_r01"]["image_type"] == "photo"
    assert tag_samples(samples, tags, {}, "CC-BY-NC", "x", ShardsConfig(licence_filter="commercial"))[0] == []


def test_zeroshot_with_a_tiny_checkpoint_built_from_config(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from curate.quality.tags import tag_image
    from curate.quality.zeroshot import CLASS_NAMES, ZeroShotModality
    from curate.train.config import load_train_config
    from curate.train.model import RegionClip

    config = load_train_config(Path(__file__).resolve().parents[1] / "manifests" / "train_tiny.yaml")
    words = sorted({w for name in CLASS_NAMES.values() for w in name.split()} | {"a", "medical", "image", "showing",
                                                                                   "of", "an", "this", "shows",
                                                                                   "photo", "in", "biomedical",
                                                                                   "figure"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    torch.manual_seed(0)
    model = RegionClip(config.model, len(vocab))
    torch.save({"config": config.model_dump(mode="json"), "vocab": vocab, "model": model.state_dict()},
               tmp_path / "checkpoint.pt")
    zs = ZeroShotModality(tmp_path)
    grey_scan = np.repeat(micrograph(4)[..., 1:2], 3, axis=2)  # a photo whose pixel prior is weak
    probs = zs.probabilities(grey_scan)
    assert set(probs) == set(CLASS_NAMES) and abs(sum(probs.values()) - 1) < 1e-4
    tag = tag_image("x", "figure", "x", "d", "CC0", grey_scan, own_text="", caption="", mentions=[], zeroshot=zs)
    assert tag.method == "rules+zeroshot" and tag.modality in CLASS_NAMES
    with pytest.raises(FileNotFoundError):
        ZeroShotModality(tmp_path / "missing")
    np.testing.assert_allclose(sum(zs.probabilities(bar_chart()).values()), 1, atol=1e-4)


def test_a_degenerate_panel_box_is_tagged_but_never_a_near_duplicate(tmp_path):
    from curate.records import Document, Figure, Panel
    from curate.runtime.blobs import BlobStore
    from curate.runtime.manifest import RunLayout
    from curate.runtime.stage import PartInput, StageContext
    from stages.quality import QualityStage

    cfg = load_config(None, [f"input_dir={tmp_path}", f"runs_dir={tmp_path}", "runner=local"])
    blobs = BlobStore(tmp_path / "blobs")
    buf = io.BytesIO()
    Image.fromarray(micrograph(9, (120, 200))).save(buf, "PNG")
    sha = blobs.put(buf.getvalue())
    fig = Figure(id="d_f01", document_id="d", source_kind="folder", image_sha256=sha, width=200, height=120,
                 caption="Panel A is fine.")
    panels = [Panel(id="d_f01_p01", figure_id="d_f01", document_id="d", index=1, bbox_xyxy=[0, 0, 100, 120]),
              Panel(id="d_f01_p02", figure_id="d_f01", document_id="d", index=2, bbox_xyxy=[150, 50, 150, 50])]
    inp = PartInput(part=0, items=[fig], related={
        "documents": {"d": [Document(id="d", source_kind="folder", source_path="x", licence="CC0")]},
        "panels": {"d_f01": panels}})
    stage = QualityStage(cfg)
    stage.setup()
    out = stage.process_part(inp, StageContext(config=cfg, layout=RunLayout(tmp_path), blobs=blobs))
    tags = {t.id: t for t in out.tables["quality"]}
    assert sorted(tags) == ["d_f01", "d_f01_p01", "d_f01_p02"] and not out.quarantine
    assert tags["d_f01_p01"].informative and not tags["d_f01_p02"].informative
    assert tags["d_f01"].licence == "CC0" and tags["d_f01_p01"].level == "panel"

