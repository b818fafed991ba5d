"""PDF ingest: real papers (shared data) and PDFs generated here with PyMuPDF."""

from __future__ import annotations

import io
import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from curate.images import decode_rgb, sha256_hex
from curate.ingest.base import IngestError
from curate.ingest.pdf import ingest_pdf, ingest_pdf_bytes, render_zoom
from curate.ingest.pdf_text import cited_numbers, join_lines, sentences

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pdfs"
LITQA = DATA / "paper-qa-litqa"
CS = DATA / "deepfigures-cs-with-expected"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not available: {path.name}")
    return path


@cache
def _ingest_shared(rel: str):
    path = _need(DATA / rel)
    return ingest_pdf(path, doc_id="doc", source_path=rel)


def _iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


@pytest.mark.parametrize(("name", "n_figs"), [
    ("10.1038_s41467-024-44806-1.pdf", 3),  # Nature Communications, 7 pages
    ("10.1093_g3journal_jkad293.pdf", 5),  # G3, 15 pages
])
def test_biomedical_pdfs_yield_numbered_figures(name: str, n_figs: int) -> None:
    res = _ingest_shared(f"paper-qa-litqa/{name}")
    assert [f.label for f in res.figures] == [f"Fig. {n}" for n in range(1, n_figs + 1)]
    for n, fig in enumerate(res.figures, start=1):
        assert re.match(rf"Fig\. {n}\b", fig.caption), fig.caption[:40]
        assert len(fig.caption) > 80
        assert fig.id == f"doc_f{n:02d}"
        png = res.images[fig.image_sha256]
        assert sha256_hex(png) == fig.image_sha256 and fig.image_ext == "png"
        assert decode_rgb(png).shape[:2] == (fig.height, fig.width)
        x0, y0, x1, y1 = fig.page_bbox_xyxy
        assert (x1 - x0) > 150 and (y1 - y0) > 150  # a whole figure, not a fragment
        assert fig.mentions, f"no mention found for {fig.label}"
        assert all(fig.label not in m[:10] for m in fig.mentions)  # captions are not mentions
    assert res.document.n_figures == n_figs
    assert res.document.doi == name[:-4].replace("_", "/")
    assert len(res.document.title) > 40
    assert res.document.licence == "CC-BY-4.0"
    assert not res.failures


def test_caption_text_is_joined_and_continued_across_columns() -> None:
    res = _ingest_shared("paper-qa-litqa/10.1038_s41467-024-44806-1.pdf")
    cap = res.figures[0].caption
    assert "Simplified maximum likelihood" in cap  # ligature and split spans repaired
    assert cap.endswith("Source data are provided as a Source Data file.")  # right-column part
    assert res.figures[0].caption_title == "Origin of eukaryotic EF-1A within Asgard archaea."
    assert "Fig. 3b" not in " ".join(f.caption[:6] for f in res.figures)


def test_cs_pdf_boxes_match_expected() -> None:
    expected = json.loads(_need(CS / "paper.pdf-result.json").read_text())
    scale = 72 / expected["dpi"]
    truth = {f["name"]: f for f in expected["figures"] if f["figure_type"] == "Figure"}
    res = _ingest_shared("deepfigures-cs-with-expected/paper.pdf")
    assert [f.label for f in res.figures] == [f"Figure {n}" for n in sorted(truth, key=int)]
    for fig in res.figures:
        want = truth[fig.label.split()[-1]]
        b = want["figure_boundary"]
        box = [b["x1"] * scale, b["y1"] * scale, b["x2"] * scale, b["y2"] * scale]
        assert fig.page == want["page"]
        assert _iou(fig.page_bbox_xyxy, box) >= 0.8, (fig.label, fig.page_bbox_xyxy, box)
        assert fig.caption.split()[:6] == want["caption_text"].split()[:6]


def _png(w: int, h: int) -> bytes:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


BODY_1 = ("Results. We imaged the sample and plotted its response over time, which rises steadily "
          "before it saturates (Fig. 1B). The left panel is the raw image and the right one the chart. "
          "The DOI of this text is 10.1234/demo.5678 and it has no further figures.")
BODY_2 = ("Figure 1 shows the two panels side by side, and this sentence starts a paragraph in the body "
          "font, so it must not be taken for a caption. Figure 2 shows nothing at all. This article is "
          "distributed under a Creative Commons Attribution 4.0 International License.")


