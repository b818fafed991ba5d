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


def test_region_negatives_contrast_adjective_or_position():
    region = "irregular|mass|left upper"
    negs = region_negatives(region)
    assert len(negs) == 5 and len(set(negs)) == 5 and region not in negs
    for neg in negs:
        adj, term, pos = neg.split("|")
        assert term == "mass" and (adj != "irregular" or pos != "left upper")


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
