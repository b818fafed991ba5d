"""Text-mined texts: the four texts per image, made from what the paper itself says.

- summary: one sentence of 10-15 words, no commas or semicolons, ending with a period,
  taken from the image's own text (sub-caption, marker phrase) and then its context.
- report: the image's own text, the shared caption context and the in-text mentions.
- region: ``adjective|term|position`` from a region's phrase and geometry, or ``No Finding``.
- negatives: five fluent but wrong variants (contrasting adjective, moved position, swapped
  laterality, modality or condition), deterministic, none equal to the positive.

Vocabularies live in ``vocab.yaml`` beside this file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import zip_longest
from pathlib import Path

import yaml

NO_FINDING = "No Finding"
_LABEL_PREFIX = re.compile(r"^\s*\(?[A-Za-z]{1,2}[’']?\)?[.,:)]\s+")
_PARENS = re.compile(r"\s*[\(\[][^()\[\]]{0,80}[\)\]]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’+/-]*")
# "as shown in Fig. 2B", "see Figs. 3 and 4", "Figure 1": pointers to the paper, not image content
_FIG_REF = re.compile(r"(?:\b(?:as\s+)?(?:shown|seen|illustrated|depicted|indicated)\s+in\s+|\bsee\s+)?"
                      r"\b(?:supplementary\s+)?fig(?:ure)?s?\.?\s*S?\d+(?:[A-Z](?![A-Z]))?"
                      r"(?:\s*(?:[-–,]|and)\s*(?:S?\d+[A-Z]?|[A-Z])(?![A-Z]))*", re.IGNORECASE)
# Tails that pad a short summary to the minimum length, one per word count, each a complete phrase.
_PADDING = ("shown", "as shown", "in this figure", "in a research figure", "in a biomedical research figure",
            "shown in a biomedical research figure", "shown in a published biomedical research figure",
            "as shown in a published biomedical research figure",
            "as shown in a panel of a biomedical research figure",
            "as shown in a panel of a published biomedical research figure")


@dataclass(frozen=True)
class Vocab:
    lesion_terms: tuple[str, ...]
    contrasts: dict[str, list[str]]
    default_adjective: str
    position_opposites: dict[str, str]
    swaps: dict[str, str]
    stopwords: frozenset[str]
    term_category: dict[str, list[str]]
    synonym_of: dict[str, str]


@lru_cache(maxsize=1)
def load_vocab(path: Path | None = None) -> Vocab:
    raw = yaml.safe_load((path or Path(__file__).with_name("vocab.yaml")).read_text())
    category = {term: members for members in raw["term_categories"].values() for term in members}
    synonym_of = {word: group[0] for group in raw["synonyms"] for word in group}
    return Vocab(lesion_terms=tuple(raw["lesion_terms"]), contrasts=raw["adjective_contrasts"],
                 default_adjective=raw["default_adjective"], position_opposites=raw["position_opposites"],
                 swaps=raw["sentence_swaps"], stopwords=frozenset(raw["stopwords"]), term_category=category,
                 synonym_of=synonym_of)


def canonical_region(region: str) -> tuple[str, ...]:
    """A region string with synonyms folded, so "round|tumour|center" equals "circular|mass|central"."""
    vocab = load_vocab()
    return tuple(" ".join(vocab.synonym_of.get(w, w) for w in part.split()) for part in region.split("|"))


def _stable_index(text: str, n: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % n


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""


def content_words(text: str) -> list[str]:
    """Words of ``text`` without a leading panel label, parentheticals, figure references,
    commas or semicolons."""
    text = _FIG_REF.sub(" ", _PARENS.sub("", _LABEL_PREFIX.sub("", text)))
    return _WORD.findall(text)


def summary_sentence(own: str, *context: str, min_words: int = 10, max_words: int = 15) -> str:
    """One sentence of ``min_words``..``max_words`` words, no commas/semicolons, ending '.'."""
    vocab = load_vocab()
    words: list[str] = []
    for source in (own, *context):
        candidate = content_words(first_sentence(source))
        if " ".join(candidate).lower() in " ".join(words).lower():
            continue  # a mention that repeats the sub-caption adds nothing
        for word in candidate:
            if len(words) >= max_words:
                break
            if not words or word.lower() != words[-1].lower():
                words.append(word)
        if len(words) >= min_words:
            break
    if not words:
        words = ["Biomedical", "figure", "image"]
    while len(words) > min_words and words[-1].lower() in vocab.stopwords:
        words.pop()
    missing = min_words - len(words)
    if missing > 0:
        words += _PADDING[min(missing, len(_PADDING)) - 1].split()
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:] + "."


def report_text(own: str, context: str = "", mentions: list[str] | tuple[str, ...] = ()) -> str:
    """The detailed report: own text, then context, then mention sentences, without repeats."""
    seen: set[str] = set()
    parts = []
    for piece in (own, context, *mentions):
        piece = " ".join(piece.split())
        if piece and piece not in seen and not any(piece in p for p in parts):
            seen.add(piece)
            parts.append(piece)
    return " ".join(parts)


def region_extraction(phrase: str, position: str) -> str:
    """``adjective|term|position`` for a region phrase, or ``No Finding`` when there is none."""
    if not phrase.strip() or not position.strip():
        return NO_FINDING
    vocab = load_vocab()
    words = [w.lower() for w in _WORD.findall(phrase)]
    terms = [w for w in words if w in vocab.lesion_terms]
    content = [w for w in words if w not in vocab.stopwords]
    term = terms[-1] if terms else (content[-1] if content else "region")
    adjectives = [w for w in words if w in vocab.contrasts and w != term]
    adjective = adjectives[0] if adjectives else vocab.default_adjective
    return f"{adjective}|{term}|{position}"


def _moved_positions(position: str) -> list[str]:
    vocab = load_vocab()
    parts = position.split()
    flipped = [" ".join(vocab.position_opposites.get(p, p) for p in parts)]
    for i, p in enumerate(parts):
        if p in vocab.position_opposites:
            flipped.append(" ".join(vocab.position_opposites[q] if j == i else q for j, q in enumerate(parts)))
    extra = ["left upper", "right lower", "center", "left lower", "right upper"]
    return [p for p in dict.fromkeys(flipped + extra) if p != position]


def _other_terms(term: str, seed: int) -> list[str]:
    """Terms of the same category (never a synonym), in a seed-dependent but fixed order."""
    vocab = load_vocab()
    same = [t for t in vocab.term_category.get(term, []) if vocab.synonym_of.get(t, t) != vocab.synonym_of.get(term, term)]
    start = _stable_index(f"{seed}:{term}", len(same)) if same else 0
    return same[start:] + same[:start]


def region_negatives(region: str, n: int = 5, seed: int = 0) -> list[str]:
    """Five wrong regions for ``adjective|term|position``: contrasting adjectives, a moved
    position (laterality swapped first), and a term swapped within its category. None equals
    the positive or says it in other words; the order depends only on ``seed``."""
    adjective, term, position = region.split("|")
    vocab = load_vocab()
    contrasts = vocab.contrasts.get(adjective) or vocab.contrasts[vocab.default_adjective]
    moves = _moved_positions(position)
    terms = _other_terms(term, seed)
    # interleave the kinds so the five cover texture/shape, location and term
    kinds = [[f"{a}|{term}|{position}" for a in contrasts], [f"{adjective}|{term}|{p}" for p in moves],
             [f"{adjective}|{t}|{position}" for t in terms]]
    ordered = [c for group in zip_longest(*kinds) for c in group if c]
    positive = canonical_region(region)
    out: list[str] = []
    for candidate in ordered:
        if canonical_region(candidate) != positive and candidate not in out:
            out.append(candidate)
    return out[:n]


def sentence_negatives(sentence: str, n: int = 5) -> list[str]:
    """Fluent wrong variants of a sentence: one swapped word each, then a swapped lesion term."""
    vocab = load_vocab()
    tokens = re.split(r"(\W+)", sentence)
    out: list[str] = []

    def replaced(i: int, word: str) -> str:
        new = tokens.copy()
        original = tokens[i]
        if original.isupper() and len(original) > 1:
            word = word.upper()
        elif original[:1].isupper():
            word = word[:1].upper() + word[1:]
        new[i] = word
        return "".join(new)

    for i, tok in enumerate(tokens):
        low = tok.lower()
        if low in vocab.swaps:
            out.append(replaced(i, vocab.swaps[low]))
        elif low in vocab.contrasts:
            out.append(replaced(i, vocab.contrasts[low][0]))
    content = [i for i, t in enumerate(tokens) if t.isalpha() and t.lower() not in vocab.stopwords]
    target = content[-1] if content else None
    k = 0
    while len(dict.fromkeys(out)) < n + 1 and target is not None and k < len(vocab.lesion_terms):
        term = vocab.lesion_terms[(_stable_index(sentence, len(vocab.lesion_terms)) + k) % len(vocab.lesion_terms)]
        if term != tokens[target].lower():
            out.append(replaced(target, term))
        k += 1
    return [s for s in dict.fromkeys(out) if s != sentence][:n]


MIN_CONTENT_WORDS = 4


def text_status(own: str, context: str = "", mentions: list[str] | tuple[str, ...] = ()) -> str:
    """``ok``, or ``insufficient_text`` when the paper says too little about the image to mine
    (fewer than ``MIN_CONTENT_WORDS`` content words in all of it)."""
    stop = load_vocab().stopwords
    words = [w for text in (own, context, *mentions) for w in content_words(text) if w.lower() not in stop]
    return "ok" if len(words) >= MIN_CONTENT_WORDS else "insufficient_text"


def mine_texts(own: str, context: str = "", mentions: list[str] | tuple[str, ...] = (),
               phrase: str = "", position: str = "") -> dict:
    """The four texts for one image; ``phrase``/``position`` are set for region-bearing images.
    ``status`` says whether the paper gave enough words (see ``text_status``)."""
    summary = summary_sentence(own, context, *mentions)
    region = region_extraction(phrase, position)
    negatives = region_negatives(region) if region != NO_FINDING else sentence_negatives(summary)
    return {"summary": summary, "report": report_text(own, context, mentions) or summary,
            "region": region, "negatives": negatives, "status": text_status(own, context, mentions)}
