"""Panel-level in-text mentions: which sentences cite panel B of Figure 2.

Handles "Fig. 2B", "Figure 2B–D", "Figs. 2B and 3C", "Fig. 2, B and C", "(Figure 2A, C)".
Letters are compared case-insensitively, since papers print "Fig. 2b" for panel "B".
"""

from __future__ import annotations

import re

_CITATION_HEAD = re.compile(r"\bFig(?:ure)?s?\.?\s*(?=\d)")
# Everything a citation's tail may hold: numbers, panel letters, primes, ranges, lists.
_TAIL = re.compile(r"[0-9A-Za-z’′'\s,&–—-]*")
_TOKEN = re.compile(r"(\d+)|([A-Za-z]{1,3})[’′']?|([–—-])")


def _parse_tail(tail: str, cited: dict[str, set[str]]) -> None:
    figure, last_letter, pending_range = None, None, False
    for match in _TOKEN.finditer(tail):
        number, word, dash = match.groups()
        if number:
            figure, last_letter, pending_range = number, None, False
            cited.setdefault(figure, set())
        elif dash:
            pending_range = last_letter is not None
        elif word and figure is not None:
            low = word.lower()
            if low in ("and", "to"):
                pending_range = pending_range or low == "to"
                continue
            if len(word) > 1 and not re.fullmatch(r"[A-Za-z](?:i{1,3}|iv|v)", word):
                break  # an ordinary word ends the citation
            letter = word[0].upper()
            if pending_range and last_letter:
                lo, hi = sorted((last_letter, letter))
                cited[figure].update(chr(c) for c in range(ord(lo), ord(hi) + 1))
            else:
                cited[figure].add(letter)
            last_letter, pending_range = letter, False


def cited_panels(sentence: str) -> dict[str, set[str]]:
    """Figure number -> panel labels (upper-cased) cited in ``sentence``."""
    cited: dict[str, set[str]] = {}
    for head in _CITATION_HEAD.finditer(sentence):
        tail = _TAIL.match(sentence, head.end()).group(0)
        _parse_tail(re.sub(r"(\d)([A-Za-z])", r"\1 \2", tail), cited)
    return cited


def figure_number(label: str) -> str | None:
    match = re.search(r"(\d+)", label or "")
    return match.group(1) if match else None


def panel_mentions(mentions: list[str], panel_label: str | None, figure_label: str = "") -> list[str]:
    """The sentences among ``mentions`` (already citing the figure) that cite this panel."""
    if not panel_label:
        return []
    number = figure_number(figure_label)
    wanted = panel_label.upper()
    out = []
    for sentence in mentions:
        for fig, letters in cited_panels(sentence).items():
            if (number is None or fig == number) and wanted in letters:
                out.append(sentence)
                break
    return out
