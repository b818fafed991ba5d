"""A pretrained image embedding that is already installed: the backbone of RapidOCR's text
detector (PP-OCRv6 DBNet, shipped inside the ``rapidocr`` wheel), pooled.

The detector was trained to find text on documents and scenes, so its feature maps separate
what the image-type classifier confuses most: rows of text and ruled cells (tables), tick
labels along axes (charts), labelled boxes (diagrams) and text-free texture (photographs).
We read five internal maps (three backbone stages, the last stage and the fused FPN map) by
adding them as graph outputs, and keep each map's per-channel mean and max: ``EMBED_DIM``
numbers per image. Nothing is trained or downloaded here; the image type model projects these
numbers (``imagetype_embed.npz``) before its logistic regression.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

EMBED_SIDE = 320  # longer side of the detector's input: 33 ms per image on one core (256: 19 ms)
# (graph tensor, channels): backbone strides 8/16/32 ends, last block, fused FPN map (stride 4)
TAPS = (("Add.33", 48), ("Add.65", 96), ("Add.121", 192), ("Add.153", 384), ("Concat.3", 96))
EMBED_DIM = 2 * sum(c for _, c in TAPS)
DET_MODEL = "PP-OCRv6_det_small.onnx"


def det_model_path() -> Path:
    # Found like the label recogniser's model: importing rapidocr itself costs ~1 s of CPU per worker.
    from curate.layout.recogniser import model_path

    return model_path(name=DET_MODEL)


@functools.lru_cache(maxsize=1)
def embed_session():
    """ONNX Runtime session of the detector with the tapped maps as extra outputs, once per process."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(det_model_path()))
    known = {o for n in model.graph.node for o in n.output}
    for name, _ in TAPS:
        if name not in known:
            raise ValueError(f"{DET_MODEL} has no tensor {name}: the rapidocr model changed")
        model.graph.output.append(onnx.ValueInfoProto(name=name))
    opts = ort.SessionOptions()
    # one thread: the pipeline runs one worker per core (see curate.layout.labels)
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def detector_input(rgb: np.ndarray, side: int = EMBED_SIDE) -> np.ndarray:
    """(1, 3, H, W) float32: longer side scaled to ``side``, padded white to multiples of 32,
    BGR normalised to [-1, 1] as RapidOCR feeds its detector."""
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    rh, rw = max(1, round(h * s)), max(1, round(w * s))
    ph, pw = max(32, -(-rh // 32) * 32), max(32, -(-rw // 32) * 32)
    img = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    canvas = np.full((ph, pw, 3), 255, np.uint8)
    canvas[:rh, :rw] = img
    bgr = canvas[..., ::-1].astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])


def det_embedding(rgb: np.ndarray, side: int = EMBED_SIDE) -> np.ndarray:
    """(EMBED_DIM,) float64: per-channel mean then max of each tapped map, map by map."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 1:
        raise ValueError(f"det_embedding needs an RGB image, got shape {rgb.shape}")
    maps = embed_session().run([name for name, _ in TAPS], {"x": detector_input(rgb, side)})
    return np.concatenate([np.concatenate([m[0].mean(axis=(1, 2)), m[0].max(axis=(1, 2))]) for m in maps]
                          ).astype(np.float64)
