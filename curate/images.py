"""Image bytes in and out: safe decoding, content hashes, crops and JPEG encoding.

Decoding is the one place where untrusted pixels enter, so limits live here: Pillow's
decompression-bomb guard is set from ``MAX_PIXELS`` and a too-large image raises
``ImageTooLarge`` rather than exhausting a worker's memory.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings

import cv2
import numpy as np
from PIL import Image, ImageFile

MAX_PIXELS = 120_000_000  # hard ceiling for any decode; ``ingest.max_pixels`` sets the run's own limit
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageTooLarge(ValueError):
    """The image has more pixels than the configured limit."""


class BadImage(ValueError):
    """The bytes are not a decodable image."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_ext(data: bytes) -> str:
    """File extension from the magic bytes (``jpg``, ``png``, ``tif``, ``gif``, ``webp``, ``bin``)."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "bin"


def probe_size(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(width, height) without decoding the pixels; raises BadImage / ImageTooLarge (more than
    ``max_pixels``, or a zero-sized image, which Pillow reports as an error of its own)."""
    with _opened(data, max_pixels) as img:
        return img.size


def _opened(data: bytes, max_pixels: int) -> Image.Image:
    """The image opened (header only) once its size is within the limits; the caller closes it."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except Exception as exc:
        raise BadImage(f"{type(exc).__name__}: {exc}") from exc
    width, height = img.size
    if width * height > min(max_pixels, MAX_PIXELS):
        img.close()
        raise ImageTooLarge(f"{width}x{height} exceeds the limit of {min(max_pixels, MAX_PIXELS)} pixels")
    return img


def decode_rgb(data: bytes) -> np.ndarray:
    """Decode to an ``H x W x 3`` uint8 RGB array (first frame; alpha composited on white;
    16-bit and float images rescaled to 8 bits)."""
    return _decoded(data, MAX_PIXELS, lambda img, size: to_rgb_array(img), fast=_jpeg_rgb)


def check_decodes(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(width, height) once the first frame has decoded in full, so a truncated or corrupt
    image is refused where it enters (ingest) rather than in a later stage.

    A JPEG is decoded at 1/8 scale (Pillow's ``draft``): libjpeg still reads its whole
    entropy-coded stream, where truncation and corruption show, and skips most of the
    inverse DCT and colour conversion that only a full-size decode needs."""
    return _decoded(data, max_pixels, lambda img, size: size, smallest=True)


def _decoded(data: bytes, max_pixels: int, use, smallest: bool = False, fast=None):
    """``use(image, size)`` of the loaded first frame, or ``fast(data, image)`` where that
    gives an answer; one ``Image.open`` reads the header for the limits and the decode."""
    img = _opened(data, max_pixels)
    size = img.size  # the header's, which ``draft`` would shrink
    try:
        with img, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            quick = fast(data, img) if fast is not None else None
            if quick is not None:
                return quick
            img.seek(0)
            if smallest:
                img.draft(None, (1, 1))  # JPEG only; other formats ignore it
            img.load()
            return use(img, size)
    except (ImageTooLarge, BadImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(str(exc)) from exc
    except Exception as exc:
        raise BadImage(f"{type(exc).__name__}: {exc}") from exc


def _jpeg_rgb(data: bytes, img: Image.Image) -> np.ndarray | None:
    """A plain JPEG's pixels from OpenCV's decoder, the same libjpeg(-turbo) decode as Pillow's
    (accurate integer IDCT, fancy chroma upsampling; EXIF orientation ignored by both) with
    about a third less CPU time (no chunked Python feed, no 4-byte internal copy); None for
    anything else, which Pillow decodes. Only a grey or YCbCr/RGB JPEG that ends in its EOI
    marker qualifies: OpenCV would pad a truncated file with grey where Pillow refuses it."""
    if img.format != "JPEG" or img.mode not in ("L", "RGB") or not data.endswith(b"\xff\xd9"):
        return None
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    channels = 1 if img.mode == "L" else 3
    if arr is None or arr.dtype != np.uint8 or arr.shape[:2] != img.size[::-1] \
            or (arr.shape[2] if arr.ndim == 3 else 1) != channels:
        return None
    return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB if channels == 1 else cv2.COLOR_BGR2RGB)


