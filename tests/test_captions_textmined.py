from __future__ import annotations

import re

import pytest

from curate.captions.textmined import (
    NO_FINDING,
    mine_texts,
    region_extraction,
    region_negatives,
    sentence_negatives,
    summary_sentence,
)

CAPTIONS = [
    "(A) Axial contrast-enhanced CT shows an irregular mass in the left upper lobe; white arrows indicate "
    "the spiculated margin.",
    "Immunohistochemistry of the tumour, brown staining marks positive nuclei.",
    "Fundus photograph.",
]


@pytest.mark.parametrize("text", CAPTIONS)
def test_summary_follows_the_format_rules(text):
    summary = summary_sentence(text)
    words = summary.rstrip(".").split()
    assert 10 <= len(words) <= 15
    assert "," not in summary and ";" not in summary and summary.endswith(".")
    assert summary[0].isupper()


def test_summary_uses_own_text_before_context():
    summary = summary_sentence("Axial CT shows a round nodule", "Context words never needed here at all today")
    assert summary.startswith("Axial CT shows a round nodule")


def test_region_extraction_grammar():
    assert region_extraction("irregular mass with spiculated margins", "left upper") == "irregular|mass|left upper"
    assert region_extraction("crossing points", "center") == "focal|points|center"
    assert region_extraction("", "center") == NO_FINDING


def test_region_negatives_change_exactly_one_part():
    region = "irregular|mass|left upper"
    negs = region_negatives(region)
    assert len(negs) == 5 and len(set(negs)) == 5 and region not in negs
    for neg in negs:
        changed = [a != b for a, b in zip(neg.split("|"), region.split("|"), strict=True)]
        assert sum(changed) == 1, neg


def test_sentence_negatives_are_five_distinct_wrong_variants():
    sentence = "Axial CT shows a large lesion in the left lower lobe."
    negs = sentence_negatives(sentence)
    assert len(negs) == 5 and len(set(negs)) == 5 and sentence not in negs
    assert any("right" in n for n in negs) and any("MRI" in n or "mri" in n for n in negs)


def test_mine_texts_is_deterministic_and_complete():
    a = mine_texts("white arrows indicate the necrotic core", "Axial MRI of the brain", ["Fig. 1B shows it."],
                   phrase="necrotic core", position="right lower")
    b = mine_texts("white arrows indicate the necrotic core", "Axial MRI of the brain", ["Fig. 1B shows it."],
                   phrase="necrotic core", position="right lower")
    assert a == b
    assert a["region"] == "necrotic|core|right lower"
    assert "Fig. 1B shows it." in a["report"] and len(a["negatives"]) == 5
    assert not re.search(r"[,;]", a["summary"])


def test_region_negatives_cover_adjective_position_and_term_within_its_category():
    from curate.captions.textmined import canonical_region, load_vocab

    vocab = load_vocab()
    negs = region_negatives("irregular|mass|left upper")
    parts = [n.split("|") for n in negs]
    assert any(a != "irregular" for a, _, _ in parts)
    assert any(p != "left upper" for _, _, p in parts)
    swapped = [t for _, t, _ in parts if t != "mass"]
    assert swapped and all(t in vocab.term_category["mass"] for t in swapped)
    # never the positive in other words: "tumour" is a synonym of "mass"
    assert all(canonical_region(n) != canonical_region("irregular|mass|left upper") for n in negs)
    assert "irregular|tumor|left upper" not in negs and "irregular|tumour|left upper" not in negs


def test_region_negatives_are_deterministic_under_a_seed():
    assert region_negatives("round|nodule|center", seed=1) == region_negatives("round|nodule|center", seed=1)
    seeds = {tuple(region_negatives("round|nodule|center", seed=s)) for s in range(6)}
    assert len(seeds) > 1


def test_too_little_text_is_flagged_not_hidden():
    thin = mine_texts("Fundus.")
    assert thin["status"] == "insufficient_text" and thin["summary"].endswith(".")
    assert mine_texts("Axial CT shows a large lesion in the liver")["status"] == "ok"


def test_real_captions_give_rule_abiding_texts(shared_data):
    import json

    from curate.captions.schema import summary_problems
    from curate.layout import split_caption

    gold = json.loads((shared_data / "caption-splitting-gt" / "compfigsep"
                       / "prostate_data_only_annotated_captions.json").read_text())
    captions = [entry["caption"] for entry in gold.values() if entry.get("caption")]
    assert len(captions) > 100
    bad = 0
    for caption in captions:
        split = split_caption(caption)
        for label in split.labels or [None]:
            own = split.parts.get(label, caption) if label else caption
            texts = mine_texts(own, split.preamble, phrase="enlarged lymph node", position="left lower")
            bad += bool(summary_problems(texts["summary"]))
            assert texts["region"] == "enlarged|node|left lower" and len(set(texts["negatives"])) == 5
    assert bad == 0


def test_summary_drops_figure_pointers_and_repeats_and_pads_with_a_whole_phrase():
    summary = summary_sentence("Imaging of the thoracic spine.", "Figure 1. Imaging of the thoracic spine.",
                               "Axial CT as shown in Fig 1A.", "MR image (see Figs. 2 and 3).")
    assert not re.search(r"\bfig(ure)?s?\b|shown in fig", summary, re.IGNORECASE), summary
    assert summary.count("thoracic") == 1 and "Axial CT" in summary
    short = summary_sentence("Fundus photograph.")
    assert short.startswith("Fundus photograph ") and short.rstrip(".").split()[-1] == "figure", short
