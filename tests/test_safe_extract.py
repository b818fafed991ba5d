"""Package ingest: hostile ``.tar.gz`` members are refused and write nothing outside the work
dir; a good archive ingests like its folder; missing images fail one figure only."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from curate.ingest.base import IngestError, UnsafeArchive
from curate.ingest.package import ExtractLimits, find_image, ingest_package, safe_extract

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ARTICLE = DATA / "jats-with-images" / "encoda" / "elife-43154-v2"
LIMITS = ExtractLimits()


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _assert_refused(tmp_path: Path, members, match: str) -> None:
    case = Path(tempfile.mkdtemp(dir=tmp_path))
    archive = _tar(case / "pkg.tar.gz", members)
    work = case / "run" / "work"
    before = _snapshot(tmp_path)
    with pytest.raises(UnsafeArchive, match=match):
        safe_extract(archive, work, LIMITS)
    after = _snapshot(tmp_path)
    assert {p for p in after - before if not p.is_relative_to(work)} == {case / "run"}
    assert not [p for p in work.rglob("*") if p.is_file()]  # partial output removed


def test_dotdot_member_refused(tmp_path):
    _assert_refused(tmp_path, [_file("ok.txt"), _file("../evil", b"pwned")], r"'\.\./evil'.*'\.\.'")
    assert not list(tmp_path.rglob("evil"))


def test_absolute_member_refused(tmp_path):
    target = tmp_path / "abs-target.txt"
    _assert_refused(tmp_path, [_file(str(target), b"pwned")], "absolute")
    assert not target.exists()


def test_symlink_and_hardlink_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    _assert_refused(tmp_path, [_link("link", str(outside), tarfile.SYMTYPE), _file("link", b"overwrite")], "link")
    _assert_refused(tmp_path, [_link("up", "../../outside.txt", tarfile.SYMTYPE)], "link")
    _assert_refused(tmp_path, [_link("hard", str(outside), tarfile.LNKTYPE)], "link")
    assert outside.read_text() == "keep"


def test_device_and_fifo_refused(tmp_path):
    for kind in (tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE):
        info = tarfile.TarInfo("dev")
        info.type = kind
        _assert_refused(tmp_path, [(info, None)], "special file")


def test_duplicate_member_refused(tmp_path):
    _assert_refused(tmp_path, [_file("a.txt", b"1"), _file("a.txt", b"2")], "repeats")


def test_limits(tmp_path):
    archive = _tar(tmp_path / "many.tar.gz", [_file(f"f{i}") for i in range(5)])
    with pytest.raises(UnsafeArchive, match="more than 3 members"):
        safe_extract(archive, tmp_path / "w1", ExtractLimits(max_members=3))
    archive = _tar(tmp_path / "big.tar.gz", [_file("big.bin", b"\x00" * 4096)])
    with pytest.raises(UnsafeArchive, match="4096 bytes"):
        safe_extract(archive, tmp_path / "w2", ExtractLimits(max_member_bytes=1000))
    archive = _tar(tmp_path / "total.tar.gz", [_file("a", b"a" * 3000), _file("b", b"b" * 3000)])
    with pytest.raises(UnsafeArchive, match="exceeds 4000 bytes uncompressed"):
        safe_extract(archive, tmp_path / "w3", ExtractLimits(max_total_bytes=4000, max_members=10))
    archive = _tar(tmp_path / "noise.tar.gz", [_file("n.bin", os.urandom(200_000))])
    with pytest.raises(UnsafeArchive, match="once decompressed"):  # streamed pre-check, before tarfile
        safe_extract(archive, tmp_path / "w4", ExtractLimits(max_total_bytes=10, max_members=1))
    assert not (tmp_path / "w4" / "n.bin").exists()


def test_gzip_bomb_refused_by_ratio(tmp_path):
    archive = _tar(tmp_path / "bomb.tar.gz", [_file("zeros.bin", b"\x00" * (4 << 20))])
    assert archive.stat().st_size < 40_000  # really a high-ratio archive
    with pytest.raises(UnsafeArchive, match="ratio"):
        safe_extract(archive, tmp_path / "w", ExtractLimits(max_ratio=50, ratio_floor_bytes=1 << 20))
    assert not (tmp_path / "w" / "zeros.bin").exists()


def test_corrupt_archive_is_ingest_error(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    with pytest.raises(IngestError) as info:
        ingest_package(bad, doc_id="d", source_path="bad", work_dir=tmp_path / "w", limits=LIMITS)
    assert not isinstance(info.value, UnsafeArchive)


def _need_article() -> None:
    if not ARTICLE.is_dir():
        pytest.skip("shared data not present")


def test_folder_ingest_reads_every_image():
    _need_article()
    res = ingest_package(ARTICLE, doc_id="elife-43154", source_path="x", work_dir=ARTICLE, limits=LIMITS)
    assert not res.failures and len(res.figures) == 3 == res.document.n_figures
    for fig in res.figures:
        raw = (ARTICLE / fig.graphic_href).read_bytes()
        assert fig.image_sha256 == hashlib.sha256(raw).hexdigest() and res.images[fig.image_sha256] == raw
        with Image.open(ARTICLE / fig.graphic_href) as img:
            assert (fig.width, fig.height) == img.size
        assert fig.licence == res.document.licence == "CC BY 4.0" and fig.caption
    assert [f.id for f in res.figures] == ["elife-43154_f01", "elife-43154_f02", "elife-43154_f03"]


def test_tar_gz_ingests_like_folder(tmp_path):
    _need_article()
    archive = tmp_path / "pkg.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(ARTICLE, arcname="PMC0000/elife-43154-v2")  # PMC packages have a top folder
    work = tmp_path / "run" / "extract"
    from_tar = ingest_package(archive, doc_id="e", source_path="p", work_dir=work, limits=LIMITS)
    from_dir = ingest_package(ARTICLE, doc_id="e", source_path="p", work_dir=work, limits=LIMITS)
    assert [f.model_dump() for f in from_tar.figures] == [f.model_dump() for f in from_dir.figures]
    assert from_tar.document == from_dir.document and from_tar.bold_labels == from_dir.bold_labels
    assert (work / "PMC0000" / "elife-43154-v2" / "main.jats.xml").is_file()


def test_missing_image_fails_one_figure_and_nxml_is_preferred(tmp_path):
    _need_article()
    pkg = tmp_path / "pkg"
    shutil.copytree(ARTICLE, pkg, copy_function=shutil.copyfile)
    (pkg / "main.jats.xml").rename(pkg / "article.nxml")
    (pkg / "other.xml").write_text("<manifest><item/></manifest>")
    (pkg / "fig2.jpg").unlink()
    (pkg / "fig1.jpg").rename(pkg / "FIG1.JPEG")  # other case and extension still match
    res = ingest_package(pkg, doc_id="d", source_path="p", work_dir=tmp_path / "w", limits=LIMITS)
    assert [f.id for f in res.figures] == ["d_f01", "d_f03"]
    assert [(f.item_id, f.error_class) for f in res.failures] == [("d_f02", "MissingImage")]
    assert res.document.n_figures == 2


def test_undecodable_image_is_a_figure_failure(tmp_path):
    _need_article()
    pkg = tmp_path / "pkg"
    shutil.copytree(ARTICLE, pkg, copy_function=shutil.copyfile)
    (pkg / "fig1.jpg").write_bytes(b"not an image")
    res = ingest_package(pkg, doc_id="d", source_path="p", work_dir=tmp_path / "w", limits=LIMITS)
    assert [(f.item_id, f.error_class) for f in res.failures] == [("d_f01", "BadImage")]
    assert len(res.figures) == 2


def test_unparsable_jats_raises(tmp_path):
    (tmp_path / "a.nxml").write_text("<article><body>")
    with pytest.raises(IngestError, match="does not parse"):
        ingest_package(tmp_path, doc_id="d", source_path="p", work_dir=tmp_path / "w", limits=LIMITS)


def test_find_image_without_extension():
    index = {"pone.0178565.g001.jpg": Path("a"), "fig2.png": Path("b")}
    assert find_image("pone.0178565.g001", index) == Path("a")
    assert find_image("../../etc/fig2.tif", index) == Path("b")
    assert find_image("missing", index) is None
