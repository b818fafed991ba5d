"""Write the embedded sample corpus: PMC-style packages, PDFs, a folder input and ground truth.

``python -m curate.sample.generate OUT_DIR --seed 0`` writes::

    OUT_DIR/pmc/<PMCID>/<PMCID>.nxml + figN.jpg   (some packages as <PMCID>.tar.gz instead)
    OUT_DIR/pdf/<name>.pdf
    OUT_DIR/folder/*.jpg + captions.jsonl
    OUT_DIR/ground_truth.json

The same seed gives byte-identical files (no clock, sorted tar members, gzip mtime 0).
Ground-truth boxes are half-open ``[x1, y1, x2, y2)`` in figure pixels, as in
``shared/data/panel-gt``; PDF placements are in points of the 0-based page.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np

from curate.images import encode_jpeg, sha256_hex
from curate.sample import captions, catalog, jats, pdf
from curate.sample.compose import FigureSpec, render
from curate.sample.pixels import source_files
from curate.sample.place import NoRoom

JPEG_QUALITY = 92
MAX_ATTEMPTS = 8  # derived seeds tried per figure before a placement failure is raised
CONVENTION = (
    "Boxes are half-open [x1, y1, x2, y2) in integer pixels of the figure image (x right, y down). "
    "A panel box is the panel's image content without a gutter label; label_bbox_xyxy is the tight "
    "box of the printed label ink (parentheses included); insets belong to their panel. Marker "
    "bbox_xyxy is tight around the drawn ink; tip_xy is an inked apex pixel of arrows and arrowheads, "
    "tail_xy the arrow's shaft end, direction_deg the pointing direction (tail to tip; 0 = right, "
    "90 = down). subcaption is the panel's own caption text after its label; preamble the shared "
    "text before the first label. PDF page_bbox_xyxy is in points of the 0-based page."
)


def _jitter(spec: FigureSpec, rng: np.random.Generator) -> FigureSpec:
    """Seeded variation of gutter and width, keeping the designed style."""
    spec.gutter = max(2, spec.gutter + int(rng.integers(-2, 3)))
    spec.width = spec.width + 4 * int(rng.integers(-8, 9))
    return spec


def _figure(
    doc: catalog.DocSpec, d_index: int, number: int, spec: FigureSpec, seed: int
) -> tuple[dict, bytes]:
    # Seeded jitter can leave a marker no free spot; the figure is then drawn again from the
    # next derived seed, so every seed works and seed 0's files stay as they were.
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, d_index, number] + ([attempt] if attempt else []))
        drawn = captions.resolve(_jitter(copy.deepcopy(spec), rng))
        try:
            rgb, gt = render(drawn, rng)
            break
        except NoRoom:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    spec = drawn
    jpeg = encode_jpeg(rgb, quality=JPEG_QUALITY)
    caption, subs = captions.caption_parts(spec)
    for panel, sub in zip(gt["panels"], subs, strict=True):
        panel["subcaption"] = sub
    short = "Fig." if doc.kind != "folder" else "Figure"
    ments = captions.mentions(spec, number, short)
    gt.update(
        {
            "id": f"{doc.name.replace('.', '-')}_f{number:02d}",
            "number": number,
            "fig_id": f"fig{number}",
            "label": f"Figure {number}",
            "caption": caption,
            "caption_title": spec.title,
            "caption_body": caption[len(spec.title) :].strip(),
            "preamble": spec.title,
            "compound": len(spec.panels) > 1,
            "labelled": spec.labels is not None,
            "image_sha256": sha256_hex(jpeg),
            "mentions_xref": ments,
            "mentions": ["".join(m) for m in ments],
            "licence": "CC BY 4.0",
            "licence_url": jats.LICENCE_URL,
        }
    )
    return gt, jpeg


def _meta(doc: catalog.DocSpec, figs: list[dict]) -> dict:
    return {
        "journal": "Sample Journal of Medical Imaging",
        "pmcid": doc.name,
        "doi": f"10.5555/sample.{doc.name.lower()}",
        "title": doc.title,
        "year": 2024,
        "abstract": f"{doc.title}. {len(figs)} illustrative figures.",
    }


def _write_jats(out: Path, doc: catalog.DocSpec, figs: list[tuple[dict, bytes]]) -> str:
    meta = _meta(doc, figs)
    xml_figs = [dict(g, href=g["fig_id"], mentions=g["mentions_xref"]) for g, _ in figs]
    members = {f"{doc.name}/{doc.name}.nxml": jats.jats_bytes(meta, doc.intro, xml_figs)}
    for g, jpeg in figs:
        members[f"{doc.name}/{g['fig_id']}.jpg"] = jpeg
    for g, _ in figs:
        g["member"] = f"{doc.name}/{g['fig_id']}.jpg"
    if doc.archive:
        rel = f"pmc/{doc.name}.tar.gz"
        (out / rel).write_bytes(jats.tar_gz_bytes(members))
        for g, _ in figs:
            g["image_path"] = None
        return rel
    for name, data in members.items():
        (out / "pmc" / name).parent.mkdir(parents=True, exist_ok=True)
        (out / "pmc" / name).write_bytes(data)
    for g, _ in figs:
        g["image_path"] = f"pmc/{g['member']}"
    return f"pmc/{doc.name}"


def _write_pdf(out: Path, doc: catalog.DocSpec, figs: list[tuple[dict, bytes]]) -> str:
    for g, _jpeg in figs:
        g["caption_printed"] = f"{doc.prefix.format(n=g['number'])} {g['caption']}"
        g["label"] = doc.prefix.format(n=g["number"]).rstrip(" .|")
        # A PDF cites in running text rather than in parentheses.
        g["mentions"] = [
            f"{before.rstrip(' (')}, as shown in {ref}." for before, ref, _ in g["mentions_xref"]
        ]
    items = [dict(g, jpeg=jpeg, sentences=g["mentions"]) for g, jpeg in figs]
    data, placed = pdf.pdf_bytes(doc.title, doc.intro, items)
    rel = f"pdf/{doc.name}.pdf"
    (out / rel).write_bytes(data)
    for (g, _), where in zip(figs, placed, strict=True):
        g.update(where, member=None, image_path=None)
    return rel


def _write_folder(out: Path, doc: catalog.DocSpec, figs: list[tuple[dict, bytes]]) -> str:
    lines = []
    for (g, jpeg), name in zip(figs, doc.files, strict=True):
        (out / "folder" / name).write_bytes(jpeg)
        lines.append(json.dumps({"image": name, "caption": g["caption"], "licence": "CC0"}))
        g.update(
            member=name,
            image_path=f"folder/{name}",
            label="",
            licence="CC0",
            licence_url="https://creativecommons.org/publicdomain/zero/1.0/",
            mentions=[],
            mentions_xref=[],
        )
    (out / "folder" / "captions.jsonl").write_text("\n".join(lines) + "\n")
    return "folder/captions.jsonl"


WRITERS = {"jats": _write_jats, "pdf": _write_pdf, "folder": _write_folder}


def generate_sample(out_dir: Path, seed: int = 0) -> dict:
    """Write the sample corpus into ``out_dir`` and return the ground truth (also written as
    ``ground_truth.json``)."""
    out = Path(out_dir)
    for sub in ("pmc", "pdf", "folder"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    documents, figures = [], []
    for d_index, doc in enumerate(catalog.all_documents()):
        figs = [_figure(doc, d_index, n, spec, seed) for n, spec in enumerate(doc.figures, start=1)]
        rel = WRITERS[doc.kind](out, doc, figs)
        documents.append(
            {
                "name": doc.name,
                "source_kind": doc.kind,
                "source_path": rel,
                "title": doc.title,
                "pmcid": doc.name if doc.kind == "jats" else None,
                "doi": _meta(doc, figs)["doi"] if doc.kind == "jats" else None,
                "n_figures": len(figs),
            }
        )
        for g, _ in figs:
            g.pop("mentions_xref", None)
            figures.append({"source_kind": doc.kind, "source_path": rel, "document": doc.name, **g})
    truth = {
        "generator": "curate.sample.generate",
        "seed": seed,
        "convention": CONVENTION,
        "pixel_sources": source_files(),
        "documents": documents,
        "figures": figures,
    }
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the embedded sample corpus with ground truth.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    truth = generate_sample(args.out_dir, args.seed)
    n_panels = sum(len(f["panels"]) for f in truth["figures"])
    n_markers = sum(len(f["markers"]) for f in truth["figures"])
    print(f"wrote {len(truth['figures'])} figures, {n_panels} panels, {n_markers} markers to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
