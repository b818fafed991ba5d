"""Inline text of JATS elements, sentence splitting, and the body sentences citing each figure.

A *block* is the nearest enclosing paragraph-like element of an ``<xref>`` (``p``, ``td``,
``title``...). Its text is flattened once, with the character span of every figure xref
recorded, then split into sentences; each figure gets the sentences overlapping its xrefs.

Which xrefs count: every ``<xref ref-type="fig">`` in the article, sub-articles (eLife
decision letters and author responses) included, except those inside the cited figure's
own caption (that is caption text, not a mention). ``rid`` may list several ids separated
by spaces. A range written as two xrefs joined by a dash or "to" (``Figures 2–4``) also
credits the figures between them, in document order, of the same kind (main figure or
figure supplement) as the range's ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html.entities import html5

from lxml import etree

BLOCK_TAGS = frozenset(
    {"p", "td", "th", "title", "label", "attrib", "term", "def", "list-item", "caption", "license-p"}
)
# Elements whose text is not part of the surrounding running text: nested floats and
# non-display alternatives (TeX source duplicates the MathML next to it).
SKIP_TAGS = frozenset(
    {"fig", "fig-group", "table-wrap", "supplementary-material", "tex-math", "object-id", "graphic",
     "media", "alt-text", "long-desc"}
)
# Elements after which a space keeps words apart (block-ish), unlike inline ones (sup, italic).
_SPACED_TAGS = frozenset(BLOCK_TAGS | {"sec", "list", "tr", "disp-quote", "disp-formula", "break"})
ABBREVIATIONS = frozenset(
    {"fig", "figs", "al", "e.g", "eg", "i.e", "ie", "vs", "cf", "ca", "approx", "resp", "ref", "refs",
     "eq", "eqs", "no", "nos", "suppl", "supp", "sup", "tab", "sect", "sec", "ch", "vol", "dr", "mr",
     "mrs", "ms", "prof", "st", "fig.s", "figure.s", "ext", "extended"}
)
_END = re.compile(r"[.!?][\"”’')\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")
_WS = re.compile(r"\s+")
_BARE_CITATION = re.compile(r"^\s*\([^()]{0,80}\)[.!?]?\s*$")
_RANGE_JOIN = re.compile(r"^\s*(?:[-–—‒]|to|through)\s*$")


def local_name(el: object) -> str:
    """Tag without namespace; "" for comments, processing instructions and entity nodes."""
    tag = getattr(el, "tag", None)
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def normalise_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass
class FlatText:
    """Text of an element with the character spans ``[start, end)`` of chosen descendants."""

    text: str = ""
    # Keyed by the element itself: holding the proxy keeps it alive, so lxml hands back the
    # same object later (an id() of a freed proxy could be reused by another element).
    spans: dict[etree._Element, tuple[int, int]] = field(default_factory=dict)
    bold: list[str] = field(default_factory=list)


def flatten(el: etree._Element, skip: frozenset[str] = SKIP_TAGS) -> FlatText:
    """Concatenate the text under ``el`` (tails included), skipping ``skip`` subtrees.

    Records spans of ``xref`` elements and collects ``bold`` texts. Whitespace is kept as
    is (spans index into the raw text); callers normalise when they emit text.
    """
    out = FlatText()
    parts: list[str] = []
    pos = 0

    def add(text: str | None) -> None:
        nonlocal pos
        if text:
            parts.append(text)
            pos += len(text)

    def walk(node: etree._Element) -> None:
        name = local_name(node)
        start, first_part = pos, len(parts)
        if isinstance(node, etree._Entity):  # unexpanded reference: only well-known HTML names
            add(_html_entity(node.name))
        if name:
            add(node.text)
            for child in node:
                if local_name(child) in skip:
                    add(" ")
                else:
                    walk(child)
                add(child.tail)
            if name in _SPACED_TAGS:
                add(" ")
        if name == "xref":
            out.spans[node] = (start, pos)
        elif name == "bold":
            label = normalise_ws("".join(parts[first_part:]))
            if label:
                out.bold.append(label)

    walk(el)
    out.text = "".join(parts)
    return out


def _html_entity(name: str) -> str:
    """Text of an undeclared entity such as ``&nbsp;`` (left unexpanded by the hardened parser);
    declared entities are never expanded, whatever they say."""
    return html5.get(f"{name};", "")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans ``[start, end)``, covering the text without gaps.

    A sentence ends at ``.``/``!``/``?`` (plus closing quotes/brackets) followed by space and
    an upper-case letter, digit or opening bracket, unless the word before the stop is a known
    abbreviation ("Fig.", "et al.", "e.g.", "i.e."...). Decimals never split (no space).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        if _is_abbreviation(text, match.start()):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        # "... partners. (Figure 5C)." : a stray bracketed citation belongs to the sentence before
        if merged and _BARE_CITATION.match(text[a:b]):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [s for s in merged if text[s[0] : s[1]].strip()] or [(0, len(text))]


def _is_abbreviation(text: str, stop: int) -> bool:
    if text[stop] != ".":
        return False
    # the word before the stop, walked back to its whitespace: O(word), where a regex anchored
    # at the end of ``text[:stop]`` rescanned the whole prefix at every stop (quadratic). As
    # that regex's ``$`` did, a stop right after a newline reads the word before the newline.
    end = stop - 1 if stop > 0 and text[stop - 1] == "\n" else stop
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:end].lstrip("([{\"'“‘").lower()
    return word in ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Whitespace-normalised sentences of ``text``."""
    return [normalise_ws(text[a:b]) for a, b in sentence_spans(text) if text[a:b].strip()]


