"""``sizes.json`` per split (open_clip reads it) and the dataset card ``DATASET.md``.

Both are derived from the per-shard Parquet indexes, so they always agree with the tars.
No timestamps go in: the same run gives the same card.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from curate.runtime.config import RunConfig
from curate.runtime.manifest import RunLayout

_VERSIONED = ("panel2patch", "numpy", "pillow", "opencv-python-headless", "pymupdf", "pyarrow", "ray",
              "rapidocr", "webdataset")


def shard_index(shards_root: Path, splits: list[str]) -> pa.Table | None:
    files = sorted(f for split in splits for f in (shards_root / split).glob("*.parquet"))
    tables = [pq.read_table(f) for f in files]
    return pa.concat_tables(tables) if tables else None


def write_sizes(layout: RunLayout, splits: dict[str, float]) -> None:
    for split in splits:
        folder = layout.shards / split
        if not folder.is_dir():
            continue
        sizes = {}
        for index in sorted(folder.glob("*.parquet")):
            sizes[index.with_suffix(".tar").name] = pq.read_metadata(index).num_rows
        (folder / "sizes.json").write_text(json.dumps(sizes, indent=1, sort_keys=True) + "\n")


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
        for row in pq.read_table(path, columns=["stage", "error_class"]).to_pylist():
            counts[(row["stage"], row["error_class"])] += 1
    return counts


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
    lines += _table(("licence", "samples"), sorted(licences.items()))
    quarantine = _quarantine_counts(layout)
    lines += ["", "## Quarantined items", ""]
    lines += _table(("stage", "error", "items"), [(s, e, n) for (s, e), n in sorted(quarantine.items())]) \
        if quarantine else ["None."]
    lines += ["", "## How it was made", "", "Format: WebDataset tars; each sample has `jpg`, `txt` (main caption: "
              "figure caption, panel sub-caption, or patch phrase) and `json` (all texts, boxes in the sample "
              "image's pixels, level, parent ids, licence, provenance). `sizes.json` per split.", "",
              "Captions: " + config.captions.backend + "; regions: " + config.regions.backend + ".", "",
              "Versions: " + ", ".join(f"{n} {_version(n)}" for n in _VERSIONED), "", "Config:", "", "```yaml",
              yaml.safe_dump(config.model_dump(mode="json", exclude={"runs_dir", "input_dir", "ray_address", "runner", "num_workers"}),
                             sort_keys=True).rstrip(), "```", "", "## Known limitations", "",
              "- Text-mined captions reuse the authors' wording; summaries are cut to 10-15 words and may be "
              "padded with a neutral tail when a caption is very short.",
              "- Regions come from markers the authors drew; images without markers have no patch samples.",
              "- Licences are as declared by each source; check NC/ND licences before redistribution.", ""]
    (layout.shards / "DATASET.md").parent.mkdir(parents=True, exist_ok=True)
    (layout.shards / "DATASET.md").write_text("\n".join(lines))
