"""Byte builders for the bad-input corpus (``tests/badinputs.py``): images, PDFs, JATS, tars.

Everything is generated in memory in well under a second each; nothing binary is committed.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image

SECRET = "PANEL2PATCH-SECRET-7f3a"  # planted outside the input folder; must never reach the run

# --- images ------------------------------------------------------------------------------


def image_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def pattern_rgb(w: int = 96, h: int = 72, seed: int = 0) -> Image.Image:
    """A textured RGB image (flat colour would make every split trivial)."""
    rng = np.random.default_rng(seed)
    base = np.zeros((h, w, 3), np.uint8) + np.array([180, 60, 40], np.uint8)
    noise = rng.integers(0, 40, (h, w, 3), dtype=np.uint8)
    return Image.fromarray(base + noise)


def jpeg(w: int = 96, h: int = 72, seed: int = 0) -> bytes:
    return image_bytes(pattern_rgb(w, h, seed), "JPEG", quality=90)


def png(w: int = 96, h: int = 72, seed: int = 0) -> bytes:
    return image_bytes(pattern_rgb(w, h, seed), "PNG")


def cmyk_jpeg() -> bytes:
    """Pure red ink-wise: C=0, M=255, Y=255, K=0 (decodes to RGB about (255, 0, 0))."""
    return image_bytes(Image.new("CMYK", (80, 60), (0, 255, 255, 0)), "JPEG", quality=95)


def gray16(fmt: str) -> bytes:
    ramp = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)
    return image_bytes(Image.fromarray(ramp), fmt)  # mode I;16


def float_tiff() -> bytes:
    ramp = np.linspace(-1.0, 3.0, 64 * 48, dtype=np.float32).reshape(48, 64)
    ramp[0, 0] = np.nan  # a NaN pixel must not poison the rescale
    return image_bytes(Image.fromarray(ramp, mode="F"), "TIFF")


def palette_png_with_transparency() -> bytes:
    """Palette PNG: index 0 transparent (left half), index 1 opaque blue (right half)."""
    img = Image.new("P", (64, 48), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (32, 0, 64, 48))
    return image_bytes(img, "PNG", transparency=0)


def rgba_png() -> bytes:
    arr = np.zeros((48, 64, 4), np.uint8)
    arr[..., 1] = 200
    arr[:, 32:, 3] = 255  # left half fully transparent
    return image_bytes(Image.fromarray(arr, "RGBA"), "PNG")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (64, 48), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def multipage_tiff() -> bytes:
    frames = [pattern_rgb(64, 48, s) for s in range(3)]
    return image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:])


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def bilevel_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A 1-bit black PNG written by hand: 100 megapixels compress to a few KB. ``rows`` < height
    writes only that many rows of data (the header still claims ``height``)."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    idat = zlib.compress(row * (height if rows is None else rows), 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


# --- PDFs --------------------------------------------------------------------------------


def pdf_with_figure(caption: str = "Figure 1. Axial CT of the liver. The red arrow marks a hypodense lesion "
                                   "in segment four; the asterisk marks the gallbladder.") -> bytes:
    from curate.sample.pdf import pdf_bytes

    fig = {"jpeg": jpeg(240, 160), "width": 240, "height": 160, "caption_printed": caption,
           "sentences": ["Figure 1 shows the lesion in the liver of the patient."]}
    data, _ = pdf_bytes("A test article", ["Results are shown below."], [fig])
    return data


def pdf_encrypted(user_pw: str) -> bytes:
    doc = pymupdf.open(stream=pdf_with_figure(), filetype="pdf")
    out = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=user_pw, owner_pw="owner-secret",
                      permissions=0)
    doc.close()
    return out


def pdf_with_javascript() -> bytes:
    doc = pymupdf.open(stream=pdf_with_figure(), filetype="pdf")
    doc.xref_set_key(doc.pdf_catalog(), "OpenAction", "<< /S /JavaScript /JS (app.alert\\(1\\);) >>")
    out = doc.tobytes()
    doc.close()
    return out


def pdf_pages(n: int, width: float = 595, height: float = 842) -> bytes:
    doc = pymupdf.open()
    for _ in range(n):
        doc.new_page(width=width, height=height)
    out = doc.tobytes(garbage=0, deflate=True)
    doc.close()
    return out


def pdf_zero_pages() -> bytes:
    """A well-formed PDF whose page tree is empty (PyMuPDF refuses to save one)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def pdf_huge_page() -> bytes:
    return pdf_pages(1, width=20_000, height=600)


