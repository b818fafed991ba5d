"""Train the single-glyph reader's network from glyphs rendered with the system's fonts (torch, CPU).

``python -m curate.layout.glyphtrain`` rewrites ``curate/layout/glyph_reader.npz``;
``--check`` retrains and compares with the committed file. No benchmark data is used: the
label crops of the panel benchmarks are what it is tested on.

Each sample goes through the pipeline's own steps: the glyph drawn in some colour on some
background, scaled, blurred, noised and JPEG-compressed, the ink strength taken as in
``ink_strength`` (sometimes thresholded to the boolean mask), the candidate box as in
``glyph_candidates`` (the largest connected component of the ink mask).

Reproducible: every variation comes from seeded generators and training runs on one thread
with torch's deterministic algorithms, so on one machine a retrain gives the same bytes. Other
CPUs may sum in another order (other vector kernels), and a network's training amplifies such
last-bit differences, so ``--check`` accepts a retrain that differs in float but reads a fresh
rendered set alike (``AGREE`` of its readings, accuracy within ``ACC_TOL``).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from curate.images import colour_distance
from curate.layout.glyphreader import (
    BAR,
    CHANNELS,
    CLASSES,
    DIGITS,
    HIDDEN,
    LETTERS,
    REJECT,
    SAME_SHAPE,
    SIDE,
    WEIGHTS,
    forward,
    glyph_square,
)
from curate.layout.glyphshapes import shapes

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
# Blobs that are no label glyph: symbols, Greek, brackets, touching pairs (drawn with tight
# spacing: a label is one letter, two letters are a word or an axis unit).
REJECT_TEXT = list("+*#%&@$?<>=~±÷→←↑↓αβγδμσλπΩΔ∑√∞♂♀★●■▲▼◆♦{}[]()§¶°‰") + [
    "rn", "ab", "AB", "10", "ll", "mm", "nm", "Ab", "cd", "kD", "mV", "Hz", "25", "50", "ms", "µm",
    "pH", "WT", "KO", "ns", "na", "OD", "Ca", "ΔF", "nM", "Fig",
]  # fmt: skip
SIZES = (9, 10, 12, 14, 17, 21, 27, 36, 48)
SEED = 0
EPOCHS = 14
AGREE, ACC_TOL = 0.97, 0.015


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


def _degrade(img: Image.Image, bg: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """What happens to a figure's letters between the author's drawing and our pixels."""
    if rng.random() < 0.6:
        # Figures are often scaled: drawn larger, shrunk by area averaging (or badly, by nearest).
        f = float(rng.uniform(1.2, 3.5))
        size = (max(1, round(img.width / f)), max(1, round(img.height / f)))
        img = img.resize(size, Image.BOX if rng.random() < 0.8 else Image.NEAREST)
    if rng.random() < 0.5:
        img = img.rotate(float(rng.uniform(-5, 5)), resample=Image.BILINEAR, fillcolor=bg)
    if rng.random() < 0.2:  # a faux italic (shear), as some figure tools draw it
        s = float(rng.uniform(-0.25, 0.25))
        img = img.transform(img.size, Image.AFFINE, (1, s, -s * img.height / 2, 0, 1, 0), Image.BILINEAR, fillcolor=bg)
    rgb = np.asarray(img)
    if rng.random() < 0.4:
        rgb = cv2.GaussianBlur(rgb, (0, 0), float(rng.uniform(0.3, 1.0)))
    if rng.random() < 0.2:
        noise = rng.normal(0, float(rng.uniform(3, 12)), rgb.shape)
        rgb = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=int(rng.integers(30, 95)))
        rgb = np.asarray(Image.open(buf).convert("RGB"))
    return rgb


def render(
    text: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator, tight: bool = False
) -> np.ndarray | None:
    """Ink of ``text``'s largest component (uint8 strength, or bool as a thresholded mask gives
    it), as a label candidate's crop would hold it."""
    ink, bg = _colours(rng)
    size = font.size
    img = Image.new("RGB", (size * 4, size * 3), bg)
    draw = ImageDraw.Draw(img)
    x = size // 2
    for ch in text:
        draw.text((x, size // 2), ch, font=font, fill=ink)
        x += int(draw.textlength(ch, font=font) * (0.72 if tight else 1.0))
    rgb = _degrade(img, bg, rng)
    diff = colour_distance(rgb, np.array(bg))
    if rng.random() < 0.15:  # stroke weight: bolder or thinner than the font draws it
        op = cv2.dilate if rng.random() < 0.5 else cv2.erode
        diff = op(diff, np.ones((2, 2), np.uint8))
    mask = (diff > 40).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, 4]))
    x0, y0, w, h = stats[k, :4]
    if h < 6:
        return None
    crop = cv2.add(diff, diff)[y0 : y0 + h, x0 : x0 + w]
    return crop > 80 if rng.random() < 0.3 else crop


