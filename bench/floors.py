"""Floors: the unavoidable cost of each stage's work, timed on the same data as the stage.

Each floor does the least a stage must do with the same libraries, and nothing else:

- ingest: read every source file, lxml-parse each JATS XML (the stage's hardened parser),
  PyMuPDF's raw image extraction of each PDF (``extract_image`` of every image xref), read
  each folder image;
- ingest_render: that, plus what no PDF ingest can skip for a vector figure: rendering each
  stored PDF figure's clip at its stored pixel size (PyMuPDF, no encode);
- image work (panels, markers, regions, captions): decode of each figure image, resize to
  the shards' ``max_side``, baseline JPEG encode (the stages' own ``curate.images`` helpers);
- shards: write the bytes of every member of the run's shard tars again as a plain tar;
- shards_encode: that, plus what every shard must do to its pixels: decode each figure once
  and JPEG-encode each sample's image (the run's shard images, decoded beforehand) at the
  shards' quality.

``floor_seconds(run_dir, input_dir)`` returns CPU seconds per floor over the whole run (the
median of ``repeats``); ``bench.pipeline`` divides by the figure count and compares.
"""

from __future__ import annotations

import io
import json
import statistics
import tarfile
import time
from pathlib import Path

import numpy as np
import pymupdf
from lxml import etree

from curate.images import decode_rgb, encode_jpeg, fit_side
from curate.ingest.jats import hardened_parser
from curate.records import Document, Figure, SourceItem
from curate.runtime.blobs import BlobStore
from curate.runtime.manifest import RunLayout, read_records

IMAGE_STAGES = ("panels", "markers", "quality", "regions", "captions")


def _parse_xml(data: bytes) -> None:
    etree.fromstring(data, hardened_parser())


def _ingest_one(item: SourceItem, path: Path) -> None:
    if item.kind == "pdf":
        with pymupdf.open(path) as doc:
            for page in doc:
                for xref, *_ in page.get_images(full=True):
                    doc.extract_image(xref)
    elif item.kind == "jats" and path.is_dir():
        for member in sorted(path.rglob("*")):
            if member.is_file():
                data = member.read_bytes()
                if member.suffix.lower() in (".xml", ".nxml"):
                    _parse_xml(data)
    elif item.kind == "jats":
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    data = tar.extractfile(member).read()
                    if member.name.lower().endswith((".xml", ".nxml")):
                        _parse_xml(data)
    else:  # a folder line: its JSONL line and its image file
        lines = path.read_text().splitlines()
        entry = json.loads(lines[item.line - 1])  # lines count from 1
        (path.parent / entry["image"]).read_bytes()


def ingest_floor(run_dir: Path, input_dir: Path) -> None:
    for item in read_records(RunLayout(run_dir).inputs, SourceItem):
        _ingest_one(item, input_dir / item.path)


def pdf_clips(run_dir: Path, input_dir: Path) -> list[tuple[Path, int, tuple[float, ...], float]]:
    """(pdf, page, clip in points, zoom) of every stored PDF figure, zoom from its stored width."""
    paths = {d.id: input_dir / d.source_path
             for path in sorted((run_dir / "ingest" / "documents").glob("*.parquet"))
             for d in read_records(path, Document) if d.source_kind == "pdf"}
    return [(paths[f.document_id], f.page, tuple(f.page_bbox_xyxy),
             f.width / (f.page_bbox_xyxy[2] - f.page_bbox_xyxy[0]))
            for path in sorted((run_dir / "ingest" / "figures").glob("*.parquet"))
            for f in read_records(path, Figure) if f.document_id in paths]


def render_floor(clips: list[tuple[Path, int, tuple[float, ...], float]]) -> None:
    for pdf in sorted({c[0] for c in clips}):
        with pymupdf.open(pdf) as doc:
            for _, page, clip, zoom in (c for c in clips if c[0] == pdf):
                doc[page].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=pymupdf.Rect(clip), alpha=False)


def figure_blobs(run_dir: Path) -> list[bytes]:
    blobs = BlobStore(RunLayout(run_dir).blobs)
    return [blobs.get(fig.image_sha256)
            for path in sorted((run_dir / "ingest" / "figures").glob("*.parquet"))
            for fig in read_records(path, Figure)]


def image_floor(blobs: list[bytes], max_side: int) -> None:
    for data in blobs:
        encode_jpeg(np.ascontiguousarray(fit_side(decode_rgb(data), max_side)[0]))


def shard_members(run_dir: Path) -> list[tuple[str, bytes]]:
    members = []
    for tar_path in sorted((run_dir / "shards").rglob("*.tar")):
        with tarfile.open(tar_path) as tar:
            for m in tar.getmembers():
                if m.isfile():
                    members.append((m.name, tar.extractfile(m).read()))
    return members


def shards_floor(members: list[tuple[str, bytes]], out: Path) -> None:
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def encode_floor(blobs: list[bytes], images: list[np.ndarray], quality: int) -> None:
    for data in blobs:
        decode_rgb(data)
    for rgb in images:
        encode_jpeg(rgb, quality)


def _cpu(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def floor_seconds(run_dir: Path, input_dir: Path, max_side: int, quality: int = 90,
                  repeats: int = 3) -> dict[str, float]:
    """CPU seconds of each stage's floor over the whole run, median of ``repeats``; the
    ``ingest_render`` and ``shards_encode`` entries add the pixel work those stages cannot skip."""
    blobs = figure_blobs(run_dir)
    clips = pdf_clips(run_dir, input_dir)
    members = shard_members(run_dir)
    scratch = run_dir / "floor.tar"
    image = _cpu(lambda: image_floor(blobs, max_side), repeats)
    out = {"ingest": _cpu(lambda: ingest_floor(run_dir, input_dir), repeats),
           "shards": _cpu(lambda: shards_floor(members, scratch), repeats)}
    out["ingest_render"] = out["ingest"] + _cpu(lambda: render_floor(clips), repeats)
    images = [np.ascontiguousarray(decode_rgb(data)) for name, data in members if name.endswith(".jpg")]
    out["shards_encode"] = out["shards"] + _cpu(lambda: encode_floor(blobs, images, quality), repeats)
    out.update({stage: image for stage in IMAGE_STAGES})
    scratch.unlink(missing_ok=True)
    return out
