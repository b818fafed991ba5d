"""Exact and near-duplicate images across the whole run.

Each figure and panel gets a fingerprint (``fingerprint``): the sha256 of its decoded RGB
pixels with their shape (exact copies, whatever container or metadata they came in), a
64-bit pHash and dHash (``imagehash``'s arithmetic, ``phash_int``), its aspect ratio, and whether it holds enough
structure for a perceptual hash to mean anything (a near-blank crop hashes like every other
near-blank crop, so it takes part in exact matching only).

``resolve`` groups fingerprints of one level: exact groups first (equal pixel hash), then
near pairs among one representative per exact group, joined with union-find. A near pair
needs pHash distance <= ``max_phash``, dHash distance <= ``max_dhash`` and aspect ratios
within ``max_log_aspect``: two hashes that must agree keep distinct charts with the same
white layout apart. Near pairs between panels of one figure are not sought: a figure's look-alike
panels (the same box plot for four conditions) are a series, not copies; exact copies still count.
A near pair is kept only when each image is the other's closest match in the other's figure
(``_near_edges``), so a copy of one of those look-alikes joins that one, not the whole series. The canonical member of a group is its smallest id, so the result does
not depend on the order parts finished.

How it scales (multi-index hashing): candidates are not found by comparing all pairs. The
64-bit pHash is cut into 4 bands of 16 bits and every item is filed under each band value.
If two hashes differ in at most ``d`` bits, by pigeonhole at least one band differs in at
most ``floor(d / 4)`` bits, so probing each band's value and its neighbours within radius
``r`` (1 + 16 lookups for r = 1, + 120 for r = 2) finds every pair within ``4r + 3`` bits,
with no false negatives. The default is r = 1 (``quality.probe_radius``): complete up to 7
bits, and a pair at 8-10 bits is still found whenever one of its bands differs in at most one
bit (the common case: copies measured in BENCHMARKS.md sit at 0-6 bits). With near-uniform
hashes a bucket holds N / 65536 items, so each item meets about 4 * 17 * N / 65536 candidates
at r = 1: ~1,000 at N = 1M. Candidates are expanded and XOR-popcounted as arrays
(``near_pairs``): measured 1M hashes in ~26 s of one core, 200k in ~2 s (15x the earlier
per-item Python loop); the work grows as N^2 / 65536. Past a few million the bands are the
natural partition key: rows go to workers by band value, each worker emits its candidate
pairs, and union-find runs on the (much smaller) pair list. Only ids, hashes and aspect ratios
are held in memory (~40 bytes per image).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from PIL import Image

BANDS = 4
BAND_BITS = 16


@dataclass(frozen=True)
class Fingerprint:
    id: str
    document_id: str
    pixel_sha256: str
    phash: int
    dhash: int
    aspect: float
    informative: bool
    figure_id: str = ""


@dataclass(frozen=True)
class DuplicateLink:
    id: str
    document_id: str
    canonical_id: str
    canonical_document_id: str
    kind: str  # "exact" | "near"
    distance: int


def pixel_sha256(rgb: np.ndarray) -> str:
    """sha256 of the decoded pixels and their shape: equal for byte-different files of one image."""
    h = hashlib.sha256(f"{rgb.shape}".encode())
    h.update(np.ascontiguousarray(rgb))  # the buffer itself: no bytes copy
    return h.hexdigest()


def fingerprint(item_id: str, document_id: str, rgb: np.ndarray, *, figure_id: str = "",
                min_std: float = 4.0) -> Fingerprint:
    """Fingerprint of one RGB image (H, W, 3) uint8."""
    # one grey conversion serves both hashes (each converts its input to "L" first) and the
    # structure test
    rgb = np.ascontiguousarray(rgb)  # one copy of a crop serves the image and the pixel hash
    luma = Image.fromarray(rgb).convert("L")
    grey = np.asarray(luma.resize((64, 64), Image.Resampling.BILINEAR), dtype=np.float32)
    h, w = rgb.shape[:2]
    return Fingerprint(id=item_id, document_id=document_id, pixel_sha256=pixel_sha256(rgb),
                       phash=phash_int(luma), dhash=dhash_int(luma), aspect=w / max(h, 1),
                       informative=bool(grey.std() >= min_std and min(h, w) >= 16), figure_id=figure_id)


# pHash and dHash exactly as imagehash 4.3 computes them (``imagehash.phash(img)``: an "L" image
# resized to 32 x 32 with Lanczos, the unnormalised DCT-II along rows then columns, the 8 x 8
# lowest frequencies compared with their median; ``imagehash.dhash``: 9 x 8 Lanczos, each pixel
# against its left neighbour), bits row-major, most significant first. Only the 8 x 8 corner of
# the DCT is used, so two small matrix products give it without scipy (whose import alone cost
# more CPU than a quality worker's first few figures).
_N = 32
_DCT_LOW = 2.0 * np.cos(np.pi * np.outer(np.arange(8), 2 * np.arange(_N) + 1) / (2 * _N))  # (8, 32)
# A coefficient this close to the median could compare the other way under scipy's FFT rounding
# (both computations are within ~1e-9 of the exact values, which reach ~1e6): then the reference
# implementation decides. Blank and mirror-symmetric images have exactly tied coefficients.
_TIE = 1e-6


def phash_int(luma: Image.Image) -> int:
    """64-bit pHash of a grey ("L") image, equal to ``int(str(imagehash.phash(luma)), 16)``."""
    pixels = np.asarray(luma.resize((_N, _N), Image.Resampling.LANCZOS), dtype=np.float64)
    low = _DCT_LOW @ pixels @ _DCT_LOW.T
    med = np.median(low)
    if np.abs(low - med).min() <= _TIE:
        import imagehash  # imports scipy: only for images whose bits hang on rounding

        return int(str(imagehash.phash(luma)), 16)
    return _bits_int(low > med)


def dhash_int(luma: Image.Image) -> int:
    """64-bit dHash of a grey ("L") image, equal to ``int(str(imagehash.dhash(luma)), 16)``."""
    pixels = np.asarray(luma.resize((9, 8), Image.Resampling.LANCZOS))
    return _bits_int(pixels[:, 1:] > pixels[:, :-1])


def _bits_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _neighbours(value: int, radius: int) -> list[int]:
    out = [value]
    if radius >= 1:
        out += [value ^ (1 << i) for i in range(BAND_BITS)]
    if radius >= 2:
        out += [value ^ (1 << i) ^ (1 << j) for i in range(BAND_BITS) for j in range(i + 1, BAND_BITS)]
    return out


def near_pairs(hashes: list[int], max_distance: int, max_radius: int = 2,
               pairs_per_chunk: int = 1 << 22) -> list[tuple[int, int, int]]:
    """Index pairs ``(i, j, d)``, i < j, whose 64-bit hashes differ in ``d <= max_distance`` bits,
    by multi-index hashing (see module docstring). Complete when ``4 * max_radius + 3 >=
    max_distance``; with a smaller ``max_radius`` (faster: 17 probes per band instead of 137)
    pairs beyond ``4 * max_radius + 3`` bits are found only when one band differs in at most
    ``max_radius`` bits.

    Vectorised: per band, items are sorted by band value with a start offset per value
    (a 65,536-entry table), so each probe is two table lookups per item, and the candidate
    pairs of a chunk of items are expanded and XOR-popcounted as arrays; ``pairs_per_chunk``
    bounds the memory of one expansion (~40 bytes a candidate)."""
    if max_distance > 4 * 2 + 3:
        raise ValueError("multi-index probing is complete up to 11 bits; use a longer hash for more")
    radius = min(max_radius, max(0, math.ceil((max_distance - 3) / 4)))
    arr = np.array(hashes, dtype=np.uint64).reshape(-1)
    n = len(arr)
    flips = np.array(_neighbours(0, radius), dtype=np.int64)
    found: list[np.ndarray] = []
    for band in range(BANDS):
        keys = ((arr >> np.uint64(band * BAND_BITS)) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        starts = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=1 << BAND_BITS))])
        for flip in flips:
            probe = keys ^ flip
            lo, counts = starts[probe], starts[probe + 1] - starts[probe]
            found += _probe_hits(arr, order, lo, counts, max_distance, pairs_per_chunk)
    if not found:
        return []
    hits = np.unique(np.concatenate(found))  # one row per pair, whichever band/probe found it
    i, j = hits // n, hits % n
    d = np.bitwise_count(arr[i] ^ arr[j])
    return list(zip(i.tolist(), j.tolist(), d.tolist(), strict=True))


def _probe_hits(arr: np.ndarray, order: np.ndarray, lo: np.ndarray, counts: np.ndarray,
                max_distance: int, pairs_per_chunk: int) -> list[np.ndarray]:
    """Pairs ``i * n + j`` (i < j, within ``max_distance``) between each item ``i`` and the
    ``counts[i]`` items at ``order[lo[i]:lo[i] + counts[i]]``, expanded a chunk of items at a time."""
    n = len(arr)
    ends = np.cumsum(counts)
    out = []
    first = 0
    while first < n:
        base = ends[first - 1] if first else 0
        last = max(first + 1, int(np.searchsorted(ends, base + pairs_per_chunk, side="right")))
        c = counts[first:last]
        total = int(c.sum())
        if total:
            item = np.repeat(np.arange(first, last), c)
            offset = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
            other = order[np.repeat(lo[first:last], c) + offset]
            keep = other > item
            item, other = item[keep], other[keep]
            close = np.bitwise_count(arr[item] ^ arr[other]) <= max_distance
            out.append(item[close] * n + other[close])
        first = last
    return out


class UnionFind:
    """Disjoint sets over any hashable keys; the smaller key is the root, so the groups and
    their representatives do not depend on the order of the unions."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, key):
        parent = self.parent
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _near_edges(prints: list[Fingerprint], reps: list[int], max_phash: int, max_dhash: int,
                max_log_aspect: float, probe_radius: int) -> list[tuple[int, int]]:
    """Near pairs that pass both hashes and the aspect test, kept only when each side is the
    other's closest match within that other's figure: a copy of panel A that also resembles
    A's sibling B links to A alone, so look-alike siblings are not chained into one group."""
    fig = [p.figure_id or p.id for p in prints]
    scored = []
    for a, b, dp in near_pairs([prints[r].phash for r in reps], max_phash, probe_radius):
        pa, pb = prints[reps[a]], prints[reps[b]]
        if fig[reps[a]] == fig[reps[b]]:
            continue  # sibling panels of one figure: a series of look-alike plots, not copies
        dd = hamming(pa.dhash, pb.dhash)
        if dd <= max_dhash and abs(math.log(pa.aspect / pb.aspect)) <= max_log_aspect:
            scored.append((reps[a], reps[b], dp + dd))
    best: dict[tuple[int, str], int] = {}
    for a, b, score in scored:
        for x, y in ((a, b), (b, a)):
            best[(x, fig[y])] = min(score, best.get((x, fig[y]), 129))
    return [(a, b) for a, b, score in scored if best[(a, fig[b])] == score == best[(b, fig[a])]]


