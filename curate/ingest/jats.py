"""Parse a JATS (PMC Open Access, eLife, PLOS...) article: document metadata and figures.

The parser is hardened against hostile XML: no entity expansion at all (billion laughs),
no DTD or external entity loading (XXE reads no local file, no network), libxml2's size and
depth limits kept (``huge_tree=False``).

Every ``<fig>`` element counts as a figure, wherever it sits: in ``<fig-group>`` (eLife figure
supplements), in appendices (``<app>``), in sections, and in ``<sub-article>`` (eLife author
responses carry real images such as ``resp-fig1.jpg``). A figure's caption is its own
``<caption>`` child only: a figure without one gets ``""``, never a neighbour's caption.
Caption text is the title plus every paragraph; source-data / supplementary-material blocks
nested in a caption and TeX duplicates of MathML are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from curate.ingest.base import IngestError
from curate.ingest.mentions import collect_mentions, enclosing_fig, flatten, local_name, normalise_ws
from curate.records import Document

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
MAX_RAW_LICENCE = 200
_YEAR_PREFERENCE = ("epub", "publication", "ppub", "pub", "epub-ppub", "collection")


@dataclass
class ParsedFigure:
    """One ``<fig>``: ``index`` is its 1-based position among all figures of the article."""

    index: int
    xml_id: str
    label: str = ""
    caption: str = ""
    caption_title: str = ""
    bold_labels: list[str] = field(default_factory=list)
    graphic_href: str | None = None
    mentions: list[str] = field(default_factory=list)
    is_supplement: bool = False
    in_sub_article: bool = False


@dataclass
class ParsedArticle:
    document: Document
    figures: list[ParsedFigure] = field(default_factory=list)


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, recover=False, remove_pis=True,
    )


def parse_root(xml_bytes: bytes) -> etree._Element:
    """Parse bytes into the ``<article>`` root element; IngestError on any failure."""
    try:
        root = etree.fromstring(xml_bytes, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise IngestError(f"XML does not parse: {exc}") from exc
    if root is None or local_name(root) != "article":
        raise IngestError(f"root element is <{local_name(root)}>, not <article>")
    return root


def parse_jats(xml_bytes: bytes, *, doc_id: str, source_path: str) -> ParsedArticle:
    """Document record and figures (captions, hrefs, mentions) of one JATS article."""
    root = parse_root(xml_bytes)
    meta = _path(root, "front", "article-meta")
    fig_elements = list(root.iter("{*}fig"))  # in any or no namespace, filtered inside lxml
    mentions = collect_mentions(root, fig_elements, _is_supplement)
    figures = [_parse_fig(el, i + 1, mentions) for i, el in enumerate(fig_elements)]
    licence, licence_url = _licence(meta)
    ids = _article_ids(meta)
    document = Document(
        id=doc_id, source_kind="jats", source_path=source_path,
        title=_text(_path(meta, "title-group", "article-title")),
        journal=_journal(root), year=_year(meta),
        pmcid=ids.get("pmcid"), pmid=ids.get("pmid"), doi=ids.get("doi"),
        licence=licence, licence_url=licence_url, n_figures=len(figures),
    )
    return ParsedArticle(document=document, figures=figures)


# --- small element helpers -------------------------------------------------------------


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [c for c in el if local_name(c) == name] if el is not None else []


def _path(el: etree._Element | None, *names: str) -> etree._Element | None:
    for name in names:
        found = _children(el, name)
        el = found[0] if found else None
    return el


def _descendants(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [d for d in el.iter() if local_name(d) == name] if el is not None else []


def _text(el: etree._Element | None) -> str:
    return normalise_ws(flatten(el).text) if el is not None else ""


# --- figures ---------------------------------------------------------------------------


def _parse_fig(el: etree._Element, index: int, mentions: dict[str, list[str]]) -> ParsedFigure:
    xml_id = el.get("id") or ""
    caption = _path(el, "caption")
    flat = flatten(caption) if caption is not None else None
    return ParsedFigure(
        index=index, xml_id=xml_id,
        label=_text(_path(el, "label")).rstrip(".:| "),
        caption=normalise_ws(flat.text) if flat else "",
        caption_title=_text(_path(caption, "title")),
        bold_labels=flat.bold if flat else [],
        graphic_href=_graphic_href(el),
        mentions=list(mentions.get(xml_id, [])) if xml_id else [],
        is_supplement=_is_supplement(el),
        in_sub_article=any(local_name(a) == "sub-article" for a in el.iterancestors()),
    )


def _is_supplement(fig: etree._Element) -> bool:
    """eLife figure supplements: ``specific-use="child-fig"`` or a non-first fig of a fig-group."""
    if fig.get("specific-use") == "child-fig":
        return True
    parent = fig.getparent()
    if parent is not None and local_name(parent) == "fig-group":
        return _children(parent, "fig")[0] is not fig
    return False


def _graphic_href(fig: etree._Element) -> str | None:
    """``xlink:href`` of the figure's own first ``<graphic>`` outside its caption."""
    for g in _descendants(fig, "graphic"):
        if enclosing_fig(g) is not fig or _in_caption_of(g, fig):
            continue  # a nested supplement's image, or an inline image of the caption
        href = g.get(XLINK_HREF) or g.get("href")
        if href:
            return href.strip()
    return None