def dataset(seed: int = SEED, repeats: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 squares (n, SIDE, SIDE), class index) of every rendered sample."""
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
                            xs.append(glyph_square(ink))
                            ys.append(CLASSES.index(cls))
            for text in REJECT_TEXT:
                ink = render(text, font, rng, tight=len(text) > 1)
                if ink is not None:
                    xs.append(glyph_square(ink))
                    ys.append(reject)
    for ink in shapes(rng, len(ys) // 8):
        xs.append(glyph_square(ink))
        ys.append(reject)
    return np.stack(xs), np.array(ys)


def _module():
    import torch
    from torch import nn

    layers: list = []
    for k in range(len(CHANNELS) - 1):
        layers += [nn.Conv2d(CHANNELS[k], CHANNELS[k + 1], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    flat = CHANNELS[-1] * (SIDE // 2 ** (len(CHANNELS) - 1)) ** 2
    head = [nn.Flatten(), nn.Linear(flat, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, len(CLASSES))]
    net = nn.Sequential(*layers, *head)
    names = [f"conv{k}" for k in range(len(CHANNELS) - 1)] + ["fc0", "fc1"]
    mods = [m for m in net if isinstance(m, nn.Conv2d | nn.Linear)]
    return torch, net, dict(zip(names, mods, strict=True))


def train(seed: int = SEED, epochs: int = EPOCHS) -> dict[str, np.ndarray]:
    """Weights (glyphreader's names) of the network fitted to the rendered set."""
    missing = set(FONT_NAMES) - {p.name for p in fonts()}
    if missing:
        raise SystemExit(
            f"training fonts missing under {FONT_DIRS}: {sorted(missing)} "
            "(Debian: fonts-dejavu-core fonts-dejavu-extra fonts-liberation)"
        )
    x, y = dataset(seed)
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    torch, net, named = _module()
    xt = torch.from_numpy(x).float().div_(255).unsqueeze(1)
    yt = torch.from_numpy(y)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(128):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
    out = {}
    for name, m in named.items():
        out[f"{name}.weight"] = m.weight.detach().numpy().copy()
        out[f"{name}.bias"] = m.bias.detach().numpy().copy()
    return out


def accuracy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    pred = np.concatenate([forward(params, x[i : i + 512]).argmax(axis=1) for i in range(0, len(x), 512)])
    return float((pred == y).mean()), pred


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args(argv)
    params = train()
    held_x, held_y = dataset(seed=SEED + 1, repeats=1)  # fresh renderings, never trained on
    acc, pred = accuracy(params, held_x, held_y)
    if args.check:
        with np.load(args.out) as data:
            if list(data["classes"]) != CLASSES:
                print(f"{args.out}: classes differ from glyphreader.CLASSES")
                return 1
            old = {k: data[k] for k in data.files if k != "classes"}
        if all(np.array_equal(old[k], params[k]) for k in params):
            print(f"weights match byte for byte (held-out accuracy {acc:.3f})")
            return 0
        old_acc, old_pred = accuracy(old, held_x, held_y)
        agree = float((old_pred == pred).mean())
        ok = agree >= AGREE and abs(old_acc - acc) <= ACC_TOL
        print(
            f"weights differ in float; held-out readings agree {agree:.3f} (need {AGREE}), "
            f"accuracy {old_acc:.3f} committed vs {acc:.3f} retrained (tolerance {ACC_TOL})"
        )
        return 0 if ok else 1
    np.savez_compressed(args.out, classes=np.array(CLASSES), **params)
    print(f"wrote {args.out}: {sum(v.size for v in params.values())} weights, held-out accuracy {acc:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
