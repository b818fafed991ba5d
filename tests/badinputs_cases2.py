"""Bad-input corpus, continued: JATS packages, .tar.gz archives, and folder-layout cases."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from tests import badinputs_make as mk
from tests.badinputs_cases import HUGE, LATIN1, UTF8_WITH_LATIN1_BYTE, _file, _jats, _tar, _truncate

T = tarfile


def _symlinked_image(root: Path, outside: Path) -> None:
    mk.jats_package(root / "jats_symlink_image", mk.jats(), images={})
    os.symlink(outside / "secret.jpg", root / "jats_symlink_image" / "fig1.jpg")


def _empty_dir(root: Path, outside: Path) -> None:
    (root / "empty_dir" / "nested").mkdir(parents=True)


def _unknown_files(root: Path, outside: Path) -> None:
    (root / "unknown_files").mkdir()
    (root / "unknown_files" / "paper.docx").write_bytes(b"PK\x03\x04 not really")
    (root / "unknown_files" / "notes.txt").write_text("Figure 1. Not an input.")


def _pdf_link(root: Path, outside: Path) -> None:
    os.symlink(outside / "real.pdf", root / "link_pdf_outside.pdf")


def _tar_bytes(name: str, data) -> callable:
    return _file(f"{name}.tar.gz", data)


def _plain_tar() -> bytes:
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in mk.good_members():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _valid_tar_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.tar.gz"
        mk.tar_gz(path, mk.good_members())
        return path.read_bytes()


def _bomb(root: Path, outside: Path) -> None:
    mk.gzip_bomb(root / "tar_gzip_bomb.tar.gz")


def _many_members() -> list:
    return [*mk.good_members(), *((f"pkg/extra/{i:04d}.txt", b"x") for i in range(250))]


CAPTION_EXTRAS = mk.jats([{"caption": "Lesion <![CDATA[(arrow)]]> in <!-- hidden --> the <?pi x?>liver."}])

SPECS: list[dict] = [
    # --- JATS packages (folders) ---------------------------------------------------------
    dict(name="jats_valid", category="JATS", what="package folder: .nxml + JPEG",
         build=_jats("jats_valid", mk.jats()), caught_by="(valid)"),
    dict(name="jats_no_caption", category="JATS", what="`<fig>` without `<caption>`",
         build=_jats("jats_no_caption", mk.jats([{"caption": None}])), stage="ingest",
         error_class="NoCaption", reason="no caption text", caught_by="caption check at ingest (a pair needs text)"),
    dict(name="jats_missing_file", category="JATS", what="`<graphic>` names a file not in the package",
         build=_jats("jats_missing_file", mk.jats([{"href": "nothere.jpg"}])), stage="ingest",
         error_class="MissingImage", reason="no image file", caught_by="package file index (figure quarantined)"),
    dict(name="jats_no_graphic", category="JATS", what="`<fig>` with no `<graphic>`",
         build=_jats("jats_no_graphic", mk.jats([{"href": ""}])), stage="ingest", error_class="MissingImage",
         reason="has no <graphic> href", caught_by="href check (figure quarantined)"),
    dict(name="jats_duplicate_ids", category="JATS", what="two figures with the same `id`",
         build=_jats("jats_duplicate_ids", mk.jats([{"fid": "f1"}, {"fid": "f1", "href": "fig2.jpg"}]),
                     {"fig1.jpg": mk.jpeg(seed=1), "fig2.jpg": mk.jpeg(seed=2)}),
         caught_by="(valid: ids come from document order)"),
    dict(name="jats_bad_utf8", category="JATS", what="declared UTF-8, holds a Latin-1 byte",
         build=_jats("jats_bad_utf8", UTF8_WITH_LATIN1_BYTE), stage="ingest", error_class="IngestError",
         reason="XML does not parse", caught_by="strict XML parser"),
    dict(name="jats_latin1", category="JATS", what="declared and encoded ISO-8859-1",
         build=_jats("jats_latin1", LATIN1), caught_by="(valid: decoded by its declaration)"),
    dict(name="jats_utf16", category="JATS", what="UTF-16 with BOM",
         build=_jats("jats_utf16", mk.jats(enc="UTF-16").encode("utf-16")), caught_by="(valid)"),
    dict(name="jats_billion_laughs", category="JATS", what="nested entity expansion (billion laughs)",
         build=_jats("jats_billion_laughs", mk.jats([{"caption": "Lesion &lol9;."}], doctype=mk.BILLION_LAUGHS)),
         stage="ingest", error_class="IngestError", reason="amplification factor exceeded",
         caught_by="libxml2 entity amplification limit (entities are never substituted)"),
    dict(name="jats_xxe_file", category="JATS", what="external entity reading a local secret file",
         build=_jats("jats_xxe_file", lambda out: mk.jats([{"caption": "Lesion &xxe;."}],
                                                          doctype=mk.xxe_doctype(out / "secret.txt"))),
         check=lambda rgb: None, caught_by="(valid: entity never resolved; the secret appears nowhere in the run)"),
    dict(name="jats_external_dtd", category="JATS", what="DOCTYPE with an external DTD URL",
         build=_jats("jats_external_dtd", mk.jats(doctype='<!DOCTYPE article SYSTEM "http://127.0.0.1:9/x.dtd">')),
         caught_by="(valid: DTD never loaded, no network)"),
    dict(name="jats_deep", category="JATS", what="5,000 nested elements",
         build=_jats("jats_deep", mk.deeply_nested()), stage="ingest", error_class="IngestError",
         reason="XML does not parse", caught_by="libxml2 depth limit (`huge_tree=False`)"),
    dict(name="jats_not_article", category="JATS", what="root element `<html>`",
         build=_jats("jats_not_article", "<html><body><p>Figure 1.</p></body></html>"), stage="ingest",
         error_class="IngestError", reason="not <article>", caught_by="root check"),
    dict(name="jats_empty_xml", category="JATS", what="0-byte .nxml", build=_jats("jats_empty_xml", b""),
         stage="ingest", error_class="IngestError", reason="XML does not parse", caught_by="XML parser"),
    dict(name="jats_truncated_xml", category="JATS", what="XML cut in half",
         build=_jats("jats_truncated_xml", _truncate(mk.jats().encode())), stage="ingest",
         error_class="IngestError", reason="XML does not parse", caught_by="XML parser"),
    dict(name="jats_href_dotdot", category="JATS", what="href `../../outside/secret.jpg`",
         build=_jats("jats_href_dotdot", mk.jats([{"href": "../../outside/secret.jpg"}]), {}),
         stage="ingest", error_class="MissingImage", reason="no image file",
         caught_by="hrefs matched by file name among the package's own files"),
    dict(name="jats_symlink_image", category="JATS", what="figure file is a symlink to a file outside",
         build=_symlinked_image, stage="ingest", error_class="MissingImage", reason="no image file",
         caught_by="symlinks are not package files"),
    dict(name="jats_huge_caption", category="JATS", what="1 MB caption",
         build=_jats("jats_huge_caption", mk.jats([{"caption": HUGE}])), stage="ingest",
         error_class="CaptionTooLong", reason="max_caption_chars", caught_by="`ingest.max_caption_chars`"),
    dict(name="jats_caption_markup", category="JATS", what="CDATA, a comment and a PI inside the caption",
         build=_jats("jats_caption_markup", CAPTION_EXTRAS), caught_by="(valid)"),
    dict(name="jats_png_as_jpg", category="JATS", what="href `fig1.jpg`, package holds `fig1.png`",
         build=_jats("jats_png_as_jpg", mk.jats(), {"fig1.png": mk.png()}), caught_by="(valid: matched by stem)"),
    dict(name="jats_tiff16", category="JATS", what="16-bit TIFF figure",
         build=_jats("jats_tiff16", mk.jats([{"href": "fig1.tif"}]), {"fig1.tif": mk.gray16("TIFF")}),
         caught_by="(valid)"),
    dict(name="jats_truncated_image", category="JATS", what="figure JPEG cut in half",
         build=_jats("jats_truncated_image", mk.jats(), {"fig1.jpg": _truncate(mk.jpeg(200, 150))}),
         stage="ingest", error_class="BadImage", reason="truncated", caught_by="full decode at ingest"),
    # --- .tar.gz packages -----------------------------------------------------------------
    dict(name="tar_valid", category="tar.gz", what="PMC-style package", build=_tar("tar_valid", mk.good_members),
         caught_by="(valid)"),
    dict(name="tar_dotdot", category="tar.gz", what="member `pkg/../../evil.txt`",
         build=_tar("tar_dotdot", lambda: [*mk.good_members(), ("pkg/../../evil.txt", b"x")]), stage="ingest",
         error_class="UnsafeArchive", reason="'..' component", caught_by="member path check"),
    dict(name="tar_absolute", category="tar.gz", what="member `/tmp/evil.txt`",
         build=_tar("tar_absolute", lambda: [*mk.good_members(), ("/tmp/panel2patch-evil.txt", b"x")]),
         stage="ingest", error_class="UnsafeArchive", reason="absolute", caught_by="member path check"),
    dict(name="tar_backslash", category="tar.gz", what="member `..\\evil.txt`",
         build=_tar("tar_backslash", lambda: [*mk.good_members(), ("..\\evil.txt", b"x")]), stage="ingest",
         error_class="UnsafeArchive", reason="'..' component", caught_by="member path check"),
    dict(name="tar_drive", category="tar.gz", what="member `C:evil.txt`",
         build=_tar("tar_drive", lambda: [*mk.good_members(), ("C:evil.txt", b"x")]), stage="ingest",
         error_class="UnsafeArchive", reason="absolute", caught_by="member path check"),
    dict(name="tar_symlink", category="tar.gz", what="symlink member to `/etc/passwd`",
         build=_tar("tar_symlink", lambda: [mk.special("pkg/fig1.jpg", T.SYMTYPE, "/etc/passwd"),
                                            ("pkg/paper.nxml", mk.jats().encode())]),
         stage="ingest", error_class="UnsafeArchive", reason="is a link", caught_by="member type check"),
    dict(name="tar_hardlink", category="tar.gz", what="hard-link member to `../../outside/secret.txt`",
         build=_tar("tar_hardlink", lambda: [*mk.good_members(),
                                             mk.special("pkg/x.jpg", T.LNKTYPE, "../../outside/secret.txt")]),
         stage="ingest", error_class="UnsafeArchive", reason="is a link", caught_by="member type check"),
    dict(name="tar_fifo", category="tar.gz", what="FIFO member",
         build=_tar("tar_fifo", lambda: [*mk.good_members(), mk.special("pkg/pipe", T.FIFOTYPE)]), stage="ingest",
         error_class="UnsafeArchive", reason="special file", caught_by="member type check"),
    dict(name="tar_chardev", category="tar.gz", what="character-device member (1,3)",
         build=_tar("tar_chardev", lambda: [*mk.good_members(), mk.special("pkg/null", T.CHRTYPE)]),
         stage="ingest", error_class="UnsafeArchive", reason="special file", caught_by="member type check"),
    dict(name="tar_blockdev", category="tar.gz", what="block-device member",
         build=_tar("tar_blockdev", lambda: [*mk.good_members(), mk.special("pkg/sda", T.BLKTYPE)]),
         stage="ingest", error_class="UnsafeArchive", reason="special file", caught_by="member type check"),
    dict(name="tar_gzip_bomb", category="tar.gz", what="64 MB of zeros in 64 KB", build=_bomb, stage="ingest",
         error_class="UnsafeArchive", reason="gzip bomb", caught_by="`ingest.max_compression_ratio`, streamed"),
    dict(name="tar_duplicate", category="tar.gz", what="the same member name twice",
         build=_tar("tar_duplicate", lambda: [*mk.good_members(), ("pkg/fig1.jpg", mk.jpeg(seed=9))]),
         stage="ingest", error_class="UnsafeArchive", reason="repeats", caught_by="exclusive create"),
    dict(name="tar_many_members", category="tar.gz", what="252 members",
         build=_tar("tar_many_members", _many_members), stage="ingest", error_class="UnsafeArchive",
         reason="more than 200 members", caught_by="`ingest.max_archive_members`"),
    dict(name="tar_truncated", category="tar.gz", what="archive cut in half",
         build=_tar_bytes("tar_truncated", lambda: _truncate(_valid_tar_bytes())), stage="ingest",
         error_class="IngestError", reason="unreadable archive", caught_by="gzip/tar stream errors"),
    dict(name="tar_zero_byte", category="tar.gz", what="0-byte .tar.gz", build=_tar_bytes("tar_zero_byte", b""),
         stage="ingest", error_class="IngestError", reason="unreadable archive", caught_by="tar stream errors"),
    dict(name="tar_plain", category="tar.gz", what="uncompressed tar named .tar.gz",
         build=_tar_bytes("tar_plain", _plain_tar), stage="ingest", error_class="IngestError",
         reason="unreadable archive", caught_by="gzip stream check"),
    dict(name="tar_is_pdf", category="tar.gz", what="PDF bytes named .tar.gz",
         build=_tar_bytes("tar_is_pdf", mk.pdf_with_figure), stage="ingest", error_class="IngestError",
         reason="unreadable archive", caught_by="gzip stream check"),
    dict(name="tar_no_xml", category="tar.gz", what="images only, no article XML",
         build=_tar("tar_no_xml", [("pkg/fig1.jpg", mk.jpeg())]), stage="ingest", error_class="IngestError",
         reason="no JATS <article>", caught_by="article file search"),
    # --- folder layout --------------------------------------------------------------------
    dict(name="empty_dir", category="layout", what="empty folders", build=_empty_dir, items=0,
         caught_by="discovery finds no input"),
    dict(name="unknown_files", category="layout", what=".docx and .txt files", build=_unknown_files, items=0,
         caught_by="discovery finds no input"),
    dict(name="link_pdf_outside", category="layout", what="symlinked PDF outside the input folder",
         build=_pdf_link, stage="ingest", error_class="IngestError", reason="leaves the input directory",
         caught_by="input path confined to `input_dir`"),
]
