"""Link detected markers to the caption phrases that define them.

A marker and a phrase match on kind (arrow and arrowhead may stand for each other, at a lower
score) and on colour (a phrase without a colour matches any colour, at a lower score). Each
marker gets its best phrase; unmatched markers and phrases are kept as one-sided links.
"""

from __future__ import annotations

from dataclasses import dataclass

from curate.markers.detect import DetectedMarker
from curate.markers.phrases import MarkerPhrase

POINTERS = ("arrow", "arrowhead")


@dataclass(frozen=True)
class Link:
    """``marker_index`` into the markers list, ``phrase_index`` into the phrases list; either may be None."""

    marker_index: int | None
    phrase_index: int | None
    score: float


def pair_score(marker: DetectedMarker, phrase: MarkerPhrase) -> float:
    """0..1: 1 = same kind and colour; 0 = incompatible."""
    if marker.kind == phrase.kind:
        kind_s = 1.0
    elif marker.kind in POINTERS and phrase.kind in POINTERS:
        kind_s = 0.6
    else:
        return 0.0
    if phrase.colour is None:
        colour_s = 0.8
    elif phrase.colour == marker.colour:
        colour_s = 1.0
    else:
        return 0.0
    return round(kind_s * colour_s * (0.5 + 0.5 * marker.confidence), 4)


def link_markers(markers: list[DetectedMarker], phrases: list[MarkerPhrase]) -> list[Link]:
    """Best phrase per marker (many markers may share one phrase); one-sided links for the rest.

    Links come marker by marker in input order, then the phrases that no marker took.
    """
    links: list[Link] = []
    used: set[int] = set()
    for i, m in enumerate(markers):
        scores = [pair_score(m, p) for p in phrases]
        best = max(range(len(phrases)), key=lambda j: scores[j], default=None)
        if best is None or scores[best] <= 0:
            links.append(Link(i, None, 0.0))
            continue
        used.add(best)
        links.append(Link(i, best, scores[best]))
    links.extend(Link(None, j, 0.0) for j in range(len(phrases)) if j not in used)
    return links


def link_counts(links: list[Link]) -> dict[str, int]:
    """Numbers of linked pairs, markers without a phrase and phrases without a marker."""
    return {
        "linked": sum(1 for lk in links if lk.marker_index is not None and lk.phrase_index is not None),
        "unmatched_markers": sum(1 for lk in links if lk.phrase_index is None),
        "unmatched_phrases": sum(1 for lk in links if lk.marker_index is None),
    }


def zoom_panel(target: str | None, labels: dict[str, str], own_label: str | None = None) -> str | None:
    """Id of the panel whose label is the zoom ``target`` of a phrase ("magnified in C").

    ``labels`` maps panel labels to panel ids within one figure. An exact label wins over a
    case-insensitive one; a panel never magnifies itself.
    """
    if not target:
        return None
    hit = labels.get(target)
    if hit is None:
        folded = [pid for label, pid in labels.items() if label.lower() == target.lower()]
        hit = folded[0] if len(folded) == 1 else None
    own = labels.get(own_label) if own_label else None
    return hit if hit is not None and hit != own else None
