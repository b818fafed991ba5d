"""The cases of the bad-input corpus (see ``tests/badinputs.py``): what each input is, how it
is built, and the outcome it must have."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from tests import badinputs_make as mk

CAPTION = "Figure 1. A red lesion (arrow) in the liver."


# --- small builders ----------------------------------------------------------------------


def _file(name: str, data) -> callable:
    def build(root: Path, outside: Path) -> None:
        (root / name).write_bytes(data() if callable(data) else data)
    return build


def _jsonl(name: str, image: bytes | None, line: dict | str | bytes | None = None, image_name: str = "a.jpg",
           head: bytes = b"") -> callable:
    """A folder ``name`` with ``captions.jsonl`` (one line) and the image file."""
    def build(root: Path, outside: Path) -> None:
        folder = root / name
        folder.mkdir()
        if image is not None:
            (folder / image_name).write_bytes(image)
        raw = line if line is not None else {"image": image_name, "caption": CAPTION, "licence": "CC0"}
        text = raw if isinstance(raw, bytes) else (raw if isinstance(raw, str) else json.dumps(raw)).encode()
        (folder / "captions.jsonl").write_bytes(head + text + b"\n")
    return build


def _img(name: str, data, image_name: str = "a.jpg", **kw) -> dict:
    return dict(name=name, category="image", build=_jsonl(name, data() if callable(data) else data,
                                                          image_name=image_name), **kw)


def _jats(name: str, xml, images: dict | None = None) -> callable:
    def build(root: Path, outside: Path) -> None:
        text = xml(outside) if callable(xml) else xml
        mk.jats_package(root / name, text, images)
    return build


def _tar(name: str, members) -> callable:
    def build(root: Path, outside: Path) -> None:
        mk.tar_gz(root / f"{name}.tar.gz", members() if callable(members) else members)
    return build


def _truncate(data: bytes, frac: float = 0.5) -> bytes:
    return data[: int(len(data) * frac)]


# --- pixel checks for valid but unusual images ---------------------------------------------


def _near(rgb: np.ndarray, y: int, x: int, colour, tol: int = 40) -> None:
    got = rgb[y, x].astype(int)
    assert np.abs(got - np.array(colour)).max() <= tol, f"pixel ({x},{y}) is {got.tolist()}, expected {colour}"


def _is_red(rgb):
    _near(rgb, rgb.shape[0] // 2, rgb.shape[1] // 2, (255, 0, 0), tol=60)


def _full_range(rgb):
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8
    assert rgb.min() == 0 and rgb.max() == 255, (rgb.min(), rgb.max())


def _left_white_right(colour):
    def check(rgb):
        _near(rgb, 10, 5, (255, 255, 255), tol=2)
        _near(rgb, 10, rgb.shape[1] - 5, colour, tol=2)
    return check


def _thin_png() -> bytes:
    return mk.image_bytes(mk.pattern_rgb(3000, 3), "PNG")


def _noise_png(w: int, h: int) -> bytes:
    rng = np.random.default_rng(1)
    return mk.image_bytes(Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)), "PNG", compress_level=0)


def _symlink(rel: str, target: str) -> callable:
    def build(root: Path, outside: Path) -> None:
        folder = root / rel
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(outside / target, folder)
    return build


def _both(*builders) -> callable:
    def build(root: Path, outside: Path) -> None:
        for b in builders:
            b(root, outside)
    return build


LATIN1 = mk.jats([{"caption": "Caf\u00e9 au lait spots."}], enc="ISO-8859-1").encode("latin-1")
UTF8_WITH_LATIN1_BYTE = mk.jats([{"caption": "Caf\u00e9 au lait"}]).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
HUGE = "The arrow marks a lesion. " * 40_000  # about 1 MB
SPECIAL = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE

SPECS: list[dict] = [
    # --- PDF ---------------------------------------------------------------------------
    dict(name="pdf_valid", category="PDF", what="born-digital PDF with one figure and caption",
         build=_file("pdf_valid.pdf", mk.pdf_with_figure), caught_by="(valid)"),
    dict(name="pdf_zero_byte", category="PDF", what="0-byte file", build=_file("pdf_zero_byte.pdf", b""),
         stage="ingest", error_class="IngestError", reason="empty file", caught_by="size check before parsing"),
    dict(name="pdf_truncated", category="PDF", what="first 40 % of a valid PDF",
         build=_file("pdf_truncated.pdf", lambda: _truncate(mk.pdf_with_figure(), 0.4)),
         stage="ingest", error_class="IngestError", reason="truncated", caught_by="repaired xref and no `%%EOF`"),
    dict(name="pdf_encrypted_user", category="PDF", what="AES-256, user password required",
         build=_file("pdf_encrypted_user.pdf", lambda: mk.pdf_encrypted("user-secret")),
         stage="ingest", error_class="IngestError", reason="needs a password", caught_by="`needs_pass`"),
    dict(name="pdf_encrypted_owner", category="PDF", what="AES-256, owner password only (opens without one)",
         build=_file("pdf_encrypted_owner.pdf", lambda: mk.pdf_encrypted("")), caught_by="(valid)"),
    dict(name="pdf_javascript", category="PDF", what="/OpenAction JavaScript in the catalog",
         build=_file("pdf_javascript.pdf", mk.pdf_with_javascript), caught_by="(valid: MuPDF never runs JS)"),
    dict(name="pdf_no_pages", category="PDF", what="well-formed PDF with an empty page tree (hand-written)",
         build=_file("pdf_no_pages.pdf", mk.pdf_zero_pages()), stage="ingest", error_class="IngestError",
         reason="no pages", caught_by="page count check"),
    dict(name="pdf_2000_pages", category="PDF", what="2,000 blank pages",
         build=_file("pdf_2000_pages.pdf", lambda: mk.pdf_pages(2000)), stage="ingest",
         error_class="IngestError", reason="exceeds the limit of 300", caught_by="`ingest.max_pdf_pages` (300)"),
    dict(name="pdf_huge_page", category="PDF", what="one page 20,000 pt wide",
         build=_file("pdf_huge_page.pdf", mk.pdf_huge_page()), stage="ingest", error_class="PageTooLarge",
         reason="> 14400", caught_by="page size limit 14,400 pt (page skipped, document kept)"),
    dict(name="pdf_not_pdf", category="PDF", what="plain text named .pdf",
         build=_file("pdf_not_pdf.pdf", b"Dear editor, please find attached our manuscript.\n" * 20),
         stage="ingest", error_class="IngestError", reason="no %PDF- header", caught_by="magic bytes"),
    dict(name="pdf_is_jpeg", category="PDF", what="JPEG bytes named .pdf",
         build=_file("pdf_is_jpeg.pdf", mk.jpeg), stage="ingest", error_class="IngestError",
         reason="no %PDF- header", caught_by="magic bytes (MuPDF would open the image)"),
    dict(name="pdf_header_garbage", category="PDF", what="`%PDF-1.7` header then random bytes",
         build=_file("pdf_header_garbage.pdf", b"%PDF-1.7\n" + np.random.default_rng(3).bytes(4000)),
         stage="ingest", error_class="IngestError", reason="not a readable PDF", caught_by="MuPDF open"),
    dict(name="pdf_text_only", category="PDF", what="valid PDF without any figure",
         build=_file("pdf_text_only.pdf", lambda: mk.pdf_pages(2)), caught_by="(valid: document, 0 figures)"),
    dict(name="pdf_oversized", category="PDF", what="valid PDF padded past `max_input_bytes`",
         build=_file("pdf_oversized.pdf", lambda: mk.pdf_with_figure() + b" " * 3_100_000), stage="ingest",
         error_class="IngestError", reason="max_input_bytes", caught_by="`ingest.max_input_bytes`"),
    # --- images (each in an image folder with a captions.jsonl) -----------------------------
    _img("img_cmyk_jpeg", mk.cmyk_jpeg, what="CMYK JPEG", check=_is_red, caught_by="(valid: converted to RGB)"),
    _img("img_gray16_png", lambda: mk.gray16("PNG"), image_name="a.png", what="16-bit greyscale PNG",
         check=_full_range, caught_by="(valid: rescaled to 8 bits)"),
    _img("img_gray16_tiff", lambda: mk.gray16("TIFF"), image_name="a.tif", what="16-bit greyscale TIFF",
         check=_full_range, caught_by="(valid: rescaled to 8 bits)"),
    _img("img_float_tiff", mk.float_tiff, image_name="a.tif", what="32-bit float TIFF with a NaN",
         check=_full_range, caught_by="(valid: NaN-safe rescale)"),
    _img("img_palette_alpha", mk.palette_png_with_transparency, image_name="a.png",
         what="palette PNG, one transparent index", check=_left_white_right((0, 0, 255)),
         caught_by="(valid: composited on white)"),
    _img("img_rgba", mk.rgba_png, image_name="a.png", what="RGBA PNG, half transparent",
         check=_left_white_right((0, 200, 0)), caught_by="(valid: composited on white)"),
    _img("img_animated_gif", mk.animated_gif, image_name="a.gif", what="3-frame animated GIF",
         check=_is_red, caught_by="(valid: first frame)"),
    _img("img_multipage_tiff", mk.multipage_tiff, image_name="a.tif", what="3-page TIFF",
         caught_by="(valid: first page)"),
    _img("img_1x1", lambda: mk.png(1, 1), image_name="a.png", what="1x1 pixel PNG", stage="ingest",
         error_class="ImageTooSmall", reason="below min_side=16", caught_by="`ingest.min_side`"),
    _img("img_thin", _thin_png, image_name="a.png", what="3000x3 pixel strip", stage="ingest",
         error_class="ImageTooSmall", reason="below min_side=16", caught_by="`ingest.min_side`"),
    _img("img_100mp", lambda: mk.bilevel_png(10_000, 10_000), image_name="a.png",
         what="100-megapixel PNG (12 KB, 1-bit)", stage="ingest", error_class="ImageTooLarge",
         reason="exceeds the limit of 89478485", caught_by="`ingest.max_pixels` (Pillow's bomb threshold)"),
    _img("img_declared_10gp", lambda: mk.bilevel_png(100_000, 100_000, rows=1), image_name="a.png",
         what="PNG header claiming 100,000 x 100,000", stage="ingest", error_class="ImageTooLarge",
         reason="decompression bomb", caught_by="Pillow's decompression-bomb error at open"),
    _img("img_truncated_jpeg", lambda: _truncate(mk.jpeg(200, 150)), what="JPEG cut in half",
         stage="ingest", error_class="BadImage", reason="truncated", caught_by="full decode at ingest"),
    _img("img_truncated_png", lambda: _truncate(mk.png(200, 150)), image_name="a.png", what="PNG cut in half",
         stage="ingest", error_class="BadImage", reason="truncated", caught_by="full decode at ingest"),
    _img("img_zero_byte", b"", what="0-byte image file", stage="ingest", error_class="BadImage",
         reason="cannot identify", caught_by="Pillow open"),
    _img("img_random_bytes", np.random.default_rng(5).bytes(3000), what="random bytes named .jpg",
         stage="ingest", error_class="BadImage", reason="cannot identify", caught_by="Pillow open"),
    _img("img_svg_as_png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', image_name="a.png",
         what="SVG text named .png", stage="ingest", error_class="BadImage", reason="cannot identify",
         caught_by="Pillow open"),
    _img("img_png_named_jpg", mk.png, what="PNG bytes named .jpg", caught_by="(valid: format from magic bytes)"),
    _img("img_gray_jpeg", lambda: mk.image_bytes(Image.new("L", (64, 48), 128), "JPEG"), what="greyscale JPEG",
         caught_by="(valid)"),
    _img("img_bilevel", lambda: mk.bilevel_png(64, 48), image_name="a.png", what="1-bit PNG",
         caught_by="(valid)"),
    _img("img_oversized", lambda: _noise_png(1100, 1000), image_name="a.png",
         what="3.3 MB image, over `max_input_bytes`", stage="ingest", error_class="ImageTooLarge",
         reason="larger than 3000000 bytes", caught_by="`ingest.max_input_bytes`"),
    # --- JSONL lines ---------------------------------------------------------------------
    dict(name="jsonl_broken", category="JSONL", what="`{broken json`", build=_jsonl("jsonl_broken", None, "{broken"),
         stage="ingest", error_class="IngestError", reason="not a JSON object", caught_by="per-line JSON parse"),
    dict(name="jsonl_list", category="JSONL", what="a JSON list, not an object",
         build=_jsonl("jsonl_list", None, "[1, 2]"), stage="ingest", error_class="IngestError",
         reason="expected a JSON object", caught_by="type check"),
    dict(name="jsonl_no_image", category="JSONL", what="no `image` key",
         build=_jsonl("jsonl_no_image", None, {"caption": CAPTION}), stage="ingest", error_class="IngestError",
         reason="missing 'image'", caught_by="field check"),
    dict(name="jsonl_caption_number", category="JSONL", what="`caption` is a number",
         build=_jsonl("jsonl_caption_number", mk.jpeg(), {"image": "a.jpg", "caption": 3}), stage="ingest",
         error_class="IngestError", reason="must be a string", caught_by="field check"),
    dict(name="jsonl_image_missing", category="JSONL", what="image file absent",
         build=_jsonl("jsonl_image_missing", None), stage="ingest", error_class="IngestError",
         reason="not found", caught_by="file check"),
    dict(name="jsonl_dotdot", category="JSONL", what="image `../../outside/secret.jpg`",
         build=_jsonl("jsonl_dotdot", None, {"image": "../../outside/secret.jpg", "caption": "x"}),
         stage="ingest", error_class="IngestError", reason="leaves the folder", caught_by="resolved-path check"),
    dict(name="jsonl_absolute", category="JSONL", what="image `/etc/passwd`",
         build=_jsonl("jsonl_absolute", None, {"image": "/etc/passwd", "caption": "x"}), stage="ingest",
         error_class="IngestError", reason="leaves the folder", caught_by="resolved-path check"),
    dict(name="jsonl_symlink_out", category="JSONL", what="image is a symlink to a file outside",
         build=_both(_jsonl("jsonl_symlink_out", None), _symlink("jsonl_symlink_out/a.jpg", "secret.jpg")),
         stage="ingest", error_class="IngestError", reason="leaves the folder",
         caught_by="resolved-path check (symlinks resolved)"),
    dict(name="jsonl_not_utf8", category="JSONL", what="line in Latin-1",
         build=_jsonl("jsonl_not_utf8", mk.jpeg(), b'{"image": "a.jpg", "caption": "caf\xe9"}'), stage="ingest",
         error_class="IngestError", reason="not a JSON object", caught_by="strict UTF-8 decode"),
    dict(name="jsonl_bom", category="JSONL", what="file starts with a UTF-8 byte-order mark",
         build=_jsonl("jsonl_bom", mk.jpeg(), head=b"\xef\xbb\xbf"), caught_by="(valid: BOM accepted)"),
    dict(name="jsonl_trailing", category="JSONL", what="an object followed by garbage",
         build=_jsonl("jsonl_trailing", mk.jpeg(), '{"image": "a.jpg"} trailing'), stage="ingest",
         error_class="IngestError", reason="not a JSON object", caught_by="per-line JSON parse"),
    dict(name="jsonl_deep", category="JSONL", what="100,000 nested JSON lists",
         build=_jsonl("jsonl_deep", None, "[" * 100_000 + "]" * 100_000), stage="ingest",
         error_class="IngestError", reason="nested too deeply", caught_by="recursion guard"),
    dict(name="jsonl_huge_caption", category="JSONL", what="1 MB caption",
         build=_jsonl("jsonl_huge_caption", mk.jpeg(), {"image": "a.jpg", "caption": HUGE}), stage="ingest",
         error_class="CaptionTooLong", reason="max_caption_chars", caught_by="`ingest.max_caption_chars`"),
    dict(name="jsonl_html_caption", category="JSONL", what="caption with `<script>` and `<img onerror>`",
         build=_jsonl("jsonl_html_caption", mk.jpeg(), {"image": "a.jpg", "caption": "Figure 1. <script>alert(1)"
                                                        "</script> <img src=x onerror=alert(2)> A lesion."}),
         caught_by="(valid: text kept; the report escapes it, tests/test_security.py)"),
    dict(name="jsonl_blank_lines", category="JSONL", what="blank and whitespace-only lines around one entry",
         build=_jsonl("jsonl_blank_lines", mk.jpeg(), head=b"\n   \n\t\n"), caught_by="(valid: blank lines skipped)"),
]

from tests.badinputs_cases2 import SPECS as _MORE  # noqa: E402 - JATS, tar.gz and layout cases

SPECS += _MORE