def _synthetic_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_textbox(pymupdf.Rect(72, 60, 523, 190), BODY_1, fontname="tiro", fontsize=10)
    page.insert_image(pymupdf.Rect(72, 210, 290, 380), stream=_png(120, 90))
    page.draw_line((320, 370), (520, 370), color=(0, 0, 0), width=1)  # x axis
    page.draw_line((320, 370), (320, 220), color=(0, 0, 0), width=1)  # y axis
    for i, h in enumerate([40, 80, 120, 140]):
        page.draw_rect(pymupdf.Rect(340 + 45 * i, 370 - h, 370 + 45 * i, 370), color=None, fill=(0.2, 0.4, 0.8))
    page.insert_text((400, 384), "Time (s)", fontname="helv", fontsize=6)
    page.insert_text((75, 222), "A", fontname="hebo", fontsize=9)
    page.insert_textbox(pymupdf.Rect(72, 392, 523, 440),
                        "Figure 1. A synthetic figure. (A) Noise image. (B) A bar chart whose response "
                        "rises with time; the bars are blue.", fontname="helv", fontsize=8)
    page.insert_textbox(pymupdf.Rect(72, 460, 523, 600), BODY_2, fontname="tiro", fontsize=10)
    data = doc.tobytes()
    doc.close()
    return data


def test_synthetic_pdf_figure_caption_and_mention(tmp_path: Path) -> None:
    path = tmp_path / "made.pdf"
    path.write_bytes(_synthetic_pdf())
    res = ingest_pdf(path, doc_id="syn", source_path="made.pdf", dpi=100)
    assert len(res.figures) == 1  # neither "Figure 1 shows" nor "Figure 2 shows" is a caption
    fig = res.figures[0]
    assert fig.id == "syn_f01" and fig.label == "Figure 1" and fig.page == 0
    assert fig.caption.startswith("Figure 1. A synthetic figure.") and fig.caption.endswith("blue.")
    assert fig.caption_title == "A synthetic figure."
    assert _iou(fig.page_bbox_xyxy, [72, 210, 520, 384]) >= 0.9, fig.page_bbox_xyxy
    assert any("(Fig. 1B)" in m for m in fig.mentions)
    assert any(m.startswith("Figure 1 shows the two panels") for m in fig.mentions)
    w = fig.page_bbox_xyxy[2] - fig.page_bbox_xyxy[0]
    assert abs(fig.width - w * 100 / 72) <= 2
    assert res.document.doi == "10.1234/demo.5678"
    assert res.document.title.startswith("Results. We imaged")  # no metadata title: first-page text
    assert res.document.licence == "CC-BY-4.0" and fig.licence == "CC-BY-4.0"


@pytest.fixture
def clip_renders(monkeypatch) -> list[int]:
    """A spy on the real renderer: the pixel count of every figure-clip pixmap MuPDF makes."""
    rendered: list[int] = []
    real = pymupdf.Page.get_pixmap

    def recording(self, *args, **kwargs):
        pix = real(self, *args, **kwargs)
        if kwargs.get("clip") is not None:
            rendered.append(pix.width * pix.height)
        return pix

    monkeypatch.setattr(pymupdf.Page, "get_pixmap", recording)
    return rendered


def test_large_region_is_rendered_at_the_pixel_limit_not_shrunk_after(clip_renders: list[int]) -> None:
    full = ingest_pdf_bytes(_synthetic_pdf(), doc_id="syn", source_path="made.pdf", dpi=150)
    limit = 60_000  # the region is ~450x175 pt: ~380,000 pixels at 150 dpi
    clip_renders.clear()
    res = ingest_pdf_bytes(_synthetic_pdf(), doc_id="syn", source_path="made.pdf", dpi=150, max_pixels=limit)
    (big,), (fig,) = full.figures, res.figures
    assert big.width * big.height > 5 * limit
    assert clip_renders == [fig.width * fig.height]  # one render, straight at the fitted size
    assert 0.97 * limit <= fig.width * fig.height <= limit
    assert abs(fig.width / fig.height - big.width / big.height) < 0.02
    assert decode_rgb(res.images[fig.image_sha256]).shape == (fig.height, fig.width, 3)
    assert fig.page_bbox_xyxy == big.page_bbox_xyxy
    # within the limit, the render is the plain dpi one, byte for byte
    same = ingest_pdf_bytes(_synthetic_pdf(), doc_id="syn", source_path="made.pdf", dpi=150,
                            max_pixels=big.width * big.height)
    assert same.figures[0].image_sha256 == big.image_sha256


