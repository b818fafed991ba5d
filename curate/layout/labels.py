"""Panel-label glyphs: find isolated letter-shaped blobs, read them with the PP-OCR recogniser, keep a consistent set.

Glyph boxes are ``(x1, y1, x2, y2)`` in figure pixels, half-open. OCR runs on the ink mask
drawn black on white, so white, dark and coloured backgrounds read alike.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import cv2
import numpy as np

from curate.images import label_components
from curate.layout import glyphreader
from curate.layout.gutters import Box
from curate.layout.recogniser import Recogniser

MAX_OCR = 36
_CONFUSABLE = {"1": "l", "|": "l", "]": "l", "[": "l", "!": "l", "0": "o", "I": "l"}


@dataclass
class Glyph:
    """A candidate label: its box, the text read (normalised) and the OCR score."""

    box: Box
    text: str = ""
    score: float = 0.0


# Recognition input width (px at 48 px height), RapidOCR's default: narrower canvases run
# faster but change readings of single letters (a trailing "l" after "A"), so it is kept.
REC_WIDTH = 320


@functools.lru_cache(maxsize=1)
def ocr_engine() -> Recogniser:
    """The label recogniser (RapidOCR's recognition model, run directly), created once per process."""
    return Recogniser(width=REC_WIDTH, batch=16, threads=1)


def read_texts(crops_bgr: list[np.ndarray]) -> list[tuple[str, float]]:
    """Recognition-only OCR of text-line crops in batches: (text, score) each, ('', 0) when unread.

    A reading does not depend on the batch: glyph crops are at most ~3 times as wide as tall,
    so every crop is padded to the same ``REC_WIDTH`` canvas whatever else is in its batch.
    """
    if not crops_bgr:
        return []
    return ocr_engine()(list(crops_bgr))


# Confidence at which the single-glyph reader's "no label here" is taken without the
# recogniser: its summed belief in no glyph, digits, bars and letters no expected label starts
# with (since performance round 6; before, its first class's alone).
# Its raw confidences rank candidates differently from the recogniser's scores, so the letters
# it supplies carry a score mapped onto the recogniser's scale (``letter_score``).
# The threshold and what it saves: BENCHMARKS.md (issue 10, round 4; panels round 4) and
# ``bench.glyphs``: at 0.8 and 0.9 every accuracy key holds, at 0.7 a sample label is lost.
GLYPH_SURE = 0.8


# Confidence at which the reader's letter stands in for the recogniser's reading (above 1: off).
# Not bars (I, l, 1 and | look alike) and not case-ambiguous letters without caption labels.
# The curve (every accuracy key holds from 0.999 to 0.9; 0.99 saves 32 % of the recogniser
# crops): BENCHMARKS.md, "Performance round 5: panels", and ``bench.glyphs`` (``glyphs.letters.*``).
GLYPH_LETTER_SURE = 0.99
# ``letter_score`` knots: the reader's confidence -> the recogniser's median score on crops
# where both read the same letter (fit by ``bench.glyphs`` on the JATS crops outside panel-gt).
LETTER_SCORE_KNOTS = ((0.9, 0.99, 0.999, 1.0), (0.9787, 0.997, 0.9986, 0.9986))


def letter_score(p: float) -> float:
    """The reader's confidence mapped onto the recogniser's score scale (monotone, piecewise linear)."""
    xs, ys = LETTER_SCORE_KNOTS
    return float(np.interp(p, xs, ys))


def quick_readings(
    mask: np.ndarray, boxes: list[Box], expected: list[str] | None
) -> list[tuple[str, float] | None]:
    """Per box a reading without the recogniser, else None: ``("", 0.0)`` (no label) when the
    single-glyph reader is sure of that, its letter when sure of it (``GLYPH_LETTER_SURE``)."""
    if min(GLYPH_SURE, GLYPH_LETTER_SURE) > 1 or not boxes:
        return [None] * len(boxes)
    probs = glyphreader.scores([mask[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes])
    # "No label" is the reader's whole belief in classes that name no label here (a bar and a
    # reject at 0.6 and 0.3 with ``a``-``f`` expected), not only its first class's.
    no_label = probs @ np.array([not _may_label(c, expected) for c in glyphreader.CLASSES], np.float32)
    out: list[tuple[str, float] | None] = []
    for row, none in zip(probs, no_label, strict=True):
        cls, p = glyphreader.CLASSES[int(row.argmax())], float(row.max())
        if none >= GLYPH_SURE:
            out.append(("", 0.0))
        elif p >= GLYPH_LETTER_SURE and _may_label(cls, expected) and _sure_letter(cls, expected):
            out.append((cls, letter_score(p)))
        else:
            out.append(None)
    return out


def _sure_letter(cls: str, expected: list[str] | None) -> bool:
    """A class that names its letter: not a bar (I, l or 1), and a letter whose cases differ
    only in size only when caption labels settle the case."""
    return cls in glyphreader.LETTERS and (cls not in glyphreader.SAME_SHAPE or bool(expected))


def _may_label(cls: str, expected: list[str] | None) -> bool:
    """Whether the reader's class could be read as a panel label."""
    if cls == glyphreader.REJECT or cls in glyphreader.DIGITS:
        return False
    return not expected or bool(normalise(cls, expected))


def read_text(crop_bgr: np.ndarray) -> tuple[str, float]:
    """Recognition-only OCR of one text-line crop: (text, score), ('', 0) when nothing is read."""
    return read_texts([crop_bgr])[0]


def normalise(text: str, expected: list[str] | None = None) -> str:
    """A panel label from raw OCR text: first alphanumeric char, confusables mapped (1|] -> l, 0 -> o).

    ``I`` and ``l`` are treated as the same letter; with ``expected`` labels the case and any
    sub-numeral (``Ai``) are taken from the matching expected label.
    """
    chars = [c for c in text if c.isalnum() or c in "|]["]
    if not chars:
        return ""
    first = chars[0]
    letter = _CONFUSABLE.get(first, first)
    if not letter.isalpha():
        return ""
    rest = "".join(c for c in chars[1:] if c.isalpha())
    if not expected:
        return letter
    # A bar (1 | ] or an I / l not printed in the caption's case) is an I first, an l second; an
    # ``L`` has a foot and is taken as read. Other letters: as read in case, then in any case.
    bar = first in "1|][!" or (first in "Il" and not any(e[0] == first for e in expected))
    matches = [] if bar else [e for e in expected if e[0] == first]
    matches = matches or ([] if bar else [e for e in expected if e[0].lower() == first.lower()])
    if not matches and letter.lower() in ("i", "l"):
        matches = sorted((e for e in expected if e[0].lower() in ("i", "l")), key=lambda e: e[0] not in "Ii")
    if not matches:
        return ""
    subs = [e for e in matches if e[1:] and rest.lower().startswith(e[1:].lower().rstrip("'"))]
    if subs:
        return max(subs, key=len)
    return min(matches, key=len)  # stable: the first of equal length (``I`` before ``L``)


class InkComponents:
    """An ink mask with its connected-component stats and ink integral, each computed once and
    shared by every candidate search over that mask (plain, parenthesised, by room, bars)."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask

    @functools.cached_property
    def stats(self) -> np.ndarray:
        return _component_stats(self.mask)

    @functools.cached_property
    def integral(self) -> np.ndarray:
        return cv2.integral(self.mask.astype(np.uint8))


def _component_stats(mask: np.ndarray) -> np.ndarray:
    return label_components(mask.astype(np.uint8))[2]


def _components(
    stats: np.ndarray, size: int, max_aspect: float, min_aspect: float = 0.3
) -> np.ndarray:
    """``(x1, y1, x2, y2)`` rows of letter-sized components (``stats`` of
    ``connectedComponentsWithStats``), ``min_aspect`` to ``max_aspect`` times as wide as tall;
    sizes relative to ``size`` px (the figure)."""
    x, y, w, h, a = (stats[1:, k] for k in range(5))
    ok = (h >= max(6, 0.005 * size)) & (h <= 0.05 * size) & (w >= min_aspect * h) & (w <= max_aspect * h)
    ok &= a >= 0.15 * w * h
    return np.stack([x, y, x + w, y + h], axis=1)[ok]


def _chained(stats: np.ndarray, size: int) -> np.ndarray:
    """Boxes of ``(a)``-like runs: a parenthesis-tall component followed by up to four more on its
    line (tops and bottoms within a quarter of its height, gaps under half of it)."""
    parts = _components(stats, size, 1.4, min_aspect=0.1)  # a thin ")" too
    if parts.size == 0:
        return parts.reshape(0, 4)
    parts = parts[np.argsort(parts[:, 0])]
    x1, y1, x2, y2 = parts.T
    h = y2 - y1
    # Every part chains at once: per part, the first (leftmost) part after its run's right end
    # within half its height and inside its line band, up to four times.
    line = (y1[None] >= y1[:, None] - 0.25 * h[:, None]) & (y2[None] <= y2[:, None] + 0.25 * h[:, None])
    box = parts.copy()
    growing = np.ones(len(parts), bool)
    for _ in range(4):
        gap = x1[None] - box[:, 2:3]
        nxt = line & (gap > 0) & (gap <= 0.5 * h[:, None])
        growing &= nxt.any(axis=1)
        if not growing.any():
            break
        rows = np.flatnonzero(growing)
        b = parts[nxt[rows].argmax(axis=1)]
        box[rows, 1] = np.minimum(box[rows, 1], b[:, 1])
        box[rows, 2] = b[:, 2]
        box[rows, 3] = np.maximum(box[rows, 3], b[:, 3])
    return box[box[:, 2] > x2].reshape(-1, 4)


SMALL_GROUP = 9
# A ``(a)`` group is as tall as its brackets, which stand above and below the letter: in a group
# under 7 px the letter is about 4 px, and no such group on the shared figures (scored or not)
# read as ``(x)``; the recogniser reads them as digits or blobs.
MIN_GROUP = 7


def _closing_bracket(stats: np.ndarray, boxes: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per ``(x1, y1, x2, y2)`` box, whether its last glyph is ``)``-shaped: a component ending at
    the box's right edge, at least 0.7 of the box tall and at most half as wide as it is tall,
    and (with the ink ``mask``) bowed to the right (``_bowed_right``), which a bar, ``1``, ``i``,
    ``l`` or ``t`` ending a word is not. Boxes under ``SMALL_GROUP`` px tall pass unless under
    ``MIN_GROUP``: their brackets break up or merge in the mask, yet the recogniser still reads them.

    A parenthesised candidate counts only when the recogniser reads a closing parenthesis, so
    groups without one (words, numbers, ``(0.06``) are not worth a recogniser call.
    """
    if boxes.size == 0:
        return np.zeros(0, bool)
    x, y, w, h = (stats[1:, k] for k in range(4))
    thin = w <= 0.5 * h
    x, y, w, h = x[thin], y[thin], w[thin], h[thin]
    hh = boxes[:, 3] - boxes[:, 1]
    out = (hh >= MIN_GROUP) & (hh < SMALL_GROUP)
    for k in np.flatnonzero(hh >= SMALL_GROUP):
        _bx1, by1, bx2, by2 = boxes[k]
        last = np.flatnonzero((x + w == bx2) & (y >= by1) & (y + h <= by2) & (h >= 0.7 * (by2 - by1)))
        out[k] = any(mask is None or _bowed_right(mask[y[j] : y[j] + h[j], x[j] : x[j] + w[j]]) for j in last)
    return out


def _bowed_right(glyph: np.ndarray) -> bool:
    """Whether a thin glyph's ink lies further right in its middle half than in its top and bottom
    quarters (by a fifth of its width): the bow of ``)``."""
    rows = np.flatnonzero(glyph.any(axis=1))
    if rows.size < 4:
        return True
    cols = np.arange(glyph.shape[1])
    centre = (glyph[rows] * cols).sum(axis=1) / glyph[rows].sum(axis=1)
    q = max(1, rows.size // 4)
    ends = max(centre[:q].mean(), centre[-q:].mean())
    return bool(centre[q:-q].mean() - ends >= 0.2 * glyph.shape[1])


def _bars(stats: np.ndarray, height: float) -> np.ndarray:
    """Solid upright bars about ``height`` px tall (``stats`` of ``connectedComponentsWithStats``):
    the shape of a sans-serif ``I``."""
    x, y, w, h, a = (stats[1:, k] for k in range(5))
    ok = (h >= 0.8 * height) & (h <= 1.25 * height) & (w >= 0.08 * h) & (w < 0.35 * h) & (a >= 0.6 * w * h)
    return np.stack([x, y, x + w, y + h], axis=1)[ok]


def glyph_candidates(
    mask: np.ndarray | InkComponents, parenthesised: bool = False, by_room: bool = False,
    bar_height: float | None = None,
) -> list[Box]:
    """Letter-sized blobs with empty space to their left and above them, largest first.

    With ``parenthesised`` the blobs are ``(a)``-shaped groups (the mask with 1-2 px gaps
    closed, or glyphs chained along a line), 1.1 to 2.8 times as wide as tall (``(f)`` is
    narrow). ``by_room`` ranks by the white space around a blob before its height (small letters in figures with large body text), among blobs at
    least half as tall as the tallest ones. ``bar_height`` looks for ``I``-shaped bars of
    that height instead (too narrow for the letter filter). Pass an ``InkComponents`` when
    searching one mask several times.
    """
    ink_comps = mask if isinstance(mask, InkComponents) else InkComponents(mask)
    mask = ink_comps.mask
    fig_h, fig_w = mask.shape
    size = max(fig_h, fig_w)
    if parenthesised:
        bridge = max(2, round(0.003 * size))
        kernel = np.ones((1, bridge + 1), np.uint8)
        closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
        # Wide letter spacing leaves gaps the closing misses: also chain glyphs on one line.
        boxes = np.unique(
            np.concatenate([_components(_component_stats(closed), size, 2.8), _chained(ink_comps.stats, size)]),
            axis=0,
        )
        boxes = boxes[(boxes[:, 2] - boxes[:, 0]) >= 1.1 * (boxes[:, 3] - boxes[:, 1])]
        boxes = boxes[_closing_bracket(ink_comps.stats, boxes, mask)]
    elif bar_height:
        boxes = _bars(ink_comps.stats, bar_height)
    else:
        boxes = _components(ink_comps.stats, size, 1.4)
    if boxes.size == 0:
        return []
    integral = ink_comps.integral
    x1, y1, x2, y2 = boxes.T
    hh = y2 - y1

    def ink(bx1, by1, bx2, by2):
        bx1, bx2 = np.clip(bx1, 0, fig_w), np.clip(bx2, 0, fig_w)
        by1, by2 = np.clip(by1, 0, fig_h), np.clip(by2, 0, fig_h)
        return integral[by2, bx2] - integral[by1, bx2] - integral[by2, bx1] + integral[by1, bx1]

    def empty(dl: float, du: float, dr: float, dd: float) -> np.ndarray:
        """No ink in a band around the blob: dl/du/dr/dd blob heights left/up/right/down of its edges."""
        return (
            ink(
                x1 - (dl * hh).astype(int),
                y1 - (du * hh).astype(int),
                np.where(dr < 0, x1 - 1, x2 + (max(dr, 0) * hh).astype(int)),
                np.where(dd < 0, y1 - 1, y2 + (max(dd, 0) * hh).astype(int)),
            )
            == 0
        )

    keep = empty(0.4, 0.2, -1, 0.2) & empty(0.3, 0.4, 0.3, -1)
    # Panel letters are large and sit in a corner of white space: rank by height, then by that room.
    room = empty(1.5, 0.2, -1, 0.2).astype(int) + empty(0.3, 1.0, 0.3, -1) + empty(1.0, 1.0, -1, -1)
    if by_room:
        keep &= hh >= 0.5 * np.percentile(hh[keep], 95) if keep.any() else keep
        order = np.lexsort((-hh[keep], -room[keep]))
    else:
        order = np.lexsort((-room[keep], -hh[keep]))
    return [tuple(int(v) for v in b) for b in boxes[keep][order][:MAX_OCR]]


def _glyph_crop(mask: np.ndarray, box: Box, extend_right: float = 0.0) -> np.ndarray:
    """The glyph (plus ``extend_right`` heights to its right) drawn black on white, BGR, ~40 px tall.

    ``mask`` is a boolean ink mask, or a uint8 ink strength (difference from the background),
    which keeps the anti-aliasing that small letters need to be read.
    """
    x1, y1, x2, y2 = box
    h = y2 - y1
    pad = max(2, h // 4)
    xr = min(mask.shape[1], x2 + int(extend_right * h))
    sub = mask[max(0, y1 - pad) : y2 + pad, max(0, x1 - pad) : xr + pad]
    img = np.where(sub, 0, 255).astype(np.uint8) if sub.dtype == bool else (255 - sub).astype(np.uint8)
    scale = 40.0 / max(1, img.shape[0])
    img = cv2.resize(
        img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    img = cv2.copyMakeBorder(img, 6, 6, 10, 10, cv2.BORDER_CONSTANT, value=255)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def read_glyphs(
    mask: np.ndarray,
    boxes: list[Box],
    expected: list[str] | None,
    parenthesised: bool = False,
    cache: dict | None = None,
) -> list[Glyph]:
    """OCR each candidate; keep those reading as a plausible label (in ``expected`` when given).

    ``parenthesised`` candidates count only when the reading shows a parenthesis: ``(a)``.
    ``cache`` (one dict per figure and ``mask``) keeps raw readings by box, so a box offered
    again by another candidate search is not read twice. Single glyphs the single-glyph reader
    is sure of (no label, or a letter: ``quick_readings``) are not sent to the recogniser.
    """
    subs = bool(expected) and any(len(e) > 1 for e in expected)
    cache = {} if cache is None else cache
    # The single-glyph reader never sees a parenthesis: boxes it ruled out are read again here.
    todo = [b for b in dict.fromkeys(boxes) if b not in cache or (parenthesised and not cache[b][2])]
    if not parenthesised:
        # With sub-labels (``Ai``) the widened crop's reading starts with this glyph, so a glyph
        # that starts no label is none there either; its letters still need the recogniser.
        for box, quick in zip(todo, quick_readings(mask, todo, expected), strict=True):
            if quick is not None and not (subs and quick[0]):
                cache[box] = (*quick, False)
        todo = [b for b in todo if b not in cache]
    crops = [_glyph_crop(mask, box, extend_right=1.2 if subs else 0.0) for box in todo]
    cache.update((b, (*r, True)) for b, r in zip(todo, read_texts(crops), strict=True))
    out = []
    for box in boxes:
        text, score, _ = cache[box]
        if parenthesised and not re.fullmatch(r"\(?[A-Za-z]{1,4}\)", text.strip()):
            continue
        label = normalise(text, expected)
        if label:
            out.append(Glyph(box, label, score))
    return out


def settle_ties(mask: np.ndarray, glyphs: list[Glyph], expected: list[str] | None, cache: dict) -> list[Glyph]:
    """``glyphs`` with the recogniser's reading for each letter the single-glyph reader supplied
    whose score would pick between glyphs read as the same letter (``score_ties``): the
    recogniser's scores rank a label above a letter of a word where the reader's do not.
    ``cache`` is ``read_glyphs``'s for ``mask``."""
    redo = [b for b in score_ties(glyphs, expected) if not cache[b][2]]
    if not redo:
        return glyphs
    cache.update((b, (*r, True)) for b, r in zip(redo, read_texts([_glyph_crop(mask, b) for b in redo]), strict=True))
    out = []
    for g in glyphs:
        label = normalise(cache[g.box][0], expected) if g.box in redo else g.text
        if label:
            out.append(Glyph(g.box, label, cache[g.box][1]) if g.box in redo else g)
    return out


def _size_groups(glyphs: list[Glyph], expected: list[str] | None):
    """Per reference glyph, the glyphs ``consistent_labels`` weighs with it (its size, a label
    score, its case without caption labels) and how many others each lines up with."""
    for ref in glyphs:
        same = [g for g in glyphs if _same_size(ref, g) and g.score >= 0.5]
        if not expected:
            case = ref.text[0].isupper()
            same = [g for g in same if g.text[0].isupper() == case]
        yield ref, same, _alignment(same)


def score_ties(glyphs: list[Glyph], expected: list[str] | None) -> list[Box]:
    """Boxes of glyphs read as the same letter and equally well aligned in some size group of
    ``consistent_labels``: only their scores choose between them. A letter read twice whose
    copies line up differently is chosen by alignment, whatever the scores."""
    out: dict[Box, None] = {}
    for _ref, same, aligned in _size_groups(glyphs, expected):
        best: dict[str, int] = {}
        for g, a in zip(same, aligned, strict=True):
            best[g.text] = max(best.get(g.text, -1), a)
        tied = [g for g, a in zip(same, aligned, strict=True) if a == best[g.text]]
        counts: dict[str, int] = {}
        for g in tied:
            counts[g.text] = counts.get(g.text, 0) + 1
        out.update((g.box, None) for g in tied if counts[g.text] > 1)
    return list(out)


def consistent_labels(glyphs: list[Glyph], expected: list[str] | None) -> list[Glyph]:
    """The largest set of glyphs of one size naming distinct labels (one glyph per label)."""
    best: list[Glyph] = []
    for ref, same, aligned in _size_groups(glyphs, expected):
        h = ref.box[3] - ref.box[1]
        # Real labels line up in rows or columns; a letter of a word inside a panel rarely does,
        # so among glyphs read as the same letter the best-aligned one wins.
        chosen: dict[str, Glyph] = {}
        for k in sorted(range(len(same)), key=lambda k: (-aligned[k], -same[k].score)):
            chosen.setdefault(same[k].text, same[k])
        picked = list(chosen.values())
        if not expected and not _is_sequence([g.text for g in picked]):
            continue
        if len(picked) > len(best) or (len(picked) == len(best) and h > _height(best)):
            best = picked
    return best


_X_HEIGHT = set("acemnorsuvwxz")


def letter_height(glyph: Glyph) -> float:
    """Glyph height in px scaled to cap height: a lower-case letter without ascender or
    descender (``a``, ``c``) is about 0.72 of the height of ``b`` or ``d`` in the same font."""
    h = glyph.box[3] - glyph.box[1]
    return h / 0.72 if glyph.text[:1] in _X_HEIGHT else float(h)


def _same_size(a: Glyph, b: Glyph) -> bool:
    """Heights within a third of each other, as measured or as scaled to cap height (``a`` vs ``b``)."""
    raw = (b.box[3] - b.box[1]) / max(1, a.box[3] - a.box[1])
    scaled = letter_height(b) / max(1.0, letter_height(a))
    return 0.75 <= raw <= 1.33 or 0.75 <= scaled <= 1.33


def _alignment(glyphs: list[Glyph]) -> list[int]:
    """Per glyph, how many other glyphs (with another text) share its top edge or left edge."""
    if not glyphs:
        return []
    b = np.array([g.box for g in glyphs], dtype=float)
    h = (b[:, 3] - b[:, 1])[:, None]
    same_row = np.abs(b[:, 1][:, None] - b[:, 1][None]) <= 0.5 * h
    same_col = np.abs(b[:, 0][:, None] - b[:, 0][None]) <= 0.7 * h
    texts = np.array([g.text for g in glyphs])
    other = texts[:, None] != texts[None]
    return ((same_row | same_col) & other).sum(axis=1).tolist()


def _height(glyphs: list[Glyph]) -> int:
    return max((g.box[3] - g.box[1] for g in glyphs), default=0)


def _is_sequence(labels: list[str]) -> bool:
    """Labels that start at a/A and leave at most one letter out (a plausible label set)."""
    letters = sorted({ord(t[0].lower()) for t in labels})
    return bool(letters) and letters[0] == ord("a") and letters[-1] - letters[0] <= len(letters)


def corner_label(
    rgb: np.ndarray, panel: Box, expected: list[str] | None, taken: set[str], bar_height: float | None = None
) -> Glyph | None:
    """A label printed on the image itself near the panel's top-left corner (white or black letter).

    Searches a window of 20 % of the panel (at least 40 px) with a bright-ink and a dark-ink
    mask; returns the best-scoring reading not in ``taken``, in figure pixels. With
    ``bar_height`` (px, the height of the labels found elsewhere) upright bars that tall are
    tried too, while an expected ``I``/``l`` is still missing: too narrow for the letter filter.
    """
    want_bar = bar_height and any(e.lower() in ("i", "l") and e not in taken for e in expected or [])
    x1, y1, x2, y2 = panel
    wx2 = min(x2, x1 + max(40, (x2 - x1) // 5))
    wy2 = min(y2, y1 + max(40, (y2 - y1) // 5))
    crop = rgb[y1:wy2, x1:wx2]
    if crop.size == 0:
        return None
    boxes, readings = [], []
    for mask in (crop.min(axis=2) > 200, crop.max(axis=2) < 60):
        if mask.mean() > 0.5:
            continue  # that colour is the background here, not the ink of a letter
        stats = _component_stats(mask)
        comps = _components(stats, max(rgb.shape[:2]), 1.4)
        if want_bar:
            comps = np.concatenate([comps, _bars(stats, bar_height)])
        comps = comps[(comps[:, 3] - comps[:, 1]) <= 0.6 * mask.shape[0]]
        found = [tuple(int(v) for v in box) for box in comps[np.argsort(comps[:, 0] + comps[:, 1])][:3]]
        quick = quick_readings(mask, found, expected)
        slow = iter(
            read_texts([_glyph_crop(mask, b) for b, q in zip(found, quick, strict=True) if q is None])
        )
        now = [q if q is not None else next(slow) for q in quick]
        # Reader letters have no recogniser score to rank them by when several readings compete
        # (name labels not yet taken). A low-scored rival still counts: the recogniser may score
        # the reader's letter lower still (a letter of a word), and then neither is a label.
        letters = [k for k, q in enumerate(quick) if q is not None and q[0]]
        competing = [normalise(t, expected) not in taken | {""} for t, _ in readings + now]
        if letters and sum(competing) > 1:
            for k, r in zip(letters, read_texts([_glyph_crop(mask, found[k]) for k in letters]), strict=True):
                now[k] = r
        boxes += found
        readings += now
    best: Glyph | None = None
    for (gx1, gy1, gx2, gy2), (text, score) in zip(boxes, readings, strict=True):
        label = normalise(text, expected)
        if label and label not in taken and (best is None or score > best.score):
            best = Glyph((x1 + gx1, y1 + gy1, x1 + gx2, y1 + gy2), label, score)
    return best if best is not None and best.score >= 0.5 else None
