"""Caption and in-text mention text of a sample figure, from its ``FigureSpec``.

``resolve`` fills the ``{pN}`` / ``{mN}`` placeholders in place; ``caption_parts`` then gives
the caption and, per panel, the sub-caption a caption splitter is expected to find.
"""

from __future__ import annotations

from curate.sample.compose import FigureSpec, label_text


def _refs(spec: FigureSpec) -> dict[str, str]:
    return {f"p{i}": label_text(spec, i)[0] or "" for i in range(len(spec.panels))}


def resolve(spec: FigureSpec) -> FigureSpec:
    """Replace placeholders in marker phrases and panel texts (mutates and returns ``spec``)."""
    refs = _refs(spec)
    for ps in spec.panels:
        for mk in ps.markers:
            mk.phrase = mk.phrase.format(**refs)
        ps.text = ps.text.format(**refs, **{f"m{j}": mk.phrase for j, mk in enumerate(ps.markers)})
    return spec


def caption_parts(spec: FigureSpec) -> tuple[str, list[str]]:
    """(caption without its "Figure N" label, expected sub-caption per panel).

    Labelled captions read "(A) text (B) text" or "A, text B, text"; the sub-caption is the
    text after the label. A single unlabelled panel's sub-caption is the whole caption; panels
    of a multi-panel figure whose caption names no labels get "" (nothing to split on).
    """
    texts = [ps.text for ps in spec.panels]
    if spec.caption_style == "none" or spec.labels is None:
        caption = " ".join(t for t in [spec.title, *texts] if t)
        return caption, [caption] if len(texts) == 1 else [""] * len(texts)
    parts = [spec.title]
    for i, text in enumerate(texts):
        ref = label_text(spec, i)[0]
        parts.append(f"({ref}) {text}" if spec.caption_style == "paren" else f"{ref}, {text}")
    return " ".join(parts), texts


def _clause(text: str) -> str:
    """First clause of a sub-caption, capitalised, without final punctuation."""
    clause = text.split(";")[0].split(". ")[0].rstrip(". ")
    return clause[:1].upper() + clause[1:]


def mentions(spec: FigureSpec, number: int, short: str = "Fig.") -> list[tuple[str, str, str]]:
    """In-text citations as (text before, reference text, text after) triples.

    One sentence per panel that has text (citing e.g. "Fig. 1B"), or one sentence citing the
    whole figure when its panels are unlabelled.
    """
    out = []
    for i, ps in enumerate(spec.panels):
        label = label_text(spec, i)[0]
        if label and ps.text:
            out.append((f"{_clause(ps.text)} (", f"{short} {number}{label}", ")."))
    if not out:
        out.append((f"{_clause(spec.title)} (", f"Figure {number}", ")."))
    return out
