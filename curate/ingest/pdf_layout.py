"""Page layout for PDF figure ingest: text blocks, captions and figure regions.

All coordinates are PDF points in PyMuPDF's page frame (origin top-left, y down), as
``(x0, y0, x1, y1)`` tuples.

Caption rule (why a block is a caption and not a body sentence such as "Figure 2 shows"):
a line must start with ``Fig``/``Figure``/``FIG``/``FIGURE`` + a number (``3``, ``S2``), and
then either (a) a delimiter follows the number (``.`` ``:`` ``|`` or a dash) and the next
word is not lower case ("Fig. 1 | Origin...", "Figure 2: ..."), or (b) the label is set in
bold or the block is in a style other than the body text and the next word is capitalised
("**Fig. 1** Overview..."). A label followed by a panel letter or a lower-case word
("Fig. 3b, ...", "Figure 2 shows ...") is never a caption. When one number has several
candidates, the one with the strongest evidence (distinct style, bold label, delimiter,
start of a block) wins.

Figure region rule: graphics are the page's drawn paths and images (``get_bboxlog``),
minus page backgrounds and page-long rules; short non-body text lines (axis labels, panel
letters) join them. These are painted on a 1-pt grid, dilated by ``GAP_PT`` and split into
connected components. A caption's region is the union of the graphic components inside the
space between the caption and the nearest body text or caption above it (in the caption's
columns); if that space holds no graphics, the space below is tried. A component serves
one caption only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from curate.images import label_components
from curate.mupdf import pymupdf

Box = tuple[float, float, float, float]

GAP_PT = 7  # graphics/labels closer than this belong together (typical tick-label offset)
SCALE = 2  # pixels per point of the layout render: boxes are exact to half a point
INK_DELTA = 24  # a channel this far from the background colour counts as ink
MARGIN_FRAC = 0.055  # top/bottom page band of running heads and folios
TEXT_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP  # ligatures expanded, whitespace normalised
_LABEL = re.compile(r"^\s*(?P<word>FIGURE|Figure|FIG\.?|Fig\.?)\s*(?P<num>S?\d{1,3})(?![\d])")
_TABLE = re.compile(r"^\s*(TABLE|Table)\s*S?\d{1,3}\b")
_DELIM = re.compile(r"^\s*(\||[.:]|[-–—]\s)\s*")
_BOLD = re.compile(r"bold|heavy|black|semibold|demi|medi|\.b$|-b$", re.IGNORECASE)


@dataclass
class Line:
    bbox: Box
    text: str
    style: tuple[str, float]
    first_bold: bool


@dataclass
class TextBlock:
    bbox: Box
    lines: list[Line]
    style: tuple[str, float]  # dominant (font, size) by character count

    @property
    def n_chars(self) -> int:
        return sum(len(ln.text) for ln in self.lines)


@dataclass
class Caption:
    page: int
    label: str  # as printed, e.g. "Fig. 1"
    number: str  # e.g. "1", "S2"
    score: int
    blocks: list[TextBlock] = field(default_factory=list)

    @property
    def bbox(self) -> Box:
        return union([b.bbox for b in self.blocks])


def union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _line_from_spans(spans: list[dict]) -> Line | None:
    """Join spans, adding a space where the PDF positions words apart without one."""
    text, prev_x1, weights = "", None, {}
    for sp in spans:
        t = sp["text"]
        if not t:
            continue
        if prev_x1 is not None and text and not text[-1].isspace() and not t[0].isspace():
            if sp["bbox"][0] - prev_x1 > 0.15 * sp["size"]:
                text += " "
        text += t
        prev_x1 = sp["bbox"][2]
        key = (sp["font"], round(sp["size"], 1))
        weights[key] = weights.get(key, 0) + len(t.strip())
    text = " ".join(text.split())
    if not text:
        return None
    first = next(s for s in spans if s["text"].strip())
    x0 = min(s["bbox"][0] for s in spans)
    y0 = min(s["bbox"][1] for s in spans)
    x1 = max(s["bbox"][2] for s in spans)
    y1 = max(s["bbox"][3] for s in spans)
    bold = bool(first["flags"] & 16) or bool(_BOLD.search(first["font"]))
    return Line((x0, y0, x1, y1), text, max(weights, key=weights.get), bold)


def page_blocks(page: pymupdf.Page) -> list[TextBlock]:
    """Text blocks of a page; a block is split where a line starts a caption label."""
    out: list[TextBlock] = []
    for raw in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        if raw.get("type", 0) != 0:
            continue
        lines = [ln for ln in (_line_from_spans(r["spans"]) for r in raw["lines"]) if ln]
        group: list[Line] = []
        for ln in lines:
            if group and (_LABEL.match(ln.text) or _TABLE.match(ln.text)) and ln.style != group[-1].style:
                out.append(_block(group))
                group = []
            group.append(ln)
        if group:
            out.append(_block(group))
    return out


def _block(lines: list[Line]) -> TextBlock:
    weights: dict[tuple[str, float], int] = {}
    for ln in lines:
        weights[ln.style] = weights.get(ln.style, 0) + len(ln.text)
    return TextBlock(union([ln.bbox for ln in lines]), lines, max(weights, key=weights.get))


def body_style(all_blocks: list[list[TextBlock]]) -> tuple[str, float]:
    """The (font, size) that sets the most characters in the document: the body text."""
    weights: dict[tuple[str, float], int] = {}
    for blocks in all_blocks:
        for b in blocks:
            for ln in b.lines:
                weights[ln.style] = weights.get(ln.style, 0) + len(ln.text)
    return max(weights, key=weights.get) if weights else ("", 0.0)


def caption_candidate(block: TextBlock, body: tuple[str, float], page: int) -> Caption | None:
    """A Caption if the block starts like one (see the module docstring), else None."""
    first = block.lines[0]
    m = _LABEL.match(first.text)
    if not m:
        return None
    rest = first.text[m.end():]
    distinct = block.style != body
    delim = _DELIM.match(rest)
    after = rest[delim.end():] if delim else rest.lstrip()
    if after[:1].islower() or (not delim and rest[:1].isalpha()):
        return None  # "Figure 2 shows", "Fig. 3b, ..."
    if not delim and not ((first.first_bold or distinct) and after[:1].isupper()):
        return None
    score = 2 * distinct + first.first_bold + bool(delim)
    label = f"{m.group('word')} {m.group('num')}"
    return Caption(page, label, m.group("num"), score, [block])


def extend_caption(cap: Caption, blocks: list[TextBlock], body: tuple[str, float],
                   taken: set[int]) -> None:
    """Add the blocks that continue a caption: same distinct style, directly below it or
    at its top in the next column. Nothing is added when captions share the body style,
    since then a following paragraph cannot be told from a caption continuation."""
    head = cap.blocks[0]
    if head.style == body:
        return
    size = head.style[1]
    grown = True
    while grown:
        grown = False
        for i, b in enumerate(blocks):
            if i in taken or any(b is c for c in cap.blocks) or b.style != head.style:
                continue
            last = cap.blocks[-1].bbox
            below = 0 <= b.bbox[1] - last[3] < 1.2 * size and _x_overlap(b.bbox, last) > 0.5
            beside = abs(b.bbox[1] - head.bbox[1]) < 0.6 * size and 0 <= b.bbox[0] - cap.bbox[2] < 40
            if below or beside:
                cap.blocks.append(b)
                taken.add(i)
                grown = True


def _x_overlap(a: Box, b: Box) -> float:
    """Horizontal overlap as a fraction of the narrower box."""
    inter = min(a[2], b[2]) - max(a[0], b[0])
    return max(0.0, inter) / max(1e-6, min(a[2] - a[0], b[2] - b[0]))


def is_table_caption(block: TextBlock) -> bool:
    return bool(_TABLE.match(block.lines[0].text))


def ink_mask(page: pymupdf.Page, text_boxes: list[Box]) -> np.ndarray:
    """Where the page is drawn on, other than text, at ``SCALE`` pixels per point.

    The page is rendered rather than its drawing list read: rendering honours clipping
    paths (a clipped image's bbox can exceed the page), white cover-ups and soft masks.
    Ink is any pixel far from the page's most common colour; text line boxes are cleared,
    page-long rules and full-page scans are removed (they would join unrelated content)."""
    pix = page.get_pixmap(matrix=pymupdf.Matrix(SCALE, SCALE), alpha=False, colorspace=pymupdf.csRGB)
    rgb = np.frombuffer(pix.samples_mv, np.uint8).reshape(pix.height, pix.width, 3)  # a view: pix outlives it
    sub = rgb[::4, ::4].astype(np.int64)
    packed = ((sub[..., 0] << 16) | (sub[..., 1] << 8) | sub[..., 2]).ravel()
    bg_val = _most_common(packed)
    bg = ((bg_val >> 16) & 255, (bg_val >> 8) & 255, bg_val & 255)
    # "every channel within INK_DELTA of the background" in one OpenCV pass: the complement is
    # exactly "largest channel difference > INK_DELTA", with no per-channel distance images
    near = cv2.inRange(rgb, tuple(max(0, c - INK_DELTA) for c in bg), tuple(min(255, c + INK_DELTA) for c in bg))
    ink = cv2.threshold(near, 0, 1, cv2.THRESH_BINARY_INV)[1]
    for x0, y0, x1, y1 in text_boxes:
        ink[int(y0 * SCALE): int(np.ceil(y1 * SCALE)), int(x0 * SCALE): int(np.ceil(x1 * SCALE))] = 0
    n, labels, stats = label_components(ink)
    h, w = ink.shape
    bw, bh, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    rule = ((bh <= 4 * SCALE) & (bw > 0.6 * w)) | ((bw <= 4 * SCALE) & (bh > 0.6 * h))
    scan = area > 0.85 * w * h
    drop = rule | scan
    if not drop[1:].any():  # the common page: no rules, no scan; label 0 is already 0
        return ink
    drop[0] = True
    return np.where(drop[labels], 0, ink).astype(np.uint8)


def _most_common(values: np.ndarray) -> int:
    """The most common value, the smallest of equally common ones. A value held by more than
    half the samples is it: white paper or the top-left colour is checked first, one pass
    each, before sorting them all (np.unique, not bincount: a bincount over 24-bit colours
    allocates 128 MB per page)."""
    for guess in (0xFFFFFF, int(values[0])):
        if 2 * np.count_nonzero(values == guess) > values.size:
            return guess
    uniq, counts = np.unique(values, return_counts=True)
    return int(uniq[counts.argmax()])


@dataclass
class _Components:
    """Connected groups of page elements (graphics and short text) after dilation."""

    boxes: np.ndarray  # (K, 4) union box of each component's elements, points
    graphic: np.ndarray  # (K,) bool: the component holds a path or an image


def _components(ink: np.ndarray, texts: list[Box]) -> _Components:
    """Group ink and candidate text lines that lie within ``GAP_PT`` of each other."""
    mask = ink.copy()
    for x0, y0, x1, y1 in texts:
        mask[int(y0 * SCALE): int(np.ceil(y1 * SCALE)), int(x0 * SCALE): int(np.ceil(x1 * SCALE))] = 2
    r = GAP_PT * SCALE
    marked = (mask > 0).view(np.uint8)
    n, labels, stats = label_components(cv2.dilate(marked, np.ones((2 * r + 1, 2 * r + 1), np.uint8)))
    graphic = np.zeros(n, bool)
    graphic[labels[mask == 1]] = True
    graphic[0] = False
    return _Components(_undilated_boxes(marked, labels, stats, r) / SCALE, graphic)


def _undilated_boxes(marked: np.ndarray, labels: np.ndarray, stats: np.ndarray, r: int) -> np.ndarray:
    """(K, 4) box ``[x0, y0, x1, y1)`` of the marked pixels of each dilated component (row 0,
    the background, infinite). Dilating by a square of radius ``r`` grows a box by ``r`` on
    each side, so the component's own box is its stats box shrunk by ``r``, except on a side
    clipped by the image edge: there the marked pixels within ``r`` of that edge, which
    belong to exactly the components touching it, give the true extent."""
    h, w = marked.shape
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    boxes = np.stack([left + r, top + r, right - r, bottom - r], axis=1).astype(np.float64)
    for axis, lo in ((1, True), (1, False), (0, True), (0, False)):  # left, right, top, bottom edges
        size = w if axis == 1 else h
        first = 0 if lo else max(0, size - 1 - r)
        strip = np.s_[:, first:first + r + 1] if axis == 1 else np.s_[first:first + r + 1, :]
        ys, xs = np.nonzero(marked[strip])
        at = (xs if axis == 1 else ys) + first
        lab = labels[strip][ys, xs]
        col = (0 if axis == 1 else 1) + (0 if lo else 2)
        if lo:
            np.minimum.at(boxes[:, col], lab, at)
        else:
            np.maximum.at(boxes[:, col], lab, at + 1)
    boxes[0] = (np.inf, np.inf, -np.inf, -np.inf)
    return boxes


def _hits(box: Box, others: list[Box]) -> bool:
    return any(min(box[2], o[2]) > max(box[0], o[0]) and min(box[3], o[3]) > max(box[1], o[1])
               for o in others)


def _zone(cap: Box, blockers: list[Box], height: float, above: bool) -> Box:
    """The free space above (or below) a caption, within the caption's columns."""
    near = [b for b in blockers if _x_overlap(b, cap) > 0.3]
    if above:
        top = max([b[3] for b in near if b[3] <= cap[1] + 1], default=0.0)
        return (cap[0], top, cap[2], cap[1])
    bottom = min([b[1] for b in near if b[1] >= cap[3] - 1], default=height)
    return (cap[0], cap[3], cap[2], bottom)


def _pick(comps: _Components, free: np.ndarray, zone: Box, blockers: list[Box], width: float) -> list[int]:
    """Graphic components centred in the zone, then same-row neighbours not cut off by text;
    a caption set within one half of the page keeps its figure in that half (column)."""
    bx = np.where(np.isfinite(comps.boxes), comps.boxes, 0.0)
    cx, cy = (bx[:, 0] + bx[:, 2]) / 2, (bx[:, 1] + bx[:, 3]) / 2
    inside_y = (bx[:, 1] >= zone[1] - 2) & (bx[:, 3] <= zone[3] + 2)
    if zone[2] <= width / 2 + 10:
        inside_y &= cx <= width / 2
    elif zone[0] >= width / 2 - 10:
        inside_y &= cx >= width / 2
    seeds = free & comps.graphic & inside_y & (cx >= zone[0]) & (cx <= zone[2]) & (cy >= zone[1])
    chosen = list(np.flatnonzero(seeds))
    if not chosen:
        return []
    grown = True
    while grown:
        grown = False
        u = union([tuple(bx[i]) for i in chosen])
        for k in np.flatnonzero(free & inside_y & (cy >= u[1]) & (cy <= u[3])):
            if k in chosen:
                continue
            b = bx[k]
            gap_x = max(b[0] - u[2], u[0] - b[2], 0.0)
            if not comps.graphic[k] and gap_x > 2 * GAP_PT:
                continue  # lone text far from the figure: likely body matter
            bridge = (min(u[2], b[2]), max(u[1], b[1]), max(u[0], b[0]), min(u[3], b[3]))
            if gap_x > 0 and _hits(bridge, blockers):
                continue
            chosen.append(int(k))
            grown = True
    return chosen


def figure_regions(page: pymupdf.Page, captions: list[Caption], blockers: list[Box],
                   texts: list[Box], all_texts: list[Box]) -> list[Box | None]:
    """One region (points) per caption of this page, or None where no graphics were found.

    ``blockers`` are body-text and caption boxes (regions never cross them); ``texts`` are
    lines that may belong to a figure (axis labels, panel letters); ``all_texts`` are all
    text lines of the page (cleared from the rendered ink)."""
    height = page.rect.height
    # running heads and page numbers never belong to a figure
    texts = [t for t in texts if t[1] > MARGIN_FRAC * height and t[3] < (1 - MARGIN_FRAC) * height]
    comps = _components(ink_mask(page, all_texts), texts)
    free = np.isfinite(comps.boxes[:, 0])
    free[0] = False
    out: list[Box | None] = []
    for cap in captions:
        region = None
        for above in (True, False):
            zone = _zone(cap.bbox, [b for b in blockers if not _inside(b, cap.bbox)],
                         page.rect.height, above)
            chosen = _pick(comps, free, zone, blockers, page.rect.width)
            if chosen:
                free[chosen] = False
                region = union([tuple(float(v) for v in comps.boxes[i]) for i in chosen])
                break
        out.append(region)
    return out


def _inside(inner: Box, outer: Box) -> bool:
    return (inner[0] >= outer[0] - 0.5 and inner[1] >= outer[1] - 0.5
            and inner[2] <= outer[2] + 0.5 and inner[3] <= outer[3] + 0.5)