@lru_cache(maxsize=64)
def _spans_of(text: str) -> tuple[tuple[int, int], ...]:
    """``sentence_spans`` of a paragraph, kept: every figure citation in it asks again."""
    return tuple(sentence_spans(text))


def sentences_at(text: str, span: tuple[int, int]) -> list[str]:
    """The sentence(s) of ``text`` that overlap ``span`` (an empty span picks its sentence)."""
    start, end = span
    picked = []
    for a, b in _spans_of(text):
        overlaps = a < end and start < b if end > start else a <= start < b or start == b == len(text)
        if overlaps:
            picked.append(normalise_ws(text[a:b]))
    return picked


def _block_of(el: etree._Element) -> etree._Element:
    node = el.getparent()
    while node is not None:
        if local_name(node) in BLOCK_TAGS:
            return node
        parent = node.getparent()
        if parent is None:
            return node
        node = parent
    return el


def fig_xrefs(root: etree._Element) -> Iterable[etree._Element]:
    for el in root.iter("{*}xref"):  # in any or no namespace, filtered inside lxml
        if el.get("ref-type") == "fig":
            yield el


def collect_mentions(
    root: etree._Element,
    figures: list[etree._Element],
    is_supplement: Callable[[etree._Element], bool],
) -> dict[str, list[str]]:
    """Map each figure's ``id`` attribute to its citing sentences (deduplicated, document order).

    ``figures`` are the ``<fig>`` elements in document order; ``is_supplement`` tells a figure
    supplement from a main figure (used only to expand ranges).
    """
    by_id = {f.get("id"): f for f in figures if f.get("id")}
    order = [f.get("id") for f in figures if f.get("id")]
    mentions: dict[str, list[str]] = {fid: [] for fid in order}
    flat_cache: dict[etree._Element, FlatText] = {}
    prev: tuple[etree._Element, int, str] | None = None  # block, xref end, last rid of the last xref
    for xref in fig_xrefs(root):
        block = _block_of(xref)
        flat = flat_cache.get(block) or flat_cache.setdefault(block, flatten(block))
        span = flat.spans.get(xref)
        if span is None:  # xref inside a skipped subtree of its block: use the xref's own parent
            flat = flatten(xref.getparent(), frozenset())
            span = flat.spans.get(xref, (0, 0))
        sentences = sentences_at(flat.text, span)
        rids = [r for r in (xref.get("rid") or "").split() if r in by_id]
        targets = list(rids)
        if prev and rids and prev[0] is block and _RANGE_JOIN.match(flat.text[prev[1] : span[0]]):
            targets += _between(order, by_id, prev[2], rids[0], is_supplement)
        own_fig = enclosing_fig(xref)
        for rid in targets:
            if own_fig is by_id[rid]:  # a figure's caption citing itself is not a mention
                continue
            bucket = mentions[rid]
            bucket.extend(s for s in sentences if s not in bucket)
        prev = (block, span[1], rids[-1]) if rids else None
    return mentions


def _between(order, by_id, first: str, last: str, is_supplement) -> list[str]:
    """Figure ids strictly between ``first`` and ``last`` in document order, of the same kind."""
    i, j = order.index(first), order.index(last)
    if j - i < 2 or is_supplement(by_id[first]) != is_supplement(by_id[last]):
        return []
    kind = is_supplement(by_id[first])
    return [fid for fid in order[i + 1 : j] if is_supplement(by_id[fid]) == kind]


def enclosing_fig(el: etree._Element) -> etree._Element | None:
    """The nearest ``<fig>`` ancestor (PMC's eLife files nest figure supplements in their parent)."""
    return next((a for a in el.iterancestors() if local_name(a) == "fig"), None)
