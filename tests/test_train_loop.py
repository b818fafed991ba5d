"""A short curriculum run on shards of the generated sample corpus: the loss falls, train-split
retrieval R@1 rises well above chance, a killed-and-resumed run ends with the same weights as an
uninterrupted one, and a mismatching config refuses to resume.

The shards are built in a fixture from the generator's ground truth with the real library
functions (``build_samples``, ``ShardTarWriter``, ``mine_texts``, ``patch_box``), so the test does
not depend on a finished pipeline run.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
import torch

from curate.images import decode_rgb
from curate.records import Document, Figure, Panel, Region, Texts, child_id
from curate.train.config import PhaseConfig, TrainConfig, load_train_config

REPO = Path(__file__).resolve().parents[1]


def _figure_rgb(corpus: Path, fig: dict):
    if fig.get("image_path") and (corpus / fig["image_path"]).is_file():
        return decode_rgb((corpus / fig["image_path"]).read_bytes())
    if fig["source_path"].endswith(".tar.gz"):
        with tarfile.open(corpus / fig["source_path"]) as tar:
            return decode_rgb(tar.extractfile(fig["member"]).read())
    return None  # PDF figures: the test corpus does without them


def _records(fig: dict, rgb):
    from curate.captions.textmined import mine_texts
    from curate.markers.detect import DetectedMarker
    from curate.markers.patches import patch_box, position_name

    doc = Document(id=fig["document"].replace(".", "-"), source_kind=fig["source_kind"],
                   source_path=fig["source_path"], title=fig["document"], licence=fig["licence"])
    figure = Figure(id=fig["id"], document_id=doc.id, source_kind=fig["source_kind"], caption=fig["caption"],
                    image_sha256=fig["image_sha256"], width=rgb.shape[1], height=rgb.shape[0],
                    licence=fig["licence"])
    panels, regions, texts = [], [], {figure.id: mine_texts(fig["caption"])}
    for i, p in enumerate(fig["panels"]):
        panel = Panel(id=child_id(figure.id, "p", i), figure_id=figure.id, document_id=doc.id, index=i,
                      bbox_xyxy=p["bbox_xyxy"], label=p["label"], subcaption=p["subcaption"])
        x0, y0, x1, y1 = p["bbox_xyxy"]
        wh = (x1 - x0, y1 - y0)
        own = [m for m in fig["markers"] if m["panel_index"] == i]
        for j, m in enumerate(own):
            bb = m["bbox_xyxy"]
            tip = None if m["tip_xy"] is None else (m["tip_xy"][0] - x0, m["tip_xy"][1] - y0)
            box = patch_box(DetectedMarker(m["kind"], m["colour"], (bb[0] - x0, bb[1] - y0, bb[2] - x0, bb[3] - y0),
                                           tip, m["direction_deg"], 1.0), wh)
            region = Region(id=child_id(panel.id, "r", j), panel_id=panel.id, figure_id=figure.id,
                            document_id=doc.id, bbox_xyxy_panel=list(box), phrase=m["phrase"],
                            position=position_name(box, wh), source="marker")
            regions.append(region)
            texts[region.id] = mine_texts(m["phrase"], p["subcaption"], phrase=m["phrase"], position=region.position)
        first = next((r for r in regions if r.panel_id == panel.id), None)
        texts[panel.id] = mine_texts(p["subcaption"], fig["caption"], phrase=first.phrase if first else "",
                                     position=first.position if first else "")
        panels.append(panel)
    level = {figure.id: "figure", **{p.id: "panel" for p in panels}, **{r.id: "patch" for r in regions}}
    extra = {"figure_id": figure.id} if "figure_id" in Texts.model_fields else {}
    texts = {k: Texts(id=f"{k}_t", target_id=k, level=level[k], method="textmined", **extra, **v)
             for k, v in texts.items()}
    return doc, figure, panels, regions, texts


def build_sample_shards(out: Path, per_shard: int = 40) -> Path:
    """Generated sample corpus -> ``out/{train,val}/pNNNNN-NNNN.tar`` + ``sizes.json``; train
    holds every sample, val the samples of the first two papers."""
    from curate.sample.generate import generate_sample
    from curate.shards.samples import build_samples
    from curate.shards.tarwriter import ShardTarWriter

    corpus = out / "corpus"
    truth = generate_sample(corpus, seed=0)
    samples = []
    for fig in truth["figures"]:
        rgb = _figure_rgb(corpus, fig)
        if rgb is not None:
            doc, figure, panels, regions, texts = _records(fig, rgb)
            samples += build_samples(doc, figure, panels, [], regions, texts, rgb, max_side=160, min_side=12,
                                     quality=85, levels=["figure", "panel", "patch"])
    papers = sorted({s.document_id for s in samples})[:2]
    splits = {"train": samples, "val": [s for s in samples if s.document_id in papers]}
    for split, chosen in splits.items():
        sizes = {}
        for n, start in enumerate(range(0, len(chosen), per_shard)):
            name = f"p00000-{n:04d}.tar"
            with ShardTarWriter(out / "shards" / split / name) as writer:
                for sample in chosen[start:start + per_shard]:
                    writer.write(sample.key, sample.members())
            sizes[name] = len(chosen[start:start + per_shard])
        (out / "shards" / split / "sizes.json").write_text(json.dumps(sizes))
    return out / "shards"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run several times faster on one intra-op thread; restore torch's setting after."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    return build_sample_shards(tmp_path_factory.mktemp("train_shards"))


def tiny_config(**extra) -> TrainConfig:
    """A ~0.3 M-parameter model and a 4-phase curriculum sized for a CPU test."""
    base = load_train_config(REPO / "manifests" / "train_tiny.yaml")
    return base.model_copy(update=extra)


def test_fixture_has_three_levels_and_rois(shards):
    from curate.train.data import read_tar_samples, shard_urls

    metas = [json.loads(s["json"]) for s in read_tar_samples(shard_urls(shards, "train"))]
    assert {m["level"] for m in metas} == {"figure", "panel", "patch"}
    assert sum(1 for m in metas if m["level"] == "patch") >= 10
    assert all(len(m["texts"]["negatives"]) == 5 for m in metas if m["texts"]["region"] != "No Finding")


def test_curriculum_loss_falls_and_r1_beats_chance(shards, tmp_path):
    from curate.train.loop import train

    summary = train(tiny_config(), shards, tmp_path / "run")
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert {line["phase"] for line in lines} == {"warmup", "global", "roi", "joint"}
    assert {"roi_loss", "neg_loss", "global_loss"} <= set(lines[-1])
    glob = [line["global_loss"] for line in lines if line["phase"] in ("warmup", "global")]
    assert glob[-1] < 0.7 * glob[0]
    r = summary["retrieval"]["all"]  # 86 samples, 74 distinct reports: chance R@1 = 1/86
    assert (r["i2t_r1"] + r["t2i_r1"]) / 2 > 4 * r["chance_r1"], r
    assert min(r["i2t_r10"], r["t2i_r10"]) > 3 * 10 * r["chance_r1"], r
    assert (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / "checkpoint.pt.tmp").exists()


def test_resume_gives_the_same_weights(shards, tmp_path):
    from curate.train.loop import train

    cfg = tiny_config(phases=[PhaseConfig(name="global", epochs=1, lr=1e-3, batch_size=8),
                              PhaseConfig(name="roi", epochs=1, lr=1e-3, batch_size=8)], accum_steps=2)
    train(cfg, shards, tmp_path / "a", evaluate=False)
    first = train(cfg, shards, tmp_path / "b", stop_after=3, evaluate=False)
    assert not first["finished"] and first["steps"] == 3
    second = train(cfg, shards, tmp_path / "b", evaluate=False)
    assert second["finished"]
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)
    assert a["position"] == b["position"]
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    with pytest.raises(ValueError, match="different config"):
        train(cfg.model_copy(update={"weight_decay": 0.1}), shards, tmp_path / "b", evaluate=False)


def test_bad_samples_past_threshold_fail_the_run(shards, tmp_path):
    from curate.shards.tarwriter import ShardTarWriter
    from curate.train.loop import train

    bad = tmp_path / "bad"
    (bad / "train").mkdir(parents=True)
    with ShardTarWriter(bad / "train" / "p00000-0000.tar") as writer:
        for i in range(12):
            writer.write(f"s{i}", {"jpg": b"not a jpeg", "txt": b"x", "json": b"{}"})
    (bad / "train" / "sizes.json").write_text('{"p00000-0000.tar": 12}')
    (bad / "train" / "vocab.txt").write_text("")
    cfg = tiny_config(phases=[PhaseConfig(name="global", epochs=1, lr=1e-3, batch_size=4)])
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"bad_min_seen": 5})})
    with pytest.raises(RuntimeError, match="bad samples"):
        train(cfg, bad, tmp_path / "run", evaluate=False)


def test_evaluate_checkpoint_and_zeroshot(shards, tmp_path):
    from PIL import Image

    from curate.eval.retrieval import evaluate
    from curate.train.loop import train

    cfg = tiny_config(phases=[PhaseConfig(name="global", epochs=1, lr=1e-3, batch_size=8)])
    train(cfg, shards, tmp_path / "run", evaluate=False)
    for name, colour in (("opacity", (250, 250, 250)), ("normal_lung", (10, 10, 10))):
        (tmp_path / "zs" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40, 40), tuple(max(0, c - 20 * i) for c in colour)).save(tmp_path / "zs" / name / f"{i}.png")
    result = evaluate(tmp_path / "run" / "checkpoint.pt", shards, split="val", zeroshot_dir=tmp_path / "zs")
    assert {"all", "figure", "panel"} <= set(result["retrieval"])
    assert 0.0 <= result["retrieval"]["all"]["i2t_r1"] <= 1.0
    assert result["zeroshot"]["classes"] == ["normal_lung", "opacity"]
    assert 0.0 <= result["zeroshot"]["mean_auc"] <= 1.0 and result["zeroshot"]["n"] == 6


def test_roialign_mode_trains_the_roi_phase(shards, tmp_path):
    from curate.train.loop import summary_line, train

    cfg = tiny_config(phases=[PhaseConfig(name="joint", epochs=1, lr=1e-3, batch_size=8)])
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"roi_mode": "roialign"})})
    summary = train(cfg, shards, tmp_path / "run")
    line = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert line["roi_loss"] > 0 and line["neg_loss"] > 0 and "roi" in summary["retrieval"]
    assert "chance" in summary_line(summary)


def test_summary_reports_loss_per_phase_because_phases_sum_different_terms():
    from curate.train.loop import phase_loss, summary_line

    per_phase = phase_loss([5.0, 4.0, 9.0, 7.5, 7.0], ["global", "global", "joint", "joint", "joint"])
    assert per_phase == {"global": [5.0, 4.0], "joint": [9.0, 7.0]}
    # a resumed run from an old checkpoint has fewer phase tags than losses: the tags cover the tail
    assert phase_loss([1.0, 2.0, 3.0], ["roi"]) == {"roi": [3.0, 3.0]}
    line = summary_line({"steps": 5, "first_loss": 5.0, "last_loss": 7.0, "phase_loss": per_phase, "wall_s": 1.0})
    assert "global 5.000 -> 4.000" in line and "joint 9.000 -> 7.000" in line
