"""MedSAM / SAM (transformers ``SamModel``) as a box -> mask segmenter over panels.

Frames: panels are ``H x W x 3`` uint8 RGB; prompt boxes and returned masks/boxes are in
panel pixels. With ``preprocess="medsam"`` (MedSAM's recipe) the panel is resized to the
model's square input (1024 x 1024 for real checkpoints, aspect ratio NOT kept) and min-max
scaled to [0, 1] with no ImageNet normalisation, so a panel box maps to the model frame by
a per-axis scale, and the low-resolution mask logits cover the whole panel: they are
resized straight back to ``H x W``. With ``preprocess="sam"`` the directory's SAM image
processor (longest-edge resize, ImageNet normalisation, padding) and its mask
post-processing are used instead, as the original SAM weights expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from curate.roi.loading import RoiConfigError, autocast, resolve_model_dir, torch_device
from curate.roi.rle import encode, tight_bbox
from curate.roi.scoring import stability


@dataclass
class MaskResult:
    """One box prompt's mask over the panel (bool ``H x W``), SAM's IoU estimate, the
    mask's RLE and tight box (panel pixels, None when empty), and its stability score."""

    mask: np.ndarray
    iou_pred: float
    rle: str
    bbox_xyxy: tuple[int, int, int, int] | None
    stability: float


