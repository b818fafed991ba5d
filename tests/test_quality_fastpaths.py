"""The image cues' fast paths (OpenCV thresholds, shares from countNonZero, histogram median
and palette) give exactly the values of the NumPy forms they replaced, on drawn, photographic,
noisy and strided (cropped) images; the fingerprint of a crop equals that of its copy; the
own pHash and dHash equal imagehash's bit for bit."""

from __future__ import annotations

import cv2
import imagehash
import numpy as np
import pytest
from PIL import Image

from curate.quality.dedup import dhash_int, fingerprint, phash_int
from curate.quality.features import ImageCues, _components, _outline_boxes, _work_copy, image_cues
from tests.test_quality import bar_chart, equation, flow_diagram, micrograph


def _long_lines(dark, axis, frac):
    length = max(40, int(dark.shape[axis] * frac))
    kernel = np.ones((1, length) if axis == 1 else (length, 1), np.uint8)
    opened = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel)
    across = np.ones((5, 1) if axis == 1 else (1, 5), np.uint8)
    opened = cv2.morphologyEx(opened & (1 - cv2.morphologyEx(opened, cv2.MORPH_OPEN, across)), cv2.MORPH_OPEN, kernel)
    profile = opened.any(axis=axis).astype(np.int8)
    return len(np.flatnonzero(np.diff(np.concatenate([[0], profile])) == 1)), opened


