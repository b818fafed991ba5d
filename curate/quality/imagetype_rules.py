"""Hand rules for the image type of a figure or panel: photo (any photograph or medical/microscopy
image), chart, diagram, gel_blot, table or text, from pixel cues plus caption words. The stage uses
the learned classifier in ``imagetype``, which takes these rules' scores as some of its features;
``rule_image_type`` is kept as the baseline the benchmark compares it with.

Each type collects evidence from the cues (``features.ImageCues``) as a score; caption words
(``vocab.yaml``, section ``image_type``) add to it; the softmax of the scores is the confidence.
The pixel rules encode what makes each type look the way it does:

- photo: little page-white background, textured (few flat pixels), many colours;
- chart: page-white, flat-filled, long axis lines, a lower-left axis corner, few colours;
- diagram: flat colour-filled shapes and text without axes;
- gel_blot: greyscale, wide short dark bands on a light field, grainy (fewer flat pixels);
- table: greyscale, rows of words that merge into many wide bands, no axes;
- text: greyscale, dense glyphs, no long lines and no bands (equations, text blocks).
"""

from __future__ import annotations

import math
import re

from curate.quality.features import ImageCues
from curate.quality.vocab import text_evidence

IMAGE_TYPES = ("photo", "chart", "diagram", "gel_blot", "table", "text")
TEXT_WEIGHT = 1.0  # how much one caption hit counts against the pixel evidence
TABLE_TITLE = re.compile(r"^\s*table\s+[A-Z]?\d", re.IGNORECASE)


def _ramp(value: float, lo: float, hi: float) -> float:
    """0 below ``lo``, 1 above ``hi``, linear between (``lo > hi`` ramps downwards)."""
    if lo == hi:
        return float(value >= hi)
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))


def pixel_scores(c: ImageCues) -> dict[str, float]:
    lines = c.long_hlines + c.long_vlines
    grey = _ramp(c.grey_frac, 0.9, 0.97) * _ramp(c.colourful_frac, 0.02, 0.0)
    page = _ramp(c.white_frac, 0.3, 0.5)
    photo = 3.0 * (1 - page) + 1.5 * _ramp(c.flat_frac, 0.45, 0.3) + _ramp(c.palette90, 10, 40) \
        - 1.5 * _ramp(c.n_glyphs_per_kpx, 1.0, 2.5)
    ticks = _ramp(c.tick_marks, 1, 5)  # short strokes hanging off an axis line
    boxes = _ramp(c.outline_boxes, 1, 4)  # hollow boxes and ellipses that hold words
    chart = 1.5 * page + 1.0 * c.axis_corner + 0.8 * _ramp(lines, 0, 2) + 0.7 * _ramp(c.flat_frac, 0.5, 0.65) \
        + 0.5 * _ramp(c.palette90, 12, 6) + 0.6 * ticks - 0.5 * boxes * (1 - ticks)
    diagram = 1.5 * page + 1.2 * _ramp(c.grey_frac, 0.8, 0.5) + 0.6 * _ramp(c.flat_frac, 0.5, 0.7) \
        - 1.0 * c.axis_corner - 0.5 * _ramp(lines, 1, 4) + 0.3 * _ramp(c.text_cover, 0.05, 0.1) \
        + 1.0 * _ramp(c.colourful_frac, 0.08, 0.25) + 0.8 * boxes * (1 - ticks)
    # a gel or blot shows its bands: without any, grey-on-white line art is a plot or a sketch
    bands = _ramp(c.band_count, 2, 6)
    gel = 1.5 * page + 1.2 * grey * bands + 1.2 * _ramp(c.band_count, 3, 8) * _ramp(c.band_count, 25, 15) \
        + 0.8 * _ramp(c.flat_frac, 0.6, 0.5) - 0.8 * _ramp(c.n_glyphs_per_kpx, 2.0, 3.0) - 0.6 * ticks
    table = 1.5 * page + 1.2 * grey * _ramp(c.band_count, 3, 10) + 1.5 * _ramp(c.band_count, 12, 30) + 0.6 * _ramp(c.edge_frac, 0.12, 0.2) \
        - 0.8 * c.axis_corner * _ramp(c.band_count, 30, 12)
    text = 1.5 * page + 1.2 * grey + 1.0 * _ramp(c.n_glyphs_per_kpx, 1.2, 2.5) + 0.8 * _ramp(lines, 1, 0) \
        + 0.5 * _ramp(c.band_count, 3, 0) - 1.0 * _ramp(c.band_count, 5, 15) \
        + 1.2 * _ramp(c.height_px, 200, 120) * _ramp(c.width_px / max(c.height_px, 1), 1.5, 2.5) \
        - 2.0 * _ramp(c.grey_frac, 0.99, 0.95)  # typeset text is black on white; coloured marks are plots
    return {"photo": photo, "chart": chart, "diagram": diagram, "gel_blot": gel, "table": table, "text": text}


def softmax(scores: dict[str, float], temperature: float = 0.5) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp((v - top) / temperature) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def rule_image_type(cues: ImageCues, texts: list[tuple[str, float]]) -> tuple[str, float, dict[str, float]]:
    """``(type, confidence, probabilities)`` of one image from its cues and weighted texts."""
    scores = pixel_scores(cues)
    if max(scores, key=scores.get) != "photo":
        # words choose among drawn types; they never turn a textured image into a drawing. Only
        # the image's own text counts: a figure caption's "mean ± SD" says nothing about panel A
        for label, hits in text_evidence("image_type", texts[:1]).items():
            scores[label] += TEXT_WEIGHT * min(hits, 2.0)
        if texts and TABLE_TITLE.match(texts[0][0]):
            scores["table"] += 2 * TEXT_WEIGHT  # "see Table 2" in a caption says nothing; a title does
    probs = softmax(scores)
    best = max(IMAGE_TYPES, key=lambda k: (probs[k], -IMAGE_TYPES.index(k)))
    return best, round(probs[best], 4), probs
