"""Caption vocabularies (``vocab.yaml``): image types, modalities and body regions by the words
that name them, and evidence scores from a figure's or panel's texts.

Texts are weighted by how closely they belong to the image: a panel's own sub-caption counts
fully, the figure caption half, body-text mentions a third (they often discuss neighbours).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml

VOCAB_PATH = Path(__file__).with_name("vocab.yaml")
SECTIONS = ("image_type", "modality", "body_region")


def _pattern(term: str) -> str:
    stem, wildcard = (term[:-1], True) if term.endswith("*") else (term, False)
    body = re.escape(stem).replace(r"\ ", r"\s+")
    return r"(?<![\w])" + body + (r"[\w-]*" if wildcard else r"(?![\w])")


@lru_cache(maxsize=4)
def load_vocab(path: Path = VOCAB_PATH) -> dict[str, dict[str, re.Pattern]]:
    """``section -> label -> one compiled alternation of its terms``."""
    data = yaml.safe_load(Path(path).read_text())
    missing = [s for s in SECTIONS if s not in data]
    if missing:
        raise ValueError(f"{path}: missing sections {missing}")
    return {section: {label: re.compile("|".join(_pattern(str(t)) for t in terms), re.IGNORECASE)
                      for label, terms in data[section].items() if terms}
            for section in SECTIONS}


def text_evidence(section: str, weighted_texts: list[tuple[str, float]],
                  vocab: dict[str, dict[str, re.Pattern]] | None = None) -> dict[str, float]:
    """Weighted hit counts per label of ``section`` over ``(text, weight)`` pairs; each label
    counts at most 3 hits per text so one repetitive caption cannot swamp the image cues."""
    scores: dict[str, float] = defaultdict(float)
    for text, weight in weighted_texts:
        if not text:
            continue
        # A figure's caption and mentions come again with each of its panels: the default
        # vocabulary's hits per text are counted once.
        hits = _hits(vocab[section], text) if vocab else _default_hits(section, text)
        for label, n in hits:
            scores[label] += weight * min(n, 3)
    return dict(scores)


def _hits(patterns: dict[str, re.Pattern], text: str) -> tuple[tuple[str, int], ...]:
    """``(label, hit count)`` of the labels found in ``text``, in vocabulary order."""
    return tuple((label, n) for label, pattern in patterns.items() if (n := len(pattern.findall(text))))


@lru_cache(maxsize=4096)
def _default_hits(section: str, text: str) -> tuple[tuple[str, int], ...]:
    return _hits(load_vocab()[section], text)


def weighted_texts(own: str, caption: str, mentions: list[str] | tuple[str, ...]) -> list[tuple[str, float]]:
    """The texts of one image with their weights (see module docstring)."""
    out = [(own, 1.0)] if own else []
    if caption and caption != own:
        out.append((caption, 0.5))
    out += [(m, 1.0 / 3.0) for m in mentions]
    return out
