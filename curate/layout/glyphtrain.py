"""Train the single-glyph reader's weights from glyphs rendered with the system's fonts.

``python -m curate.layout.glyphtrain`` rewrites ``curate/layout/glyph_reader.npz``;
``--check`` retrains and fails when the committed file differs from what it would write.
Deterministic: every variation comes from a seeded generator, and the fit (L2-regularised
multinomial logistic regression, a convex problem with one optimum) is run to convergence.
No benchmark data is used: the label crops of the panel benchmarks are what it is tested on.

Each sample goes through the pipeline's own steps: the glyph drawn in some colour on some
background, blurred and JPEG-compressed, the ink strength taken as in ``ink_strength``, the
candidate box as in ``glyph_candidates`` (the largest connected component of the ink mask).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from curate.layout.glyphreader import BAR, CLASSES, DIGITS, LETTERS, REJECT, SAME_SHAPE, WEIGHTS, features

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
FONT_NAMES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
    "LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf",
    "LiberationSans-BoldItalic.ttf", "LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf",
    "LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", "LiberationSerif-Italic.ttf",
    "LiberationSerif-BoldItalic.ttf", "LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf",
)  # fmt: skip
# Characters drawn for each class; a class may be drawn from several characters.
DRAWN = {c: c for c in LETTERS if c not in SAME_SHAPE}
DRAWN.update({c: c + c.lower() for c in SAME_SHAPE})
DRAWN["O"] = "Oo0"
DRAWN[BAR] = "Il1|i"
DRAWN.update({d: d for d in DIGITS})
# Blobs that are no label glyph: symbols, Greek, touching pairs (drawn with tight spacing), shapes.
REJECT_TEXT = list("+*#%&@$?<>=~±×÷→←↑↓αβγδμσλπΩΔ∑√∞♂♀★●■▲") + ["rn", "ab", "AB", "10", "ll", "mm", "nm"]
SIZES = (9, 10, 12, 14, 17, 21, 27, 36, 48)


def fonts() -> list[Path]:
    """The training fonts present on this machine, in a fixed order."""
    found = []
    for name in FONT_NAMES:
        for d in FONT_DIRS:
            if (Path(d) / name).is_file():
                found.append(Path(d) / name)
                break
    return found


def _colours(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(ink, background): mostly dark on light, sometimes light on dark or colour on colour."""
    kind = rng.integers(0, 4)
    if kind == 0:
        return (255, 255, 255), tuple(int(v) for v in rng.integers(0, 60, 3))
    if kind == 1:
        return tuple(int(v) for v in rng.integers(0, 256, 3)), (255, 255, 255)
    return tuple(int(v) for v in rng.integers(0, 70, 3)), tuple(int(v) for v in rng.integers(215, 256, 3))


def render(
    text: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator, tight: bool = False
) -> np.ndarray | None:
    """Ink strength (uint8) of ``text``'s largest component, as a label candidate's crop would hold it."""
    ink, bg = _colours(rng)
    size = font.size
    img = Image.new("RGB", (size * 4, size * 3), bg)
    draw = ImageDraw.Draw(img)
    x = size // 2
    for ch in text:
        draw.text((x, size // 2), ch, font=font, fill=ink)
        x += int(draw.textlength(ch, font=font) * (0.72 if tight else 1.0))
    if rng.random() < 0.5:
        # Figures are often scaled: draw larger, then shrink by area averaging.
        f = float(rng.uniform(1.3, 3.0))
        img = img.resize((max(1, round(img.width / f)), max(1, round(img.height / f))), Image.BOX)
    if rng.random() < 0.5:
        img = img.rotate(float(rng.uniform(-4, 4)), resample=Image.BILINEAR, fillcolor=bg)
    rgb = np.asarray(img)
    if rng.random() < 0.4:
        rgb = cv2.GaussianBlur(rgb, (0, 0), float(rng.uniform(0.3, 0.9)))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=int(rng.integers(40, 95)))
        rgb = np.asarray(Image.open(buf).convert("RGB"))
    diff = np.abs(rgb.astype(np.int16) - np.array(bg, np.int16)).max(axis=2).astype(np.uint8)
    mask = (diff > 40).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, 4]))
    x0, y0, w, h = stats[k, :4]
    if h < 6:
        return None
    return cv2.add(diff, diff)[y0 : y0 + h, x0 : x0 + w]


def _shapes(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Ink of non-letter blobs: filled ellipses, strokes and noise patches."""
    out = []
    for _ in range(n):
        s = int(rng.integers(10, 48))
        img = np.zeros((s * 2, s * 2), np.uint8)
        # Rings and bars are left out: a recogniser reads them as ``o`` and ``l`` too.
        kind = rng.integers(0, 3)
        c = (s, s)
        axes = (int(rng.integers(s // 4, s)), int(rng.integers(s // 4, s)))
        if kind == 0:
            cv2.ellipse(img, c, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        elif kind == 1:
            pts = rng.integers(0, 2 * s, (int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.polylines(img, [pts], False, 255, int(rng.integers(1, 4)))
        else:
            noise = (rng.random((s, s)) > 0.55).astype(np.uint8) * 255
            img[s // 2 : s // 2 + s, s // 2 : s // 2 + s] = cv2.medianBlur(noise, 3)
        ys, xs = np.nonzero(img)
        if ys.size:
            out.append(img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    return out


def dataset(seed: int = 0, repeats: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(features, class index) of every rendered sample."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    reject = CLASSES.index(REJECT)
    for path in fonts():
        for size in SIZES:
            font = ImageFont.truetype(str(path), size)
            for cls, chars in DRAWN.items():
                for ch in chars:
                    for _ in range(repeats):
                        ink = render(ch, font, rng)
                        if ink is not None:
                            xs.append(features(ink))
                            ys.append(CLASSES.index(cls))
            for text in REJECT_TEXT:
                ink = render(text, font, rng, tight=len(text) > 1)
                if ink is not None:
                    xs.append(features(ink))
                    ys.append(reject)
    for ink in _shapes(rng, len(ys) // 20):
        xs.append(features(ink))
        ys.append(reject)
    return np.stack(xs).astype(np.float64), np.array(ys)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weights (features x classes) of L2-regularised multinomial logistic regression."""
    from scipy.optimize import minimize

    n, d = x.shape
    k = len(CLASSES)
    onehot = np.eye(k)[y]

    def loss(w_flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = w_flat.reshape(d, k)
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        value = -(onehot * logp).sum() / n + 0.5 * l2 * (w * w).sum()
        grad = x.T @ (p - onehot) / n + l2 * w
        return value, grad.ravel()

    res = minimize(
        loss, np.zeros(d * k), jac=True, method="L-BFGS-B", options={"maxiter": 3000, "gtol": 1e-7}
    )
    return res.x.reshape(d, k)


def train(seed: int = 0) -> np.ndarray:
    if not fonts():
        raise SystemExit(f"no training fonts found under {FONT_DIRS}")
    x, y = dataset(seed)
    return fit(x, y).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args(argv)
    weights = train()
    if args.check:
        with np.load(args.out) as old:
            same = list(old["classes"]) == CLASSES and np.allclose(old["weights"], weights, atol=2e-3)
        print("weights match" if same else f"{args.out} differs from what glyphtrain produces")
        return 0 if same else 1
    np.savez_compressed(args.out, weights=weights, classes=np.array(CLASSES))
    print(f"wrote {args.out}: {weights.shape[0]} features x {weights.shape[1]} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
