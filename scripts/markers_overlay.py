"""Draw detected markers and their patches over real figures, to check them by eye.

``PYTHONPATH=. python scripts/markers_overlay.py OUT_DIR [NAME_PART ...]`` reads the gold panels
of ``../shared/data/panel-gt`` (only figures whose image path contains a NAME_PART, or all),
runs the marker detector on each panel, guided and linked by the figure caption's marker
phrases as the markers stage does, and writes one PNG per figure: gold panels grey, gold
markers thin cyan, detections orange (a dot on pointer tips), and the patches of linked
markers green with their phrase and position. Zoom links are drawn as a dashed-looking
magenta line from the box to the panel that magnifies it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

from bench.markers import expected_from_caption
from bench.panel_data import caption_for
from curate.images import decode_rgb
from curate.markers import detect_markers, link_markers, parse_marker_phrases, patch_box, position_name
from curate.markers.link import zoom_panel

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _rect(draw: ImageDraw.ImageDraw, box, colour: str, width: int = 1) -> None:
    draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=colour, width=width)


def draw_figure(image: str, panels: list[dict], gold: list[dict], caption: str | None) -> Image.Image:
    """One figure with gold panels and markers, detections, linked patches and zoom links."""
    rgb = decode_rgb((DATA / image).read_bytes())
    canvas = Image.fromarray(rgb).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    phrases = parse_marker_phrases(caption or "")
    expected = expected_from_caption(caption)
    labels = {p["label"]: str(i) for i, p in enumerate(panels) if p["label"]}
    for panel, gp in zip(panels, gold, strict=True):
        x0, y0, x1, y1 = panel["bbox_xyxy"]
        _rect(draw, panel["bbox_xyxy"], "#909090", 1)
        for g in gp["markers"]:
            _rect(draw, g["bbox_xyxy"], "#00e5ff", 1)
        scan = detect_markers(rgb[y0:y1, x0:x1], expected)
        links = {lk.marker_index: lk for lk in link_markers(scan.markers, phrases) if lk.marker_index is not None}
        for k, det in enumerate(scan.markers):
            bx = [det.bbox_xyxy[0] + x0, det.bbox_xyxy[1] + y0, det.bbox_xyxy[2] + x0, det.bbox_xyxy[3] + y0]
            _rect(draw, bx, "#ff8c00", 2)
            if det.tip_xy:
                tx, ty = det.tip_xy[0] + x0, det.tip_xy[1] + y0
                draw.ellipse([tx - 2, ty - 2, tx + 2, ty + 2], fill="#ff8c00")
            link = links.get(k)
            if link is None or link.phrase_index is None:
                continue
            phrase = phrases[link.phrase_index]
            pb = patch_box(det, (x1 - x0, y1 - y0))
            _rect(draw, [pb[0] + x0, pb[1] + y0, pb[2] + x0, pb[3] + y0], "#00c000", 2)
            draw.text((pb[0] + x0 + 2, pb[3] + y0 + 1), f"{phrase.object_phrase[:28]} ({position_name(pb, (x1 - x0, y1 - y0))})",
                      fill="#00c000")
            target = zoom_panel(phrase.zoom_target, labels, panel["label"]) if det.kind in ("box", "circle") else None
            if target is not None:
                tb = panels[int(target)]["bbox_xyxy"]
                draw.line([(bx[2], bx[1]), ((tb[0] + tb[2]) // 2, (tb[1] + tb[3]) // 2)], fill="#ff00ff", width=2)
    return canvas


def main(argv: list[str]) -> int:
    import json

    out = Path(argv[0])
    wanted = argv[1:]
    out.mkdir(parents=True, exist_ok=True)
    panels = json.loads((DATA / "panel-gt" / "panels.json").read_text())["figures"]
    markers = json.loads((DATA / "panel-gt" / "markers.json").read_text())["figures"]
    for pf, mf in zip(panels, markers, strict=True):
        if wanted and not any(w in pf["image"] for w in wanted):
            continue
        img = draw_figure(pf["image"], pf["panels"], mf["panels"], caption_for(DATA, pf["image"]))
        path = out / (Path(pf["image"]).stem + "-markers.png")
        img.save(path)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
