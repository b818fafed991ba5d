from __future__ import annotations

from pathlib import Path

from curate.runtime.schema_doc import schema_markdown


def test_committed_schema_matches_the_records():
    committed = (Path(__file__).resolve().parents[1] / "manifests" / "SCHEMA.md").read_text()
    assert committed == schema_markdown(), "run `python -m curate.runtime.schema_doc` after changing records"
