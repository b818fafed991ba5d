"""The label recogniser run without RapidOCR's engine: reads rendered labels, keeps input order
across batches, widens its canvas for long lines, and a stage process never imports rapidocr
(nor torch, nor PyMuPDF's layout analyser) to read labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from curate.layout import glyphtrain, labels, recogniser

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fonts() -> dict[str, Path]:
    found = glyphtrain.fonts()
    if not found:
        if os.environ.get("CI"):
            pytest.fail("DejaVu / Liberation fonts are required under CI (.ci/run installs them)")
        pytest.skip("DejaVu / Liberation fonts not installed")
    return {p.name: p for p in found}


def _label_crop(text: str, font_path: Path, size: int) -> np.ndarray:
    """``text`` rendered black on white, cut and scaled as the label reader cuts a candidate."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), size)
    img = Image.new("L", (size * (2 * len(text) + 2), size * 3), 255)
    ImageDraw.Draw(img).text((size, size // 2), text, font=font, fill=0)
    ink = 255 - np.asarray(img)
    ys, xs = np.nonzero(ink > 40)
    return labels._glyph_crop(ink, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))


LABELS = ["A", "b", "(c)", "Ai", "D"]


@pytest.mark.parametrize("font_name", ["DejaVuSans-Bold.ttf", "LiberationSans-Regular.ttf", "LiberationSerif-Bold.ttf"])
@pytest.mark.parametrize("size", [14, 30])
def test_rendered_labels_are_read(fonts, font_name, size):
    crops = [_label_crop(t, fonts[font_name], size) for t in LABELS]
    got = labels.read_texts(crops)
    assert [t for t, _ in got] == LABELS
    assert all(0.9 < s <= 1.0 for _, s in got)


def test_batches_keep_input_order(fonts):
    """Crops are batched by aspect, not in input order; readings must come back in input order
    and read as each crop alone does (20 crops: two batches of 16)."""
    font = fonts["DejaVuSans-Bold.ttf"]
    texts = ["A", "(c)", "b", "Ai", "D", "(e)", "F", "gh"] * 2 + ["K", "(m)", "n", "P"]
    crops = [_label_crop(t, font, 14 + 3 * (i % 5)) for i, t in enumerate(texts)]
    together = labels.read_texts(crops)
    alone = [labels.read_text(c) for c in crops]
    assert [t for t, _ in together] == texts == [t for t, _ in alone]
    assert np.allclose([s for _, s in together], [s for _, s in alone], atol=1e-3)


def test_long_line_widens_the_canvas(fonts):
    """A line wider than the 320 x 48 canvas is read whole on a wider canvas, not cut off."""
    line = "Figure 12 shows panels A to F"
    crop = _label_crop(line, fonts["LiberationSans-Regular.ttf"], 24)
    assert crop.shape[1] / crop.shape[0] > labels.REC_WIDTH / recogniser.HEIGHT
    assert labels.read_text(crop)[0] == line
    short = [_label_crop(t, fonts["LiberationSans-Regular.ttf"], 24) for t in ("A", "(b)")]
    assert [t for t, _ in labels.read_texts([short[0], crop, short[1]])] == ["A", line, "(b)"]


def test_blank_crop_reads_nothing():
    assert labels.read_texts([np.full((52, 60, 3), 255, np.uint8)]) == [("", 0.0)]
    assert labels.read_texts([]) == []


def test_model_comes_from_the_rapidocr_wheel():
    path = recogniser.model_path()
    assert path.name == recogniser.MODEL_FILE and path.parent.parent.name == "rapidocr"
    with pytest.raises(FileNotFoundError, match="no_such_package"):
        recogniser.model_path("no_such_package_p2p")


def test_stage_process_loads_no_unused_heavy_package():
    """A worker imports ``stages`` and the run config, reads labels, opens the PDF reader and the
    image-type embedding's detector: rapidocr's engine stack, torch and PyMuPDF's ONNX layout
    analyser must stay unloaded."""
    code = (
        "import json, sys, cv2, numpy as np\n"
        "import stages\n"
        "from curate.runtime.config import RunConfig\n"
        "from curate.layout import labels\n"
        "img = np.full((52, 60, 3), 255, np.uint8)\n"
        "cv2.putText(img, 'B', (14, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)\n"
        "text, _ = labels.read_text(img)\n"
        "import curate.ingest.pdf\n"
        "from curate.quality import ocrembed\n"
        "ocrembed.embed_session()\n"
        "print(json.dumps({'text': text, 'modules': sorted(k for k, m in sys.modules.items() if m is not None)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                         check=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["text"] == "B"  # the recogniser ran in that process
    loaded = set(result["modules"])
    assert "onnxruntime" in loaded and "pymupdf" in loaded
    assert not {"rapidocr", "torch", "omegaconf", "pymupdf.layout"} & loaded
