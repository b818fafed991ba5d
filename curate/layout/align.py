"""Match panels to caption labels and their sub-captions.

A panel whose printed label was read and appears in the caption takes that label. Panels
left over take the caption labels not yet used, in reading order. An alignment is marked
``unsure`` whenever the evidence conflicts: panel and label counts differ, a read label is
not in the caption, two panels read the same label, or reading order disagrees with the
labels that were read.
"""

from __future__ import annotations

from dataclasses import dataclass

from curate.layout.labelsyntax import sort_key
from curate.layout.split import PanelBox
from curate.layout.subcaptions import CaptionSplit


@dataclass
class Alignment:
    """The label chosen for one panel (same index as in the panel list) and its caption text."""

    label: str | None
    subcaption: str
    score: float
    unsure: bool
    reason: str


def _caption_key(label: str, labels: list[str]) -> str | None:
    """The caption's spelling of a read label (case-insensitive, ``I``/``l`` alike), or None."""

    def key(s: str) -> str:
        return s.lower().replace("l", "i")

    for lab in labels:
        if key(lab) == key(label):
            return lab
    return None


def _read_labels(panels: list[PanelBox], labels: list[str]) -> tuple[dict[int, str], set[int]]:
    """Panel index -> caption label for labels read once; indices of panels whose read label conflicts."""
    claims: dict[str, list[int]] = {}
    conflicts: set[int] = set()
    for i, p in enumerate(panels):
        if p.parent_index is not None or not p.label:
            continue
        lab = _caption_key(p.label, labels)
        if lab is None:
            conflicts.add(i)
            continue
        claims.setdefault(lab, []).append(i)
    taken: dict[int, str] = {}
    for lab, idx in claims.items():
        best = max(idx, key=lambda k: panels[k].label_score)
        taken[best] = lab
        conflicts.update(k for k in idx if k != best)
    return taken, conflicts


def _order_consistent(taken: dict[int, str], index: int, label: str) -> bool:
    """Whether giving ``label`` to panel ``index`` keeps read labels increasing in reading order."""
    before = [sort_key(lab) for i, lab in taken.items() if i < index]
    after = [sort_key(lab) for i, lab in taken.items() if i > index]
    key = sort_key(label)
    return all(b < key for b in before) and all(key < a for a in after)


def align_panels(panels: list[PanelBox], split: CaptionSplit) -> list[Alignment]:
    """One Alignment per panel (same order as ``panels``, which are in reading order)."""
    labels = split.labels
    if not labels:
        single = sum(1 for p in panels if p.parent_index is None) == 1
        return [
            Alignment(
                None, split.preamble, 1.0 if single else 0.3, not single, "caption names no panel labels"
            )
            for _ in panels
        ]
    taken, conflicts = _read_labels(panels, labels)
    free = [lab for lab in labels if lab not in taken.values()]
    main = [i for i, p in enumerate(panels) if p.parent_index is None]
    count_mismatch = len(main) != len(labels)
    out: list[Alignment | None] = [None] * len(panels)
    for i in main:
        if i in taken:
            lab = taken[i]
            out[i] = Alignment(
                lab, split.parts.get(lab, ""), max(0.5, panels[i].label_score), False, "label read"
            )
            continue
        if free:
            lab = free.pop(0)
            ok = _order_consistent(taken, i, lab) and not count_mismatch and i not in conflicts
            why = (
                "reading order (label unreadable)"
                if i not in conflicts
                else "reading order (read label conflicts)"
            )
            out[i] = Alignment(lab, split.parts.get(lab, ""), 0.6 if ok else 0.3, not ok, why)
        else:
            out[i] = Alignment(None, "", 0.0, True, "more panels than caption labels")
    for i, p in enumerate(panels):
        if p.parent_index is not None:
            parent = out[p.parent_index] if 0 <= p.parent_index < len(out) else None
            lab = parent.label if parent else None
            text = parent.subcaption if parent else ""
            out[i] = Alignment(
                lab, text, parent.score if parent else 0.0, True, f"inset of panel {p.parent_index}"
            )
    return [a for a in out if a is not None]