def resolve(prints: list[Fingerprint], *, max_phash: int = 10, max_dhash: int = 12,
            max_log_aspect: float = 0.12, probe_radius: int = 1) -> list[DuplicateLink]:
    """Duplicate links (one per non-canonical member of each group) for fingerprints of one level."""
    prints = sorted(prints, key=lambda p: p.id)
    by_pixels: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(prints):
        by_pixels[p.pixel_sha256].append(i)
    uf = UnionFind()
    exact_of: dict[int, int] = {}
    for members in by_pixels.values():
        for m in members[1:]:
            uf.union(members[0], m)
            exact_of[m] = members[0]
    reps = [members[0] for members in by_pixels.values() if prints[members[0]].informative]
    for a, b in _near_edges(prints, reps, max_phash, max_dhash, max_log_aspect, probe_radius):
        uf.union(a, b)
    links = []
    for i, p in enumerate(prints):
        root = uf.find(i)
        if root == i:
            continue
        canon = prints[root]
        exact = p.pixel_sha256 == canon.pixel_sha256
        links.append(DuplicateLink(id=p.id, document_id=p.document_id, canonical_id=canon.id,
                                   canonical_document_id=canon.document_id, kind="exact" if exact else "near",
                                   distance=0 if exact else hamming(p.phash, canon.phash)))
    return links
