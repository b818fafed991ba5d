"""The fast paths give the numbers of the plain forms they replaced, and the pixel bound holds:
an image over ``ingest.max_figure_pixels`` is stored downscaled, with its figure's size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pymupdf
import pytest
from PIL import Image

from curate.images import BadImage, check_decodes, colour_distance, decode_rgb, encode_png, fit_pixels
from curate.ingest.discover import discover_sources
from curate.ingest.pdf_layout import _components, ink_mask
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
    """Boxes from the dilated components' stats, mended at the image edges, against every
    marked pixel's coordinates reduced per component."""
    rng = np.random.default_rng(2)
    ink = np.zeros((600, 800), np.uint8)
    for y, x in rng.integers(0, 560, (12, 2)):
        ink[y: y + rng.integers(1, 30), x: x + rng.integers(1, 30)] = 1  # blocks, some close enough to merge
    ink[500:505, 10:790] = 1
    # at and near every edge and corner: dilation is clipped there
    ink[0:3, 0:5] = ink[595:600, 795:800] = ink[0:10, 400:405] = ink[300:310, 797:800] = ink[590:600, 200:203] = 1
    ink[40:45, 3:9] = ink[200:204, 20:30] = ink[580:584, 770:786] = 1
    texts = [(100.0, 20.0, 140.0, 30.0), (370.0, 5.0, 395.0, 10.0)]  # the second one alone: not graphic
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
    graphic = np.zeros(n, bool)
    graphic[np.unique(labels[mask == 1])] = True
    graphic[0] = False
    assert np.array_equal(comps.graphic, graphic) and 0 < graphic.sum() < n - 1


def _reference_ink(page, text_boxes):
    """``ink_mask`` in its plain form: per-channel distance images, and a relabelled copy always."""
    from curate.ingest.pdf_layout import INK_DELTA, SCALE

    pix = page.get_pixmap(matrix=pymupdf.Matrix(SCALE, SCALE), alpha=False, colorspace=pymupdf.csRGB)
    rgb = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3)
    sub = rgb[::4, ::4].astype(np.int64)
    values, counts = np.unique(((sub[..., 0] << 16) | (sub[..., 1] << 8) | sub[..., 2]).ravel(), return_counts=True)
    bg_val = int(values[counts.argmax()])
    bg = np.array([(bg_val >> 16) & 255, (bg_val >> 8) & 255, bg_val & 255], np.int16)
    ink = (colour_distance(rgb, bg) > INK_DELTA).astype(np.uint8)
    for x0, y0, x1, y1 in text_boxes:
        ink[int(y0 * SCALE): int(np.ceil(y1 * SCALE)), int(x0 * SCALE): int(np.ceil(x1 * SCALE))] = 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    bw, bh, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    drop = ((bh <= 4 * SCALE) & (bw > 0.6 * w)) | ((bw <= 4 * SCALE) & (bh > 0.6 * h)) | (area > 0.85 * w * h)
    drop[0] = True
    return np.where(drop[labels], 0, ink).astype(np.uint8)


@pytest.mark.parametrize("rule", [False, True])
@pytest.mark.parametrize("paper", [(1, 1, 1), (0.05, 0.05, 0.1), (0.98, 0.95, 0.85)])
def test_pdf_ink_mask_equals_plain_form(rule, paper):
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=400)
    page.draw_rect(page.rect, color=None, fill=paper)
    page.draw_rect(pymupdf.Rect(30, 40, 140, 120), color=None, fill=(0.2, 0.4, 0.8))
    page.draw_rect(pymupdf.Rect(160, 40, 260, 120), color=None, fill=tuple(min(1.0, c + 0.08) for c in paper))  # faint
    page.draw_circle((100, 250), 40, color=(0.9, 0.1, 0.1), width=2)
    page.insert_text((40, 330), "Axis label", fontsize=9, color=(0.5, 0.5, 0.5))
    if rule:
        page.draw_line((10, 200), (290, 200), color=(0, 0, 0), width=1)  # page-wide rule: dropped
    texts = [(38.0, 320.0, 90.0, 333.0)]
    got = ink_mask(page, texts)
    assert got.dtype == np.uint8 and np.array_equal(got, _reference_ink(page, texts))
    assert got.sum() > 0


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