def _ticks(ink, h_open, v_open):
    ticks = 0
    for lines, kernel in ((v_open, (1, 4)), (h_open, (4, 1))):
        if not lines.any():
            continue
        strokes = cv2.morphologyEx(ink & (1 - lines), cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
        near = cv2.dilate(lines, np.ones((3, 3), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
        if n <= 1:
            continue
        touching = np.unique(labels[(near > 0) & (labels > 0)])
        ticks += int(((stats[touching, 2] <= 12) & (stats[touching, 3] <= 12)).sum())
    return ticks


def _plain_cues(rgb: np.ndarray) -> ImageCues:
    """The former NumPy form of ``image_cues``."""
    img = _work_copy(np.ascontiguousarray(rgb))
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    low, top = img.min(axis=2), img.max(axis=2)
    white = low > 235
    gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3)
    dark = ((grey < 110) & ~white).astype(np.uint8)
    ink = (grey < 170).astype(np.uint8)
    n_h, h_open = _long_lines(ink, 1, 0.35)
    n_v, v_open = _long_lines(ink, 0, 0.35)
    text_cover, glyphs, _ = _components(dark)
    meet = cv2.dilate(h_open, np.ones((5, 5), np.uint8)) & cv2.dilate(v_open, np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(meet)
    corner = bool(((xs < 0.5 * meet.shape[1]) & (ys > 0.4 * meet.shape[0])).any())
    light_bg = float(np.median(grey)) > 150
    bands = _components(((grey < np.median(grey) - 40) & ~white).astype(np.uint8))[2] if light_bg else 0
    q = (img >> 4).astype(np.int32)
    codes = (q[..., 0] << 8) | (q[..., 1] << 4) | q[..., 2]
    counts = np.sort(np.bincount(codes.ravel(), minlength=4096))[::-1]
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    tissue = (sat > 40) & (val > 60) & ~white
    return ImageCues(
        white_frac=float(white.mean()), black_frac=float((grey < 25).mean()),
        flat_frac=float(((np.abs(gx) + np.abs(gy)) <= 8).mean()),
        palette90=int(np.searchsorted(np.cumsum(counts), 0.9 * codes.size) + 1),
        colourful_frac=float(((sat > 90) & (val > 80)).mean()), grey_frac=float(((top - low) <= 12).mean()),
        long_hlines=n_h, long_vlines=n_v, axis_corner=corner, text_cover=text_cover, n_glyphs_per_kpx=glyphs,
        band_count=bands, hue_pink=float((tissue & ((hue >= 130) | (hue <= 5))).mean()),
        hue_brown=float((tissue & (hue > 5) & (hue <= 22)).mean()), mean_grey=float(grey.mean()),
        edge_frac=float((cv2.Canny(grey, 60, 150) > 0).mean()), tick_marks=_ticks(ink, h_open, v_open),
        outline_boxes=_outline_boxes(ink), height_px=int(rgb.shape[0]), width_px=int(rgb.shape[1]))


def _images():
    rng = np.random.default_rng(3)
    page = np.full((500, 700, 3), 255, np.uint8)
    page[60:440, 80:84] = 0  # an axis with ticks and bars: lines, corner, ticks, bands
    page[436:440, 80:650] = 0
    for x in range(100, 640, 40):
        page[440:452, x : x + 3] = 0
        page[200 + x // 8 : 436, x + 5 : x + 25] = (40, 90, 200)
    page[20:28, 300:420] = 60  # a dark band on a light page
    page[60:130, 420:560] = 0  # a hollow box: ink border, light inside
    page[64:126, 424:556] = 255
    he = np.dstack([rng.integers(150, 255, (300, 300)), rng.integers(40, 140, (300, 300)),
                    rng.integers(120, 220, (300, 300))]).astype(np.uint8)  # pink-purple stain
    return {"chart": bar_chart(), "flow": flow_diagram(), "equation": equation(), "micrograph": micrograph(1),
            "page": page, "he": he, "noise": rng.integers(0, 256, (333, 517, 3), dtype=np.uint8),
            "odd": rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)}


@pytest.mark.parametrize("name", sorted(_images()))
def test_cues_equal_the_numpy_forms(name):
    rgb = _images()[name]
    assert image_cues(rgb) == _plain_cues(rgb)
    h, w = rgb.shape[:2]
    crop = rgb[h // 5 : h - 1, w // 7 : w - 2]  # a strided view, as the stage passes panels
    assert not crop.flags.c_contiguous
    assert image_cues(crop) == _plain_cues(crop) == image_cues(crop.copy())


def test_cues_of_the_test_images_are_not_trivial():
    """The images above exercise the cues whose fast forms are pinned (not all zeros)."""
    cues = {name: image_cues(rgb) for name, rgb in _images().items()}
    assert cues["page"].long_hlines >= 1 and cues["page"].long_vlines >= 1 and cues["page"].axis_corner
    assert cues["chart"].tick_marks >= 5 and cues["page"].band_count >= 1 and cues["page"].outline_boxes >= 1
    assert cues["he"].hue_pink > 0.1 and cues["noise"].hue_brown > 0.01 and cues["noise"].colourful_frac > 0.1
    assert 0 < cues["page"].white_frac < 1 and cues["micrograph"].black_frac > 0 and cues["page"].flat_frac > 0.5


def test_fingerprint_of_a_crop_equals_that_of_its_copy():
    rgb = micrograph(2)
    crop = rgb[10:200, 30:290]
    a, b = fingerprint("a", "d", crop), fingerprint("a", "d", crop.copy())
    assert a == b and a.informative


def test_text_evidence_counts_repeated_texts_alike():
    from curate.quality.vocab import load_vocab, text_evidence

    texts = [("Axial CT of the abdomen; CT angiography, CT, CT", 1.0), ("MRI and ct", 0.5), ("", 1.0)]
    first = text_evidence("modality", texts)
    assert first == text_evidence("modality", texts) == text_evidence("modality", texts, load_vocab())
    assert first["ct"] == 1.0 * 3 + 0.5 * 1 and first["mri"] == 0.5  # at most 3 hits per text


def _hash_images():
    """Drawn, photographic, noisy, tiny, strided, blank and mirror-symmetric images (the last two
    have DCT coefficients exactly at their median, which the reference implementation settles)."""
    images = dict(_images())
    rng = np.random.default_rng(11)
    images["crop"] = images["page"][37:411, 13:689]
    images["blank"] = np.full((90, 120, 3), 255, np.uint8)
    images["ramp"] = np.tile(np.arange(0, 256, 4, dtype=np.uint8)[None, :, None], (40, 1, 3))
    half = rng.integers(0, 256, (64, 32, 3), dtype=np.uint8)
    images["mirror"] = np.concatenate([half, half[:, ::-1]], axis=1)
    images["wide"] = cv2.resize(images["micrograph"], (1300, 90), interpolation=cv2.INTER_AREA)
    for q in (30, 90):
        images[f"jpeg{q}"] = cv2.imdecode(cv2.imencode(".jpg", images["chart"], [cv2.IMWRITE_JPEG_QUALITY, q])[1], 1)
    return images


@pytest.mark.parametrize("name", sorted(_hash_images()))
def test_own_phash_and_dhash_equal_imagehash(name):
    luma = Image.fromarray(np.ascontiguousarray(_hash_images()[name])).convert("L")
    assert phash_int(luma) == int(str(imagehash.phash(luma)), 16)
    assert dhash_int(luma) == int(str(imagehash.dhash(luma)), 16)


def test_hashes_tell_images_apart():
    """Not a constant: distinct images get far-apart hashes."""
    images = _hash_images()
    lumas = [Image.fromarray(np.ascontiguousarray(images[k])).convert("L") for k in ("chart", "flow", "noise", "he")]
    ph, dh = [phash_int(x) for x in lumas], [dhash_int(x) for x in lumas]
    assert len(set(ph)) == len(set(dh)) == 4 and min((a ^ b).bit_count() for a in ph for b in ph if a != b) > 10


def test_line_opening_by_window_sums_equals_opencv_morphology():
    """Short, long, border-touching and full rows; sides shorter and longer than the kernel; sparse
    masks (only some rows filtered) and dense ones; runs longer than 255 (8-bit window sums)."""
    from curate.quality.features import _open_along

    rng = np.random.default_rng(5)
    for trial in range(600):
        side, length = int(rng.integers(3, 400)), int(rng.integers(2, 300))
        mask = (rng.random((int(rng.integers(1, 12)), side)) < rng.uniform(0.3, 1.0)).astype(np.uint8)
        for row in mask:
            a = int(rng.integers(0, side))
            row[a : int(rng.integers(a, side + 1))] = 1
        mask[0, : int(rng.integers(0, side + 1))] = 1
        if trial % 3 == 0:
            mask[rng.random(len(mask)) < 0.7] = 0  # most rows empty
        for axis, m in ((1, mask), (0, np.ascontiguousarray(mask.T))):
            kernel = np.ones((1, length) if axis == 1 else (length, 1), np.uint8)
            assert np.array_equal(_open_along(m, axis, length), cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)), trial


def test_tick_marks_counted_in_the_lines_box_equal_the_whole_image_count():
    """Axes at random places with ticks, clutter strokes of every size next to and far from them."""
    from curate.quality.features import _long_lines, _tick_marks

    rng = np.random.default_rng(8)
    counted = 0
    for _ in range(60):
        h, w = int(rng.integers(80, 384)), int(rng.integers(80, 384))
        ink = np.zeros((h, w), np.uint8)
        x, y = int(rng.integers(0, w // 2)), int(rng.integers(h // 2, h))
        ink[int(rng.integers(0, h // 3)) : y + 2, x : x + 2] = 1  # y axis
        ink[y : y + 2, x : int(rng.integers(w // 2 + 40, w + 1))] = 1  # x axis
        for _ in range(int(rng.integers(0, 40))):  # ticks, labels, bars, clutter
            cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
            ink[cy : cy + int(rng.integers(1, 30)), cx : cx + int(rng.integers(1, 30))] = 1
        for k in range(int(rng.integers(0, 8))):
            ink[y + 2 : y + 2 + int(rng.integers(3, 16)), x + 10 + 12 * k : x + 12 + 12 * k] = 1
        _, h_open = _long_lines(ink, 1, 0.35)
        _, v_open = _long_lines(ink, 0, 0.35)
        ticks = _tick_marks(ink, h_open, v_open)
        assert ticks == _ticks(ink, h_open, v_open)
        counted += ticks > 0
    assert counted >= 20