def to_rgb_array(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        gray = np.nan_to_num(scaled).clip(0, 255).astype(np.uint8)
        return np.stack([gray] * 3, axis=-1)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if img.mode == "RGB":  # convert() would copy the pixels once more, for nothing
        return np.asarray(img)
    return np.asarray(img.convert("RGB"))


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """Encode an RGB array as baseline JPEG; deterministic for the same pixels and libjpeg.

    OpenCV's writer gives the bytes Pillow's does (both: libjpeg-turbo defaults, 4:2:0,
    standard Huffman tables, the same JFIF header) at four fifths of its CPU time (no
    4-byte internal copy, no chunked Python write loop); anything but ``H x W x 3`` uint8
    goes to Pillow."""
    if rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            return buf.tobytes()
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, optimize=False, progressive=False)
    return buf.getvalue()


def encode_png(rgb: np.ndarray) -> bytes:
    """Lossless PNG of an RGB array: zlib level 1 over the ``Sub`` row filter, a third of the
    CPU time of PyMuPDF's writer and of Pillow's default level, and as fast to decode for the
    stages that read it back (the adaptive filters and run-length matching encode as fast but
    decode 1.7x slower). Deterministic for the same pixels and OpenCV."""
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV >= 4.11; older ones pick filters adaptively
        params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise BadImage(f"cannot encode a {rgb.shape[1]}x{rgb.shape[0]} image as PNG")
    return buf.tobytes()


def fit_side(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The image area-resized so its longer side is at most ``max_side``, and the scale used
    (the image itself and 1.0 when it already fits)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale


def mask_above(a: np.ndarray, t: int, on: int = 255) -> np.ndarray:
    """uint8 ``on`` where the uint8 array ``a`` is above ``t``, else 0: one OpenCV threshold,
    several times faster than a NumPy comparison and its cast."""
    return cv2.threshold(a, t, on, cv2.THRESH_BINARY)[1]


def mask_below(a: np.ndarray, t: int, on: int = 255) -> np.ndarray:
    """uint8 ``on`` where the uint8 array ``a`` is below ``t``, else 0."""
    return cv2.threshold(a, t - 1, on, cv2.THRESH_BINARY_INV)[1]


def label_components(mask: np.ndarray, with_stats: bool = True):
    """``(n, labels, stats or None)``: ``cv2.connectedComponents[WithStats]`` of a uint8 mask,
    8-connected, with 16-bit labels (the same labels and stats as 32-bit ones, in well under
    half the time on the markers' masks) unless they would overflow, then 32-bit ones."""
    for ltype in (cv2.CV_16U, cv2.CV_32S):
        try:
            if with_stats:
                n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=ltype)
                return n, labels, stats
            n, labels = cv2.connectedComponents(mask, connectivity=8, ltype=ltype)
            return n, labels, None
        except cv2.error:  # more than 65,535 provisional labels
            if ltype == cv2.CV_32S:
                raise
    raise AssertionError("unreachable")


def crop_xyxy(rgb: np.ndarray, box: list[int] | tuple[int, ...]) -> np.ndarray:
    """Crop a half-open ``[x1, y1, x2, y2)`` box, clipped to the image; never empty."""
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = (int(v) for v in box)
    x1, y1 = max(0, min(x1, w - 1)), max(0, min(y1, h - 1))
    x2, y2 = max(x1 + 1, min(x2, w)), max(y1 + 1, min(y2, h))
    return rgb[y1:y2, x1:x2]


def colour_distance(rgb: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """uint8 per pixel: the largest channel difference between ``rgb`` (uint8) and ``colour``.

    OpenCV's saturating uint8 ``absdiff`` and ``max`` give the same numbers as the int16
    NumPy form at a thirtieth of its time (no widened copy of the image, no axis reduction).
    """
    scalar = tuple(int(v) for v in np.asarray(colour).astype(np.int16)[:3]) + (0,)
    c0, c1, c2 = cv2.split(cv2.absdiff(rgb, scalar))
    return cv2.max(cv2.max(c0, c1), c2)


def fit_pixels(data: bytes, max_pixels: int) -> tuple[bytes, int, int] | None:
    """``(bytes, width, height)`` of the image shrunk to at most ``max_pixels``, or None when
    it already fits.

    A JPEG is decoded straight at 1/2, 1/4 or 1/8 scale where that still covers the target
    (Pillow's ``draft``: the big image is never held), then area-resized; the result is a
    JPEG (quality 95) for a JPEG source, else a lossless PNG.
    """
    width, height = probe_size(data)
    if width * height <= max_pixels:
        return None
    scale = math.sqrt(max_pixels / (width * height))
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", size)
            img.seek(0)
            img.load()
            rgb = to_rgb_array(img)
    except Exception as exc:
        raise BadImage(f"{type(exc).__name__}: {exc}") from exc
    small = np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    if image_ext(data) == "jpg":
        return encode_jpeg(small, quality=95), size[0], size[1]
    return encode_png(small), size[0], size[1]

