"""Quality library: duplicates (exact, near, distinct), multi-index search against brute
force, image type on drawn test images, caption vocabularies, licence families, and the
shards-side join (tags, duplicate dropping, splits that keep duplicate groups together)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from curate.quality.dedup import fingerprint, hamming, near_pairs, resolve
from curate.quality.features import image_cues
from curate.quality.imagetype import classify_image_type
from curate.quality.imagetype_rules import rule_image_type
from curate.quality.licence import commercial_use, licence_family
from curate.quality.modality import classify_body_region, classify_modality
from curate.quality.vocab import text_evidence, weighted_texts


def _texture(seed: int, shape=(240, 320)) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 1, (*shape, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 4) * 600 + 120, 0, 255).astype(np.uint8)


def micrograph(seed: int, shape=(240, 320)) -> np.ndarray:
    """Grey-green cells on a dark field with grain: shaded everywhere, no flat fills (unlike _texture's
    clipped colour blobs, which the learned model reads as a diagram's solid boxes)."""
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 6)
    cells = np.clip(field * 900 + 60, 0, 220) + rng.normal(0, 12, shape)
    rgb = np.stack([cells * 0.4, cells, cells * 0.5], axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def bar_chart(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((300, 400, 3), 255, np.uint8)
    cv2.line(img, (60, 20), (60, 250), (0, 0, 0), 2)
    cv2.line(img, (60, 250), (380, 250), (0, 0, 0), 2)
    for k in range(6):
        y = 250 - k * 40
        cv2.line(img, (54, y), (60, y), (0, 0, 0), 2)
        cv2.putText(img, str(k * 20), (20, y + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for k, h in enumerate(rng.integers(40, 210, 5)):
        x = 80 + k * 60
        cv2.rectangle(img, (x, 250 - int(h)), (x + 35, 250), (40, 40, 40), -1)
        cv2.putText(img, f"c{k}", (x + 5, 270), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    return img


def flow_diagram() -> np.ndarray:
    img = np.full((300, 400, 3), 255, np.uint8)
    colours = [(230, 120, 60), (80, 160, 220), (120, 200, 120), (240, 200, 80)]
    for k, (x, y) in enumerate([(20, 30), (220, 30), (20, 180), (220, 180)]):
        cv2.rectangle(img, (x, y), (x + 150, y + 80), colours[k], -1)
        cv2.putText(img, f"step {k}", (x + 30, y + 45), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
    cv2.arrowedLine(img, (170, 70), (220, 70), (0, 0, 0), 2)
    cv2.arrowedLine(img, (295, 110), (295, 180), (0, 0, 0), 2)
    return img


def equation() -> np.ndarray:
    img = np.full((60, 420, 3), 255, np.uint8)
    cv2.putText(img, "P(x,y) = min(x,y) - c x + f(x)", (5, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    return img


def _jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def test_exact_copy_matches_by_pixels_whatever_the_container():
    rgb = _texture(1)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    again = np.asarray(Image.open(buf).convert("RGB"))
    links = resolve([fingerprint("b", "doc2", again), fingerprint("a", "doc1", rgb)])
    assert [(lk.id, lk.canonical_id, lk.kind, lk.distance) for lk in links] == [("b", "a", "exact", 0)]


def test_near_copies_resized_recompressed_cropped_shifted_join_one_group():
    rgb = _texture(2)
    small = cv2.resize(rgb, (224, 168), interpolation=cv2.INTER_AREA)
    crop = np.ascontiguousarray(rgb[4:-3, 5:-4])
    shifted = np.clip(rgb.astype(np.int16) + 15, 0, 255).astype(np.uint8)
    prints = [fingerprint("orig", "d0", rgb), fingerprint("small", "d1", small),
              fingerprint("jpeg", "d2", _jpeg_roundtrip(rgb, 55)), fingerprint("crop", "d3", crop),
              fingerprint("shift", "d4", shifted)]
    links = {lk.id: lk for lk in resolve(prints)}
    assert set(links) == {"orig", "small", "jpeg", "shift"}
    assert {lk.canonical_id for lk in links.values()} == {"crop"}  # smallest id is canonical
    assert all(lk.kind in ("near", "exact") for lk in links.values())


def test_distinct_images_do_not_match():
    prints = [fingerprint(f"t{i}", f"d{i}", _texture(10 + i)) for i in range(6)]
    prints += [fingerprint("chart1", "c1", bar_chart(1)), fingerprint("chart2", "c2", bar_chart(2)),
               fingerprint("diagram", "c3", flow_diagram())]
    assert resolve(prints) == []


def test_look_alike_sibling_panels_are_not_near_duplicates_but_exact_copies_are():
    rgb = _texture(3)
    slightly = rgb.copy()
    slightly[100:104, 100:140] = 0
    same_figure = [fingerprint("p1", "d", rgb, figure_id="f"), fingerprint("p2", "d", slightly, figure_id="f")]
    assert resolve(same_figure) == []
    assert len(resolve([*same_figure, fingerprint("p3", "d", rgb.copy(), figure_id="f")])) == 1


def test_blank_images_only_match_exactly():
    white = np.full((100, 100, 3), 250, np.uint8)
    grey = np.full((100, 100, 3), 200, np.uint8)
    assert not fingerprint("w", "d", white).informative
    assert resolve([fingerprint("w", "d1", white), fingerprint("g", "d2", grey)]) == []


@pytest.mark.parametrize("max_distance", [3, 7, 11])
def test_multi_index_search_finds_exactly_the_brute_force_pairs(max_distance):
    rng = np.random.default_rng(max_distance)
    base = [int(x) for x in rng.integers(0, 2**63, 60, dtype=np.int64)]
    hashes = list(base)
    for h in base[:30]:  # planted neighbours at every distance up to 14 bits
        flips = rng.choice(64, size=int(rng.integers(0, 15)), replace=False)
        hashes.append(h ^ sum(1 << int(b) for b in flips))
    brute = [(i, j, hamming(hashes[i], hashes[j])) for i in range(len(hashes)) for j in range(i + 1, len(hashes))
             if hamming(hashes[i], hashes[j]) <= max_distance]
    assert near_pairs(hashes, max_distance) == brute
    assert brute  # the planted pairs make the test meaningful
    fast = near_pairs(hashes, max_distance, max_radius=1)
    assert set(fast) <= set(brute) and {p for p in brute if p[2] <= 7} <= set(fast)


def test_multi_index_refuses_distances_it_cannot_guarantee():
    with pytest.raises(ValueError):
        near_pairs([0, 1], 12)


@pytest.mark.parametrize(("make", "expected"), [(bar_chart, "chart"), (flow_diagram, "diagram"),
                                                 (lambda: micrograph(5), "photo"), (equation, "text")])
def test_image_type_of_drawn_and_photo_like_images(make, expected):
    img = make()
    kind, confidence, probs = classify_image_type(img, image_cues(img), [])
    assert kind == expected and confidence == pytest.approx(probs[expected], abs=1e-4)
    assert abs(sum(probs.values()) - 1) < 1e-6
    assert rule_image_type(image_cues(img), [])[0] == expected  # the baseline the bench compares with


def test_caption_words_raise_their_type_but_do_not_turn_a_photo_into_a_drawing():
    chart = bar_chart()
    plain = classify_image_type(chart, image_cues(chart), [])[2]
    worded = classify_image_type(chart, image_cues(chart), [("Schematic diagram of the proposed model.", 1.0)])[2]
    assert worded["diagram"] > plain["diagram"]
    photo = micrograph(6)
    assert classify_image_type(photo, image_cues(photo), [("Schematic diagram of the workflow.", 1.0)])[0] == "photo"


def test_modality_and_region_vocabularies():
    assert set(text_evidence("modality", [("Axial contrast-enhanced CT of the abdomen", 1.0)])) == {"ct"}
    assert "mri" in text_evidence("modality", [("T2-weighted MRI of the brain", 1.0)])
    assert "histopathology" in text_evidence("modality", [("H&E staining, original magnification x200", 1.0)])
    assert "fluorescence" in text_evidence("modality", [("Immunofluorescence of GFP-tagged cells", 1.0)])
    assert text_evidence("modality", [("The protein binds DNA.", 1.0)]) == {}
    assert text_evidence("modality", [("mr. smith", 1.0)]) == {"mri": 1.0}  # word-bounded, case-insensitive
    assert text_evidence("modality", [("MRI-guided", 1.0), ("ctrl", 1.0)]) == {"mri": 1.0}  # "ct" not in "ctrl"
    texts = weighted_texts("Chest CT: ground-glass opacities in both lungs", "Figure 2. Imaging.", [])
    cues = image_cues(_texture(7))
    modality, _ = classify_modality(cues, "photo", texts)
    assert modality == "ct"
    assert classify_body_region(modality, texts)[0] == "chest"
    assert classify_modality(cues, "chart", texts) == ("unknown", 0.0)
    assert classify_body_region("fundus_oct", [])[0] == "fundus"
    assert classify_body_region("ct", []) == ("unknown", 0.0)


def test_zeroshot_probabilities_join_the_modality_vote():
    cues = image_cues(_texture(8))
    assert classify_modality(cues, "photo", [], zeroshot={"ultrasound": 0.9, "ct": 0.1})[0] == "ultrasound"


@pytest.mark.parametrize(("raw", "family", "commercial"), [
    ("CC BY 4.0", "CC-BY", True), ("CC-BY-4.0", "CC-BY", True), ("CC0", "CC0", True), ("CC0-1.0", "CC0", True),
    ("cc by-sa", "CC-BY-SA", True), ("CC BY-NC 3.0", "CC-BY-NC", False), ("CC-BY-NC-ND-4.0", "CC-BY-NC-ND", False),
    ("CC BY-ND", "CC-BY-ND", False), ("unknown", "unknown", False), ("All rights reserved", "unknown", False),
    (None, "unknown", False)])
def test_licence_families(raw, family, commercial):
    assert licence_family(raw) == family and commercial_use(family) is commercial
