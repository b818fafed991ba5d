"""Text helpers for PDF ingest: line joining, sentences, figure mentions, document metadata."""

from __future__ import annotations

import re
from collections.abc import Iterable

from curate.mupdf import pymupdf

SOFT_HYPHEN = "\u00ad"
_WORD = re.compile(r"[A-Za-z]+")
_PAIR = re.compile(r"[A-Za-z]+-[A-Za-z]+")
_HYPHEN_END = re.compile(r"([A-Za-z]+)-$")
_LEAD_WORD = re.compile(r"^([a-z]+)")
_ABBREV = {"fig", "figs", "al", "eg", "e.g", "i.e", "ie", "eq", "eqs", "ref", "refs", "vs", "approx",
           "ca", "cf", "no", "nos", "sec", "vol", "dr", "suppl", "resp", "sp", "spp", "var", "ext", "tab"}
_SENT_END = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z0-9(\[])")
_NUM = r"S?\d{1,3}(?:[A-Za-z](?:\s*[-–—]\s*[A-Za-z])?(?![A-Za-z]))?"
_SEP = r"\s*(?:,|;|and|&|or|to|[-–—])\s*"
_LETTERS = r"[A-Za-z](?:\s*[-–—]\s*[A-Za-z])?(?![A-Za-z0-9])"
_REF = re.compile(
    rf"(?P<supp>(?:Supplementary|Suppl\.|Extended\s+Data|Supporting)\s+)?"
    rf"(?<![A-Za-z])(?:Figs?\.|Figures?|FIGS?\.|FIGURES?|Fig\b)\s*"
    rf"(?P<body>{_NUM}(?:{_SEP}(?:{_NUM}|{_LETTERS}))*)"
)
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
_CC_URL = re.compile(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)", re.IGNORECASE)
_CC_CODE = re.compile(r"\bCC[ -]BY((?:[ -](?:NC|SA|ND))*)(?:[ -](\d\.\d))?\b")
_CC_WORDS = re.compile(
    r"Creative\s+Commons\s+Attribution((?:[\s-]+(?:Non-?Commercial|ShareAlike|Share\s+Alike|"
    r"NoDerivatives|NoDerivs|No\s+Derivatives))*)(?:\s+(\d\.\d))?", re.IGNORECASE)


def vocabulary(pages: Iterable[Iterable]) -> set[str]:
    """Lower-case words and within-line hyphenated pairs ("gdp-binding") of the document,
    to decide how to repair line-end hyphens."""
    words: set[str] = set()
    for blocks in pages:
        for b in blocks:
            for ln in b.lines:
                words.update(w.lower() for w in _WORD.findall(ln.text))
                words.update(w.lower() for w in _PAIR.findall(ln.text))
    return words


def join_lines(lines: list[str], vocab: set[str]) -> str:
    """Join text lines into one whitespace-normalised string, repairing line-end hyphens.

    "evolu-" + "tion" -> "evolution" when the document uses "evolution" elsewhere or the first
    part is lower case; the hyphen stays when the document writes the pair hyphenated
    ("GDP-" + "binding"), when the first part is not lower case, or before a digit ("EF-1A")."""
    out = ""
    for line in (" ".join(ln.split()) for ln in lines):
        if not line:
            continue
        m, lead = _HYPHEN_END.search(out), _LEAD_WORD.match(line)
        if out.endswith(SOFT_HYPHEN):  # a typesetter's break: always joins the word
            out = out[:-1] + line
        elif m and lead:
            first, second = m.group(1), lead.group(1)
            keep = f"{first}-{second}".lower() in vocab or not first.islower()
            if (first + second).lower() in vocab:
                keep = False
            out = out + line if keep else out[:-1] + line
        elif out.endswith("-") or not out:
            out += line
        else:
            out = f"{out} {line}"
    return " ".join(out.replace(SOFT_HYPHEN, "").split())


