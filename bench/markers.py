"""Benchmark of the marker detector and caption grammar on shared gold data and synthetic panels.

``run(results, data_root)`` adds ``markers.*`` keys; data sets that are absent are skipped.
``data_root`` is the shared ``data`` folder (``../shared/data`` from the repo root).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from bench.panel_data import caption_for
from bench.run import DATA
from curate.markers.detect import DetectedMarker, detect_markers
from curate.markers.phrases import expected_markers, parse_marker_phrases
from curate.markers.synth import background, draw_one, jpeg

POINTERS = ("arrow", "arrowhead")


def _load_rgb(path: Path) -> np.ndarray:
    from curate.images import decode_rgb

    return decode_rgb(path.read_bytes())


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _same_kind(a: str, b: str) -> bool:
    return a == b or (a in POINTERS and b in POINTERS)


def gold_match(det: DetectedMarker, gold: dict) -> bool:
    """The task's rule: same kind (arrow≈arrowhead) and IoU ≥ 0.3, or a pointer tip close enough.

    ``gold`` has ``kind``, ``bbox_xyxy`` and ``tip_xy`` in the same frame as ``det``.
    """
    if not _same_kind(det.kind, gold["kind"]):
        return False
    if _iou(det.bbox_xyxy, gold["bbox_xyxy"]) >= 0.3:
        return True
    if det.tip_xy is not None and gold.get("tip_xy") is not None:
        gx1, gy1, gx2, gy2 = gold["bbox_xyxy"]
        radius = max(5.0, max(gx2 - gx1, gy2 - gy1) / 2)
        return float(np.hypot(det.tip_xy[0] - gold["tip_xy"][0], det.tip_xy[1] - gold["tip_xy"][1])) <= radius
    return False


def match_counts(dets: list[DetectedMarker], golds: list[dict]) -> tuple[int, list[bool]]:
    """Greedy one-to-one matching (most confident detection first): (true positives, gold hit flags)."""
    hit = [False] * len(golds)
    tp = 0
    for d in sorted(dets, key=lambda m: -m.confidence):
        for j, g in enumerate(golds):
            if not hit[j] and gold_match(d, g):
                hit[j] = True
                tp += 1
                break
    return tp, hit


def _shift(g: dict, x0: int, y0: int) -> dict:
    b = g["bbox_xyxy"]
    tip = g.get("tip_xy")
    return {**g, "bbox_xyxy": [b[0] - x0, b[1] - y0, b[2] - x0, b[3] - y0],
            "tip_xy": None if tip is None else [tip[0] - x0, tip[1] - y0]}


def panel_gt(data_root: Path) -> list[tuple[str, str | None, np.ndarray, list[dict]]]:
    """(image path, label, panel crop, gold markers in crop frame) for every gold panel."""
    base = data_root / "panel-gt"
    panels = json.loads((base / "panels.json").read_text())["figures"]
    markers = json.loads((base / "markers.json").read_text())["figures"]
    out = []
    for pf, mf in zip(panels, markers, strict=True):
        rgb = _load_rgb(data_root / pf["image"])
        for pp, mp in zip(pf["panels"], mf["panels"], strict=True):
            x1, y1, x2, y2 = pp["bbox_xyxy"]
            golds = [_shift(g, x1, y1) for g in mp["markers"]]
            out.append((pf["image"], pp["label"], rgb[y1:y2, x1:x2], golds))
    return out


def expected_from_caption(caption: str | None) -> list[tuple[str, str | None]]:
    """The detector's guidance as the markers stage gives it: the (kind, colour) pairs that the
    figure caption's marker phrases name (empty without a caption: the stage's figure has "")."""
    return expected_markers(caption or "")


def _score_panels(rows, dets_per_panel) -> tuple[float, float, float, float]:
    """(recall, precision) over all contexts and over image-context markers.

    Context "image": gold restricted to image markers; a detection counts against precision
    only in panels whose markers are all image markers (the context is a property of the
    gold, so unmatched detections elsewhere cannot be attributed).
    """
    hit_all = n_gold = tp_all = n_det = 0
    hit_img = n_img = tp_img = n_det_img = 0
    for (_img, _label, _crop, golds), dets in zip(rows, dets_per_panel, strict=True):
        tp, hit = match_counts(dets, golds)
        hit_all, n_gold, tp_all, n_det = hit_all + sum(hit), n_gold + len(golds), tp_all + tp, n_det + len(dets)
        img_golds = [g for g in golds if g["context"] == "image"]
        if img_golds:
            _, ihit = match_counts(dets, img_golds)
            hit_img, n_img = hit_img + sum(ihit), n_img + len(img_golds)
            if len(img_golds) == len(golds):
                n_det_img, tp_img = n_det_img + len(dets), tp_img + sum(ihit)
    return (hit_all / max(n_gold, 1), tp_all / max(n_det, 1), hit_img / max(n_img, 1), tp_img / max(n_det_img, 1))


def _bench_panel_gt(results: dict[str, float], data_root: Path) -> None:
    """Headline keys: the detector as the markers stage runs it, guided by the figure caption;
    ``.unguided`` keys: the detector alone (no caption)."""
    rows = panel_gt(data_root)
    captions = {img: expected_from_caption(caption_for(data_root, img)) for img in {row[0] for row in rows}}
    t0 = time.perf_counter()
    guided = [detect_markers(crop, captions[img]).markers for img, _label, crop, _golds in rows]
    elapsed = time.perf_counter() - t0
    r, p, ri, pi = _score_panels(rows, guided)
    results["markers.recall.panelgt"] = r
    results["markers.precision.panelgt"] = p
    results["markers.recall.panelgt.image"] = ri
    results["markers.precision.panelgt.image"] = pi
    results["markers.panels_per_s"] = len(rows) / max(elapsed, 1e-9)
    plain = [detect_markers(crop).markers for _img, _label, crop, _golds in rows]
    r, p, ri, pi = _score_panels(rows, plain)
    results["markers.recall.panelgt.unguided"] = r
    results["markers.precision.panelgt.unguided"] = p
    results["markers.recall.panelgt.image.unguided"] = ri
    results["markers.precision.panelgt.image.unguided"] = pi


def _soda_symbol(symbol: str) -> tuple[str, str] | None:
    """("white arrow") -> ("arrow", "white"); None for symbols that are not marker kinds."""
    from curate.markers.colours import canonical_colour

    words = symbol.lower().split()
    if len(words) != 2:
        return None
    kind = words[1].rstrip("s").replace("arrow head", "arrowhead")
    if kind not in ("arrow", "arrowhead", "asterisk", "box", "circle"):
        return None
    return kind, canonical_colour(words[0]) or "other"


def _bench_soda(results: dict[str, float], data_root: Path) -> None:
    figures = json.loads((data_root / "panel-gt" / "panels.json").read_text())["figures"]
    sym_hit = sym_n = ph_hit = ph_n = 0
    false_marks = panels = 0
    for fig in figures:
        if not fig["image"].startswith("soda-mmqc-embo/"):
            continue
        fig_dir = data_root / Path(fig["image"]).parent.parent
        checks = fig_dir / "checks" / "micrograph-symbols-defined" / "expected_output.json"
        caption_file = fig_dir / "content" / "caption.txt"
        if not checks.exists():
            continue
        outputs = {o["panel_label"]: o for o in json.loads(checks.read_text())["outputs"]}
        caption = caption_file.read_text() if caption_file.exists() else ""
        phrases = parse_marker_phrases(caption)
        expected = expected_from_caption(caption)
        rgb = _load_rgb(data_root / fig["image"])
        for panel in fig["panels"]:
            out = outputs.get(panel["label"])
            if out is None:
                continue
            x1, y1, x2, y2 = panel["bbox_xyxy"]
            dets = detect_markers(rgb[y1:y2, x1:x2], expected).markers
            wanted = [s for s in (_soda_symbol(sym) for sym in out["symbols"]) if s]
            panels += 1
            false_marks += sum(1 for d in dets if not any(_same_kind(d.kind, k) and d.colour == c for k, c in wanted))
            for parsed, sentence in zip(
                [_soda_symbol(s) for s in out["symbols"]], out["from_the_caption"], strict=False
            ):
                if parsed is None:
                    continue
                kind, colour = parsed
                sym_n += 1
                sym_hit += any(_same_kind(d.kind, kind) and d.colour == colour for d in dets)
                # Phrase recall only where the curators quote a caption sentence naming the kind.
                if kind.rstrip("s") in sentence.lower() or (kind == "circle" and "circl" in sentence.lower()):
                    ph_n += 1
                    ph_hit += any(
                        p.kind == kind and p.colour in (None, colour) and _overlaps(p.sentence, sentence)
                        for p in phrases
                    )
    if sym_n:
        results["markers.symbol_recall.soda"] = sym_hit / sym_n
    if ph_n:
        results["markers.phrase_recall.soda"] = ph_hit / ph_n
    if panels:
        results["markers.false_per_panel.soda"] = false_marks / panels


def _overlaps(a: str, b: str) -> bool:
    a, b = " ".join(a.lower().split()), " ".join(b.lower().split()).rstrip(".")
    return b in a or a.rstrip(".") in b


SYNTH_KINDS = ("arrow", "arrowhead", "asterisk", "box", "circle")
SYNTH_COLOURS = ("white", "black", "red", "yellow", "green", "cyan", "magenta")


def synthetic_panels(n: int, seed: int, textures: list[np.ndarray], asterisk_style: str | None = None):
    """``n`` panels with 1-3 markers each on grey or real-pixel backgrounds, JPEG 45-95;
    asterisks typeset in bold fonts or drawn as 2-3 px lines (``asterisk_style`` forces one)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        h, w = int(rng.integers(180, 360)), int(rng.integers(180, 360))
        tex = textures[i % len(textures)] if textures and rng.random() < 0.5 else None
        img = background(rng, h, w, tex)
        truth = []
        for j in range(int(rng.integers(1, 4))):
            kind = SYNTH_KINDS[(i + j) % len(SYNTH_KINDS)]
            colour = SYNTH_COLOURS[int(rng.integers(len(SYNTH_COLOURS)))]
            size = int(rng.integers(16, 40))
            cx = int(w * (j + 0.5) / 3)
            cy = int(rng.integers(size + 10, h - size - 10))
            truth.append(draw_one(img, kind, colour, (cx, cy), size, float(rng.uniform(0, 360)), rng,
                                  asterisk_style))
        yield jpeg(img, int(rng.integers(45, 96))), truth