def test_encode_png_is_lossless_and_shared_by_fit_pixels():
    rgb = np.random.default_rng(4).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    data = encode_png(rgb[3:30, 5:40])  # a strided view too
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and np.array_equal(decode_rgb(data), rgb[3:30, 5:40])
    small, width, height = fit_pixels(_image("PNG"), 300_000)
    assert small == encode_png(decode_rgb(small)) and (width, height) == decode_rgb(small).shape[1::-1]


def test_abbreviation_word_equals_regex_form():
    import re

    from curate.ingest.mentions import ABBREVIATIONS, _is_abbreviation

    def plain(text, stop):
        if text[stop] != ".":
            return False
        return re.search(r"(\S*)$", text[:stop]).group(1).lstrip("([{\"'“‘").lower() in ABBREVIATIONS

    rng = np.random.default_rng(5)
    pieces = ["Fig", "et al", "(e.g", "i.e", "vs", "Dr", "cells", "\u00a0", "\u2009", "\u3000", " ", "\n", ".", "(",
              "“Fig", "x", "1.5"]
    for _ in range(300):
        text = "".join(rng.choice(pieces, rng.integers(1, 12))) + "."
        for stop in range(len(text)):
            assert _is_abbreviation(text, stop) == plain(text, stop), (text, stop)


@pytest.mark.parametrize("progressive", [False, True])
def test_check_decodes_reads_a_jpeg_small_yet_refuses_it_truncated(progressive):
    rgb = np.random.default_rng(6).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90, progressive=progressive)
    data = buf.getvalue()
    assert check_decodes(data) == (800, 600)  # the full size, though decoded at 1/8
    for cut in (0.3, 0.9, 0.999):
        with pytest.raises(BadImage, match="truncated"):
            check_decodes(data[: int(len(data) * cut)])


def test_page_background_is_the_most_common_colour_as_np_unique_gives():
    from curate.ingest.pdf_layout import _most_common

    rng = np.random.default_rng(7)
    cases = [np.full(100, 0xFFFFFF), np.r_[np.full(51, 0xFFFFFF), np.zeros(49)], np.r_[np.full(50, 0xFFFFFF), np.zeros(50)],
             np.r_[np.full(60, 0x102030), np.full(40, 0xFFFFFF)], rng.integers(0, 4, 999), rng.integers(0, 1 << 24, 500)]
    for values in cases:
        values = values.astype(np.int64)
        uniq, counts = np.unique(values, return_counts=True)
        assert _most_common(values) == int(uniq[counts.argmax()])


@pytest.mark.parametrize("xmlns", ["", ' xmlns="http://jats.nlm.nih.gov/ns/archiving/1.3/"'])
def test_jats_figures_and_citations_found_in_any_namespace(xmlns):
    from curate.ingest.jats import parse_jats

    xml = (f'<article{xmlns}><front><article-meta><title-group><article-title>T</article-title></title-group>'
           '</article-meta></front><body><p>We saw it (<xref ref-type="fig" rid="f1">Fig. 1</xref>). '
           'Then <xref ref-type="bibr" rid="b1">[1]</xref> agreed.</p><fig id="f1"><label>Figure 1</label>'
           '<caption><p>Cells.</p></caption><graphic href="f1.jpg"/></fig></body></article>').encode()
    article = parse_jats(xml, doc_id="d", source_path="d.xml")
    assert [f.label for f in article.figures] == ["Figure 1"]
    assert article.figures[0].mentions == ["We saw it (Fig. 1)."]


@pytest.mark.parametrize(("mode", "fmt"), [("RGB", "PNG"), ("RGB", "JPEG"), ("L", "PNG"), ("CMYK", "JPEG"), ("P", "PNG")])
def test_decode_rgb_equals_pillow_convert(mode, fmt):
    rgb = np.random.default_rng(8).integers(0, 256, (23, 31, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buf, format=fmt)
    with Image.open(io.BytesIO(buf.getvalue())) as img:
        want = np.asarray(img.convert("RGB"))
    got = decode_rgb(buf.getvalue())
    assert got.dtype == np.uint8 and got.shape == (23, 31, 3) and np.array_equal(got, want)
