"""Find panel-label mentions in a caption: ``(A)``, ``A)``, ``A.``, ``A,``, ``a Text``, ``A and B:``.

A mention is a span of the caption naming one or more panel labels. Which mentions are
real labels (and not ``(N)`` for "normal" or a back-reference "as in (A)") is decided by
``filter_mentions`` from the whole caption: one letter case, a near-contiguous letter run
starting at ``a``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curate.layout.labelsyntax import ATOM_RE, is_roman, parse_group, parse_position, sort_key

_PAREN = re.compile(r"\(([^()]{1,40})\)")
_ATOM_END = rf"{ATOM_RE}(?![A-Za-z0-9])"
_GROUP = rf"{_ATOM_END}(?:\.?\s*(?:[-–—]|,|\band\b|\bto\b)\s*{_ATOM_END})*"
# "(C, in red, 200x)": a label group opening a parenthesis that goes on with notes.
_PAREN_LEAD = re.compile(rf"^({_GROUP})\.?,\s+(?=[a-z0-9])")
_BARE_PAREN = re.compile(rf"(?<![\w'(\-/&+])({_GROUP})\)")
_GLUED_PAREN = re.compile(r"(?<=[a-z]{3})([A-Z])\)(?=\s)")
_BARE = re.compile(rf"(?<![\w'(\-/&+])({_GROUP})([.:,])?(?=\s+\S)")
_GLUED_OK = re.compile(r"(?:^|\s|[\w)]{2}\.)$")
_CLAUSE_END = ".;:!?"


@dataclass
class Mention:
    """``labels`` named at caption characters ``[start, end)``; ``kind`` is paren, bare or position."""

    start: int
    end: int
    labels: list[str]
    kind: str


def _prev_char(text: str, pos: int) -> str:
    stripped = text[:pos].rstrip()
    return stripped[-1] if stripped else ""


def _paren_mentions(text: str) -> list[Mention]:
    out = []
    for m in _PAREN.finditer(text):
        labels = parse_group(m.group(1))
        lead = _PAREN_LEAD.match(m.group(1))
        if not labels and lead:
            labels = parse_group(lead.group(1))
        if labels:
            out.append(Mention(m.start(), m.end(), labels, "paren"))
            continue
        position = parse_position(m.group(1))
        if position:
            out.append(Mention(m.start(), m.end(), [position], "position"))
    return out


def _bare_ok(text: str, m: re.Match, punct: str | None, bold: set[str], labels: list[str]) -> bool:
    """Whether a bare label candidate sits where a label is printed (a clause start)."""
    prev = _prev_char(text, m.start())
    at_clause = prev in ("", *_CLAUSE_END, ")")
    if punct == ":":
        return True
    if punct in (".", ","):
        return at_clause
    following = text[m.end() :].lstrip()[:1]
    if bold and all(lab in bold for lab in labels):
        return at_clause or prev == ","
    # Nature style "a Schematic of ..., b Images of ...": lower-case label, capitalised text.
    lower = all(lab[0].islower() for lab in labels)
    return lower and following.isupper() and (at_clause or prev == ",")


def _bare_mentions(text: str, taken: list[tuple[int, int]], bold: set[str]) -> list[Mention]:
    out = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in list(_BARE_PAREN.finditer(text)) + list(_GLUED_PAREN.finditer(text)):
        labels = parse_group(m.group(1))
        if labels and free(m.start(), m.end()) and _prev_char(text, m.start()) != "(":
            out.append(Mention(m.start(), m.end(), labels, "bare"))
            taken.append((m.start(), m.end()))
    for m in _BARE.finditer(text):
        labels = parse_group(m.group(1))
        if not labels or not free(m.start(), m.end()) or not _GLUED_OK.search(text[: m.start()]):
            continue
        if _bare_ok(text, m, m.group(2), bold, labels):
            out.append(Mention(m.start(), m.end(), labels, "bare"))
            taken.append((m.start(), m.end()))
    return out


def find_mentions(text: str, bold_labels: list[str] | None = None) -> list[Mention]:
    """All candidate label mentions in ``text``, in caption order (not yet filtered)."""
    paren = _paren_mentions(text)
    taken = [(m.start, m.end) for m in paren]
    bare = _bare_mentions(text, taken, set(bold_labels or []))
    return sorted(paren + bare, key=lambda m: m.start)


_CAPITAL_BARE = re.compile(r"(?:^|(?<=[.;:!?])|(?<=[.;:!?]\s))([A-Z])\s+(?=[A-Z][a-z])")


def capital_bare_mentions(text: str) -> list[Mention]:
    """Fallback for captions printing upper-case labels bare ("in vivo.A Mice were ... B Nodules").

    A capital letter opening a sentence before a capitalised word; kept only as a run from
    ``A`` of at least two letters with one that is not an English word (``A``, ``I``), each
    letter once.
    """
    found: dict[str, Mention] = {}
    for m in _CAPITAL_BARE.finditer(text):
        found.setdefault(m.group(1), Mention(m.start(1), m.end(1), [m.group(1)], "bare"))
    run = _keep_run(set(found))
    letters = {c.upper() for c in run}
    if "A" not in letters or len(letters) < 2 or not letters - {"A", "I"}:
        return []
    return sorted((found[c] for c in letters), key=lambda m: m.start)


def _letter_case(label: str) -> str:
    return "upper" if label[0].isupper() else "lower"


def _keep_run(letters: set[str]) -> set[str]:
    """Letters of the near-contiguous run that starts at ``a`` (one missing letter allowed)."""
    ordinals = sorted({ord(c.lower()) for c in letters})
    if not ordinals or ordinals[0] > ord("c"):
        return set()
    kept = [ordinals[0]]
    for o in ordinals[1:]:
        if o - kept[-1] > 2:
            break
        kept.append(o)
    return {chr(o) for o in kept}


def _choose_scheme(mentions: list[Mention]) -> tuple[str, str]:
    """('letter' or 'roman', 'upper' or 'lower') by majority over the mentions."""
    counts = {"upper": 0, "lower": 0}
    strict_roman = letters = 0
    for m in mentions:
        for lab in m.labels:
            if len(lab) > 1 and is_roman(lab):
                strict_roman += 1
            elif not is_roman(lab):
                letters += 1
                counts[_letter_case(lab)] += 1
    scheme = "roman" if strict_roman and not letters else "letter"
    case = "upper" if counts["upper"] >= counts["lower"] and counts["upper"] else "lower"
    return scheme, case


def _is_abbreviation(text: str, m: Mention) -> bool:
    """``left (L)``, ``turning (T)``: a lone letter in parentheses that abbreviates the word before it."""
    words = re.findall(r"[A-Za-z]+", text[max(0, m.start - 40) : m.start])
    return bool(words) and len(m.labels) == 1 and words[-1][0].lower() == m.labels[0][0].lower()


def _drop_stray_letters(mentions: list[Mention], text: str) -> list[Mention]:
    """Drop abbreviations named past a gap at the end of the letter run (A..J then "left (L)")."""
    letters = sorted({ord(lab[0].lower()) for m in mentions for lab in m.labels})
    contiguous = letters[0] if letters else 0
    for o in letters[1:]:
        if o != contiguous + 1:
            break
        contiguous = o
    return [
        m
        for m in mentions
        if not (m.kind == "paren" and ord(m.labels[0][0].lower()) > contiguous and _is_abbreviation(text, m))
    ]


def filter_mentions(
    mentions: list[Mention], bold_labels: list[str] | None = None, text: str = ""
) -> list[Mention]:
    """Keep mentions that fit one consistent label scheme; drop back-references and abbreviations."""
    letters_ = [m for m in mentions if m.kind != "position"]
    if not letters_:
        return [m for m in mentions if m.kind == "position"]
    scheme, case = _choose_scheme(letters_)
    if scheme == "roman":
        kept = [m for m in letters_ if all(is_roman(lab) for lab in m.labels)]
    else:

        def fits(lab: str) -> bool:
            return not (len(lab) > 1 and is_roman(lab)) and _letter_case(lab) == case

        kept = [m for m in letters_ if all(fits(lab) for lab in m.labels)]
        run = _keep_run({lab[0] for m in kept for lab in m.labels})
        if bold_labels:
            run |= {b[0].lower() for b in bold_labels}
        kept = [m for m in kept if all(lab[0].lower() in run for lab in m.labels)]
        kept = _drop_orphan_subs(kept)
        if text:
            kept = _drop_stray_letters(kept, text)
    return _drop_back_references(kept)


def _drop_orphan_subs(mentions: list[Mention]) -> list[Mention]:
    """Drop mentions naming a sub-label (``Cx``, ``Bv``) whose letter never gets a first one (``Ci``).

    Sub-numerals count from ``i``; a lone ``(Cx)`` is an abbreviation ("castration (Cx)").
    """
    firsts = {lab[0] for m in mentions for lab in m.labels if lab[1:].rstrip("'") == "i"}

    def orphan(lab: str) -> bool:
        sub = lab[1:].rstrip("'")
        return len(lab) > 1 and not is_roman(lab) and is_roman(sub) and lab[0] not in firsts

    return [m for m in mentions if not any(orphan(lab) for lab in m.labels)]


def _drop_back_references(mentions: list[Mention]) -> list[Mention]:
    """Drop an inline ``(A)`` naming only labels already introduced while a later label was seen."""
    seen: set[str] = set()
    highest: tuple | None = None
    out = []
    for m in mentions:
        keys = [sort_key(lab) for lab in m.labels]
        is_back = (
            m.kind == "paren"
            and len(m.labels) == 1
            and m.labels[0] in seen
            and highest is not None
            and max(keys) < highest
        )
        if is_back:
            continue
        out.append(m)
        if len(m.labels) <= 2:
            seen.update(m.labels)
        top = max(keys)
        highest = top if highest is None or top > highest else highest
    return out
