"""Split a figure caption into a shared preamble and one text per panel label.

Two ways of printing labels are handled, decided per mention:
- *prefix*: the label opens its text ("(A) Soft agar assay ...", "a Schematic ...");
  the text runs to where the next label's text starts.
- *postfix*: the label closes its text ("... stained for LDLR (c); ..."); the text runs
  back to the previous label or the sentence start, and the last postfix label of a
  sentence also gets the rest of that sentence and the sentences after it that no label claims.
A label named several times (a range header ``(i-l)`` and later ``(i)``) gets its texts joined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from curate.layout.labelsyntax import sort_labels
from curate.layout.mentions import Mention, capital_bare_mentions, filter_mentions, find_mentions

_ABBREV = re.compile(
    r"(?:\b(?:Fig|Figs|al|e\.g|i\.e|vs|approx|ca|No|Dr|resp|cf|Ref|sp|spp|min|max|Inc|Ltd|St))\.$"
)
_SENT_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[*])|(?<=[a-z)]{2}\.)(?=[A-Z(])")
_TRIM = " \t\n,;:"


@dataclass
class CaptionSplit:
    """``preamble`` is shared text before the first label; ``parts`` maps label -> its own text.

    ``labels`` lists the labels in natural order (``A < Ai < B``), the same order as ``parts``.
    """

    preamble: str = ""
    parts: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences start (0 first); abbreviations like ``Fig.`` do not end one."""
    starts = [0]
    for m in _SENT_BREAK.finditer(text):
        if not _ABBREV.search(text[max(0, m.start() - 8) : m.start()]):
            starts.append(m.end())
    return starts


def _sentence_of(starts: list[int], pos: int) -> int:
    idx = 0
    for i, s in enumerate(starts):
        if s <= pos:
            idx = i
    return idx


def _styles(text: str, mentions: list[Mention], starts: list[int]) -> tuple[list[str], list[int]]:
    """Per mention: 'prefix' or 'postfix', and the offset where that mention's text starts."""
    info = []
    for i, m in enumerate(mentions):
        prev_end = mentions[i - 1].end if i else 0
        clause = max(prev_end, starts[_sentence_of(starts, m.start)])
        # A label right after ";" or ":" opens its clause too ("as follows: A) ...; (b) ...").
        before = re.split(r"[;:]", text[clause : m.start])[-1].strip(_TRIM + ".()")
        after = text[m.end :].lstrip()[:1]
        # Bare labels ("A)", "A.", "a Text") always open their text; only "(A)" may close one.
        at_start = before == "" or m.kind == "bare"
        info.append((clause, at_start, after in ("", ".", ";", ",")))
    n_prefix = sum(1 for _, at_start, _ in info if at_start)
    n_postfix = sum(1 for _, at_start, ends in info if ends and not at_start)
    default = "prefix" if n_prefix >= n_postfix and n_prefix else "postfix"
    styles, seg_starts = [], []
    for m, (clause, at_start, ends) in zip(mentions, info, strict=True):
        style = "prefix" if at_start else "postfix" if ends else default
        styles.append(style)
        seg_starts.append(m.start if style == "prefix" else clause)
    return styles, seg_starts


def _clean(piece: str) -> str:
    piece = re.sub(r"\s+", " ", piece).strip(_TRIM)
    return piece.lstrip(".) ").strip(_TRIM)


def _texts(text: str, mentions: list[Mention], starts: list[int]) -> tuple[str, list[str]]:
    styles, seg_starts = _styles(text, mentions, starts)
    out = []
    for i, m in enumerate(mentions):
        nxt = seg_starts[i + 1] if i + 1 < len(mentions) else len(text)
        if styles[i] == "prefix":
            out.append(_clean(text[m.end : max(nxt, m.end)]))
            continue
        piece = text[seg_starts[i] : m.start]
        same_sentence = i + 1 < len(mentions) and _sentence_of(starts, mentions[i + 1].start) == _sentence_of(
            starts, m.start
        )
        if not same_sentence:
            piece = piece.rstrip() + " " + text[m.end : max(nxt, m.end)]
        out.append(_clean(piece))
    return _clean(text[: seg_starts[0]]), out


def split_caption(caption: str, bold_labels: list[str] | None = None) -> CaptionSplit:
    """Split ``caption`` into preamble and per-label texts.

    ``bold_labels`` (labels printed in bold in the source, if known) are accepted as labels
    even without punctuation, and widen the allowed label set. A caption without labels
    gives an empty ``parts`` and the whole caption as ``preamble``.
    """
    text = caption.strip()
    mentions = filter_mentions(find_mentions(text, bold_labels), bold_labels, text)
    mentions = mentions or capital_bare_mentions(text)
    if not mentions:
        return CaptionSplit(preamble=_clean(text))
    starts = sentence_starts(text)
    preamble, texts = _texts(text, mentions, starts)
    gathered: dict[str, list[str]] = {}
    for i, m in enumerate(mentions):
        piece = texts[i] or next((t for t in texts[i + 1 :] if t), "")
        for lab in m.labels:
            bucket = gathered.setdefault(lab, [])
            if piece and piece not in bucket:
                bucket.append(piece)
    positional = all(m.kind == "position" for m in mentions)
    labels = list(gathered) if positional else sort_labels(list(gathered))
    parts = {lab: " ".join(gathered[lab]) for lab in labels}
    return CaptionSplit(preamble=preamble, parts=parts, labels=labels)
