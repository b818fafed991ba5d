"""``sizes.json`` per split (open_clip reads it) and the dataset card ``DATASET.md``.

Both are derived from the per-shard Parquet indexes, so they always agree with the tars.
No timestamps go in: the same run gives the same card.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from curate.runtime.config import RunConfig
from curate.runtime.manifest import RunLayout, read_table, write_json_atomic

_VERSIONED = ("panel2patch", "numpy", "pillow", "opencv-python-headless", "pymupdf", "pyarrow", "ray",
              "rapidocr", "webdataset", "imagehash")
_LEVELS = ("figure", "panel", "patch")


def shard_index(shards_root: Path, splits: list[str]) -> pa.Table | None:
    files = sorted(f for split in splits for f in (shards_root / split).glob("*.parquet"))
    tables = [read_table(f) for f in files]
    return pa.concat_tables(tables) if tables else None


def write_sizes(layout: RunLayout, splits: dict[str, float]) -> None:
    """One ``sizes.json`` per configured split, ``{}`` for a split that got no document (a small
    corpus can leave one empty: splits hash paper ids, so a paper's split never moves as the corpus
    grows), so a reader finds every split it was told about."""
    for split in splits:
        folder = layout.shards / split
        sizes = {index.with_suffix(".tar").name: pq.read_metadata(index).num_rows
                 for index in sorted(folder.glob("*.parquet"))}
        write_json_atomic(folder / "sizes.json", sizes)


@cache  # the versions of the code this process loaded; each lookup parses a METADATA file
def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _quarantine_counts(layout: RunLayout) -> Counter:
    counts: Counter = Counter()
    for path in sorted((layout.root / "quarantine").glob("*/*.parquet")):
        for row in read_table(path, columns=["stage", "error_class"]).to_pylist():
            counts[(row["stage"], row["error_class"])] += 1
    return counts


def _distribution(rows: list[dict], field: str, title: str) -> list[str]:
    """Counts of ``field`` per level, and the mean confidence of each value."""
    counts = Counter((r.get(field) or "unknown", r["level"]) for r in rows)
    conf: dict[str, list[float]] = {}
    for r in rows:
        conf.setdefault(r.get(field) or "unknown", []).append(r.get(f"{field}_conf") or 0.0)
    values = sorted({v for v, _ in counts}, key=lambda v: (-sum(counts[(v, lvl)] for lvl in _LEVELS), v))
    lines = ["", f"## {title}", ""]
    return lines + _table((field, *_LEVELS, "mean confidence"),
                          [(v, *(counts[(v, lvl)] for lvl in _LEVELS), f"{sum(conf[v]) / len(conf[v]):.2f}")
                           for v in values])


def _parquet_rows(folder: Path, columns: list[str]) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        rows += read_table(path, columns=columns).to_pylist()
    return rows


def _prompts(layout: RunLayout) -> list[str]:
    rows = _parquet_rows(layout.root / "captions" / "texts", ["method", "prompt_name", "prompt_sha256", "model_id"])
    used = Counter((r["method"], r["prompt_name"], r["prompt_sha256"], r["model_id"]) for r in rows)
    return [f"- {m}" + (f": prompt `{p}` sha256 `{h}`, model `{mid}`" if p else "") + f" ({n} texts)"
            for (m, p, h, mid), n in sorted(used.items())] or ["- none"]


def _duplicates(layout: RunLayout, config: RunConfig) -> list[str]:
    rows = _parquet_rows(layout.root / "quality", ["level", "kind"])
    counts = Counter((r["level"], r["kind"]) for r in rows)
    what = "left out" if config.shards.drop_duplicates else "kept, marked `is_duplicate`"
    lines = ["", "## Duplicates", "",
             f"Copies of another figure or panel (exact pixels, or pHash <= {config.quality.max_phash} and dHash <= "
             f"{config.quality.max_dhash} bits), across documents; {what}. A duplicate group and every paper that "
             "holds one of its members share a split.", ""]
    return lines + (_table(("level", "exact", "near"), [(lvl, counts[(lvl, "exact")], counts[(lvl, "near")])
                                                        for lvl in ("figure", "panel")]) if rows else ["None found."])


def write_dataset_card(layout: RunLayout, config: RunConfig) -> None:
    index = shard_index(layout.shards, list(config.shards.splits))
    rows = index.to_pylist() if index is not None else []
    by_level_split = Counter((r["level"], r["split"]) for r in rows)
    licences = Counter(r["licence"] for r in rows)
    docs = {r["split"]: set() for r in rows}
    for r in rows:
        docs[r["split"]].add(r["document_id"])
    splits = list(config.shards.splits)
    lines = ["# Dataset card", "",
             f"Run `{config.name}`: {len(rows)} samples from "
             f"{len({r['document_id'] for r in rows})} documents and {len({r['figure_id'] for r in rows})} figures.",
             "", "## Samples per level and split", ""]
    lines += _table(("level", *splits, "total"),
                    [(lvl, *(by_level_split[(lvl, s)] for s in splits), sum(by_level_split[(lvl, s)] for s in splits))
                     for lvl in ("figure", "panel", "patch")])
    lines += ["", "Documents per split: " + ", ".join(f"{s} {len(docs.get(s, ()))}" for s in splits),
              "(split by a hash of the document id: no paper spans two splits)", "", "## Licences", ""]
    filt = ("only licences that allow commercial use (CC0, public domain, CC-BY, CC-BY-SA)"
            if config.shards.licence_filter == "commercial" else "all licences")
    lines += [f"Licence filter: `{config.shards.licence_filter}` ({filt}).", ""]
    by_licence_level = Counter((r["licence"], r["level"]) for r in rows)
    lines += _table(("licence", *_LEVELS, "samples"),
                    [(lic, *(by_licence_level[(lic, lvl)] for lvl in _LEVELS), n) for lic, n in sorted(licences.items())])
    lines += _distribution(rows, "image_type", "Image types")
    lines += _distribution(rows, "modality", "Modalities")
    lines += _distribution(rows, "body_region", "Body regions")
    lines += _duplicates(layout, config)
    quarantine = _quarantine_counts(layout)
    lines += ["", "## Quarantined items", ""]
    lines += _table(("stage", "error", "items"), [(s, e, n) for (s, e), n in sorted(quarantine.items())]) \
        if quarantine else ["None."]
    lines += ["", "## How it was made", "", "Format: WebDataset tars; each sample has `jpg`, `txt` (main caption: "
              "figure caption, panel sub-caption, or patch phrase) and `json` (all texts, boxes in the sample "
              "image's pixels, level, parent ids, licence family and original licence, image type / modality / body "
              "region with confidences, dup_group, provenance). `sizes.json` per split.", "",
              "Captions: " + config.captions.backend + "; regions: " + config.regions.backend + ".", "",
              "Texts by method and prompt:", "", *_prompts(layout), "",
              "Versions: " + ", ".join(f"{n} {_version(n)}" for n in _VERSIONED), "", "Config:", "", "```yaml",
              yaml.safe_dump(config.model_dump(mode="json", exclude={"runs_dir", "input_dir", "ray_address", "runner", "num_workers"}),
                             sort_keys=True).rstrip(), "```", "", "## Known limitations", "",
              "- Text-mined captions reuse the authors' wording; summaries are cut to 10-15 words and may be "
              "padded with a neutral tail when a caption is very short.",
              "- Regions come from markers the authors drew; images without markers have no patch samples.",
              "- Licences are as declared by each source; check NC/ND licences before redistribution.",
              "- Image type comes from a small logistic-regression model over pixel cues and caption words (fit on "
              "503 hand-labelled panels from 41 papers); modality and body region from pixel rules and caption words "
              "(plus our trainer's zero-shot vote when `quality.zeroshot_checkpoint` is set); see BENCHMARKS.md "
              "for their measured accuracy. Body region is `unknown` when the texts name none.",
              "- Near-duplicate detection uses 64-bit perceptual hashes: heavy crops, flips and re-drawn copies are "
              "not found; distinct images with the same layout and colours may rarely be merged.", ""]
    (layout.shards / "DATASET.md").parent.mkdir(parents=True, exist_ok=True)
    (layout.shards / "DATASET.md").write_text("\n".join(lines))
