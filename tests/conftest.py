"""Shared fixtures: paths to the shared sample data, and one Ray session for the suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ray_session():
    ray = pytest.importorskip("ray")
    started = False
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
        started = True
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def torch_one_thread():
    """Tiny models on 2 shared cores: torch's default intra-op threads oversubscribe them and a
    forward pass that takes 0.1 s on one thread takes seconds."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def sample_corpus_dir(tmp_path_factory) -> Path:
    """The generated sample corpus (seed 0), made once per session."""
    from curate.sample.generate import generate_sample

    out = tmp_path_factory.mktemp("sample") / "corpus"
    generate_sample(out, seed=0)
    return out


@pytest.fixture(scope="session")
def sample_run(sample_corpus_dir, tmp_path_factory):
    """(config, stage reports) of the whole pipeline run in process on the sample corpus.

    Shared by several modules: treat the run directory as read-only (copy it to change it)."""
    from curate.ingest.discover import discover_sources
    from curate.runtime.config import load_config
    from curate.runtime.runner import LocalRunner
    from stages import PIPELINE

    runs = tmp_path_factory.mktemp("ref")
    cfg = load_config(REPO / "manifests" / "sample.yaml", [f"input_dir={sample_corpus_dir}", f"runs_dir={runs}",
                                                           "runner=local", "part_size=3"])
    reports = LocalRunner(cfg, PIPELINE, lambda c: discover_sources(Path(c.input_dir))).run()
    return cfg, reports
