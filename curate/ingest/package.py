"""A PMC-style package (folder or ``.tar.gz``) in, one document with its figure images out.

Archives are untrusted. Extraction is streamed member by member into the caller's
``work_dir`` and the whole package is rejected (``UnsafeArchive``, naming the member) on the
first member that is a link (symbolic or hard), a device, a FIFO or a sparse file, whose name
is absolute or has a ``..`` component, that repeats an earlier name, or that breaks a limit.
Rejecting rather than skipping links keeps the rule simple and the reason visible in the
quarantine. Sizes are counted on the bytes actually decompressed, not taken from headers,
and the compression ratio is checked as the stream goes (gzip bombs). Nothing is written
outside ``work_dir``; files written before a rejection are removed again.

In a package, images are found by the ``<graphic>`` href's file name, with or without its
extension (``.jpg .jpeg .png .tif .tiff .gif`` tried in that order), case-insensitively. Only
regular files inside the package are looked at, so an href cannot point elsewhere.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from curate.images import BadImage, ImageTooLarge, check_decodes, image_ext, sha256_hex
from curate.ingest.base import FigureFailure, IngestError, IngestResult, UnsafeArchive
from curate.ingest.jats import ParsedFigure, parse_jats
from curate.ingest.mentions import local_name
from curate.records import Figure, child_id

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
_CHUNK = 1 << 20
# Same settings as jats.hardened_parser, for the incremental root sniffing.
_HARDENED = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on one package. Bytes are uncompressed; ``max_ratio`` is uncompressed/compressed,
    checked once more than ``ratio_floor_bytes`` have come out (tiny tars pad well)."""

    max_members: int = 5000
    max_total_bytes: int = 2 << 30
    max_member_bytes: int = 512 << 20
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 8 << 20
    max_pixels: int = 89_478_485


@dataclass
class JatsIngestResult(IngestResult):
    """IngestResult plus what a Figure record has no field for: bold caption labels by figure id."""

    bold_labels: dict[str, list[str]] = field(default_factory=dict)


def ingest_package(
    path: Path, *, doc_id: str, source_path: str, work_dir: Path, limits: ExtractLimits
) -> JatsIngestResult:
    """Ingest a folder or ``.tar.gz``/``.tgz`` JATS package.

    Archives are extracted into ``work_dir``, which should be a fresh folder of the run (files
    already there are never overwritten, but would be seen as part of the package). Figure ids
    are ``child_id(doc_id, "f", n)`` with ``n`` the figure's 1-based order in the article, so
    ids stay stable when another figure fails; ``document.n_figures`` counts figures ingested.
    """
    path = Path(path)
    if path.is_dir():
        root = path
    elif path.name.lower().endswith(ARCHIVE_SUFFIXES):
        root = Path(work_dir)
        safe_extract(path, root, limits)
    else:
        raise IngestError(f"{path.name}: neither a folder nor a .tar.gz/.tgz package")
    files = package_files(root)
    xml_path = find_jats_file(files)
    if xml_path.stat().st_size > limits.max_member_bytes:
        raise IngestError(f"{xml_path.name}: larger than {limits.max_member_bytes} bytes")
    parsed = parse_jats(xml_path.read_bytes(), doc_id=doc_id, source_path=source_path)
    return _build_result(parsed, files, limits)


def _build_result(parsed, files: list[Path], limits: ExtractLimits) -> JatsIngestResult:
    doc = parsed.document
    result = JatsIngestResult(document=doc)
    index = _image_index(files)
    for fig in parsed.figures:
        fig_id = child_id(doc.id, "f", fig.index)
        try:
            data = _read_image(fig, index, limits)
            width, height = check_decodes(data, limits.max_pixels)
        except (_MissingImage, BadImage, ImageTooLarge) as exc:
            error_class = "MissingImage" if isinstance(exc, _MissingImage) else type(exc).__name__
            result.failures.append(FigureFailure(fig_id, error_class, str(exc)))
            continue
        sha = sha256_hex(data)
        result.images[sha] = data
        result.figures.append(_figure_record(fig, fig_id, doc, sha, image_ext(data), width, height))
        result.bold_labels[fig_id] = list(fig.bold_labels)
    result.document = doc.model_copy(update={"n_figures": len(result.figures)})
    return result


