"""Loaders for the panel benchmarks: images, ground-truth boxes and caption label sets.

Each loader returns a list of dicts ``{rgb, panels: [{label, bbox_xyxy}], expected}`` (plus
``labels`` for soda) or an empty list when its data folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from lxml import etree

from curate.images import decode_rgb
from curate.ingest.jats import XLINK_HREF, hardened_parser
from curate.layout import split_caption


def _rgb(path: Path) -> np.ndarray:
    return decode_rgb(path.read_bytes())


def _labels_of(caption: str) -> list[str] | None:
    labels = split_caption(caption).labels
    return labels or None


def jats_caption(xml_path: Path, image_name: str) -> str | None:
    """Caption text of the ``<fig>`` whose ``<graphic>`` names ``image_name``."""
    tree = etree.parse(str(xml_path), hardened_parser())
    for graphic in tree.iter("graphic"):
        if graphic.get(XLINK_HREF, "").split("/")[-1] == image_name:
            fig = graphic.getparent()
            while fig is not None and fig.tag != "fig":
                fig = fig.getparent()
            caption = fig.find("caption") if fig is not None else None
            if caption is not None:
                return " ".join("".join(caption.itertext()).split())
    return None


def caption_for(data_root: Path, image_rel: str) -> str | None:
    """Caption of a panel-gt image: soda ``caption.txt`` beside it, or the article's JATS."""
    path = data_root / image_rel
    txt = path.parent / "caption.txt"
    if txt.exists():
        return txt.read_text()
    xml = path.parent / "main.jats.xml"
    return jats_caption(xml, path.name) if xml.exists() else None


def panelgt_figures(data_root: Path) -> list[dict]:
    gt_path = data_root / "panel-gt" / "panels.json"
    if not gt_path.exists():
        return []
    out = []
    for fig in json.loads(gt_path.read_text())["figures"]:
        image = data_root / fig["image"]
        if not image.exists():
            continue
        caption = caption_for(data_root, fig["image"])
        out.append(
            {
                "rgb": _rgb(image),
                "panels": fig["panels"],
                "expected": _labels_of(caption) if caption else None,
            }
        )
    return out


def _corners_to_box(points: list[dict]) -> tuple[int, int, int, int]:
    xs = [p["x"] for p in points]
    ys = [p["y"] for p in points]
    return (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys)))


def exsclaim_figures(data_root: Path) -> list[dict]:
    root = data_root / "exsclaim-nature"
    expected = root / "expected" / "nature_closed_expected.json"
    if not expected.exists():
        return []
    out = []
    for name, fig in json.loads(expected.read_text()).items():
        image = root / "figures" / name
        if not image.exists():
            continue
        panels = []
        for master in fig.get("master_images", []):
            label = (master.get("subfigure_label") or {}).get("text")
            panels.append({"label": label, "bbox_xyxy": _corners_to_box(master["geometry"])})
        caption = fig.get("full_caption") or ""
        out.append({"rgb": _rgb(image), "panels": panels, "expected": _labels_of(caption)})
    return out


def soda_figures(data_root: Path) -> list[dict]:
    root = data_root / "soda-mmqc-embo" / "examples"
    if not root.exists():
        return []
    out = []
    for content in sorted(root.glob("*/content/*/content")):
        images = [p for p in content.iterdir() if p.suffix.lower() in (".jpg", ".png", ".jpeg", ".tif")]
        labels: set[str] = set()
        for check in content.parent.glob("checks/*/expected_output.json"):
            for row in json.loads(check.read_text()).get("outputs", []):
                if row.get("panel_label"):
                    labels.add(row["panel_label"])
        caption_file = content / "caption.txt"
        if not images or not labels:
            continue
        caption = caption_file.read_text() if caption_file.exists() else ""
        out.append({"rgb": _rgb(images[0]), "labels": sorted(labels), "expected": _labels_of(caption)})
    return out


def sample_figures(out_dir: Path | None = None, seed: int = 0) -> list[dict]:
    """The generated sample corpus (exact ground truth); written to a temp folder unless ``out_dir``.

    Needs the shared data the generator draws its pixels from; returns [] when it cannot run.
    """
    import tempfile

    from curate.sample.generate import generate_sample
    from curate.sample.overlay import figure_bytes
    from curate.sample.pixels import MissingPixels

    def load(folder: Path) -> list[dict]:
        try:
            truth = generate_sample(folder, seed=seed)
        except (MissingPixels, FileNotFoundError):
            return []
        out = []
        for fig in truth["figures"]:
            panels = [{"label": p.get("label"), "bbox_xyxy": p["bbox_xyxy"]} for p in fig["panels"]]
            out.append(
                {
                    "id": fig["id"],
                    "rgb": decode_rgb(figure_bytes(folder, fig)),
                    "panels": panels,
                    "expected": _labels_of(fig["caption"]),
                }
            )
        return out

    if out_dir is not None:
        return load(Path(out_dir))
    with tempfile.TemporaryDirectory() as tmp:
        return load(Path(tmp))
