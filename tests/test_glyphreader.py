"""The single-glyph label reader: reads rendered letters, rejects blobs, never keeps a possible
label from the recogniser, matches its torch twin, and its weights are reproducible and ship."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from curate.layout import glyphreader, glyphshapes, glyphtrain, labels

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fonts() -> list[Path]:
    found = glyphtrain.fonts()
    if not found:
        if os.environ.get("CI"):
            pytest.fail("DejaVu / Liberation fonts are required under CI (.ci/run installs them)")
        pytest.skip("DejaVu / Liberation fonts not installed")
    return found


@pytest.fixture
def recogniser_calls(monkeypatch) -> list[int]:
    """Spy on the recogniser boundary: the size of every batch sent to ``labels.read_texts``."""
    calls: list[int] = []
    real = labels.read_texts

    def counting(crops):
        calls.append(len(crops))
        return real(crops)

    monkeypatch.setattr(labels, "read_texts", counting)
    return calls


def _class_of(ch: str) -> str:
    return next(cls for cls, drawn in glyphtrain.DRAWN.items() if ch in drawn)


COLOURS = [((0, 0, 0), (255, 255, 255)), ((255, 255, 255), (20, 20, 30)), ((200, 20, 20), (250, 250, 245))]


def _draw(ch: str, font, ink: tuple, bg: tuple) -> np.ndarray:
    """Ink strength of ``ch``'s largest component, as ``ink_strength`` and the candidate box give it."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (font.size * 3, font.size * 3), bg)
    ImageDraw.Draw(img).text((font.size, font.size // 2), ch, font=font, fill=ink)
    diff = np.abs(np.asarray(img).astype(np.int16) - np.array(bg)).max(axis=2).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats((diff > 40).astype(np.uint8), connectivity=8)
    x, y, w, h = stats[1 + int(np.argmax(stats[1:, 4])), :4]
    return cv2.add(diff, diff)[y : y + h, x : x + w]


def _font(fonts: list[Path], name: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(next(p for p in fonts if p.name == name)), size)


@pytest.mark.parametrize(
    "font_name", ["DejaVuSans-Bold.ttf", "LiberationSans-Regular.ttf", "LiberationSerif-Bold.ttf"]
)
def test_rendered_letters_are_read(fonts, font_name):
    right = total = 0
    for size, (ink, bg) in zip((15, 24, 40), COLOURS, strict=True):
        font = _font(fonts, font_name, size)
        for ch in "ABCDEFGHKMNRTabdefghkmnr":
            text, _ = glyphreader.read([_draw(ch, font, ink, bg)])[0]
            right += text == _class_of(ch)
            total += 1
    assert right / total >= 0.95


def _strip(inks: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The crops side by side in one mask, with their boxes."""
    height = max(i.shape[0] for i in inks)
    boxes, x = [], 0
    for ink in inks:
        boxes.append((x, 0, x + ink.shape[1], ink.shape[0]))
        x += ink.shape[1] + 10
    strip = np.zeros((height, x), np.uint8)
    for ink, (x1, y1, x2, y2) in zip(inks, boxes, strict=True):
        strip[y1:y2, x1:x2] = ink
    return strip, boxes


def test_unsure_letters_go_to_the_recogniser(fonts, monkeypatch):
    """With letters off, a crop that may be a label is never answered by the reader."""
    monkeypatch.setattr(labels, "GLYPH_LETTER_SURE", 2.0)
    for k, name in enumerate(["DejaVuSans.ttf", "LiberationSans-Bold.ttf", "DejaVuSerif.ttf"]):
        font = _font(fonts, name, 30)
        letters = "ABCDEFGHabcdefgh"
        strip, boxes = _strip([_draw(ch, font, *COLOURS[k]) for ch in letters])
        assert labels.quick_readings(strip, boxes, list(letters)) == [None] * len(letters)
        assert labels.quick_readings(strip, boxes, None) == [None] * len(letters)


def test_sure_letters_are_read_with_a_recogniser_scale_score(fonts):
    """Letters the reader is sure of come back as that letter, scored as the recogniser scores
    a clean label letter; case-ambiguous letters only when caption labels settle the case."""
    assert labels.GLYPH_LETTER_SURE <= 1
    font = _font(fonts, "LiberationSans-Bold.ttf", 30)
    letters = "ABDEFGHKabdefghk"
    strip, boxes = _strip([_draw(ch, font, *COLOURS[0]) for ch in letters])
    quick = labels.quick_readings(strip, boxes, list(letters))
    supplied = [(ch, q) for ch, q in zip(letters, quick, strict=True) if q is not None]
    assert len(supplied) >= 12
    for ch, (text, score) in supplied:
        assert labels.normalise(text, list(letters)) == ch
        assert score == labels.letter_score(glyphreader.read([_draw(ch, font, *COLOURS[0])])[0][1])
        assert 0.95 <= score <= 1.0
    ambiguous = [_draw(ch, font, *COLOURS[0]) for ch in "COSW"]
    strip, boxes = _strip(ambiguous)
    assert labels.quick_readings(strip, boxes, None) == [None] * 4
    assert sum(q is not None for q in labels.quick_readings(strip, boxes, list("COSW"))) >= 3


def test_letter_score_is_monotone_and_above_the_label_floor():
    """``consistent_labels`` and ``corner_label`` drop readings under 0.5: a sure letter never is."""
    probs = np.linspace(labels.GLYPH_LETTER_SURE, 1.0, 50)
    scores = [labels.letter_score(p) for p in probs]
    assert all(b >= a for a, b in zip(scores, scores[1:], strict=False))
    assert min(scores) >= 0.5 and max(scores) <= 1.0


def test_tied_reader_letters_get_recogniser_scores(fonts):
    """Two crops both read as ``A`` by the reader: the recogniser scores both, as it would have
    without the reader; a letter read once keeps the reader's score."""
    font = _font(fonts, "DejaVuSans-Bold.ttf", 30)
    strip, boxes = _strip([_draw(ch, font, *COLOURS[0]) for ch in "AAB"])
    cache: dict = {}
    read = labels.read_glyphs(strip, boxes, ["A", "B"], cache=cache)
    assert [g.text for g in read] == ["A", "A", "B"] and not any(cache[b][2] for b in boxes)
    settled = labels.settle_ties(strip, read, ["A", "B"], cache)
    want = labels.read_texts([labels._glyph_crop(strip, b) for b in boxes[:2]])
    assert [(g.text, g.score) for g in settled[:2]] == [(labels.normalise(t, ["A", "B"]), s) for t, s in want]
    assert settled[2] is read[2] and cache[boxes[0]][2] and not cache[boxes[2]][2]


def test_letters_outside_the_caption_labels_skip_the_recogniser(fonts):
    font = _font(fonts, "LiberationSans-Bold.ttf", 30)
    letters = "KMNRTY"
    strip, boxes = _strip([_draw(ch, font, *COLOURS[0]) for ch in letters])
    quick = labels.quick_readings(strip, boxes, ["a", "b", "c"])
    assert sum(q == ("", 0.0) for q in quick) >= 5


def test_blobs_are_rejected():
    """Discs, plot markers, curves and noise read as no glyph: no recogniser call for them."""
    rng = np.random.default_rng(5)
    inks = []
    for r in (8, 14, 20):
        disc = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
        cv2.circle(disc, (r, r), r, 255, -1)
        inks.append(disc)
    inks += glyphshapes.shapes(rng, 30)
    read = glyphreader.read(inks)
    rejected = [t == glyphreader.REJECT for t, _ in read]
    assert sum(rejected) >= 0.85 * len(inks)
    strip, boxes = _strip(inks)
    quick = labels.quick_readings(strip, boxes, None)
    assert sum(q == ("", 0.0) for q in quick) >= 0.75 * len(inks)


def test_numpy_forward_is_the_torch_module():
    """The pipeline's numpy inference computes what glyphtrain's torch network computes."""
    torch = pytest.importorskip("torch")
    _, net, named = glyphtrain._module()
    params = glyphreader._params()
    with torch.no_grad():
        for name, m in named.items():
            m.weight.copy_(torch.from_numpy(params[f"{name}.weight"]))
            m.bias.copy_(torch.from_numpy(params[f"{name}.bias"]))
        squares = np.random.default_rng(0).integers(0, 256, (7, glyphreader.SIDE, glyphreader.SIDE), np.uint8)
        want = net(torch.from_numpy(squares).float().div(255).unsqueeze(1)).numpy()
    np.testing.assert_allclose(glyphreader.forward(params, squares), want, rtol=1e-4, atol=1e-4)


def _forward_channels_first(params, squares):
    """The reader's forward pass as first written: 3 x 3 windows gathered from NCHW maps."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = squares.astype(np.float32)[:, None] / 255.0
    for k in range(len(glyphreader.CHANNELS) - 1):
        w, b = params[f"conv{k}.weight"], params[f"conv{k}.bias"]
        n, c, h, wd = x.shape
        cols = sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
        y = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9) @ w.reshape(w.shape[0], -1).T + b
        x = np.maximum(y, 0).reshape(n, h // 2, 2, wd // 2, 2, -1).max(axis=(2, 4)).transpose(0, 3, 1, 2)
    x = np.maximum(x.reshape(len(x), -1) @ params["fc0.weight"].T + params["fc0.bias"], 0)
    return x @ params["fc1.weight"].T + params["fc1.bias"]


@pytest.mark.parametrize("n", [1, 5, 40])
def test_channels_last_forward_equals_channels_first_to_the_bit(n):
    """The same patch matrices go into the same products: logits equal, not merely close."""
    params = glyphreader._params()
    squares = np.random.default_rng(n).integers(0, 256, (n, glyphreader.SIDE, glyphreader.SIDE), np.uint8)
    assert np.array_equal(glyphreader.forward(params, squares), _forward_channels_first(params, squares))


def test_weights_are_small():
    assert glyphreader.WEIGHTS.stat().st_size < 1_000_000


@pytest.mark.slow
def test_weights_file_is_what_the_script_produces(fonts):
    """Retraining from the fonts reproduces the committed network (byte for byte on one machine;
    elsewhere its readings of a fresh rendered set, within glyphtrain's tolerance)."""
    pytest.importorskip("torch")
    assert glyphtrain.main(["--check"]) == 0


@pytest.mark.slow
def test_wheel_ships_every_data_file_the_code_reads(tmp_path):
    """Built from a copy of the sources (an in-tree build would leave build/ in the checkout):
    the glyph weights, vocabularies and the image-type model are read at run time."""
    src = tmp_path / "src"
    for name in ("curate", "stages"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(src)]
    subprocess.run(cmd, check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("panel2patch-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data = sorted(str(p.relative_to(src)) for p in (src / "curate").rglob("*")
                  if p.is_file() and p.suffix in {".npz", ".json", ".yaml"})
    assert "curate/layout/glyph_reader.npz" in data and "curate/quality/imagetype_model.json" in data
    assert "curate/quality/imagetype_embed_model.json" in data and "curate/quality/imagetype_embed.npz" in data
    assert [d for d in data if d not in shipped] == []


def _glyph(text: str, box: tuple) -> labels.Glyph:
    return labels.Glyph(box, text, 0.99)


def test_only_equally_aligned_same_letters_are_score_ties():
    """Two glyphs read ``A``: the one lined up with ``B`` wins by alignment, whatever the scores,
    so neither needs the recogniser; two ``A`` both in ``B``'s row are chosen by score alone."""
    a1, b = _glyph("A", (0, 0, 10, 10)), _glyph("B", (40, 0, 50, 10))
    lone = _glyph("A", (300, 200, 310, 210))
    assert labels.score_ties([a1, b, lone], ["A", "B"]) == []
    in_row = _glyph("A", (80, 0, 90, 10))
    assert labels.score_ties([a1, b, in_row], ["A", "B"]) == [a1.box, in_row.box]
    small = _glyph("A", (80, 0, 85, 5))  # another size: consistent_labels never weighs it with a1
    assert labels.score_ties([a1, b, small], ["A", "B"]) == []


def test_letters_chosen_by_alignment_skip_the_recogniser(monkeypatch):
    read = [_glyph("A", (0, 0, 10, 10)), _glyph("B", (40, 0, 50, 10)), _glyph("A", (300, 200, 310, 210))]
    cache = {g.box: (g.text, g.score, False) for g in read}

    def no_recogniser(crops):  # test double for the recogniser process boundary
        raise AssertionError("the recogniser was called")

    monkeypatch.setattr(labels, "read_texts", no_recogniser)
    assert labels.settle_ties(np.zeros((220, 320), np.uint8), read, ["A", "B"], cache) is read
    assert labels.consistent_labels(read, ["A", "B"]) == read[:2]


def test_corner_letters_are_reread_only_when_another_label_competes(fonts, recogniser_calls):
    """In a panel corner, a letter the reader is sure of keeps its score unless another reading
    there names a label still to be found."""
    from PIL import Image, ImageDraw

    font = _font(fonts, "LiberationSans-Bold.ttf", 30)
    img = Image.new("RGB", (1000, 1000), (255, 255, 255))
    ImageDraw.Draw(img).text((4, 2), "A", font=font, fill=(0, 0, 0))
    ImageDraw.Draw(img).text((42, 2), "B", font=font, fill=(0, 0, 0))
    rgb = np.asarray(img).copy()
    panel = (0, 0, 1000, 1000)
    free = labels.corner_label(rgb, panel, ["A", "B"], set())
    assert free is not None and sum(recogniser_calls) >= 2  # both letters compete: the recogniser ranks them
    recogniser_calls.clear()
    got = labels.corner_label(rgb, panel, ["A", "B"], {"A"})
    assert got is not None and got.text == "B" and sum(recogniser_calls) == 0
    assert 0.95 <= got.score <= labels.LETTER_SCORE_KNOTS[1][-1]  # the reader's calibrated score


def test_no_label_counts_every_class_that_names_no_label():
    """Small solid bars split the reader between a bar and a reject, neither above
    ``GLYPH_SURE``; together they name no label when ``a``-``c`` are expected, so the recogniser
    is skipped; where an ``I`` is expected the bar may be it, and the recogniser reads them."""
    bars = [np.full((h, w), 255, np.uint8) for h, w in ((7, 3), (8, 3), (9, 4), (9, 5))]
    firsts = [p for _, p in glyphreader.read(bars)]
    assert max(firsts) < labels.GLYPH_SURE  # no single class is sure enough on its own
    strip, boxes = _strip(bars)
    assert labels.quick_readings(strip, boxes, ["a", "b", "c"]) == [("", 0.0)] * 4
    assert None in labels.quick_readings(strip, boxes, ["H", "I", "J"])


def _page(fonts, texts: list[tuple[str, tuple[int, int]]]) -> np.ndarray:
    from PIL import Image, ImageDraw

    font = _font(fonts, "LiberationSans-Bold.ttf", 24)
    img = Image.new("RGB", (800, 600), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for text, xy in texts:
        draw.text(xy, text, font=font, fill=(0, 0, 0))
    draw.rectangle((60, 60, 380, 280), outline=(0, 0, 0), width=3)
    draw.rectangle((420, 60, 740, 280), outline=(0, 0, 0), width=3)
    return np.asarray(img).copy()


def test_without_caption_labels_no_a_means_no_label_set(fonts, monkeypatch, recogniser_calls):
    """No caption labels: a label set starts at ``a``/``A``, so on a figure whose candidates the
    reader rules out as an ``a`` no candidate goes to the recogniser; a figure
    with ``a`` and ``b`` still gets them."""
    from curate.layout import anchors
    from curate.layout.gutters import ink_mask

    # Case-ambiguous letters: without caption labels the reader supplies none of them.
    other = _page(fonts, [("C", (20, 20)), ("S", (395, 20)), ("X", (20, 300)), ("Z", (395, 300))])
    assert anchors.find_label_glyphs(other, ink_mask(other), None) == []
    assert sum(recogniser_calls) == 0
    with monkeypatch.context() as m:
        m.setattr(anchors, "_some_a", lambda *args: True)
        assert anchors.find_label_glyphs(other, ink_mask(other), None) == []
    assert sum(recogniser_calls) >= 3  # read one by one without the rule
    letters = _page(fonts, [("a", (20, 20)), ("b", (395, 20))])
    found = anchors.find_label_glyphs(letters, ink_mask(letters), None)
    assert sorted(g.text for g in found) == ["a", "b"]


def test_sub_label_figures_skip_glyphs_that_start_no_label(fonts, recogniser_calls):
    """Caption labels with sub-numerals (``Ai``): a crop's widened reading starts with its glyph,
    so bars that start no label are not read; a letter still goes to the recogniser (widened)."""
    font = _font(fonts, "LiberationSans-Bold.ttf", 30)
    bars = [np.full((h, w), 255, np.uint8) for h, w in ((7, 3), (8, 3), (9, 4), (9, 5))]
    strip, boxes = _strip([*bars, _draw("A", font, *COLOURS[0])])
    cache: dict = {}
    labels.read_glyphs(strip, boxes, ["Ai", "Aii", "B"], cache=cache)
    assert sum(recogniser_calls) == 1 and cache[boxes[-1]][2]
    assert all(cache[b] == ("", 0.0, False) for b in boxes[:4])
