"""Compound-figure layout: panel separation, panel labels, caption splitting and alignment."""

from curate.layout.align import Alignment, align_panels
from curate.layout.split import PanelBox, split_panels
from curate.layout.subcaptions import CaptionSplit, split_caption

__all__ = ["Alignment", "CaptionSplit", "PanelBox", "align_panels", "split_caption", "split_panels"]
