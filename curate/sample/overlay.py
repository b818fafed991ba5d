"""Draw a figure's ground truth over its image, to check the sample corpus by eye.

``python -m curate.sample.overlay OUT_DIR FIGURE_ID PNG`` renders one figure's overlay; figures
inside a tar.gz or a PDF are read from there. Panel boxes are blue, label boxes magenta, marker
boxes orange with a dot on arrow tips and a line to arrow tails, inset frames green.
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from pathlib import Path

from PIL import Image, ImageDraw

from curate.images import sha256_hex


def _rect(draw: ImageDraw.ImageDraw, box: list[int], colour: str, width: int = 2) -> None:
    # Half-open box: the last covered pixel is x2 - 1, y2 - 1.
    draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=colour, width=width)


def draw_ground_truth(image_path: Path | str | bytes, gt_figure: dict) -> Image.Image:
    """The figure image (a path or its bytes) with panels, labels, insets and markers drawn on."""
    src = io.BytesIO(image_path) if isinstance(image_path, bytes) else image_path
    with Image.open(src) as img:
        canvas = img.convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for panel in gt_figure["panels"]:
        _rect(draw, panel["bbox_xyxy"], "#1f5fff", 3)
        if panel.get("label_bbox_xyxy"):
            _rect(draw, panel["label_bbox_xyxy"], "#ff00ff", 1)
        for inset in panel.get("insets", []):
            _rect(draw, inset["bbox_xyxy"], "#00c000", 2)
    for mk in gt_figure["markers"]:
        _rect(draw, mk["bbox_xyxy"], "#ff8c00", 1)
        if mk.get("tail_xy") and mk.get("tip_xy"):
            draw.line([tuple(mk["tail_xy"]), tuple(mk["tip_xy"])], fill="#ff8c00", width=1)
        if mk.get("tip_xy"):
            x, y = mk["tip_xy"]
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline="#ff8c00", width=2)
    return canvas


def figure_bytes(out_dir: Path, fig: dict) -> bytes:
    """The figure's JPEG bytes wherever the sample stores it (file, tar.gz member, PDF image)."""
    if fig.get("image_path"):
        return (out_dir / fig["image_path"]).read_bytes()
    if fig["source_path"].endswith(".tar.gz"):
        with tarfile.open(out_dir / fig["source_path"]) as tar:
            return tar.extractfile(fig["member"]).read()
    from curate.mupdf import pymupdf

    with pymupdf.open(out_dir / fig["source_path"]) as doc:
        for xref, *_ in doc[fig["page"]].get_images(full=True):
            data = doc.extract_image(xref)["image"]
            if sha256_hex(data) == fig["image_sha256"]:
                return data
    raise FileNotFoundError(f"image of {fig['id']} not found in {fig['source_path']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Overlay one sample figure's ground truth.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("figure_id")
    parser.add_argument("png", type=Path)
    args = parser.parse_args(argv)
    truth = json.loads((args.out_dir / "ground_truth.json").read_text())
    fig = next(f for f in truth["figures"] if f["id"] == args.figure_id)
    draw_ground_truth(figure_bytes(args.out_dir, fig), fig).save(args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