def _textures(data_root: Path) -> list[np.ndarray]:
    """Greyscale-ish real pixels from the scikit-image samples, if present."""
    out = []
    for p in sorted((data_root / "medical-images-from-packages").glob("*/*.*"))[:8]:
        try:
            out.append(_load_rgb(p))
        except Exception:  # an unreadable sample only means one texture fewer
            continue
    return out


def _bench_synthetic(results: dict[str, float], data_root: Path, n: int = 60) -> None:
    """``markers.f1.sample.<kind>``; ``.asterisk_lines1px``: the same panels with every asterisk
    drawn as 1 px crossed lines (the set's former form)."""
    textures = _textures(data_root)
    results.update(_synthetic_f1(n, textures))
    results["markers.f1.sample.asterisk_lines1px"] = _synthetic_f1(n, textures, "lines1px")[
        "markers.f1.sample.asterisk"]


def _synthetic_f1(n: int, textures: list[np.ndarray], asterisk_style: str | None = None) -> dict[str, float]:
    results: dict[str, float] = {}
    tp = dict.fromkeys(SYNTH_KINDS, 0)
    n_gold = dict.fromkeys(SYNTH_KINDS, 0)
    n_det = dict.fromkeys(SYNTH_KINDS, 0)
    for img, truth in synthetic_panels(n, 7, textures, asterisk_style):
        dets = detect_markers(img).markers
        golds = [{"kind": t.kind, "bbox_xyxy": list(t.bbox_xyxy), "tip_xy": t.tip_xy} for t in truth]
        for k in SYNTH_KINDS:
            gk = [g for g in golds if g["kind"] == k]
            dk = [d for d in dets if d.kind == k]
            n_gold[k] += len(gk)
            n_det[k] += len(dk)
            tp[k] += match_counts(dk, gk)[0]
    for k in SYNTH_KINDS:
        p = tp[k] / max(n_det[k], 1)
        r = tp[k] / max(n_gold[k], 1)
        results[f"markers.f1.sample.{k}"] = 2 * p * r / max(p + r, 1e-9)
    return results


def run(results: dict[str, float], data_root: Path) -> None:
    """Add the ``markers.*`` numbers for whatever data is present under ``data_root``."""
    if (data_root / "panel-gt" / "markers.json").exists():
        _bench_panel_gt(results, data_root)
    if (data_root / "soda-mmqc-embo").exists() and (data_root / "panel-gt" / "panels.json").exists():
        _bench_soda(results, data_root)
    _bench_synthetic(results, data_root)


if __name__ == "__main__":
    res: dict[str, float] = {}
    run(res, DATA)
    for key, value in sorted(res.items()):
        print(f"{key}\t{value:.3f}")
