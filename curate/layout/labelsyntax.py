"""Grammar of printed panel labels: atoms (``A``, ``b``, ``Ai``, ``A'``, ``iv``), lists and ranges.

Shared by the caption splitter and the label reader so both agree on what a label is.
"""

from __future__ import annotations

import re

ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
_ROMAN_RE = r"(?:viii|vii|vi|iv|ix|xii|xi|x|v|iii|ii|i)"
# One label atom: a letter with an optional roman sub-numeral or prime marks, or a bare roman numeral.
ATOM_RE = rf"(?:[A-Za-z](?:\s?{_ROMAN_RE}(?![a-z]))?['′’]*)"
_ATOM_FULL = re.compile(rf"^(?:[A-Za-z](?:\s?{_ROMAN_RE})?['′’]*|{_ROMAN_RE})$")
_RANGE = re.compile(r"^(.+?)\.?\s*(?:[-–—−]|\bto\b|\bthrough\b)\s*(.+?)\.?$")
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bor\b)\s*")
_PANEL_WORD = re.compile(r"^(?:panels?|insets?)\s+", re.I)
POSITION_WORDS = ("left", "right", "top", "bottom", "upper", "lower", "middle", "center", "centre")
_POSITION_RE = re.compile(
    r"^(?:(?:top|bottom|upper|lower|middle)\s+)?(?:left|right|top|bottom|upper|lower|middle|center|centre)"
    r"(?:\s+(?:panel|image|row|column))?$",
    re.I,
)


def norm_atom(token: str) -> str | None:
    """Canonical form of one label atom (``'A i'`` -> ``'Ai'``, ``'a.'`` -> ``'a'``), or None."""
    token = token.strip().rstrip(".").strip()
    if not _ATOM_FULL.match(token):
        return None
    return token.replace(" ", "").replace("′", "'").replace("’", "'")


def is_roman(label: str) -> bool:
    """True for a bare roman numeral ``i`` .. ``xii`` (lower case only, as printed in captions)."""
    return label in ROMAN


def base_letter(label: str) -> str:
    """The panel letter of a label (``'Aii'`` -> ``'A'``)."""
    return label[0]


def sort_key(label: str) -> tuple:
    """Natural order: letters alphabetically, then sub-numerals (``A < Ai < Aii < B``)."""
    if is_roman(label):
        return (0, ROMAN.index(label), "")
    sub = label[1:].rstrip("'")
    sub_rank = ROMAN.index(sub) + 1 if sub in ROMAN else 0
    return (ord(label[0].lower()) - 96, sub_rank, label.count("'"))


def sort_labels(labels: list[str]) -> list[str]:
    """``labels`` in natural order; among letter labels a lone ``i``/``v``/``x`` is the letter, not
    a roman numeral (``a..h, i, j`` keeps ``i`` between ``h`` and ``j``)."""
    letters = any(not is_roman(lab) for lab in labels)

    def key(label: str) -> tuple:
        if letters and len(label) == 1:
            return (ord(label.lower()) - 96, 0, 0)
        return sort_key(label)

    return sorted(labels, key=key)


def expand_range(first: str, last: str) -> list[str] | None:
    """Labels from ``first`` to ``last`` inclusive (``A``–``D``, ``ii``–``iv``, ``Ai``–``Aiii``)."""
    if len(first) > 1 and not is_roman(first) and first[1:] in ROMAN and is_roman(last):
        last = first[0] + last  # "(Ai–ii)": the letter is printed once
    if is_roman(first) and is_roman(last):
        lo, hi = ROMAN.index(first), ROMAN.index(last)
        return list(ROMAN[lo : hi + 1]) if lo < hi else None
    if len(first) == 1 and len(last) == 1 and first.isupper() == last.isupper():
        lo, hi = ord(first), ord(last)
        return [chr(c) for c in range(lo, hi + 1)] if lo < hi <= lo + 25 else None
    if first[0] == last[0] and first[1:] in ROMAN and last[1:] in ROMAN:
        lo, hi = ROMAN.index(first[1:]), ROMAN.index(last[1:])
        return [first[0] + r for r in ROMAN[lo : hi + 1]] if lo < hi else None
    return None


def parse_group(text: str) -> list[str] | None:
    """Labels named by a group such as ``A``, ``a, c and e``, ``G-I``, ``A.–D.``, ``Panel b``.

    Returns None when any part of ``text`` is not a label (``n = 3``, ``CD4``, ``i.e.``).
    """
    text = _PANEL_WORD.sub("", text.strip())
    if not text or any(ch.isdigit() for ch in text) or len(text) > 40:
        return None
    labels: list[str] = []
    for token in _LIST_SPLIT.split(text):
        if not token:
            continue
        atom = norm_atom(token)
        if atom is not None:
            labels.append(atom)
            continue
        match = _RANGE.match(token)
        if not match:
            return None
        first, last = norm_atom(match.group(1)), norm_atom(match.group(2))
        expanded = expand_range(first, last) if first and last else None
        if expanded is None:
            return None
        labels.extend(expanded)
    return labels or None


def parse_position(text: str) -> str | None:
    """``'left'``, ``'top right'`` ... when ``text`` names a position instead of a letter."""
    text = text.strip().lower()
    return re.sub(r"\s+(?:panel|image|row|column)$", "", text) if _POSITION_RE.match(text) else None
