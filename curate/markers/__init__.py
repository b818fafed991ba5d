"""Visual markers: detection in panel pixels, caption phrase grammar, linking and patch geometry."""

from curate.markers.detect import DetectedMarker, MarkerScan, detect_markers
from curate.markers.link import Link, link_counts, link_markers
from curate.markers.patches import patch_box, position_name
from curate.markers.phrases import MarkerPhrase, parse_marker_phrases

__all__ = [
    "DetectedMarker", "MarkerScan", "detect_markers", "Link", "link_markers", "link_counts",
    "patch_box", "position_name", "MarkerPhrase", "parse_marker_phrases",
]
