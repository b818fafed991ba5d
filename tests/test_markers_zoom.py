"""Zoom links: a box whose caption phrase says where it is magnified links to that panel."""

import cv2
import numpy as np

from curate.markers.link import zoom_panel
from curate.records import Figure, Panel, child_id
from curate.runtime.blobs import BlobStore
from curate.runtime.config import load_config
from curate.runtime.manifest import RunLayout
from curate.runtime.stage import PartInput, StageContext
from stages.markers import MarkersStage


def test_zoom_target_resolves_to_a_panel_of_the_figure():
    labels = {"A": "f-p1", "B": "f-p2", "c": "f-p3"}
    assert zoom_panel("B", labels, "A") == "f-p2"
    assert zoom_panel("C", labels, "A") == "f-p3"  # case-insensitive when unambiguous
    assert zoom_panel("D", labels, "A") is None  # no such panel: no link
    assert zoom_panel("A", labels, "A") is None  # never itself
    assert zoom_panel(None, labels, "A") is None


def _figure_with_box(tmp_path):
    rng = np.random.default_rng(0)
    rgb = np.clip(cv2.GaussianBlur(rng.normal(80, 30, (200, 400)), (0, 0), 3), 0, 255).astype(np.uint8)
    rgb = np.repeat(rgb[..., None], 3, 2)
    cv2.rectangle(rgb, (50, 60), (110, 120), (255, 255, 0), 2)  # yellow box in panel A
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    blobs = BlobStore(tmp_path / "blobs")
    sha = blobs.put(png.tobytes())
    fig = Figure(id="d-f1", document_id="d", source_kind="folder", image_sha256=sha, image_ext="png",
                 width=400, height=200, caption="(A) Lung. The yellow boxed area is magnified in B. (B) Zoom.")
    panels = [Panel(id=child_id(fig.id, "p", i + 1), figure_id=fig.id, document_id="d", index=i, label=lab,
                    bbox_xyxy=[200 * i, 0, 200 * i + 200, 200], subcaption=sub)
              for i, (lab, sub) in enumerate([("A", "Lung. The yellow boxed area is magnified in B."), ("B", "Zoom.")])]
    return fig, panels, blobs


def test_markers_stage_links_the_box_to_the_magnifying_panel(tmp_path):
    cfg = load_config(None, [f"input_dir={tmp_path}", f"runs_dir={tmp_path / 'runs'}", "name=t"])
    fig, panels, blobs = _figure_with_box(tmp_path)
    ctx = StageContext(config=cfg, layout=RunLayout(cfg.run_dir), blobs=blobs)
    inp = PartInput(part=0, items=[fig], related={"panels": {fig.id: panels}})
    markers = MarkersStage(cfg).process_item(fig, inp, ctx)["markers"]
    boxes = [m for m in markers if m.kind == "box" and m.panel_id == panels[0].id]
    assert boxes, markers
    assert boxes[0].phrase and boxes[0].zoom_panel_id == panels[1].id
    assert all(m.zoom_panel_id is None for m in markers if m.panel_id == panels[1].id)