def test_render_zoom_fits_every_clip() -> None:
    page = pymupdf.open().new_page(width=595, height=842)
    rng = np.random.default_rng(3)
    for _ in range(50):
        x0, y0 = rng.uniform(0, 300), rng.uniform(0, 400)
        clip = pymupdf.Rect(x0, y0, x0 + rng.uniform(5, 290), y0 + rng.uniform(5, 440))
        limit = int(rng.integers(10_000, 400_000))
        zoom = render_zoom(clip, 150, limit)
        at_dpi = page.get_pixmap(dpi=150, clip=clip)
        if zoom is None:
            assert at_dpi.width * at_dpi.height <= limit
            continue
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=clip)
        assert 0.97 * limit <= pix.width * pix.height <= limit < at_dpi.width * at_dpi.height


def test_encrypted_pdf_raises(tmp_path: Path) -> None:
    doc = pymupdf.open(stream=_synthetic_pdf(), filetype="pdf")
    path = tmp_path / "locked.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    doc.close()
    with pytest.raises(IngestError, match="password"):
        ingest_pdf(path, doc_id="x", source_path="locked.pdf")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"this is not a PDF, only some text", "PDF"),
])
def test_empty_and_corrupt_bytes_raise(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    with pytest.raises(IngestError, match=message):
        ingest_pdf(path, doc_id="x", source_path="bad.pdf")


def test_page_limit_and_oversized_page() -> None:
    doc = pymupdf.open()
    for _ in range(3):
        doc.new_page()
    with pytest.raises(IngestError, match="exceeds the limit"):
        ingest_pdf_bytes(doc.tobytes(), doc_id="x", source_path="long.pdf", max_pages=2)
    big = pymupdf.open(stream=_synthetic_pdf(), filetype="pdf")
    big.new_page(width=14_401, height=300)
    res = ingest_pdf_bytes(big.tobytes(), doc_id="x", source_path="big.pdf")
    assert len(res.figures) == 1
    assert [f.error_class for f in res.failures] == ["PageTooLarge"]
    assert res.failures[0].item_id == "x_pg01"


def test_mention_parsing() -> None:
    assert cited_numbers("as in Figs. 2 and 3") == ["2", "3"]
    assert cited_numbers("(Fig. 2A–C)") == ["2"]
    assert cited_numbers("see Figs. 2–4") == ["2", "3", "4"]
    assert cited_numbers("Fig. 1b, c and Supplementary Fig. 3") == ["1", "S3"]
    text = "We saw it (Fig. 1). Smith et al. found it too (Fig. 2). E. coli grew."
    assert sentences(text) == ["We saw it (Fig. 1).", "Smith et al. found it too (Fig. 2).", "E. coli grew."]


def test_line_joining_repairs_hyphens() -> None:
    vocab = {"evolution", "gdp-binding"}
    assert join_lines(["the evolu-", "tion of"], vocab) == "the evolution of"
    assert join_lines(["the GDP-", "binding site"], vocab) == "the GDP-binding site"
    assert join_lines(["EF-", "1A is", "  here"], vocab) == "EF-1A is here"
    assert join_lines(["pro\u00ad", "teins"], vocab) == "proteins"


def test_ingest_stage_renders_pdf_figures_within_max_figure_pixels(tmp_path: Path, clip_renders: list[int]) -> None:
    from curate.ingest.discover import discover_sources
    from curate.records import Figure
    from curate.runtime.blobs import BlobStore
    from curate.runtime.config import load_config
    from curate.runtime.manifest import RunLayout, read_records
    from curate.runtime.runner import LocalRunner
    from stages.ingest import IngestStage

    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "made.pdf").write_bytes(_synthetic_pdf())
    cfg = load_config(None, [f"input_dir={inputs}", f"runs_dir={tmp_path / 'runs'}", "name=t", "runner=local",
                             "ingest.max_figure_pixels=60000"])
    LocalRunner(cfg, [IngestStage], lambda c: discover_sources(Path(c.input_dir))).run()
    layout = RunLayout(cfg.run_dir)
    (fig,) = read_records(layout.table("ingest", "figures", 0), Figure)
    assert 0.97 * 60_000 <= fig.width * fig.height <= 60_000
    assert clip_renders == [fig.width * fig.height]  # the stage passed its limit down: no shrink after
    png = BlobStore(layout.blobs).get(fig.image_sha256)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and decode_rgb(png).shape == (fig.height, fig.width, 3)