class MedSamBackend:
    """One image embedding per panel, reused for all of that panel's box prompts."""

    def __init__(self, model_dir_or_pth: Path | str, device: str = "cpu", preprocess: str = "medsam",
                 config=None, stability_delta: float = 1.0):
        from transformers import SamModel

        path = Path(model_dir_or_pth).expanduser()
        if path.is_file():
            from curate.roi.convert_medsam import load_pth_as_sam

            model, model_dir = load_pth_as_sam(path, config), None
        else:
            model_dir = resolve_model_dir(path)
            try:
                model = SamModel.from_pretrained(model_dir, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise RoiConfigError(f"cannot load SAM from {model_dir}: {exc}") from exc
        self._init(model, device, preprocess, model_dir, stability_delta)

    @classmethod
    def from_model(cls, model, device: str = "cpu", preprocess: str = "medsam",
                   stability_delta: float = 1.0) -> MedSamBackend:
        """Wrap an already-built ``SamModel`` (benchmarks, tests)."""
        self = cls.__new__(cls)
        self._init(model, device, preprocess, None, stability_delta)
        return self

    def _init(self, model, device, preprocess, model_dir, stability_delta):
        if preprocess not in ("medsam", "sam"):
            raise RoiConfigError(f"unknown SAM preprocessing {preprocess!r} (medsam|sam)")
        self.device = torch_device(device)
        self.model = model.to(self.device).eval()
        self.preprocess = preprocess
        self.input_size = int(model.config.vision_config.image_size)
        self.stability_delta = stability_delta
        self.image_processor = self._sam_processor(model_dir) if preprocess == "sam" else None

    def _sam_processor(self, model_dir):
        from transformers import SamImageProcessorPil

        if model_dir is not None and (Path(model_dir) / "preprocessor_config.json").is_file():
            return SamImageProcessorPil.from_pretrained(model_dir, local_files_only=True)
        edge, low = self.input_size, self.input_size // 4
        return SamImageProcessorPil(size={"longest_edge": edge}, pad_size={"height": edge, "width": edge},
                                    mask_size={"longest_edge": low}, mask_pad_size={"height": low, "width": low})

    # --- frames -------------------------------------------------------------------------
    def box_to_model(self, box, size: tuple[int, int]) -> list[float]:
        """Panel ``xyxy`` -> model-input ``xyxy`` (MedSAM: per-axis scale to the square)."""
        h, w = size
        sx, sy = self.input_size / w, self.input_size / h
        return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy]

    def box_to_panel(self, box, size: tuple[int, int]) -> list[float]:
        """Inverse of ``box_to_model``."""
        h, w = size
        sx, sy = w / self.input_size, h / self.input_size
        return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy]

    def medsam_pixels(self, panel: np.ndarray) -> torch.Tensor:
        """``3 x S x S`` float tensor: bicubic square resize, then min-max to [0, 1]."""
        img = Image.fromarray(np.ascontiguousarray(panel)).resize((self.input_size,) * 2, Image.BICUBIC)
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / max(hi - lo, 1e-8)
        return torch.from_numpy(arr).permute(2, 0, 1).contiguous()

    @staticmethod
    def logits_to_panel(low_res: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """``(N, h, w)`` low-res logits over the whole square input -> ``(N, H, W)`` panel logits."""
        return F.interpolate(low_res[:, None].float(), size=size, mode="bilinear", align_corners=False)[:, 0]

    # --- inference ----------------------------------------------------------------------
    @torch.inference_mode()
    def segment(self, panels: list[np.ndarray], boxes: list[list]) -> list[list[MaskResult]]:
        """Masks per panel, one per box prompt (``xyxy`` panel pixels), in prompt order.

        Embeddings for all panels that have boxes come from one batched encoder pass; the
        prompt decoder then runs once per panel with all its boxes (ragged counts need no
        padding this way). Panels without boxes get ``[]``.
        """
        if len(panels) != len(boxes):
            raise ValueError(f"{len(panels)} panels but {len(boxes)} box lists")
        todo = [i for i, b in enumerate(boxes) if len(b)]
        results: list[list[MaskResult]] = [[] for _ in panels]
        if not todo:
            return results
        pixels, extra = self._pixels([panels[i] for i in todo])
        with autocast(self.device):
            embeddings = self.model.get_image_embeddings(pixel_values=pixels.to(self.device))
        for row, i in enumerate(todo):
            size = tuple(panels[i].shape[:2])
            logits, iou = self._decode(embeddings[row:row + 1], boxes[i], size, extra, row)
            results[i] = [self._result(logits[n], float(iou[n])) for n in range(len(boxes[i]))]
        return results

    def _pixels(self, panels: list[np.ndarray]):
        if self.preprocess == "medsam":
            return torch.stack([self.medsam_pixels(p) for p in panels]), None
        enc = self.image_processor(images=[Image.fromarray(np.ascontiguousarray(p)) for p in panels],
                                   return_tensors="pt")
        return enc["pixel_values"], enc

    def _decode(self, embedding, panel_boxes, size, extra, row):
        """Panel-pixel mask logits ``(N, H, W)`` and predicted IoUs ``(N,)`` for one panel."""
        if self.preprocess == "medsam":
            model_boxes = [self.box_to_model(b, size) for b in panel_boxes]
        else:
            scale = float(extra["reshaped_input_sizes"][row][0]) / size[0]
            model_boxes = [[float(v) * scale for v in b] for b in panel_boxes]
        input_boxes = torch.tensor([model_boxes], dtype=torch.float32, device=self.device)
        with autocast(self.device):
            out = self.model(image_embeddings=embedding, input_boxes=input_boxes, multimask_output=False)
        low = out.pred_masks[0, :, 0].float().cpu()
        iou = out.iou_scores[0, :, 0].float().cpu()
        if self.preprocess == "medsam":
            return self.logits_to_panel(low, size), iou
        logits = self.image_processor.post_process_masks(
            low[None, :, None], [list(size)], [list(extra["reshaped_input_sizes"][row])], binarize=False)[0]
        return logits[:, 0].float(), iou

    def _result(self, logits: torch.Tensor, iou_pred: float) -> MaskResult:
        arr = logits.numpy()
        mask = arr > 0.0
        return MaskResult(mask=mask, iou_pred=iou_pred, rle=encode(mask), bbox_xyxy=tight_bbox(mask),
                          stability=stability(arr, self.stability_delta))