# --- JATS --------------------------------------------------------------------------------

JATS_HEAD = '<?xml version="1.0" encoding="{enc}"?>\n{doctype}'
JATS_BODY = """<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<title-group><article-title>{title}</article-title></title-group>
<permissions><license xlink:href="http://creativecommons.org/licenses/by/4.0/"/></permissions>
</article-meta></front><body><p>As {xref} shows, the lesion is visible.</p>{figs}</body></article>"""
FIG = ('<fig id="{fid}"><label>Figure {n}</label>{caption}<graphic xlink:href="{href}"/></fig>')
CAPTION = "<caption><title>{text}</title><p>The arrow marks a lesion.</p></caption>"


def jats(figs: list[dict] | None = None, *, title: str = "A test article", doctype: str = "",
         enc: str = "UTF-8", xref: str = '<xref ref-type="fig" rid="f1">Fig. 1</xref>') -> str:
    """JATS text; each fig dict may set fid, href, caption (None = no <caption> element)."""
    figs = [{}] if figs is None else figs
    parts = []
    for n, f in enumerate(figs, start=1):
        cap = f.get("caption", f"A red lesion in figure {n}.")
        parts.append(FIG.format(fid=f.get("fid", f"f{n}"), n=n, href=f.get("href", f"fig{n}.jpg"),
                                caption="" if cap is None else CAPTION.format(text=cap)))
    return JATS_HEAD.format(enc=enc, doctype=doctype) + JATS_BODY.format(title=title, xref=xref,
                                                                          figs="".join(parts))


def jats_package(folder: Path, xml: str | bytes, images: dict[str, bytes] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paper.nxml").write_bytes(xml if isinstance(xml, bytes) else xml.encode("utf-8"))
    for name, data in (images if images is not None else {"fig1.jpg": jpeg()}).items():
        (folder / name).write_bytes(data)


BILLION_LAUGHS = ("<!DOCTYPE article [<!ENTITY lol \"lol\">"
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";" if i > 1 else "&lol;") * 10}">'
                            for i in range(1, 10)) + "]>")


def xxe_doctype(secret_path: Path) -> str:
    return f'<!DOCTYPE article [<!ENTITY xxe SYSTEM "file://{secret_path}">]>'


def deeply_nested(depth: int = 5000) -> str:
    inner = "<p>" * depth + "deep" + "</p>" * depth
    return jats().replace("<p>As", inner + "<p>As", 1)


# --- tar.gz ------------------------------------------------------------------------------


def tar_gz(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> None:
    """Members are (name, data) for regular files or ready TarInfos (links, devices, FIFOs)."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info


def good_members(prefix: str = "pkg/") -> list[tuple[str, bytes]]:
    return [(prefix + "paper.nxml", jats().encode()), (prefix + "fig1.jpg", jpeg())]


def gzip_bomb(path: Path, n_bytes: int = 64 << 20) -> None:
    """A tar.gz whose one member is ``n_bytes`` of zeros: about 1000:1 compression."""
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        info = tarfile.TarInfo("pkg/zeros.jpg")
        info.size = n_bytes
        tar.addfile(info, _Zeros(n_bytes))


class _Zeros(io.RawIOBase):
    def __init__(self, n: int):
        self.left = n

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return b"\x00" * size
