"""The ``curate`` command as a scheduler sees it: exit codes, quiet mode, what status and
inspect print. Each case runs the real command in a subprocess on (part of) the sample corpus."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "manifests" / "sample.yaml"


def curate(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**__import__("os").environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def corpus_with_a_broken_pdf(sample_corpus_dir, tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("broken") / "corpus"
    shutil.copytree(sample_corpus_dir, corpus)
    (corpus / "pdf" / "truncated.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    return corpus


def _run_args(corpus: Path, runs: Path, *extra: str) -> list[str]:
    return ["run", CONFIG, f"input_dir={corpus}", f"runs_dir={runs}", "runner=local", *extra]


def test_help_documents_the_exit_codes():
    out = curate("--help").stdout + curate("run", "--help").stdout
    for fragment in ("0 done", "1 a stage failed", "2 bad configuration", "3 a stage quarantined", "130"):
        assert fragment in " ".join(out.split()), fragment


def test_bad_configuration_and_usage_exit_2_before_anything_runs(sample_corpus_dir, tmp_path):
    bad_value = curate(*_run_args(sample_corpus_dir, tmp_path, "part_size=0"))
    assert bad_value.returncode == 2 and "part_size" in bad_value.stderr
    bad_stage = curate(*_run_args(sample_corpus_dir, tmp_path, "--until", "nope"))
    assert bad_stage.returncode == 2 and "ingest" in bad_stage.stderr
    no_input = curate(*_run_args(tmp_path / "missing", tmp_path))
    assert no_input.returncode == 2 and "input_dir" in no_input.stderr
    assert not (tmp_path / "sample").exists()
    assert curate("status", tmp_path).returncode == 2


def test_quarantine_budget_exits_3_and_status_lists_the_items_with_reasons(corpus_with_a_broken_pdf, tmp_path):
    done = curate(*_run_args(corpus_with_a_broken_pdf, tmp_path, "max_quarantine_frac=0.0", "--quiet"))
    assert done.returncode == 3, done.stderr
    assert "quarantine budget exceeded" in done.stderr and "1 of 13" in done.stderr
    run_dir = tmp_path / "sample"
    assert not (run_dir / "panels").exists(), "the run must stop after the stage over budget"

    status = curate("status", run_dir)
    assert status.returncode == 0
    text = " ".join(status.stdout.split())
    assert "quarantined in ingest: 1" in text and "truncated" in text
    assert json.loads((run_dir / "last_run.json").read_text())["outcome"] == "quarantine_budget_exceeded"
    as_json = json.loads(curate("status", run_dir, "--json").stdout)
    (q,) = as_json["quarantine"]
    assert q["stage"] == "ingest" and q["total"] == 1 and "truncated" in q["items"][0]["item_id"]
    assert q["items"][0]["message"] and q["items"][0]["error_class"]
    assert as_json["stages"][0] == {**as_json["stages"][0], "in": 13, "out": 12, "quarantined": 1}
    assert len(curate("status", run_dir, "--json", "--limit", "0").stdout) < len(json.dumps(as_json, indent=1))


def test_quiet_run_prints_nothing_and_a_broken_manifest_exits_1(sample_corpus_dir, tmp_path):
    quiet = curate(*_run_args(sample_corpus_dir, tmp_path, "--until", "ingest", "--quiet"))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    loud = curate(*_run_args(sample_corpus_dir, tmp_path, "--until", "ingest"))
    assert loud.returncode == 0 and "ingest" in loud.stderr and "12 items" in loud.stderr
    cached = json.loads((tmp_path / "sample" / "last_run.json").read_text())["stages"][0]
    assert cached["cached_parts"] == cached["parts"] > 0  # the second run reused every part

    (tmp_path / "sample" / "ingest" / "figures" / "part-00000.parquet").write_bytes(b"not parquet")
    broken = curate(*_run_args(sample_corpus_dir, tmp_path, "--only", "panels"))
    assert broken.returncode == 1 and "run failed" in broken.stderr


def test_inspect_prints_the_report_path_on_stdout(sample_run, tmp_path):
    cfg, _ = sample_run
    run_dir = shutil.copytree(cfg.run_dir, tmp_path / "run", ignore=shutil.ignore_patterns("report"))
    done = curate("inspect", run_dir, "--max-figures", "3")
    assert done.returncode == 0, done.stderr
    page = Path(done.stdout.strip().splitlines()[-1])
    assert page == run_dir / "report" / "index.html" and page.is_file()
    assert len(list((page.parent / "img").glob("*.jpg"))) == 3
