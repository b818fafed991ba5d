"""Zero-shot modality probabilities from a checkpoint of our own trainer (``curate.train``).

Each modality is a class named in plain words; class embeddings are the normalised mean of
the prompt templates (``curate.eval.zeroshot``), an image's probabilities the softmax of its
scaled cosine similarities. Loaded once per worker (``QualityStage.setup``); CPU unless the
trainer config says otherwise. Nothing is downloaded: the checkpoint carries its config and
vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLASS_NAMES = {
    "ct": "computed tomography scan", "mri": "magnetic resonance image", "xray": "x-ray radiograph",
    "ultrasound": "ultrasound image", "pet_nuclear": "pet scan", "endoscopy": "endoscopy image",
    "fundus_oct": "retinal fundus photograph", "dermatoscopy": "dermoscopy image of skin",
    "histopathology": "histopathology slide", "fluorescence": "fluorescence microscopy image",
    "electron_microscopy": "electron micrograph",
}


class ZeroShotModality:
    def __init__(self, checkpoint: Path | str):
        import torch

        from curate.eval.retrieval import load_checkpoint_model
        from curate.eval.zeroshot import TEMPLATES, class_embeddings

        path = Path(checkpoint)
        if path.is_dir():
            path = path / "checkpoint.pt"
        if not path.is_file():
            raise FileNotFoundError(f"quality.zeroshot_checkpoint: no trainer checkpoint at {path}")
        self.torch = torch
        self.model, tokenizer, self.config = load_checkpoint_model(path)
        self.model.eval()
        self.labels = list(CLASS_NAMES)
        with torch.no_grad():
            self.text = class_embeddings(self.model, tokenizer, [CLASS_NAMES[k] for k in self.labels], TEMPLATES,
                                         self.config.model.text.context_length, torch.device("cpu"))

    def probabilities(self, rgb: np.ndarray) -> dict[str, float]:
        from PIL import Image

        from curate.train.data import to_tensor

        with self.torch.no_grad():
            image, _ = self.model.encode_image(to_tensor(Image.fromarray(rgb), self.config.model.vision.image_size)[None])
            probs = (self.model.logit_scale.exp() * image @ self.text.T).softmax(-1)[0].tolist()
        return dict(zip(self.labels, probs, strict=True))
