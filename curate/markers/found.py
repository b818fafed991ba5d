"""What the marker detector reports: one ``DetectedMarker`` per marker, a ``MarkerScan`` per
panel, and the confidence and clearance floors shared by its solid-glyph and outline searches."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("arrow", "arrowhead", "asterisk", "box", "circle")
MIN_CONFIDENCE = 0.45
MIN_CLEAR = 0.7


@dataclass(frozen=True)
class DetectedMarker:
    """One marker; ``tip_xy``/``direction_deg`` only for arrows and arrowheads (0 = right, 90 = down)."""

    kind: str
    colour: str
    bbox_xyxy: tuple[int, int, int, int]
    tip_xy: tuple[int, int] | None
    direction_deg: float | None
    confidence: float


@dataclass
class MarkerScan:
    """Markers and scale bars found in one panel."""

    markers: list[DetectedMarker] = field(default_factory=list)
    scale_bars: list[tuple[int, int, int, int]] = field(default_factory=list)
