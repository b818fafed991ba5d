from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from curate.runtime.config import load_config

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"


@pytest.mark.parametrize("name", ["sample.yaml", "cluster.yaml"])
def test_bundled_configs_validate(name):
    cfg = load_config(MANIFESTS / name)
    assert cfg.run_dir.name == cfg.name


def test_overrides_are_typed_and_nested():
    cfg = load_config(MANIFESTS / "sample.yaml", ["part_size=9", "shards.jpeg_quality=80", "panels.ocr=false"])
    assert (cfg.part_size, cfg.shards.jpeg_quality, cfg.panels.ocr) == (9, 80, False)


@pytest.mark.parametrize("override", ["part_size=0", "shards.splits={train: 0.5}", "nonsense=1",
                                      "captions.backend=vllm", "runner=slurm"])
def test_bad_config_is_refused_at_the_edge(override):
    with pytest.raises((ValidationError, ValueError)):
        load_config(MANIFESTS / "sample.yaml", [override])


def test_a_changed_section_changes_only_its_digest():
    a = load_config(MANIFESTS / "sample.yaml")
    b = load_config(MANIFESTS / "sample.yaml", ["panels.ocr=false"])
    assert a.panels.digest() != b.panels.digest() and a.shards.digest() == b.shards.digest()
