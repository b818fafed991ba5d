"""Text-line recognition with the PP-OCR recognition network that the ``rapidocr`` wheel ships,
run by ONNX Runtime directly (greedy CTC decoding, no detector, no engine).

Building RapidOCR's engine imports its whole configuration and download stack (omegaconf, yaml,
requests, shapely: about 1.4 s of CPU in a cold process) to end in the same ONNX session, so every
worker process of the panels stage paid that to read a few letters. Here only the model file is
taken from the wheel (found without importing the package). Readings and scores equal the
engine's recognition step configured as the labels used it (BENCHMARKS.md, performance round 6).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np

MODEL_FILE = "PP-OCRv6_rec_small.onnx"  # rapidocr's default recognition model (onnxruntime, small)
HEIGHT = 48  # the network's input height
BLANK = 0  # CTC blank: the first class; the alphabet in the model's metadata follows it, then a space


def model_path(package: str = "rapidocr", name: str = MODEL_FILE) -> Path:
    """The recognition model inside the installed ``package``, located without running its ``__init__``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed; it ships the label recognition model")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"recognition model missing from the {package} wheel: {path}")
    return path


class Recogniser:
    """A PP-OCR text-line recogniser: BGR crops -> (text, mean character confidence).

    Crops are resized to ``HEIGHT`` px keeping their aspect, normalised to [-1, 1] and padded on
    the right with zeros to a shared canvas ``width`` px wide (wider when a crop in the batch is
    wider than that canvas's aspect). Crops go in batches of ``batch`` in order of aspect.
    """

    def __init__(self, path: Path | None = None, width: int = 320, batch: int = 16, threads: int = 1):
        import onnxruntime as ort  # deferred: a process that reads no labels never loads it

        opts = ort.SessionOptions()
        opts.log_severity_level = 4
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread each: the pipeline runs one worker per core. The arena saves a malloc per
        # layer per call (about 15 % of a small batch).
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = threads
        opts.enable_cpu_mem_arena = True
        path = path or model_path()
        self.session = ort.InferenceSession(
            str(path),
            sess_options=opts,
            providers=[("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})],
        )
        self.input_name = self.session.get_inputs()[0].name
        alphabet = self.session.get_modelmeta().custom_metadata_map.get("character")
        if alphabet is None:
            raise ValueError(f"recognition model {path} carries no 'character' alphabet in its metadata")
        self.classes = ["", *alphabet.splitlines(), " "]
        self.width = width
        self.batch = batch

    def __call__(self, crops_bgr: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, score) per crop, in input order; ``("", 0.0)`` for a crop read as nothing."""
        aspects = np.array([c.shape[1] / float(c.shape[0]) for c in crops_bgr])
        order = np.argsort(aspects)  # similar widths share a batch (as the engine batched them)
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops_bgr)
        for start in range(0, len(order), self.batch):
            idx = order[start : start + self.batch]
            canvas_aspect = max(self.width / HEIGHT, float(aspects[idx].max()))
            tensor = np.stack([self._normalised(crops_bgr[i], int(HEIGHT * canvas_aspect)) for i in idx])
            probs = self.session.run(None, {self.input_name: tensor})[0]
            for i, row in zip(idx, probs, strict=True):
                out[i] = self._decode(row)
        return out

    @staticmethod
    def _normalised(crop: np.ndarray, canvas_w: int) -> np.ndarray:
        """One crop as a (3, HEIGHT, canvas_w) float32 tensor: resized, scaled to [-1, 1], zero-padded."""
        h, w = crop.shape[:2]
        resized_w = min(canvas_w, math.ceil(HEIGHT * (w / float(h))))
        img = cv2.resize(crop, (resized_w, HEIGHT)).astype(np.float32).transpose(2, 0, 1)
        # The same operations in the same order as the engine, so the tensor is equal to the bit.
        img = img / 255
        img -= 0.5
        img /= 0.5
        tensor = np.zeros((3, HEIGHT, canvas_w), dtype=np.float32)
        tensor[:, :, :resized_w] = img
        return tensor

    def _decode(self, probs: np.ndarray) -> tuple[str, float]:
        """Greedy CTC over one line's (steps, classes) probabilities: best class per step, repeats
        merged, blanks dropped; the score is the mean best probability of the characters kept
        (each rounded to 5 decimals, as are the engine's)."""
        best = probs.argmax(axis=1)
        keep = best != BLANK
        keep[1:] &= best[1:] != best[:-1]
        if not keep.any():
            return "", 0.0
        text = "".join(self.classes[k] for k in best[keep])
        confs = [round(p, 5) for p in probs.max(axis=1)[keep].tolist()]
        return text, float(np.round(np.mean(confs), 5))