def _in_caption_of(el: etree._Element, fig: etree._Element) -> bool:
    for anc in el.iterancestors():
        if anc is fig:
            return False
        if local_name(anc) == "caption":
            return True
    return False


# --- metadata --------------------------------------------------------------------------


def _article_ids(meta: etree._Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    for el in _children(meta, "article-id"):
        kind, value = (el.get("pub-id-type") or "").lower(), _text(el)
        if not value:
            continue
        if kind in ("pmc", "pmcid", "pmcaid"):
            ids.setdefault("pmcid", value if value.upper().startswith("PMC") else f"PMC{value}")
        elif kind == "pmid":
            ids.setdefault("pmid", value)
        elif kind == "doi":
            ids.setdefault("doi", value)
    return ids


def _journal(root: etree._Element) -> str:
    jmeta = _path(root, "front", "journal-meta")
    titles = _descendants(jmeta, "journal-title")
    if titles:
        return _text(titles[0])
    ids = _children(jmeta, "journal-id")
    preferred = [j for j in ids if j.get("journal-id-type") == "nlm-ta"] or ids
    return _text(preferred[0]) if preferred else ""


def _year(meta: etree._Element | None) -> int | None:
    dates = _children(meta, "pub-date")
    rank = {kind: i for i, kind in enumerate(_YEAR_PREFERENCE)}

    def key(d: etree._Element) -> int:
        return rank.get(d.get("pub-type") or d.get("date-type") or "", len(rank))

    for date in sorted(dates, key=key):
        match = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", _text(_path(date, "year")))
        if match:
            return int(match.group(1))
    return None


# --- licence ---------------------------------------------------------------------------

_CC_URL = re.compile(r"creativecommons\.org/licen[cs]es/([a-z-]+)/?(\d(?:\.\d)?)?", re.I)
_CC_TYPE = re.compile(r"^cc[- _]?((?:by)(?:[- _](?:nc|nd|sa))*)$", re.I)


def _licence(meta: etree._Element | None) -> tuple[str, str | None]:
    """Short licence name and its URL from ``<permissions>``; ``("unknown", None)`` if absent."""
    lic = _path(meta, "permissions", "license")
    if lic is None:  # older PLOS files state the licence in the copyright statement
        statement = _text(_path(meta, "permissions", "copyright-statement"))
        return licence_from_text(statement) or "unknown", None
    urls = [_text(r) for r in _descendants(lic, "license_ref")]
    urls += [u for u in [lic.get(XLINK_HREF)] if u]
    urls += [e.get(XLINK_HREF) for e in _descendants(lic, "ext-link") if e.get(XLINK_HREF)]
    text = _text(lic)
    urls += re.findall(r"https?://\S+", text)
    url = next((u for u in urls if "creativecommons.org" in u), urls[0] if urls else None)
    name = (
        next((n for n in map(licence_from_url, urls) if n), None)
        or licence_from_type(lic.get("license-type") or "")
        or licence_from_text(text)
        or (text[:MAX_RAW_LICENCE] if text else "unknown")
    )
    return name, url


def licence_from_url(url: str) -> str | None:
    """``http://creativecommons.org/licenses/by-nc/3.0`` -> ``CC BY-NC 3.0``; CC0; PDM."""
    if re.search(r"creativecommons\.org/publicdomain/zero", url, re.I):
        return "CC0"
    if re.search(r"creativecommons\.org/publicdomain/mark", url, re.I):
        return "Public Domain"
    match = _CC_URL.search(url)
    if not match:
        return None
    version = f" {match.group(2)}" if match.group(2) else ""
    return f"CC {match.group(1).upper()}{version}"


def licence_from_type(kind: str) -> str | None:
    """``license-type`` attribute values that name a licence (``cc-by``, ``public-domain``)."""
    kind = kind.strip().lower()
    if kind in ("cc0", "cc-0", "cc-zero"):
        return "CC0"
    if kind in ("public-domain", "publicdomain"):
        return "Public Domain"
    match = _CC_TYPE.match(kind)
    return f"CC {re.sub(r'[ _]', '-', match.group(1)).upper()}" if match else None


def licence_from_text(text: str) -> str | None:
    """Recognise Creative Commons wording in licence prose."""
    low = text.lower()
    if "cc0" in low or "public domain dedication" in low or "free of all copyright" in low:
        return "CC0"
    if "creative commons attribution" not in low and not re.search(r"\bcc[- ]by\b", low):
        return "Public Domain" if "public domain" in low else None
    parts = ["BY"]
    if re.search(r"non-?\s?commercial", low):
        parts.append("NC")
    if re.search(r"no-?\s?deriv", low):
        parts.append("ND")
    if re.search(r"share-?\s?alike", low):
        parts.append("SA")
    version = re.search(r"attribution[^.]{0,40}?\b(\d\.\d)\b", low)
    return "CC " + "-".join(parts) + (f" {version.group(1)}" if version else "")
