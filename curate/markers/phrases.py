"""Caption grammar for visual markers: which sentence defines which arrow, box or circle.

``parse_marker_phrases`` finds the phrases in a caption that say what a marker shows, e.g.
"White arrows indicate crossing points", "crossing points (arrowheads)", "Asterisk, necrotic
core.", "indicated by red arrows" and "the boxed area is magnified in C". Spans are character
offsets into the text given (half-open). Colours are mapped to the detector's vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curate.markers.colours import canonical_colour

# Kind words: the longest alternatives first so that "arrowheads" is not read as "arrow".
_KIND_WORDS = {
    "arrowhead": r"arrow[- ]?heads?|triangles?",
    "arrow": r"arrows?",
    "asterisk": r"asterisks?|stars?",
    "box": r"boxe?s|boxed|box|rectangles?|rectangular\s+(?:box|area|region)s?|squares?",
    "circle": r"circles?|circled|ellipses?|encircled|ovals?",
}
_KIND_ALT = "|".join(f"(?P<k_{k}>{v})" for k, v in _KIND_WORDS.items())
_COLOUR_WORD = (
    r"white|black|red|yellow|green|cyan|magenta|blue|orange|purple|pink|violet|grey|gray|brown"
    r"|light\s+blue|dark\s+blue|light\s+green"
)
_MOD = r"(?:(?:dashed|dotted|solid|open|closed|filled|empty|thin|thick|small|large|double|white-?outlined)\s+)"
# A marker noun phrase: optional article, colours ("red and green"), style words, the kind.
_NP = (
    rf"(?:(?:the|a|an)\s+)?(?P<colours>(?:(?:{_COLOUR_WORD})"
    rf"(?:\s*(?:and|or|/)\s*|\s*,\s*(?=(?:{_COLOUR_WORD})\s*(?:,|and|or))|\s+))*)"
    rf"{_MOD}*(?:{_KIND_ALT})\b"
)
_VERBS = (
    r"indicates?|indicating|points?\s+(?:to|at|out)|pointing\s+(?:to|at)|marks?|marking|show|shows|"
    r"denotes?|denoting|highlights?|highlighting|depicts?|labels?|represents?|designates?|identify|"
    r"identifies|outlines?|delineates?|demarcates?|refers?\s+to|correspond\s+to|corresponds\s+to|"
    r"locates?|shows?\s+the\s+position\s+of|are|is"
)
_PASSIVE = (
    r"(?:indicated|marked|highlighted|shown|denoted|labell?ed|outlined|pointed\s+out|represented|"
    r"depicted|designated|identified|delineated|demarcated|circled|boxed|enclosed|framed)"
)
_ZOOM = (
    r"(?:magnified|enlarged|zoomed(?:\s+in)?|expanded|amplified|blown\s+up|"
    r"shown\s+(?:at|in)\s+(?:higher|high|greater)\s+magnification|shown\s+enlarged|"
    r"shown\s+in\s+(?:detail|close-?up)|displayed\s+at\s+higher\s+magnification)"
)
_ZOOM_TARGET = rf"{_ZOOM}[^.;]*?\b(?:in|on|at)\s+(?:the\s+)?(?:panels?\s+|insets?\s+)?\(?(?P<target>[A-Z][a-z]?|[a-z]|[ivx]+)\b\)?"

_RE_ACTIVE = re.compile(rf"\b{_NP}\s+(?:(?:in|on)\s+\(?[A-Za-z]{{1,3}}\)?\s+)?(?P<verb>{_VERBS})\s+(?P<obj>[^.;]+)", re.I)
_RE_PASSIVE = re.compile(rf"\b(?P<verb>{_PASSIVE})\s+(?:with|by|using)\s+{_NP}", re.I)
_RE_PAREN = re.compile(rf"\((?P<pre>[^()]*?)\b{_NP}\s*(?:[;,][^()]*)?\)", re.I)
_RE_LEAD = re.compile(rf"^\s*{_NP}\s*(?:[:,–—]|\s-)\s*(?P<obj>[^.;]+)", re.I)
_RE_ZOOM = re.compile(rf"\b(?P<np>(?:the\s+)?(?:{_MOD}*)(?P<zk>boxed|box(?:es)?|rectangles?|squares?|circled|outlined|framed|dashed)\b[^.;]*?)\b{_ZOOM_TARGET}", re.I)
_RE_MENTION = re.compile(rf"\b{_NP}", re.I)

# Sentences about box plots or plot symbols use the same words for something else.
_PLOT_WORDS = re.compile(
    r"box\s*-?\s*plots?|whiskers?|quartile|interquartile|box-and-whisker|TATA-box|data\s+points?|"
    r"individual\s+(?:values|measurements|data)|each\s+(?:dot|circle|square|box)|\bmedian\b|mean\s*±|"
    r"(?:open|closed|filled|solid)\s+(?:circles|squares|triangles)",
    re.I,
)
# Every pattern above that yields a phrase needs one of these words (lower case) in its
# sentence: the kind words of ``_NP`` and the outline words of ``_RE_ZOOM``. An ASCII text with
# none of them has no phrase (in ASCII text ``re.I`` folds case as ``str.lower`` does), so it
# skips the regular expressions, which cost ~0.2 ms per sentence.
_NEEDED_STEMS = ("arrow", "triangle", "asterisk", "star", "box", "rectang", "square", "circle", "ellipse", "oval",
                 "outlined", "framed", "dashed")
# Likewise every alternative of ``_PLOT_WORDS`` contains one of these.
_PLOT_STEMS = ("box", "whisker", "quartile", "data", "individual", "each", "median", "mean", "open", "closed",
               "filled", "solid")


def _may_contain(text: str, stems: tuple[str, ...]) -> bool:
    """False only when ``text`` is ASCII and none of ``stems`` occurs in it, any case."""
    if not text.isascii():
        return True
    low = text.lower()
    return any(w in low for w in stems)


_CLAUSE_START = re.compile(
    r"(?:^|[,;:()]|\b(?:with|where|while|and|showing|by|to|at|from|note|see)\b|\bof\b\s+(?=the))", re.I
)


@dataclass(frozen=True)
class MarkerPhrase:
    """One caption phrase that defines what a marker kind (and colour) shows.

    ``span`` is the half-open character range of the matched phrase in the parsed text;
    ``sentence`` is the whole sentence it came from; ``zoom_target`` is the panel label an
    outlined region is enlarged in ("C"), when the caption says so.
    """

    kind: str
    colour: str | None
    plural: bool
    verb: str | None
    object_phrase: str
    sentence: str
    span: tuple[int, int]
    zoom_target: str | None = None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Half-open sentence spans; a full stop after an abbreviation or a single letter keeps going."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[.!?](?=\s+(?:[A-Z(\"“]|$))|[.!?]$", text):
        prev = text[max(start, m.start() - 4) : m.start()]
        if re.search(r"(?:\bet al|\bFig|\bvs|\be\.g|\bi\.e|\bca|\bapprox|\bno)$", prev):
            continue
        spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        if a < b:
            out.append((a, b))
    return out


def _kind_of(m: re.Match) -> str:
    for k in _KIND_WORDS:
        if m.group(f"k_{k}"):
            return k
    raise ValueError("no kind group matched")


def _kind_text(m: re.Match) -> str:
    return next(m.group(f"k_{k}") for k in _KIND_WORDS if m.group(f"k_{k}"))


def _is_plural(word: str) -> bool:
    w = word.lower()
    return w.endswith("s") and not w.endswith("ss")


def _colours(raw: str | None) -> list[str | None]:
    words = re.findall(rf"(?:{_COLOUR_WORD})", raw or "", re.I)
    return [canonical_colour(w) for w in words] or [None]


def _clean_object(obj: str) -> str:
    obj = obj.strip(" ,:;–—-")
    obj = re.sub(r"\s+(?:is|are|was|were)$", "", obj, flags=re.I)
    obj = re.sub(r"\s*\((?:[A-Za-z]{1,3}(?:[,–-]\s*[A-Za-z]{1,3})*)\)\s*$", "", obj)
    obj = re.sub(r"^(?:the\s+)?(?:position|positions|location|locations|site|sites)\s+of\s+", "", obj, flags=re.I)
    return obj.strip(" ,")


def _preceding_np(sentence: str, end: int) -> str:
    """The noun phrase right before ``end``: back to the nearest clause boundary."""
    head = sentence[:end].rstrip(" ,")
    head = re.sub(r"\b(?:as|are|is|were|was|being|be)\s*$", "", head, flags=re.I).rstrip(" ,")
    cut = 0
    for m in _CLAUSE_START.finditer(head):
        if m.end() < len(head):
            cut = m.end()
    words = head[cut:].split()
    return _clean_object(" ".join(words[-8:]))


def _trailing_colours(rest: str) -> list[str | None]:
    """Colours given in parentheses after the kind within the same clause: "circles in X (red)"."""
    clause = re.split(r"[;.]", rest, maxsplit=1)[0][:120]
    words = re.findall(rf"\(\s*({_COLOUR_WORD})\s*\)", clause, re.I)
    return [canonical_colour(w) for w in words] or [None]


def _zoom_target(sentence: str) -> str | None:
    m = re.search(_ZOOM_TARGET, sentence, re.I)
    return m.group("target") if m else None


def _phrases_in_sentence(sentence: str, offset: int) -> list[MarkerPhrase]:
    found: list[MarkerPhrase] = []
    if not _may_contain(sentence, _NEEDED_STEMS):
        return found
    used: list[tuple[int, int]] = []
    plotty = _may_contain(sentence, _PLOT_STEMS) and bool(_PLOT_WORDS.search(sentence))
    zoom = _zoom_target(sentence)

    def add(m: re.Match, verb: str | None, obj: str, kind: str | None = None, target=None) -> None:
        k = kind or _kind_of(m)
        if plotty and k in ("box", "circle", "arrowhead"):
            return
        if any(a < m.end() and m.start() < b for a, b in used):
            return
        used.append((m.start(), m.end()))
        if kind is None:
            plural = _is_plural(_kind_text(m))
        else:
            plural = bool(re.search(r"\b(?:areas|regions|boxes|rectangles|squares|circles)\b", m.group(0), re.I))
        tgt = target if target is not None else (zoom if k in ("box", "circle") else None)
        colours = _colours(m.groupdict().get("colours"))
        if colours == [None]:
            colours = _trailing_colours(sentence[m.end():])
        for colour in colours:
            found.append(
                MarkerPhrase(k, colour, plural, verb, _clean_object(obj), sentence,
                             (offset + m.start(), offset + m.end()), tgt)
            )

    for m in _RE_ZOOM.finditer(sentence):
        kind = "circle" if m.group("zk").lower() == "circled" else "box"
        np_ = _clean_object(m.group("np"))
        add(m, "magnified", np_, kind=kind, target=m.group("target"))
    for m in _RE_LEAD.finditer(sentence):
        add(m, None, m.group("obj"))
    for m in _RE_ACTIVE.finditer(sentence):
        verb = re.sub(r"\s+", " ", m.group("verb").lower())
        if verb in ("are", "is") and not re.match(r"\s*(?:used|placed|drawn)\b", m.group("obj")):
            continue
        add(m, verb, m.group("obj"))
    for m in _RE_PASSIVE.finditer(sentence):
        add(m, m.group("verb").lower(), _preceding_np(sentence, m.start()))
    for m in _RE_PAREN.finditer(sentence):
        add(m, None, _preceding_np(sentence, m.start()))
    for m in _RE_MENTION.finditer(sentence):
        # A bare "box"/"circle"/"square" is usually a reference ("Box 1") or a plot symbol:
        # keep it only with a colour or style word ("dashed box", "magenta asterisk").
        styled = m.group("colours") or re.search(_MOD, m.group(0), re.I)
        if (_kind_of(m) in ("box", "circle") and not styled) or re.match(r"\s*\d", sentence[m.end():]):
            continue
        add(m, None, "")
    return found


def parse_marker_phrases(text: str) -> list[MarkerPhrase]:
    """All marker-defining phrases of a caption (or any text), in reading order."""
    out: list[MarkerPhrase] = []
    if not _may_contain(text, _NEEDED_STEMS):
        return out
    for a, b in split_sentences(text):
        out.extend(_phrases_in_sentence(text[a:b], a))
    out.sort(key=lambda p: p.span)
    return out


def expected_markers(caption: str) -> list[tuple[str, str | None]]:
    """The (kind, colour or None) pairs that a figure caption's marker phrases name, for the
    detector's guidance (sorted, no repeats; empty when the caption names no marker).

    The whole caption, not the panel's own sub-caption: a marker sentence often sits in the
    preamble or in another panel's text ("Arrows, ... in A-D"); on panel-gt, per-panel guidance
    lost 0.067 recall against whole-caption guidance at about the same precision.
    """
    return sorted({(p.kind, p.colour) for p in parse_marker_phrases(caption)}, key=str)
