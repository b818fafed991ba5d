"""Join the quality stage's tags to built samples, and keep what the config asks for.

Every sample gets image type, modality and body region with confidences (a patch takes its
panel's; a panel without its own tag, such as a whole-figure panel, its figure's), the licence
family, and ``dup_group``. Then:

- duplicates: a figure that copies another drops with every panel and patch under it (their
  pixels are copies too); a copied panel drops with its patches. With ``drop_duplicates: false``
  they stay, marked ``is_duplicate``;
- patches of panels whose type is not in ``patch_image_types`` are left out (a marker on a bar
  chart does not mark anatomy);
- ``licence_filter: commercial`` keeps only licences that allow commercial use.

``split_documents`` makes duplicates force one split: documents linked by any duplicate pair
form one group, and the group's smallest document id picks the split for all of them, so no
image (or a crop of it) is in two splits while papers still never span two.
"""

from __future__ import annotations

from curate.quality.dedup import UnionFind
from curate.quality.licence import commercial_use
from curate.records import Duplicate, QualityTag
from curate.runtime.config import ShardsConfig
from curate.shards.samples import Sample

TAG_FIELDS = ("image_type", "image_type_conf", "modality", "modality_conf", "body_region", "body_region_conf")


def split_documents(duplicates: list[Duplicate]) -> dict[str, str]:
    """document id -> the document id whose split it takes (only documents with duplicates)."""
    groups = UnionFind()
    for dup in duplicates:
        groups.union(dup.document_id, dup.canonical_document_id)
    return {d: groups.find(d) for d in list(groups.parent)}


def _tag_values(tag: QualityTag | None) -> dict:
    if tag is None:
        return {"image_type": "unknown", "image_type_conf": 0.0, "modality": "unknown", "modality_conf": 0.0,
                "body_region": "unknown", "body_region_conf": 0.0}
    return {f: getattr(tag, f) for f in TAG_FIELDS}


def _owner(sample: Sample) -> str:
    """Id whose tag describes the sample: itself, or for a patch its panel."""
    return sample.meta["parent_id"] if sample.level == "patch" else sample.key


def tag_samples(samples: list[Sample], tags: dict[str, QualityTag], duplicates: dict[str, Duplicate],
                licence: str, licence_spdx: str, cfg: ShardsConfig) -> tuple[list[Sample], dict[str, int]]:
    """Samples of one figure with tags in their meta, filtered; plus counts of what was left out."""
    dropped = {"duplicate": 0, "patch_image_type": 0, "licence": 0}
    if cfg.licence_filter == "commercial" and not commercial_use(licence):
        dropped["licence"] = len(samples)
        return [], dropped
    figure_id = samples[0].figure_id if samples else ""
    out = []
    for sample in samples:
        owner = _owner(sample)
        tag = tags.get(owner) or tags.get(figure_id)
        chain = [figure_id, owner] if sample.level != "figure" else [figure_id]
        copy_of = next((duplicates[i] for i in chain if i in duplicates), None)
        if sample.level == "patch" and (tag.image_type if tag else "unknown") not in cfg.patch_image_types:
            dropped["patch_image_type"] += 1
            continue
        if copy_of is not None and cfg.drop_duplicates:
            dropped["duplicate"] += 1
            continue
        own_dup = duplicates.get(sample.key)
        sample.meta.update(_tag_values(tag), licence=licence, licence_spdx=licence_spdx,
                           dup_group=own_dup.canonical_id if own_dup else sample.key,
                           is_duplicate=copy_of is not None)
        out.append(sample)
    return out, dropped
