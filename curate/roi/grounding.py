"""Grounding DINO (transformers) as a phrase -> box detector over panels.

Frames: input panels are ``H x W x 3`` uint8 RGB; output boxes are ``xyxy`` floats in panel
pixels (clipped to the panel). The model predicts boxes normalised to each image's own
(unpadded) extent, so post-processing with ``target_sizes = (H, W)`` of the panel maps them
straight back, whatever resizing and batch padding the processor applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from curate.roi.loading import RoiConfigError, autocast, resolve_model_dir, torch_device
from curate.roi.rle import box_iou


@dataclass(frozen=True)
class Detection:
    """A box in panel pixels, the prompt phrase it grounds, and that phrase's probability."""

    bbox_xyxy: tuple[float, float, float, float]
    phrase: str
    score: float


def clean_phrase(phrase: str) -> str:
    """Lower-case, one-line phrase without dots (Grounding DINO separates phrases by '.')."""
    text = phrase.lower().replace(".", " ")
    return re.sub(r"\s+", " ", text).strip(" ,;:")


class GroundingDinoBackend:
    """Batched phrase grounding with a local Grounding DINO checkpoint."""

    def __init__(self, model_dir: Path | str, device: str = "cpu", box_threshold: float = 0.3,
                 text_threshold: float = 0.25, nms_iou: float = 0.5, max_detections: int = 20):
        path = resolve_model_dir(model_dir)  # fail on a bad path before the slow import
        from transformers import (
            AutoModelForZeroShotObjectDetection,
            AutoTokenizer,
            GroundingDinoImageProcessorPil,
            GroundingDinoProcessor,
        )

        try:
            model = AutoModelForZeroShotObjectDetection.from_pretrained(path, local_files_only=True)
            # The PIL processor explicitly: the torchvision one (when present) differs slightly.
            image_proc = GroundingDinoImageProcessorPil.from_pretrained(path, local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise RoiConfigError(f"cannot load Grounding DINO from {path}: {exc}") from exc
        processor = GroundingDinoProcessor(image_processor=image_proc, tokenizer=tokenizer)
        self._init(model, processor, device, box_threshold, text_threshold, nms_iou, max_detections)

    @classmethod
    def from_components(cls, model, processor, device: str = "cpu", box_threshold: float = 0.3,
                        text_threshold: float = 0.25, nms_iou: float = 0.5,
                        max_detections: int = 20) -> GroundingDinoBackend:
        """Wrap an already-built model and processor (benchmarks, notebooks)."""
        self = cls.__new__(cls)
        self._init(model, processor, device, box_threshold, text_threshold, nms_iou, max_detections)
        return self

    def _init(self, model, processor, device, box_threshold, text_threshold, nms_iou, max_detections):
        self.device = torch_device(device)
        self.model = model.to(self.device).eval()
        self.processor = processor
        self.box_threshold = box_threshold
        self.text_threshold = text_threshold
        self.nms_iou = nms_iou
        self.max_detections = max_detections
        cfg = model.config
        limits = [cfg.max_text_len, cfg.text_config.max_position_embeddings]
        tok_max = processor.tokenizer.model_max_length
        if isinstance(tok_max, int) and tok_max < 100_000:
            limits.append(tok_max)
        self.max_text_len = min(limits)

    def build_prompt(self, phrases: list[str]) -> tuple[str, list[tuple[str, int, int]]]:
        """Prompt text ``"a. b."`` and each kept phrase's character span in it.

        Phrases are cleaned and de-duplicated; whole phrases that do not fit in the model's
        text length (with [CLS], [SEP] and one '.' each) are dropped rather than cut.
        """
        budget = self.max_text_len - 2
        text, spans = "", []
        for phrase in dict.fromkeys(clean_phrase(p) for p in phrases):
            if not phrase:
                continue
            cost = len(self.processor.tokenizer(phrase, add_special_tokens=False)["input_ids"]) + 1
            if cost > budget:
                continue
            budget -= cost
            start = len(text)
            spans.append((phrase, start, start + len(phrase)))
            text += phrase + ". "
        return text.strip(), spans

    @torch.inference_mode()
    def detect(self, panels: list[np.ndarray], prompts: list[list[str]]) -> list[list[Detection]]:
        """Detections per panel for that panel's phrases (one batched forward pass).

        Panels without a usable phrase get ``[]`` and are left out of the batch.
        """
        if len(panels) != len(prompts):
            raise ValueError(f"{len(panels)} panels but {len(prompts)} prompt lists")
        built = [self.build_prompt(p) for p in prompts]
        todo = [i for i, (text, _) in enumerate(built) if text]
        results: list[list[Detection]] = [[] for _ in panels]
        if not todo:
            return results
        texts = [built[i][0] for i in todo]
        # Padding to the longest prompt lets ragged prompt lists share one batch.
        enc = self.processor.tokenizer(texts, padding="longest", truncation=True, max_length=self.max_text_len,
                                       return_offsets_mapping=True, return_token_type_ids=True,
                                       return_tensors="pt")
        offsets = enc.pop("offset_mapping")
        images = [Image.fromarray(np.ascontiguousarray(panels[i])) for i in todo]
        pix = self.processor.image_processor(images=images, return_tensors="pt")
        inputs = {**enc, **pix}
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with autocast(self.device):
            outputs = self.model(**inputs)
        sizes = [tuple(panels[i].shape[:2]) for i in todo]
        dets = self.outputs_to_detections(outputs, inputs["input_ids"], offsets,
                                          [built[i][1] for i in todo], sizes)
        for i, row in zip(todo, dets, strict=True):
            results[i] = row
        return results

    def outputs_to_detections(self, outputs, input_ids, offsets, spans, sizes) -> list[list[Detection]]:
        """Model outputs -> panel-pixel detections, each attributed to one prompt phrase.

        ``sizes`` are the panels' ``(H, W)``. A box's phrase is the phrase whose tokens reach
        the highest probability for it; its score is that probability, which must pass
        ``text_threshold`` (the box itself must pass ``box_threshold`` on any token).
        """
        outputs.logits = outputs.logits.float()
        outputs.pred_boxes = outputs.pred_boxes.float()
        post = self.processor.post_process_grounded_object_detection(
            outputs, input_ids=input_ids, threshold=self.box_threshold, text_threshold=self.text_threshold,
            target_sizes=[tuple(s) for s in sizes])
        probs = torch.sigmoid(outputs.logits).cpu()
        results = []
        for b, res in enumerate(post):
            # Same rule as the post-processor, to know which queries its rows came from.
            keep = probs[b].max(dim=-1).values > self.box_threshold
            token_phrase = _token_phrases(offsets[b], spans[b])
            phrase_probs = _phrase_probs(probs[b][keep][:, : token_phrase.numel()], token_phrase, len(spans[b]))
            row = []
            for box, pp in zip(res["boxes"].cpu().numpy(), phrase_probs, strict=True):
                if pp.numel() == 0:
                    continue
                j = int(pp.argmax())
                if float(pp[j]) < self.text_threshold:
                    continue
                row.append(Detection(_clip_box(box, sizes[b]), spans[b][j][0], float(pp[j])))
            results.append(_nms(row, self.nms_iou)[: self.max_detections])
        return results


def _token_phrases(offsets: torch.Tensor, spans: list[tuple[str, int, int]]) -> torch.Tensor:
    """Phrase index of each token (-1 for specials, dots and padding) from char offsets."""
    out = torch.full((offsets.shape[0],), -1, dtype=torch.long)
    for t, (start, end) in enumerate(offsets.tolist()):
        if end <= start:
            continue
        for j, (_, s, e) in enumerate(spans):
            if s <= start and end <= e:
                out[t] = j
                break
    return out


def _phrase_probs(probs: torch.Tensor, token_phrase: torch.Tensor, n_phrases: int) -> torch.Tensor:
    """``(queries, n_phrases)``: max token probability within each phrase."""
    out = torch.zeros((probs.shape[0], n_phrases))
    for j in range(n_phrases):
        cols = (token_phrase == j).nonzero(as_tuple=True)[0]
        if cols.numel():
            out[:, j] = probs[:, cols].max(dim=1).values
    return out


def _clip_box(box: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float, float]:
    h, w = size
    x1, y1, x2, y2 = (float(v) for v in box)
    return (min(max(x1, 0.0), w), min(max(y1, 0.0), h), min(max(x2, 0.0), w), min(max(y2, 0.0), h))


def _nms(dets: list[Detection], iou: float) -> list[Detection]:
    """Greedy per-phrase non-maximum suppression, best score first (queries often repeat)."""
    kept: list[Detection] = []
    for det in sorted(dets, key=lambda d: (-d.score, d.bbox_xyxy)):
        if all(k.phrase != det.phrase or box_iou(k.bbox_xyxy, det.bbox_xyxy) < iou for k in kept):
            kept.append(det)
    return kept
