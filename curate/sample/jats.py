"""JATS XML for a sample package, and deterministic ``.tar.gz`` packing.

The XML follows PMC's JATS 1.3 archiving tag set: ``<front><article-meta>`` with title, pmcid,
doi and an open-access ``<license>``; a ``<body>`` whose sentences cite figures with
``<xref ref-type="fig">``; ``<fig>`` elements with label, caption and ``<graphic>``.
"""

from __future__ import annotations

import gzip
import io
import tarfile

from lxml import etree

XLINK = "http://www.w3.org/1999/xlink"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD '
    'v1.3 20210610//EN" "JATS-archivearticle1-3.dtd">'
)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _front(article: etree._Element, meta: dict) -> None:
    front = _sub(article, "front")
    jmeta = _sub(front, "journal-meta")
    _sub(_sub(jmeta, "journal-title-group"), "journal-title", meta["journal"])
    ameta = _sub(front, "article-meta")
    _sub(ameta, "article-id", meta["pmcid"], **{"pub-id-type": "pmcid"})
    _sub(ameta, "article-id", meta["doi"], **{"pub-id-type": "doi"})
    _sub(_sub(ameta, "title-group"), "article-title", meta["title"])
    date = _sub(ameta, "pub-date", **{"pub-type": "epub"})
    _sub(date, "year", str(meta["year"]))
    perm = _sub(ameta, "permissions")
    lic = etree.SubElement(perm, "license", {"license-type": "open-access", f"{{{XLINK}}}href": LICENCE_URL})
    _sub(
        lic,
        "license-p",
        "This is an open access article distributed under the terms of the Creative "
        "Commons Attribution License (CC BY 4.0).",
    )
    _sub(_sub(ameta, "abstract"), "p", meta["abstract"])


def _paragraph(sec: etree._Element, sentences: list[tuple[str, str, str]], rid: str) -> None:
    """A ``<p>`` of sentences, each citing ``rid`` once through an xref."""
    p = _sub(sec, "p")
    p.text = ""
    last = None
    for before, ref, after in sentences:
        lead = (" " if last is not None or p.text else "") + before
        if last is None:
            p.text += lead
        else:
            last.tail += lead
        last = _sub(p, "xref", ref, **{"ref-type": "fig", "rid": rid})
        last.tail = after


def _fig(sec: etree._Element, fig: dict) -> None:
    el = _sub(sec, "fig", id=fig["fig_id"], position="float")
    _sub(el, "label", fig["label"])
    cap = _sub(el, "caption")
    _sub(cap, "title", fig["caption_title"])
    if fig["caption_body"]:
        _sub(cap, "p", fig["caption_body"])
    etree.SubElement(el, "graphic", {f"{{{XLINK}}}href": fig["href"]})


def jats_bytes(meta: dict, intro: list[str], figures: list[dict]) -> bytes:
    """Serialise one article; each figure dict has fig_id, label, caption_title, caption_body,
    href and mentions (before, ref, after)."""
    article = etree.Element(
        "article",
        {"article-type": "research-article", "{http://www.w3.org/XML/1998/namespace}lang": "en"},
        nsmap={"xlink": XLINK},
    )
    _front(article, meta)
    body = _sub(article, "body")
    sec = _sub(body, "sec", id="s1")
    _sub(sec, "title", "Introduction")
    _sub(sec, "p", " ".join(intro))
    res = _sub(body, "sec", id="s2")
    _sub(res, "title", "Results")
    for fig in figures:
        _paragraph(res, fig["mentions"], fig["fig_id"])
        _fig(res, fig)
    disc = _sub(body, "sec", id="s3")
    _sub(disc, "title", "Discussion")
    _sub(disc, "p", "These examples illustrate typical appearances; they are not diagnostic criteria.")
    return etree.tostring(article, xml_declaration=True, encoding="UTF-8", doctype=DOCTYPE, pretty_print=True)


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    """A gzip'd tar of ``members`` (arcname -> bytes) that is byte-identical on every run:
    sorted members, parent directories first, mtime 0, uid/gid 0, no user names, gzip mtime 0."""
    dirs = sorted({name.rsplit("/", 1)[0] for name in members if "/" in name})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            _zero(info)
            tar.addfile(info)
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(members[name]), 0o644
            _zero(info)
            tar.addfile(info, io.BytesIO(members[name]))
    return gzip.compress(buf.getvalue(), compresslevel=9, mtime=0)


def _zero(info: tarfile.TarInfo) -> None:
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
