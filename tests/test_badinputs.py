"""The bad-input corpus through the whole pipeline in one run: every case ends as its own
quarantine row or as valid output, the funnel adds up, nothing escapes the run directory,
and RELIABILITY.md is the table this run produces."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from curate.runtime.blobs import BlobStore
from curate.runtime.status import run_funnel
from stages import STAGE_NAMES
from tests.badinputs import REPO, build_corpus, cases, observe, problems, render_table, run_corpus
from tests.badinputs_make import SECRET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    inputs, outside = build_corpus(root)
    before = {p for p in Path("/tmp").glob("panel2patch-*")}
    cfg, reports = run_corpus(inputs, root / "runs")
    return root, inputs, cfg, reports, observe(cfg.run_dir), before


def test_corpus_is_large_and_names_are_prefix_free():
    names = [c.name for c in cases()]
    assert len(names) >= 60 and len(set(names)) == len(names)
    clashes = [(a, b) for a, b in itertools.permutations(names, 2) if a.startswith(b + "_")]
    assert clashes == []  # a case's ids must not be mistaken for another's


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_case_outcome(corpus_run, case):
    _, _, cfg, _, observed, _ = corpus_run
    assert problems(case, observed[case.name], BlobStore(cfg.run_dir / "blobs")) == []


def test_no_crash_class_in_quarantine(corpus_run):
    """Every quarantine row carries a named reason, not an unexpected Python error."""
    from curate.records import Quarantine
    from curate.runtime.manifest import read_records

    _, _, cfg, _, _, _ = corpus_run
    rows = [q for p in cfg.run_dir.glob("quarantine/*/*.parquet") for q in read_records(p, Quarantine)]
    generic = {"TypeError", "ValueError", "KeyError", "IndexError", "AttributeError", "ZeroDivisionError",
               "RuntimeError", "RecursionError", "AssertionError", "OSError", "Exception", "MemoryError"}
    assert [(q.item_id, q.error_class, q.message) for q in rows if q.error_class in generic] == []
    assert all(q.message.strip() for q in rows)


def test_funnel_adds_up_and_every_item_is_accounted_for(corpus_run):
    _, _, cfg, reports, observed, _ = corpus_run
    assert [r.stage for r in reports] == STAGE_NAMES
    for report in reports:
        c = report.counts
        assert c["in"] == c["out"] + c["quarantined"], report.stage
    n_items, _, funnels = run_funnel(cfg.run_dir, STAGE_NAMES)
    assert n_items == reports[0].counts["in"] == sum(len(o.items) for o in observed.values())
    for case in cases():
        seen = observed[case.name]
        ingest_q = {q.item_id for q in seen.quarantine if q.stage == "ingest"}
        for item in seen.items:  # each item became a document or an ingest quarantine row, never both
            assert (item in seen.documents) != (item in ingest_q), (case.name, item)
    figures = reports[0].counts["rows.figures"]
    dropped = 0
    for funnel in funnels[1:]:
        assert funnel.counts["in"] == figures - dropped, funnel.stage
        dropped += funnel.counts["quarantined"]


def test_nothing_escapes_and_no_secret_is_read(corpus_run):
    root, inputs, cfg, _, _, before = corpus_run
    outside_root = [p for p in root.rglob("*") if not p.is_relative_to(inputs) and not p.is_relative_to(cfg.run_dir)
                    and not p.is_relative_to(root / "outside") and p != cfg.run_dir.parent]
    assert outside_root == []
    assert {p for p in Path("/tmp").glob("panel2patch-*")} == before
    assert not (root / "evil.txt").exists() and not (inputs / "evil.txt").exists()
    for path in cfg.run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert not list(cfg.run_dir.rglob("*.tmp")) and not list((cfg.run_dir / "work").rglob("*.*"))


def test_declared_encodings_are_decoded(corpus_run):
    *_, observed, _ = corpus_run
    assert "Caf\u00e9 au lait" in observed["jats_latin1"].figures[0].caption
    assert observed["jats_utf16"].figures[0].caption.startswith("A red lesion")
    assert "&" not in observed["jats_xxe_file"].figures[0].caption


def test_reliability_table_is_up_to_date(corpus_run):
    *_, observed, _ = corpus_run
    assert (REPO / "RELIABILITY.md").read_text() == render_table(observed), \
        "regenerate with: python -m tests.badinputs --table"
