"""``decode_rgb``'s OpenCV path for plain JPEGs gives Pillow's pixels exactly, and every other
image (or a JPEG that Pillow would refuse) goes to Pillow; one header read serves the limits.
``encode_jpeg`` through OpenCV gives Pillow's bytes."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from curate.images import (
    BadImage,
    ImageTooLarge,
    _jpeg_rgb,
    check_decodes,
    decode_rgb,
    encode_jpeg,
    probe_size,
    to_rgb_array,
)

_RGB = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 256, (67, 91, 3), dtype=np.uint8), (5, 5), 0)


def _pillow(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return to_rgb_array(img)


def _jpeg(mode: str = "RGB", rgb: np.ndarray = _RGB, **options) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buf, format="JPEG", **options)
    return buf.getvalue()


def _fast(data: bytes) -> np.ndarray | None:
    with Image.open(io.BytesIO(data)) as img:
        return _jpeg_rgb(data, img)


def _rotated_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: both decoders leave the stored pixels unrotated
    return exif.tobytes()


_OPENCV = [(cv2.IMWRITE_JPEG_RST_INTERVAL, 2),
           (cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411),
           (cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440)]
PLAIN = {
    "grey": lambda: _jpeg("L"), "444": lambda: _jpeg(subsampling=0), "422": lambda: _jpeg(subsampling=1),
    "420": lambda: _jpeg(subsampling=2), "progressive": lambda: _jpeg(progressive=True),
    "optimised": lambda: _jpeg(optimize=True), "q100": lambda: _jpeg(quality=100),
    "rgb-coded": lambda: _jpeg(keep_rgb=True), "exif-rotated": lambda: _jpeg(exif=_rotated_exif()),
    "1x1": lambda: _jpeg(rgb=_RGB[:1, :1]), "odd": lambda: _jpeg(rgb=_RGB[:13, :7]),
    **{f"opencv-{i}": (lambda p=p: cv2.imencode(".jpg", _RGB, list(p))[1].tobytes()) for i, p in enumerate(_OPENCV)},
    # cut short but closed by an EOI marker: libjpeg pads it in both decoders, the same way
    "cut-then-eoi": lambda: _jpeg()[:1500] + b"\xff\xd9",
}


@pytest.mark.parametrize("case", sorted(PLAIN))
def test_plain_jpeg_takes_the_opencv_path_with_pillows_pixels(case):
    data = PLAIN[case]()
    fast = _fast(data)
    assert fast is not None
    want = _pillow(data)
    assert fast.dtype == np.uint8 and fast.shape == want.shape and np.array_equal(fast, want)
    assert np.array_equal(decode_rgb(data), want)


def _png(mode: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_RGB).convert(mode).save(buf, format="PNG")
    return buf.getvalue()


OTHER = {"cmyk": lambda: _jpeg("CMYK"), "trailing-bytes": lambda: _jpeg() + b"\0\0",
         "png": lambda: _png("RGB"), "png-rgba": lambda: _png("RGBA")}


@pytest.mark.parametrize("case", sorted(OTHER))
def test_other_images_go_to_pillow(case):
    data = OTHER[case]()
    assert _fast(data) is None
    assert np.array_equal(decode_rgb(data), _pillow(data))


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_is_refused_as_before(progressive):
    data = _jpeg(progressive=progressive)
    for cut in (0.3, 0.9, 0.999):
        with pytest.raises(BadImage, match="truncated"):
            decode_rgb(data[: int(len(data) * cut)])


def test_limits_and_bad_bytes_give_the_same_errors():
    data = _jpeg()
    assert probe_size(data) == check_decodes(data) == (91, 67)
    for call in (probe_size, check_decodes):
        with pytest.raises(ImageTooLarge, match="91x67 exceeds the limit of 6000 pixels"):
            call(data, 6000)
    for bad in (b"", b"not an image", data[:20]):
        with pytest.raises(BadImage):
            decode_rgb(bad)


def _pillow_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, optimize=False, progressive=False)
    return buf.getvalue()


@pytest.mark.parametrize("quality", [1, 50, 82, 90, 95, 100])
def test_encode_jpeg_gives_pillows_bytes(quality):
    noise = np.random.default_rng(quality).integers(0, 256, (45, 61, 3), dtype=np.uint8)
    for rgb in (_RGB, _RGB[:1, :1], _RGB[3:16, 5:12], _RGB[::2, ::3], noise, np.zeros((9, 17, 3), np.uint8)):
        assert encode_jpeg(rgb, quality) == _pillow_jpeg(np.ascontiguousarray(rgb), quality)


def test_encode_jpeg_of_a_grey_array_goes_to_pillow():
    grey = _RGB[..., 0].copy()
    assert encode_jpeg(grey) == _pillow_jpeg(grey, 90)
    assert decode_rgb(encode_jpeg(grey)).shape == (67, 91, 3)