def sentences(text: str) -> list[str]:
    """Split running text into sentences, not after "Fig.", "et al.", "e.g." or initials."""
    out, start = [], 0
    for m in _SENT_END.finditer(text):
        head = text[start: m.start() + 1]
        last = head.rstrip(".!?\"')]").rsplit(None, 1)[-1].lower().lstrip("([{\"'") if head.strip() else ""
        if last in _ABBREV or (len(last) == 1 and last.isalpha()):
            continue
        out.append(head.strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def cited_numbers(sentence: str) -> list[str]:
    """Figure numbers a sentence cites: "Figs. 2–4" -> 2, 3, 4; "Fig. 1b, c and 3" -> 1, 3.
    Supplementary / Extended Data figures are returned as "S<n>" so they never match Fig. n."""
    found: list[str] = []
    for m in _REF.finditer(sentence):
        supp = bool(m.group("supp"))
        nums = list(re.finditer(r"(S?)(\d+)|([-–—]|\bto\b)", m.group("body")))
        prev, dash = None, False
        for tok in nums:
            if tok.group(3):
                dash = prev is not None
                continue
            value, s_prefix = int(tok.group(2)), tok.group(1) == "S" or supp
            if dash and prev is not None and 0 < value - prev <= 20:
                found.extend(_key(v, s_prefix) for v in range(prev + 1, value))
            found.append(_key(value, s_prefix))
            prev, dash = value, False
    return list(dict.fromkeys(found))


def _key(value: int, supplementary: bool) -> str:
    return f"S{value}" if supplementary else str(value)


def find_mentions(text: str, numbers: set[str]) -> dict[str, list[str]]:
    """Figure number -> the sentences of ``text`` that cite it, in text order, no repeats."""
    out: dict[str, list[str]] = {}
    for sent in sentences(text):
        for num in cited_numbers(sent):
            if num in numbers and sent not in out.setdefault(num, []):
                out[num].append(sent)
    return out


def document_meta(doc: pymupdf.Document, pages: list) -> dict:
    """Title, DOI and licence (SPDX-style id such as ``CC-BY-4.0``, or ``unknown``)."""
    meta = doc.metadata or {}
    texts = [" ".join(ln.text for b in blocks for ln in b.lines) for blocks in pages]
    doi = _first_doi([meta.get("subject", ""), meta.get("keywords", ""), *texts[:2], *texts[2:]])
    licence, url = _licence(" ".join(texts))
    return {"title": _title(meta.get("title", ""), pages), "doi": doi,
            "licence": licence, "licence_url": url}


def _title(meta_title: str, pages: list) -> str:
    junk = re.compile(r"^(untitled|microsoft word|\S+\.(pdf|docx?|tex|dvi))", re.IGNORECASE)
    title = " ".join((meta_title or "").split())
    if len(title) >= 8 and not junk.match(title):
        return title
    blocks = pages[0] if pages else []
    if not blocks:
        return title
    # the first block set in the page's largest font; a long one is running text, not a title
    top = max(ln.style[1] for b in blocks for ln in b.lines)
    block = next(b for b in blocks if any(ln.style[1] >= top - 0.5 for ln in b.lines))
    lines = [ln.text for ln in block.lines if ln.style[1] >= top - 0.5]
    return lines[0][:300] if len(lines) > 4 else " ".join(lines)[:300]


def _first_doi(texts: list[str]) -> str | None:
    for text in texts:
        m = _DOI.search(text or "")
        if m:
            return m.group(0).rstrip(".,;:)]}")
    return None


def _licence(text: str) -> tuple[str, str | None]:
    text = re.sub(r"/\s+", "/", text)
    m = _CC_URL.search(text)
    if m:
        return f"CC-{m.group(1).upper()}-{m.group(2)}", f"https://creativecommons.org/licenses/{m.group(1).lower()}/{m.group(2)}/"
    if re.search(r"creativecommons\.org/publicdomain/zero|\bCC0\b", text):
        return "CC0-1.0", None
    m = _CC_CODE.search(text)
    if m:
        parts = re.findall(r"NC|SA|ND", m.group(1))
        return "-".join(["CC-BY", *parts] + ([m.group(2)] if m.group(2) else [])), None
    m = _CC_WORDS.search(text)
    if m:
        words = m.group(1).lower()
        parts = [p for p, key in (("NC", "commercial"), ("SA", "alike"), ("ND", "deriv")) if key in words]
        return "-".join(["CC-BY", *parts] + ([m.group(2)] if m.group(2) else [])), None
    return "unknown", None
