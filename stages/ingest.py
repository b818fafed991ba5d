"""ingest: input items -> documents + figures; figure images go to the blob store.

Reads ``sources`` (the frozen input manifest). Writes ``documents`` (one per item) and
``figures``. A broken item (corrupt or unsafe archive, unparsable XML, encrypted PDF, bad
JSONL line) is quarantined; a figure whose image is missing or undecodable, whose caption is
empty or over ``max_caption_chars``, or whose image has a side under ``min_side`` pixels is
quarantined under its figure id while the rest of its paper goes on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from curate.images import fit_pixels, image_ext, sha256_hex
from curate.ingest.base import FigureFailure, IngestError, spdx_licence
from curate.ingest.folder import ingest_folder_line
from curate.ingest.package import ExtractLimits, ingest_package
from curate.records import Figure, Quarantine, SourceItem
from curate.runtime.config import IngestConfig
from curate.runtime.stage import PartInput, Resources, Stage, StageContext


def figure_problem(figure: Figure, cfg: IngestConfig) -> FigureFailure | None:
    """Why a parsed figure cannot become an image-text pair, or None: no caption text, a
    caption past the limit (text stages are not built for megabytes), or a sliver image."""
    if not figure.caption.strip():
        return FigureFailure(figure.id, "NoCaption", "figure has no caption text; a pair needs one")
    if len(figure.caption) > cfg.max_caption_chars:
        return FigureFailure(figure.id, "CaptionTooLong", f"caption of {len(figure.caption)} characters is "
                             f"over max_caption_chars={cfg.max_caption_chars}")
    if min(figure.width, figure.height) < cfg.min_side:
        return FigureFailure(figure.id, "ImageTooSmall", f"{figure.width}x{figure.height} pixels: a side is "
                             f"below min_side={cfg.min_side}")
    return None


class IngestStage(Stage):
    name = "ingest"
    primary = "sources"
    writes = ("documents", "figures")
    group_by = "id"
    config_sections = ("ingest",)
    resources = Resources(cpus=1)

    def _source_path(self, item: SourceItem) -> Path:
        root = Path(self.config.input_dir).resolve()
        path = (root / item.path).resolve()
        if not path.is_relative_to(root):
            raise IngestError(f"input path {item.path!r} leaves the input directory")
        if not path.exists():
            raise IngestError(f"input {item.path!r} disappeared since the run was planned")
        return path

    def process_item(self, item: SourceItem, inp: PartInput, ctx: StageContext) -> dict:
        cfg = self.config.ingest
        path = self._source_path(item)
        if item.kind == "jats":
            work_dir = ctx.layout.work / "ingest" / item.id
            limits = ExtractLimits(max_members=cfg.max_archive_members, max_total_bytes=cfg.max_archive_bytes,
                                   max_member_bytes=cfg.max_member_bytes,
                                   max_ratio=cfg.max_compression_ratio, max_pixels=cfg.max_pixels)
            try:
                result = ingest_package(path, doc_id=item.id, source_path=item.path, work_dir=work_dir,
                                        limits=limits)
            finally:
                shutil.rmtree(work_dir, ignore_errors=True)
        elif item.kind == "pdf":
            if path.stat().st_size > cfg.max_input_bytes:
                raise IngestError(f"{item.path}: larger than max_input_bytes={cfg.max_input_bytes}")
            # PyMuPDF loads here, not with the module: every worker of every stage imports ``stages``.
            from curate.ingest.pdf import ingest_pdf

            result = ingest_pdf(path, doc_id=item.id, source_path=item.path, dpi=cfg.pdf_dpi,
                                max_pages=cfg.max_pdf_pages, max_pixels=cfg.max_figure_pixels)
        else:
            result = ingest_folder_line(path, item.line, doc_id=item.id, source_path=item.path,
                                        max_bytes=cfg.max_input_bytes, max_pixels=cfg.max_pixels)
        # max_pixels refused decompression bombs above; a big but sane figure is stored smaller
        result = _fit_images(result, cfg.max_figure_pixels)
        for digest, data in sorted(result.images.items()):
            ctx.blobs.put(data, digest)
        failures = list(result.failures)
        unusable = {f.id: problem for f in result.figures if (problem := figure_problem(f, cfg))}
        failures += unusable.values()
        quarantine = [Quarantine(stage=self.name, item_id=f.item_id, error_class=f.error_class,
                                 message=f.message, part=inp.part) for f in failures]
        bold = getattr(result, "bold_labels", {})
        licence = spdx_licence(result.document.licence)
        figures = [f.model_copy(update={"bold_labels": list(bold.get(f.id, [])), "licence": licence})
                   for f in result.figures if f.id not in unusable]
        document = result.document.model_copy(update={"n_figures": len(figures), "licence": licence})
        return {"documents": [document], "figures": figures, "quarantine": quarantine}


def _fit_images(result, max_pixels: int):
    """The result with every image over ``max_pixels`` replaced by its downscaled copy
    (figure sha, extension and size updated), so later stages never decode the big one."""
    shrunk = {}
    for digest, data in result.images.items():
        fitted = fit_pixels(data, max_pixels)
        if fitted is not None:
            shrunk[digest] = (sha256_hex(fitted[0]), *fitted)
    if not shrunk:
        return result
    images = {digest: data for digest, data in result.images.items() if digest not in shrunk}
    images.update({new: data for new, data, _, _ in shrunk.values()})
    figures = []
    for fig in result.figures:
        if fig.image_sha256 in shrunk:
            new, data, width, height = shrunk[fig.image_sha256]
            fig = fig.model_copy(update={"image_sha256": new, "image_ext": image_ext(data),
                                         "width": width, "height": height})
        figures.append(fig)
    result.images, result.figures = images, figures
    return result

