"""Blind contact sheets of every labelled crop, for a second image-type labelling pass.

Every row of the four ``bench/data/quality_labels*.csv`` is drawn as one tile in a shuffled
order (fixed seed) with only an anonymous index under it: no file name, no label, no classifier
output, so the second labeller sees nothing that could pull them towards the first labels. The
key from index to row (path, panel, bbox_xyxy; never the label) and each crop's caption (read only
where the pixels cannot decide) are written beside the sheets.

    PYTHONPATH=$PWD python -m bench.label_sheets runs/label_sheets
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.quality_data import ALL_LABELS, crop_pixels, read_labels, texts_of
from bench.run import DATA

SEED = 20261124
TILE = 300  # px, the longer side of a crop in its tile
COLUMNS, ROWS = 6, 4
STRIP = 28  # px under each tile for its index
KEY_FIELDS = ("index", "path", "panel", "bbox_xyxy")


def shuffled_rows(seed: int = SEED) -> list[dict]:
    """Every labelled row's identity (no label), in a shuffled order, numbered from 0."""
    rows = [{k: r[k] for k in ("path", "panel", "bbox_xyxy")} for labels in ALL_LABELS for r in read_labels(labels)]
    random.Random(seed).shuffle(rows)
    return [{"index": i, **r} for i, r in enumerate(rows)]


def tile(rgb: np.ndarray, index: int, font: ImageFont.ImageFont) -> Image.Image:
    image = Image.fromarray(rgb)
    image.thumbnail((TILE, TILE), Image.Resampling.LANCZOS)
    if max(image.size) < TILE // 2:  # tiny crops: enlarge so their content can be read
        scale = (TILE // 2) / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    out = Image.new("RGB", (TILE + 8, TILE + STRIP + 8), (150, 150, 150))
    out.paste(image, (4 + (TILE - image.width) // 2, 4 + (TILE - image.height) // 2))
    ImageDraw.Draw(out).text((8, TILE + 8), str(index), fill=(0, 0, 0), font=font)
    return out


def write_sheets(root: Path, out: Path, seed: int = SEED) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rows = shuffled_rows(seed)
    font = ImageFont.load_default(size=22)
    per_sheet = COLUMNS * ROWS
    for start in range(0, len(rows), per_sheet):
        tiles = [tile(crop_pixels(root, r["path"], r["bbox_xyxy"]), r["index"], font) for r in rows[start:start + per_sheet]]
        w, h = tiles[0].size
        sheet = Image.new("RGB", (COLUMNS * w, ROWS * h), (255, 255, 255))
        for k, t in enumerate(tiles):
            sheet.paste(t, ((k % COLUMNS) * w, (k // COLUMNS) * h))
        sheet.save(out / f"sheet-{start // per_sheet:02d}.png")
    with (out / "key.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, KEY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with (out / "captions.txt").open("w") as fh:
        for r in rows:
            caption = " ".join(texts_of(root, r["path"], r["bbox_xyxy"])[0].split())
            fh.write(f"{r['index']}\tpanel={r['panel'] or '-'}\t{caption}\n")
    return len(rows)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/label_sheets")
    print(f"{write_sheets(DATA, out)} crops -> {out}")


if __name__ == "__main__":
    main()
