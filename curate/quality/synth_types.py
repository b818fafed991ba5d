"""Rendered training images of the drawn image types (chart, diagram, gel_blot, table, text).

The real labelled set has few tables, equations, blots and diagrams, mostly from one or two
papers each, so a classifier fit on it alone learns those papers' look. These renderings vary
what the types share (grid of text cells, lines of glyphs, lanes of bands, boxes joined by
arrows, axes with ticks) over colours, sizes and fonts. They are only ever training data: every
accuracy the benchmark reports is measured on real images. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SYNTH_TYPES = ("chart", "diagram", "gel_blot", "table", "text")
_WORDS = ("gene", "control", "PDS", "cell", "WT", "KO", "dose", "time", "n.s.", "mean", "ratio", "Lot 1",
          "signal", "input", "model", "p53", "BRCA1", "MA", "output", "day 3", "shRNA", "total")
_MATH = ("x", "y", "=", "+", "-", "(", ")", "2", "i", "n", "log", "exp", "k", "/", "a", "b", "f(x)", "dx", "^2")


def _font(rng: np.random.Generator, lo: int = 9, hi: int = 18) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=int(rng.integers(lo, hi)))


def _colour(rng: np.random.Generator, light: bool = False) -> tuple[int, int, int]:
    base = rng.integers(150, 250, 3) if light else rng.integers(0, 220, 3)
    return tuple(int(v) for v in base)


def _word(rng: np.random.Generator) -> str:
    return str(_WORDS[rng.integers(len(_WORDS))])


def _chart(rng, w, h, d):
    x0, y0, x1, y1 = int(w * 0.15), int(h * 0.08), int(w * 0.95), int(h * 0.82)
    d.line([(x0, y0), (x0, y1), (x1, y1)], fill=(0, 0, 0), width=int(rng.integers(1, 3)))
    for t in np.linspace(y0, y1, int(rng.integers(3, 7))):
        d.line([(x0 - 5, t), (x0, t)], fill=(0, 0, 0))
        d.text((x0 - 30, t - 6), f"{rng.integers(0, 100)}", fill=(0, 0, 0), font=_font(rng, 8, 12))
    kind = rng.integers(3)
    n = int(rng.integers(3, 12))
    xs = np.linspace(x0 + 10, x1 - 10, n)
    if kind == 0:  # bars
        bw = max(3, int((x1 - x0) / n * 0.6))
        for x in xs:
            top = int(rng.integers(y0, y1 - 5))
            d.rectangle([x - bw // 2, top, x + bw // 2, y1], fill=_colour(rng), outline=(0, 0, 0))
    else:  # lines or scatter
        for _ in range(int(rng.integers(1, 4))):
            ys = np.clip(np.cumsum(rng.normal(0, (y1 - y0) / 8, n)) + (y0 + y1) / 2, y0, y1)
            col = _colour(rng)
            if kind == 1:
                d.line(list(zip(xs, ys, strict=True)), fill=col, width=2)
            for x, y in zip(xs, ys, strict=True):
                d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=col)
    d.text(((x0 + x1) // 2 - 20, y1 + 8), _word(rng), fill=(0, 0, 0), font=_font(rng))


def _diagram(rng, w, h, d):
    if rng.random() < 0.5:
        return _grid_diagram(rng, w, h, d)
    centres = []
    for _ in range(int(rng.integers(3, 8))):
        bw, bh = int(rng.integers(50, 110)), int(rng.integers(25, 50))
        x, y = int(rng.integers(5, max(6, w - bw - 5))), int(rng.integers(5, max(6, h - bh - 5)))
        fill = _colour(rng, light=True) if rng.random() < 0.7 else None
        if rng.random() < 0.3:
            d.ellipse([x, y, x + bw, y + bh], fill=fill, outline=_colour(rng), width=2)
        else:
            d.rounded_rectangle([x, y, x + bw, y + bh], radius=int(rng.integers(0, 10)), fill=fill,
                                outline=_colour(rng), width=2)
        d.text((x + 6, y + bh // 3), _word(rng), fill=(0, 0, 0), font=_font(rng))
        centres.append((x + bw // 2, y + bh // 2))
    for a, b in zip(centres, centres[1:], strict=False):
        d.line([a, b], fill=(40, 40, 40), width=2)
        d.polygon([b, (b[0] - 6, b[1] - 6), (b[0] + 6, b[1] - 6)], fill=(40, 40, 40))


def _grid_diagram(rng, w, h, d):
    """Flow-chart steps on a grid, solid or outlined, joined by horizontal and vertical arrows."""
    cols, rows = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    cw, rh = w / cols, h / rows
    solid = rng.random() < 0.5
    for r in range(rows):
        for c in range(cols):
            x, y = int(c * cw + cw * 0.12), int(r * rh + rh * 0.15)
            x2, y2 = int((c + 1) * cw - cw * 0.12), int((r + 1) * rh - rh * 0.15)
            colour = _colour(rng, light=not solid)
            d.rectangle([x, y, x2, y2], fill=colour, outline=None if solid else (0, 0, 0), width=2)
            d.text((x + 8, (y + y2) // 2 - 6), f"{_word(rng)} {r * cols + c}", fill=(0, 0, 0), font=_font(rng))
            if c + 1 < cols:
                ym = (y + y2) // 2
                d.line([(x2, ym), (x2 + int(cw * 0.24), ym)], fill=(0, 0, 0), width=2)
                d.polygon([(x2 + int(cw * 0.24), ym), (x2 + int(cw * 0.24) - 7, ym - 5),
                           (x2 + int(cw * 0.24) - 7, ym + 5)], fill=(0, 0, 0))
            if r + 1 < rows:
                xm = (x + x2) // 2
                d.line([(xm, y2), (xm, y2 + int(rh * 0.3))], fill=(0, 0, 0), width=2)


def _gel(rng, w, h, d):
    dark_field = rng.random() < 0.3
    lanes = int(rng.integers(3, 12))
    rows = int(rng.integers(1, 5))
    lane_w = w / (lanes + 1)
    for r in range(rows):
        y = int(h * (r + 1) / (rows + 1))
        for i in range(lanes):
            x = int(lane_w * (i + 0.6))
            level = int(rng.integers(0, 200))
            colour = (255 - level,) * 3 if dark_field else (level // 2,) * 3
            if rng.random() < 0.85:
                d.ellipse([x, y, x + int(lane_w * 0.8), y + int(rng.integers(4, 12))], fill=colour)
    for i in range(lanes):
        d.text((int(lane_w * (i + 0.6)), 2), "+" if rng.random() < 0.5 else "−", fill=(0, 0, 0), font=_font(rng))


def _table(rng, w, h, d):
    n_rows, n_cols = int(rng.integers(3, 14)), int(rng.integers(2, 7))
    rh, cw = h / (n_rows + 1), w / n_cols
    header = _colour(rng, light=True) if rng.random() < 0.5 else (255, 255, 255)
    d.rectangle([0, 0, w, rh], fill=header)
    zebra = rng.random() < 0.3
    grid = rng.random() < 0.5
    font = _font(rng, 8, 13)
    for r in range(n_rows + 1):
        if zebra and r % 2 == 0 and r:
            d.rectangle([0, r * rh, w, (r + 1) * rh], fill=(235, 235, 235))
        for c in range(n_cols):
            cell = _word(rng) if r == 0 or c == 0 else f"{rng.normal(0, 3):.2f}"
            d.text((c * cw + 4, r * rh + 2), cell, fill=(0, 0, 0), font=font)
        if grid or r in (0, 1):
            d.line([(0, r * rh), (w, r * rh)], fill=(0, 0, 0), width=1)
    if grid:
        for c in range(n_cols + 1):
            d.line([(c * cw, 0), (c * cw, h)], fill=(0, 0, 0))


def _text(rng, w, h, d):
    font = _font(rng, 10, 20)
    y, maths = 4, rng.random() < 0.6
    while y < h - 12:
        pieces = [str((_MATH if maths else _WORDS)[rng.integers(len(_MATH if maths else _WORDS))])
                  for _ in range(int(rng.integers(3, 14)))]
        d.text((int(rng.integers(2, 20)), y), " ".join(pieces), fill=(0, 0, 0), font=font)
        y += int(font.size * rng.uniform(1.3, 1.8))


_RENDER = {"chart": _chart, "diagram": _diagram, "gel_blot": _gel, "table": _table, "text": _text}


def render(kind: str, seed: int) -> np.ndarray:
    """One RGB image of ``kind`` (one of ``SYNTH_TYPES``)."""
    rng = np.random.default_rng([seed, SYNTH_TYPES.index(kind)])
    if kind == "text":
        w, h = int(rng.integers(200, 600)), int(rng.integers(30, 160))
    else:
        w, h = int(rng.integers(160, 480)), int(rng.integers(120, 400))
    bg = (255, 255, 255) if kind != "gel_blot" or rng.random() < 0.6 else (int(rng.integers(170, 235)),) * 3
    img = Image.new("RGB", (w, h), bg)
    _RENDER[kind](rng, w, h, ImageDraw.Draw(img))
    if kind == "gel_blot":
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(1.0, 2.5))))
    return np.asarray(img)


def synthetic_set(per_type: int, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    return [(kind, render(kind, seed * 100_000 + i)) for kind in SYNTH_TYPES for i in range(per_type)]
