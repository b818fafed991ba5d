"""Agreement between the first image-type labels of ``quality_labels*.csv`` and the blind second
pass: raw agreement, Cohen's kappa and the labeller confusion, read from the record
``quality_labels_second.csv`` (which keeps the first labels as they were before adjudication, the
second pass and the adjudicated final label; the four CSVs now hold the final one).

- all rows: every labelled crop, ``mixed`` counted as a seventh type;
- scored rows: the crops the accuracy benchmark scores (first label not ``mixed``);
- both typed: neither labeller said ``mixed``.

    PYTHONPATH=$PWD python -m bench.label_agreement
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.quality_data import ALL_LABELS, read_labels
from curate.quality.imagetype_rules import IMAGE_TYPES

SECOND = Path(__file__).with_name("data") / "quality_labels_second.csv"
TYPES = (*IMAGE_TYPES, "mixed")


def _key(row: dict) -> tuple[str, str, str]:
    return row["path"], row["panel"], row["bbox_xyxy"]


def label_pairs(first: str = "image_type_first", second: str = "image_type_second") -> list[tuple[str, str]]:
    """(first, second) label of every row of the record; raises if a row of the four CSVs is missing
    from it or its final label is not the one the CSV holds."""
    record = {_key(r): r for r in read_labels(SECOND)}
    for labels in ALL_LABELS:
        for row in read_labels(labels):
            if record[_key(row)]["image_type_final"] != row["image_type"]:
                raise ValueError(f"{labels.name}: {_key(row)} is not the adjudicated label of {SECOND.name}")
    return [(r[first], r[second]) for r in record.values()]


def confusion(pairs: list[tuple[str, str]], types: tuple[str, ...] = TYPES) -> np.ndarray:
    """Counts, rows = first labeller, columns = second."""
    index = {t: i for i, t in enumerate(types)}
    out = np.zeros((len(types), len(types)), int)
    for first, second in pairs:
        out[index[first], index[second]] += 1
    return out


def cohen_kappa(table: np.ndarray) -> float:
    """Agreement beyond what two labellers with these marginal frequencies reach by chance."""
    n = table.sum()
    observed = np.trace(table) / n
    expected = float(table.sum(1) @ table.sum(0)) / n**2
    return float((observed - expected) / (1 - expected))


def agreement(pairs: list[tuple[str, str]]) -> dict[str, float]:
    subsets = {
        "all": pairs,
        "scored": [p for p in pairs if p[0] != "mixed"],
        "both_typed": [p for p in pairs if "mixed" not in p],
    }
    out = {}
    for name, subset in subsets.items():
        table = confusion(subset)
        out[f"{name}.n"] = len(subset)
        out[f"{name}.agreement"] = float(np.trace(table) / table.sum())
        out[f"{name}.kappa"] = cohen_kappa(table)
    return out


def format_confusion(table: np.ndarray, corner: str = "first \\ second", types: tuple[str, ...] = TYPES) -> str:
    width = max(len(t) for t in types) + 1
    lines = [corner.ljust(width + 1) + "".join(t[:8].rjust(9) for t in types)]
    for t, row in zip(types, table, strict=True):
        lines.append(t.ljust(width + 1) + "".join(str(v).rjust(9) for v in row))
    return "\n".join(lines)


def main() -> None:
    pairs = label_pairs()
    for key, value in agreement(pairs).items():
        print(f"{key:24s} {value:.3f}" if isinstance(value, float) else f"{key:24s} {value}")
    print("labeller confusion:")
    print(format_confusion(confusion(pairs)))
    changes = [p for p in label_pairs(second="image_type_final") if p[0] != p[1]]
    print(f"first -> final label changes: {len(changes)}")
    print(format_confusion(confusion(changes), "first \\ final"))


if __name__ == "__main__":
    main()
