"""Caption grammar: one test per phrase form, with real caption sentences where the shared data has them."""

from pathlib import Path

import pytest

from curate.markers.phrases import parse_marker_phrases, split_sentences

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _one(text, kind):
    found = [p for p in parse_marker_phrases(text) if p.kind == kind]
    assert found, f"no {kind} phrase in {text!r}"
    return found[0]


def test_active_plain_from_embo_caption():
    # emboj.2009.312 Fig. 1 caption
    p = _one("Anterior is left and dorsal is up. Arrows indicate crossing points of dendritic branches. "
             "Scale bar=50 μm.", "arrow")
    assert p.plural and p.colour is None and p.verb == "indicate"
    assert p.object_phrase == "crossing points of dendritic branches"
    assert p.sentence == "Arrows indicate crossing points of dendritic branches."


def test_active_coloured_from_embo_caption():
    # s44321-025-00219-1 Fig. 1 caption
    p = _one("White arrows indicate cell regions experiencing membrane bulging.", "arrow")
    assert p.colour == "white" and p.object_phrase == "cell regions experiencing membrane bulging"
    # s44319-025-00415-7 Fig. 2 caption: singular arrowhead, not read as "arrow"
    q = _one("White arrowhead indicates an actin filament going through a basal pore.", "arrowhead")
    assert not q.plural and q.colour == "white"
    assert not [p for p in parse_marker_phrases(q.sentence) if p.kind == "arrow"]


def test_point_to_and_mark_verbs():
    p = _one("Red arrowheads point to the necrotic core.", "arrowhead")
    assert (p.colour, p.verb, p.object_phrase) == ("red", "point to", "the necrotic core")
    q = _one("Yellow asterisks mark dilated vessels.", "asterisk")
    assert (q.colour, q.verb, q.object_phrase) == ("yellow", "mark", "dilated vessels")


def test_passive_represented_by_with_parenthesised_colours():
    # emboj.2009.340 Fig. 3 caption
    text = ("Images are selected frames of PA time lapse with the photoactivated region represented by "
            "circles in euchromatin (red) or in heterochromatin (green) on the pre-activation image.")
    found = [p for p in parse_marker_phrases(text) if p.kind == "circle"]
    assert {p.colour for p in found} == {"red", "green"}
    assert all(p.object_phrase == "the photoactivated region" for p in found)


def test_indicated_by_arrows():
    p = _one("Representative single cells indicated by arrows are shown enlarged.", "arrow")
    assert p.verb == "indicated" and p.object_phrase == "Representative single cells"


def test_parenthetical_forms():
    found = parse_marker_phrases("Note the lesion (arrows) and oedema (white arrowheads).")
    kinds = {(p.kind, p.colour, p.object_phrase) for p in found}
    assert ("arrow", None, "the lesion") in kinds
    assert ("arrowhead", "white", "oedema") in kinds
    # s44319-025-00415-7: "(red, white arrows)" means red densities pointed at by white arrows
    f = [p for p in parse_marker_phrases("connected to a TPF by two densities (red, white arrows) consistent")
         if p.kind == "arrow"]
    assert [p.colour for p in f] == ["white"] and f[0].object_phrase == "two densities"


def test_label_first_forms():
    found = parse_marker_phrases("Asterisk, necrotic core. Arrows: apoptotic cells.")
    assert [(p.kind, p.object_phrase) for p in found] == [("asterisk", "necrotic core"), ("arrow", "apoptotic cells")]


def test_boxed_region_magnified_zoom_target():
    p = _one("The boxed region is magnified in C.", "box")
    assert p.zoom_target == "C" and p.object_phrase == "The boxed region"
    q = _one("Boxed areas in A are shown at higher magnification in B.", "box")
    assert q.zoom_target == "B" and q.plural


def test_dashed_box_and_circles_show():
    p = _one("The dashed box marks the zoomed area.", "box")
    assert p.verb == "marks" and p.object_phrase == "the zoomed area"
    q = _one("Circles show the bleached regions.", "circle")
    assert q.verb == "show" and q.object_phrase == "the bleached regions"


def test_boxplot_sentences_are_not_marker_phrases():
    # s44318-025-00409-0 Fig. 1 caption
    text = ("The top and bottom edges of the boxplots represent the upper (75th percentile) and lower (25th "
            "percentile) quartiles. Horizontal lines within each box represent the median.")
    assert parse_marker_phrases(text) == []


def test_spans_and_sentences_are_consistent():
    text = "Scale bar, 10 μm. E. coli cells divide. Arrowheads show the t1 and t2 clusters of hemilineage 12A."
    assert len(split_sentences(text)) == 3
    (p,) = parse_marker_phrases(text)
    assert text[p.span[0]:p.span[1]].startswith("Arrowheads show")


def test_soda_defining_sentences_are_found():
    base = DATA / "soda-mmqc-embo" / "examples"
    if not base.exists():
        pytest.skip("shared data absent")
    caption = (base / "10.1038_emboj.2009.312" / "content" / "1" / "content" / "caption.txt").read_text()
    sentences = {p.sentence for p in parse_marker_phrases(caption) if p.kind == "arrow"}
    assert "Arrows indicate crossing points of dendritic branches." in sentences
    assert "Arrows indicate the crossing points of the dendrites." in sentences


def test_texts_without_a_marker_word_skip_the_grammar_and_lose_nothing(shared_data, monkeypatch):
    """The ASCII word check returns no phrase only where the full grammar finds none either."""
    from curate.markers import phrases

    texts = [p.read_text() for p in sorted((shared_data / "soda-mmqc-embo").rglob("caption.txt"))]
    texts += [
        "Scale bar, 10 um. Cells were fixed (n = 3). Data are mean ± SD.",
        "ARROWS indicate nuclei. The BOXED area is magnified in C.",
        "Box plots show the median; whiskers, 1.5 IQR. Open circles, outliers.",
        "Arrowſ mark buds.",  # not ASCII: the grammar decides
    ]
    sentences = [t[a:b] for t in texts for a, b in split_sentences(t)]
    fast = [parse_marker_phrases(t) for t in texts] + [phrases._phrases_in_sentence(s, 0) for s in sentences]
    skipped = sum(not phrases._may_contain(s, phrases._NEEDED_STEMS) for s in sentences)
    plot_skipped = sum(not phrases._may_contain(s, phrases._PLOT_STEMS) for s in sentences)
    may_contain = phrases._may_contain
    monkeypatch.setattr(phrases, "_may_contain", lambda text, stems: True)
    slow = [parse_marker_phrases(t) for t in texts] + [phrases._phrases_in_sentence(s, 0) for s in sentences]
    assert fast == slow
    assert skipped > 20 and plot_skipped > 20 and any(fast)  # both checks did skip, and phrases were found
    assert not may_contain("Box plots", ("whisker",)) and may_contain("Boxſ", ("whisker",))
