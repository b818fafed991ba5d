from __future__ import annotations

from curate.layout.panelrefs import cited_panels, panel_mentions


def test_citation_forms():
    assert cited_panels("as shown in Fig. 2B") == {"2": {"B"}}
    assert cited_panels("(Figure 2B–D)") == {"2": {"B", "C", "D"}}
    assert cited_panels("see Fig. 2, B and C") == {"2": {"B", "C"}}
    assert cited_panels("(Figs. 2b and 3c)") == {"2": {"B"}, "3": {"C"}}
    assert cited_panels("Figure 4 summarises it") == {"4": set()}


def test_panel_mentions_pick_only_this_panels_sentences():
    mentions = ["Lesions grow (Fig. 2A).", "Cells die (Fig. 2B–C).", "Overview in Figure 2.", "Compare Fig. 3B."]
    assert panel_mentions(mentions, "B", "Figure 2") == ["Cells die (Fig. 2B–C)."]
    assert panel_mentions(mentions, "A", "Figure 2") == ["Lesions grow (Fig. 2A)."]
    assert panel_mentions(mentions, None, "Figure 2") == []
