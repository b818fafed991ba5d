"""Final confidence of marker candidates: colour priors, caption guidance, threshold and cap.

Shape tests give a raw score in 0..1. This module turns it into the reported confidence:
a prior per colour (blue ink is mostly DAPI / nuclear stain, rarely a drawn marker), an
optional boost for the (kind, colour) pairs that the caption names and a damping for the
others, then a report threshold and a cap on the number of markers per panel.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curate.markers.detect import DetectedMarker

REPORT_THRESHOLD = 0.6  # unguided: trades recall for precision on the raw shape scores
GUIDED_THRESHOLD = 0.5  # a caption that names the marker lowers the bar for it
MAX_PER_PANEL = 30  # a panel with more candidates than this is dominated by look-alikes
COLOUR_PRIOR = {"blue": 0.75}
GUIDED_BOOST = 0.15
UNNAMED_DAMPING = 0.85
POINTERS = ("arrow", "arrowhead")

Expected = list[tuple[str, str | None]]


def _named(kind: str, colour: str, expected: Expected) -> bool:
    """The caption names this kind (arrow and arrowhead interchangeable) in this colour or none."""
    for e_kind, e_colour in expected:
        same = e_kind == kind or (e_kind in POINTERS and kind in POINTERS)
        if same and e_colour in (None, colour):
            return True
    return False


def calibrated(m: DetectedMarker, expected: Expected | None) -> float:
    """Reported confidence of one candidate (0..1)."""
    c = m.confidence * COLOUR_PRIOR.get(m.colour, 1.0)
    if expected is not None:
        c = c + GUIDED_BOOST if _named(m.kind, m.colour, expected) else c * UNNAMED_DAMPING
    return round(float(min(1.0, c)), 3)


def finalise(markers: list[DetectedMarker], expected: Expected | None = None) -> list[DetectedMarker]:
    """Calibrate, keep those above the threshold (guided or not), at most ``MAX_PER_PANEL``."""
    out = []
    for m in markers:
        c = calibrated(m, expected)
        bar = GUIDED_THRESHOLD if expected and _named(m.kind, m.colour, expected) else REPORT_THRESHOLD
        if c >= bar:
            out.append(replace(m, confidence=c))
    out.sort(key=lambda d: -d.confidence)
    return out[:MAX_PER_PANEL]
