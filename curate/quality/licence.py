"""Licence families: one name per licence kind whatever its version or spelling, and whether
it allows commercial use of a derived dataset.

``CC BY 4.0``, ``CC-BY-4.0`` and ``cc by`` all become ``CC-BY``; anything that is not a
recognised Creative Commons or public-domain statement is ``unknown``. Commercial use is
allowed for CC0, public domain, CC-BY and CC-BY-SA. NC forbids it; ND is left out too, since
crops, panels and rewritten captions are adaptations that ND does not permit; ``unknown``
is never assumed to allow it.
"""

from __future__ import annotations

import re

FAMILIES = ("CC0", "public-domain", "CC-BY", "CC-BY-SA", "CC-BY-ND", "CC-BY-NC", "CC-BY-NC-SA", "CC-BY-NC-ND",
            "unknown")
COMMERCIAL = frozenset({"CC0", "public-domain", "CC-BY", "CC-BY-SA"})
_ELEMENTS = {"BY", "SA", "NC", "ND"}


def licence_family(licence: str | None) -> str:
    """The family of a licence string as ingest records it (see ``curate.ingest.base.spdx_licence``)."""
    text = " ".join((licence or "").upper().replace("_", " ").split())
    if not text or text == "UNKNOWN":
        return "unknown"
    if re.match(r"^(CC0|CC ZERO|CC-ZERO)\b", text) or "PUBLICDOMAIN/ZERO" in text.replace(" ", ""):
        return "CC0"
    if text.startswith("PUBLIC DOMAIN") or text in ("PD", "PDM"):
        return "public-domain"
    match = re.match(r"^CC[ -]((?:BY|SA|NC|ND)(?:[ -](?:BY|SA|NC|ND))*)", text)
    if not match:
        return "unknown"
    parts = set(re.split(r"[ -]", match.group(1))) & _ELEMENTS
    if "BY" not in parts:
        return "unknown"
    name = "CC-BY" + "".join(f"-{p}" for p in ("NC", "SA", "ND") if p in parts)
    if name not in FAMILIES:  # SA with ND cannot both hold
        return "unknown"
    return name


def commercial_use(family: str) -> bool:
    return family in COMMERCIAL


def item_licence(document_licence: str, figure_licence: str) -> str:
    """The licence an item is published under: its document's, else the figure's own (a folder
    line or a PDF can state one per figure)."""
    return document_licence if document_licence != "unknown" else figure_licence
