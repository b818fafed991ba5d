"""The fast paths give the numbers of the plain forms they replaced, and the pixel bound holds:
an image over ``ingest.max_figure_pixels`` is stored downscaled, with its figure's size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from curate.images import colour_distance, decode_rgb, fit_pixels
from curate.ingest.discover import discover_sources
from curate.ingest.pdf_layout import _components
from curate.records import Figure
from curate.runtime.blobs import BlobStore
from curate.runtime.config import load_config
from curate.runtime.manifest import RunLayout, read_records
from curate.runtime.runner import LocalRunner
from stages.ingest import IngestStage


@pytest.mark.parametrize("colour", [(250, 3, 128), (0, 0, 0), (255, 255, 255)])
def test_colour_distance_equals_int16_form(colour):
    rgb = np.random.default_rng(1).integers(0, 256, (61, 83, 3), dtype=np.uint8)
    bg = np.array(colour, np.uint8)
    for view in (rgb, rgb[5:50, 7:70]):  # a strided crop too
        want = np.abs(view.astype(np.int16) - bg.astype(np.int16)).max(axis=2)
        assert np.array_equal(colour_distance(view, bg), want)


def test_pdf_component_boxes_equal_per_pixel_reduction():
    rng = np.random.default_rng(2)
    ink = np.zeros((600, 800), np.uint8)
    for y, x in rng.integers(0, 560, (12, 2)):
        ink[y: y + rng.integers(1, 30), x: x + rng.integers(1, 30)] = 1  # blocks, some close enough to merge
    ink[500:505, 10:790] = 1
    texts = [(100.0, 20.0, 140.0, 30.0)]
    comps = _components(ink, texts)
    # Reference: every marked pixel's own coordinates reduced per dilated component.
    from curate.ingest.pdf_layout import GAP_PT, SCALE

    mask = ink.copy()
    for x0, y0, x1, y1 in texts:
        mask[int(y0 * SCALE): int(np.ceil(y1 * SCALE)), int(x0 * SCALE): int(np.ceil(x1 * SCALE))] = 2
    k = 2 * GAP_PT * SCALE + 1
    n, labels = cv2.connectedComponents(cv2.dilate((mask > 0).astype(np.uint8), np.ones((k, k), np.uint8)))
    ys, xs = np.nonzero(mask)
    want = np.tile(np.array([np.inf, np.inf, -np.inf, -np.inf]), (n, 1))
    lab = labels[ys, xs]
    np.minimum.at(want[:, 0], lab, xs)
    np.minimum.at(want[:, 1], lab, ys)
    np.maximum.at(want[:, 2], lab, xs + 1)
    np.maximum.at(want[:, 3], lab, ys + 1)
    assert n > 5
    assert np.array_equal(comps.boxes, want / SCALE)


def _image(fmt: str, size=(1200, 900)) -> bytes:
    rgb = np.full((size[1], size[0], 3), 255, np.uint8)
    cv2.rectangle(rgb, (100, 100), (500, 700), (30, 90, 200), -1)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_fit_pixels_shrinks_only_large_images(fmt):
    data = _image(fmt)
    assert fit_pixels(data, 1200 * 900) is None
    small, width, height = fit_pixels(data, 300_000)
    assert width * height <= 300_000 and abs(width / height - 1200 / 900) < 0.01
    assert decode_rgb(small).shape == (height, width, 3)
    assert (Image.open(io.BytesIO(small)).format == fmt)


def test_ingest_stores_large_figures_downscaled(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "big.png").write_bytes(_image("PNG"))
    (inputs / "small.png").write_bytes(_image("PNG", (200, 150)))
    (inputs / "captions.jsonl").write_text(
        "\n".join(json.dumps({"image": name, "caption": "A blue box."}) for name in ("big.png", "small.png")))
    cfg = load_config(None, [f"input_dir={inputs}", f"runs_dir={tmp_path / 'runs'}", "name=t", "runner=local",
                             "ingest.max_figure_pixels=250000"])
    LocalRunner(cfg, [IngestStage], lambda c: discover_sources(Path(c.input_dir))).run()
    layout = RunLayout(cfg.run_dir)
    figures = {f.graphic_href: f for f in read_records(layout.table("ingest", "figures", 0), Figure)}
    big, small = figures["big.png"], figures["small.png"]
    assert big.width * big.height <= 250_000 and big.width < 1200
    assert (small.width, small.height) == (200, 150)
    blobs = BlobStore(layout.blobs)
    assert decode_rgb(blobs.get(big.image_sha256)).shape == (big.height, big.width, 3)