def _figure_record(fig: ParsedFigure, fig_id: str, doc, sha: str, ext: str, width: int, height: int) -> Figure:
    return Figure(
        id=fig_id, document_id=doc.id, source_kind="jats", label=fig.label, caption=fig.caption,
        caption_title=fig.caption_title, mentions=list(fig.mentions), image_sha256=sha,
        image_ext=ext, width=width, height=height, graphic_href=fig.graphic_href, licence=doc.licence,
    )


class _MissingImage(Exception):
    pass


# --- locating files --------------------------------------------------------------------


def package_files(root: Path) -> list[Path]:
    """Regular files under ``root`` (sorted; links, hidden files and ``__MACOSX`` ignored)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if not name.startswith(".") and p.is_file() and not p.is_symlink():
                found.append(p)
    return found


def find_jats_file(files: list[Path]) -> Path:
    """The article XML: a ``.nxml`` first, else an ``.xml`` whose root element is ``<article>``."""
    nxml = [f for f in files if f.suffix.lower() == ".nxml"]
    xml = [f for f in files if f.suffix.lower() == ".xml"]
    for candidates in (nxml, xml):
        articles = [f for f in candidates if _root_name(f) == "article"]
        if articles:
            return articles[0]
    if len(nxml) == 1:  # let the parser report what is wrong with it
        return nxml[0]
    raise IngestError(f"no JATS <article> file among {len(nxml) + len(xml)} .nxml/.xml files")


def _root_name(path: Path) -> str:
    """Local name of the root element, read incrementally with the hardened parser settings."""
    try:
        with path.open("rb") as fh:
            parser = etree.XMLPullParser(events=("start",), **_HARDENED)
            while chunk := fh.read(65536):
                parser.feed(chunk)
                for _event, el in parser.read_events():
                    return local_name(el)
    except (etree.XMLSyntaxError, OSError):
        return ""
    return ""


def _image_index(files: list[Path]) -> dict[str, Path]:
    """Lower-cased file name -> path (first one wins)."""
    index: dict[str, Path] = {}
    for f in files:
        index.setdefault(f.name.lower(), f)
    return index


def find_image(href: str, index: dict[str, Path]) -> Path | None:
    """The package file an href names, matching with or without an image extension."""
    name = PurePosixPath(href.replace("\\", "/")).name.lower()
    if not name:
        return None
    if name in index:
        return index[name]
    stem = name
    for ext in IMAGE_EXTS:
        if name.endswith(ext):
            stem = name[: -len(ext)]
    for ext in IMAGE_EXTS:
        if stem + ext in index:
            return index[stem + ext]
    return None


def _read_image(fig: ParsedFigure, index: dict[str, Path], limits: ExtractLimits) -> bytes:
    if not fig.graphic_href:
        raise _MissingImage(f"figure {fig.xml_id or fig.index} has no <graphic> href")
    found = find_image(fig.graphic_href, index)
    if found is None:
        raise _MissingImage(f"no image file for href {fig.graphic_href!r}")
    if found.stat().st_size > limits.max_member_bytes:
        raise ImageTooLarge(f"{found.name}: more than {limits.max_member_bytes} bytes")
    return found.read_bytes()


# --- safe extraction -------------------------------------------------------------------


class _CountingReader:
    """File wrapper counting the compressed bytes read so far."""

    def __init__(self, fh):
        self.fh, self.count = fh, 0

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.count += len(data)
        return data


def safe_extract(archive: Path, dest: Path, limits: ExtractLimits) -> list[Path]:
    """Stream-extract a ``.tar.gz`` into ``dest``; returns the files written.

    Raises UnsafeArchive (bad member or broken limit) or IngestError (corrupt archive); on
    any error the files already written are removed.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    base = dest.resolve()
    written: list[Path] = []
    try:
        check_gzip_stream(archive, limits)
        with archive.open("rb") as raw:
            counter = _CountingReader(raw)
            with tarfile.open(fileobj=counter, mode="r|gz") as tar:
                _extract_members(tar, base, limits, counter, written)
    except UnsafeArchive:
        _remove(written, base)
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        _remove(written, base)
        raise IngestError(f"{archive.name}: unreadable archive: {type(exc).__name__}: {exc}") from exc
    return written


