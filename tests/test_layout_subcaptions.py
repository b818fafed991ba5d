"""Caption splitting on real captions from the shared data (quoted verbatim below)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.layout import split_caption

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_parenthesised_upper_case_prefix_labels():
    # compfigsep, 10.1177_2324709614539927-fig1.jpg
    cap = (
        "Immunostain of left external iliac lymph nodes: (A) Positive prostate-specific antigen stain; "
        "(B) Positive CD-10 stain."
    )
    s = split_caption(cap)
    assert s.labels == ["A", "B"]
    assert s.preamble == "Immunostain of left external iliac lymph nodes"
    assert s.parts["A"] == "Positive prostate-specific antigen stain"
    assert s.parts["B"] == "Positive CD-10 stain."


def test_lists_and_postfix_labels_mid_sentence():
    # compfigsep: labels close their clause, "(a and c)" names two panels at once.
    cap = (
        "Examples of a sentinel lymph node and, in the centre of the image, a 4-mm metastasis of a Gleason 8 "
        "prostate cancer after haematoxylin and eosin (H&E) (a and c) and Perl's Prussian blue (b and d) "
        "staining showing the brown and blue discolouration of the absorbed iron oxide nanoparticles in the "
        "surrounding lymphatic tissue"
    )
    s = split_caption(cap)
    assert s.labels == ["a", "b", "c", "d"]
    assert s.parts["a"] == s.parts["c"]
    assert s.parts["a"].endswith("eosin (H&E)")  # "(H&E)" is not a label
    assert s.parts["b"].startswith("and Perl's Prussian blue")
    assert "discolouration" in s.parts["b"]


def test_wild_type_and_mutant_inline_labels():
    # compfigsep 1476-4598-3-29-4.jpg: "(C, in red, 200*)" carries notes after the label.
    cap = (
        "Detection of Su(Fu) in prostate cancer specimens. Su(Fu) antibodies (Santa Cruz Biotechnology Cat# "
        "10933) recognized only one single band (54-Kd) in D283 cells (A). Following treatment of a specific "
        "SiRNA of Su(Fu), the endogenous Su(Fu) band was greatly reduced (B). Immunohistostaining with Su(Fu) "
        "antibodies in prostate cancer specimens revealed positive (C, in red, 200*), negative (D, 200*) or "
        "weak staining (E, red, 200*)."
    )
    s = split_caption(cap)
    assert s.labels == ["A", "B", "C", "D", "E"]
    assert s.preamble == "Detection of Su(Fu) in prostate cancer specimens."
    assert "reduced" in s.parts["B"] and "Su(Fu) antibodies" not in s.parts["B"]


def test_ranges_and_comma_lists():
    # compfigsep pone.0079542 style: ranges (A-C) and lists (A, D, G, J)
    cap = (
        "Immune activation in the male genital organs.Immunohistochemical detection of HLA-DR+ cells in the "
        "prostate (A-C), seminal vesicle (D-F), epididymis (G-I) and testis (J-L) of uninfected (A, D, G, J), "
        "primary-infected (B, E, H, K) or high chronic macaques (C, F, I, L). Scale bars = 100 um."
    )
    s = split_caption(cap)
    assert s.labels == list("ABCDEFGHIJKL")
    assert "seminal vesicle" in s.parts["E"] and "primary-infected" in s.parts["E"]


def test_bare_labels_with_period_and_comma():
    # compfigsep jcav02p0107g01.jpg ("A. text") and a GLUT1 caption ("A, text;")
    s = split_caption(
        "Patterns and heterogeneity in Cancerous Prostate Tissue (Hematoxylin and eosin stain). A. Normal "
        "prostate showing luminal and basal cells. B. Prostate cancer with definable glandular pattern, usually "
        "part of Gleason pattern 3. C. Prostate cancer with aggregation, clustering or individual infiltrating "
        "cells as described for Gleason 4."
    )
    assert s.labels == ["A", "B", "C"]
    assert s.parts["A"] == "Normal prostate showing luminal and basal cells."
    s = split_caption(
        "Cytoplasmic GLUT1 expression in adenocarcinomas and membrane expression in squamous cell carcinomas. "
        "A, prostate tumor; B, papillary thyroid tumor; C, gastric tumor."
    )
    assert s.parts == {"A": "prostate tumor", "B": "papillary thyroid tumor", "C": "gastric tumor."}


def test_nature_style_lower_case_and_right_paren_labels():
    # exsclaim-nature s41467-018-06211-3 fig 1 (start of the caption)
    s = split_caption(
        "Formation of the stripe pattern and dislocation. a, b Schematic of the synthesis process (a) of the bulk "
        "manganese oxides (BM), and the summary of the catalytic effects (b) of the SMNp. c\u2013e Scanning "
        "electronic microscopy (SEM) images of the BM (c), PM (d), and SMNp (e)."
    )
    assert s.labels == ["a", "b", "c", "d", "e"]
    assert "Scanning electronic microscopy" in s.parts["d"]
    # compfigsep: "A) text B) text"
    s = split_caption(
        "Microvessel density in CTCE-9908-treated PC-3 tumors. A) Prostate tumor tissues were stained with "
        "anti-CD 34 antibody. B) Quantitation of CD34+ vessels in control and CTCE-9908 treated prostate tumor "
        "tissue. *Represents statistically significant, where p = 0.0021."
    )
    assert s.labels == ["A", "B"] and s.parts["A"].startswith("Prostate tumor tissues")


def test_sub_numeral_labels_and_false_labels():
    # soda-mmqc 10.1038/s44321-025-00219-1 Fig. 1: "(Ai–ii)" with later "(i)"/"(ii)"
    s = split_caption(
        "(Ai\u2013ii) Phase contrast images of a time lapse of E. coli MG1655 cells mock-treated (i) and treated "
        "with 1.4% saccharin (ii). (B) Phase contrast and fluorescent images of E. coli cells following treatment "
        "with saccharin. (C) Growth curves (n = 3)."
    )
    assert s.labels == ["Ai", "Aii", "B", "C"]
    assert "n = 3" in s.parts["C"]


def test_roman_numerals_only_when_consistent():
    # compfigsep pone.0003940.g004.jpg uses (i)..(vi) as its only labels
    s = split_caption(
        "Transition from PIN to invasive carcinoma.(i) Widespread high grade PIN lesions were seen, (ii) with "
        "abnormal cellular morphology (arrows). (iii) Proliferating cells were detected (iv)."
    )
    assert s.labels[:3] == ["i", "ii", "iii"]


def test_positions_and_no_labels():
    s = split_caption("Hematoxylin and eosin (left panel) and immunofluoresence (right panel) for OATP1B3.")
    assert s.labels == ["left", "right"]
    s = split_caption("Kaplan-Meier curves of overall survival (P < 0.05, i.e. significant).")
    assert s.labels == [] and s.parts == {}
    assert s.preamble.startswith("Kaplan-Meier")


def test_compfigsep_quality_floor():
    path = DATA / "caption-splitting-gt" / "compfigsep" / "prostate_data_only_annotated_captions.json"
    if not path.exists():
        pytest.skip("shared caption-splitting data absent")
    from bench.panels import caption_scores

    sim, exact = caption_scores(path)
    assert sim >= 0.88 and exact >= 0.9
    assert len(json.loads(path.read_text())) == 131


def test_abbreviation_after_the_label_run_is_not_a_label():
    # eLife 52882 fig. 1 (encoda JATS): panels A-J, then "left (L) and right (R) headings"
    cap = (
        "Kinematics of spontaneous navigation. (A) Experimental setup. (B) Typical trajectory. (C) Bouts. "
        "(D) Angles. (E) Speeds. (F) Distances. (G) Turns. (H) Chains. (I) Rates. (J) Markov model: the bout type "
        "chain controls the forward scoot (F) versus turning (T) state. The side chain controls the transitions "
        "between left (L) and right (R) headings."
    )
    assert split_caption(cap).labels == list("ABCDEFGHIJ")


def test_capital_labels_glued_to_the_previous_sentence():
    split = split_caption(
        "RUNX3 limits metastasis in vivo.A Mice were injected with cells. B Quantification of nodules. "
        "C Representative photographs."
    )
    assert split.labels == ["A", "B", "C"]
    assert split.preamble == "RUNX3 limits metastasis in vivo."
    assert split.parts["A"].startswith("Mice were injected")
    # One capital "A" opening a sentence is an article, not a label run.
    assert split_caption("Overview of the cohort. A total of 40 mice were used.").labels == []


def test_abbreviations_are_not_labels():
    split = split_caption(
        "(A) Schematic of castration (Cx) and H&E) staining of tissue. (B) Haematoxylin and eosin (H&E) stain."
    )
    assert split.labels == ["A", "B"]


def test_letter_i_sorts_among_letters():
    caption = " ".join(f"({c}) Stain {k}." for k, c in enumerate("abcdefghij"))
    assert split_caption(caption).labels == list("abcdefghij")
