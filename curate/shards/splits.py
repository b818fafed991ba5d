"""Split assignment by document: every sample of a paper lands in the same split."""

from __future__ import annotations

import hashlib


def split_of(document_id: str, fractions: dict[str, float]) -> str:
    """Deterministic split for a document: its sha256 mapped to [0, 1) against cumulative fractions."""
    point = int(hashlib.sha256(document_id.encode()).hexdigest()[:15], 16) / float(16**15)
    total = 0.0
    names = list(fractions)
    for name in names:
        total += fractions[name]
        if point < total:
            return name
    return names[-1]