def check_gzip_stream(archive: Path, limits: ExtractLimits) -> int:
    """Decompress without keeping anything, so that no later step (tarfile reads pax headers
    into memory) can be fed more than the limits allow; returns the uncompressed byte count."""
    # Tar framing adds up to ~3 blocks per member on top of the data itself.
    budget = limits.max_total_bytes + (limits.max_members * 3 + 64) * 512
    total = compressed = 0
    inflater = zlib.decompressobj(wbits=47)
    with archive.open("rb") as raw:
        while chunk := raw.read(_CHUNK):
            compressed += len(chunk)
            while chunk:
                total += len(inflater.decompress(chunk, _CHUNK))
                chunk = inflater.unconsumed_tail
                if inflater.eof and inflater.unused_data:  # concatenated gzip members
                    chunk, inflater = inflater.unused_data, zlib.decompressobj(wbits=47)
                if total > budget:
                    raise UnsafeArchive(f"{archive.name}: more than {budget} bytes once decompressed")
                if total > limits.ratio_floor_bytes and total > limits.max_ratio * compressed:
                    raise UnsafeArchive(f"{archive.name}: compression ratio above {limits.max_ratio} (gzip bomb)")
    return total


def _extract_members(tar, base: Path, limits: ExtractLimits, counter: _CountingReader, written) -> None:
    total = 0
    for n, member in enumerate(tar, start=1):
        if n > limits.max_members:
            raise UnsafeArchive(f"more than {limits.max_members} members (at {member.name!r})")
        target = member_target(member, base)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        if member.size > limits.max_member_bytes:  # header says so: no need to read it
            raise UnsafeArchive(f"member {member.name!r} declares {member.size} bytes")
        target.parent.mkdir(parents=True, exist_ok=True)
        total = _copy_member(tar, member, target, limits, counter, total, written)


def member_target(member: tarfile.TarInfo, base: Path) -> Path:
    """Where ``member`` may be written under ``base``; UnsafeArchive if nowhere."""
    name = member.name
    if not (member.isreg() or member.isdir()) or member.issparse():
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise UnsafeArchive(f"member {name!r} is a {kind} (type {member.type!r}); links and devices are refused")
    parts = name.replace("\\", "/").split("/")
    if not name or "\x00" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"member {name!r} has an absolute or empty path")
    if ".." in parts:
        raise UnsafeArchive(f"member {name!r} has a '..' component")
    target = (base / "/".join(p for p in parts if p not in ("", "."))).resolve()
    if target != base and not target.is_relative_to(base):
        raise UnsafeArchive(f"member {name!r} would land outside the extraction folder")
    return target


def _copy_member(tar, member, target: Path, limits, counter, total: int, written: list[Path]) -> int:
    src = tar.extractfile(member)
    size = 0
    try:
        out = target.open("xb")  # exclusive: a repeated name or pre-existing file is refused
    except FileExistsError as exc:
        raise UnsafeArchive(f"member {member.name!r} repeats an existing path") from exc
    written.append(target)
    with out:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            total += len(chunk)
            _check_limits(member.name, size, total, counter.count, limits)
            out.write(chunk)
    return total


def _check_limits(name: str, size: int, total: int, compressed: int, limits: ExtractLimits) -> None:
    if size > limits.max_member_bytes:
        raise UnsafeArchive(f"member {name!r} exceeds {limits.max_member_bytes} bytes")
    if total > limits.max_total_bytes:
        raise UnsafeArchive(f"archive exceeds {limits.max_total_bytes} bytes uncompressed (at {name!r})")
    if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(compressed, 1):
        raise UnsafeArchive(f"compression ratio above {limits.max_ratio} (gzip bomb?) at {name!r}")


def _remove(written: list[Path], base: Path) -> None:
    for f in reversed(written):
        if f.is_relative_to(base):
            f.unlink(missing_ok=True)
