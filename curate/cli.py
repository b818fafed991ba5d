"""The ``curate`` command: run a pipeline, show a run's funnel and report, train, evaluate.

Exit codes (a scheduler can act on them; also in ``curate --help`` and the README):

- 0: done.
- 1: a stage failed (an exception outside the per-item quarantine: a corrupt manifest, a lost
  worker, a bug). Finished parts are kept; rerunning resumes after the cause is fixed.
- 2: bad configuration or usage; nothing ran.
- 3: a stage finished but quarantined more than ``max_quarantine_frac`` of its items; the run
  stopped after it. Its output is written; ``curate status RUN`` lists the items and reasons.
- 130: interrupted (Ctrl-C); rerunning resumes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

EXIT_OK, EXIT_STAGE_FAILED, EXIT_USAGE, EXIT_QUARANTINE_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES_HELP = ("Exit codes: 0 done; 1 a stage failed (rerun resumes); 2 bad configuration or usage; "
                   "3 a stage quarantined more than max_quarantine_frac of its items (run stopped after it); "
                   "130 interrupted.")

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="panel2patch curation pipeline.", epilog=EXIT_CODES_HELP)


def _console(stderr: bool = False, quiet: bool = False) -> Console:
    """Rich's 80-column default wraps tables in log files; logs get room instead."""
    probe = Console(stderr=stderr)
    return Console(stderr=stderr, quiet=quiet, width=None if probe.is_terminal else 160)


console = _console(stderr=True)


def _pipeline():
    from stages import PIPELINE

    return PIPELINE


def _stage_names() -> list[str]:
    return [s.name for s in _pipeline()]


def _fail(code: int, what: str, exc: BaseException | str) -> typer.Exit:
    console.print(f"[red]{what}[/red]: {escape(str(exc))}", highlight=False)
    return typer.Exit(code)


@app.command(epilog=EXIT_CODES_HELP)
def run(config: Path = typer.Argument(..., exists=True, dir_okay=False, help="run config YAML"),
        overrides: list[str] = typer.Argument(None, help="key=value overrides, e.g. part_size=8"),
        until: str = typer.Option(None, help="stop after this stage"),
        only: str = typer.Option(None, help="run only this stage"),
        runner: str = typer.Option(None, help="local or ray (default from config)"),
        ray_address: str = typer.Option(None, help="join this Ray cluster instead of a local one"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors (batch jobs)")) -> None:
    """Run the pipeline (resumes: finished parts with the same config are skipped).

    On a terminal each stage shows a progress bar (items, items/s, ETA); in a log, one line
    per stage. Bars advance when a part finishes (part_size items)."""
    from curate.ingest.discover import discover_sources
    from curate.report.terminal import ProgressView, funnel_table, report_funnels
    from curate.runtime.config import load_config
    from curate.runtime.runner import LocalRunner, PipelineError, QuarantineBudgetExceeded

    names = _stage_names()
    for flag, wanted in (("--until", until), ("--only", only)):
        if wanted is not None and wanted not in names:
            raise _fail(EXIT_USAGE, "bad usage", f"{flag} {wanted!r}: stages are {', '.join(names)}")
    extra = list(overrides or [])
    if runner:
        extra.append(f"runner={runner}")
    if ray_address:
        extra.append(f"ray_address={ray_address}")
    try:
        cfg = load_config(config, extra)
    except (ValidationError, ValueError) as exc:
        raise _fail(EXIT_USAGE, "bad configuration", exc) from exc
    if not Path(cfg.input_dir).is_dir():
        raise _fail(EXIT_USAGE, "bad configuration", f"input_dir {cfg.input_dir} is not a directory")

    def discover(c):
        return discover_sources(Path(c.input_dir))

    view = ProgressView(_console(stderr=True, quiet=quiet))
    try:
        if cfg.runner == "ray":
            from curate.runtime.ray_runner import RayRunner

            runner_obj = RayRunner(cfg, _pipeline(), discover, view)
        else:
            runner_obj = LocalRunner(cfg, _pipeline(), discover, view)
    except (PipelineError, FileNotFoundError, ValueError) as exc:
        raise _fail(EXIT_USAGE, "bad configuration", exc) from exc
    try:
        with view:
            reports = runner_obj.run(until=until, only=only)
    except QuarantineBudgetExceeded as exc:
        raise _fail(EXIT_QUARANTINE_BUDGET, "quarantine budget exceeded", exc) from exc
    except KeyboardInterrupt as exc:
        raise _fail(EXIT_INTERRUPTED, "interrupted", "rerun the same command to resume") from exc
    except Exception as exc:  # noqa: BLE001 - any crash of a stage is exit 1, with its cause printed
        raise _fail(EXIT_STAGE_FAILED, "run failed", f"{type(exc).__name__}: {exc}") from exc
    if not quiet:
        console.print(funnel_table(f"run {cfg.run_dir} (seconds: wall time of this run)", report_funnels(reports)))


@app.command(epilog=EXIT_CODES_HELP)
def status(run_dir: Path = typer.Argument(..., exists=True, file_okay=False),
           limit: int = typer.Option(10, min=0, help="quarantined/unsure items listed per stage"),
           as_json: bool = typer.Option(False, "--json", help="print the status as JSON")) -> None:
    """The funnel of a run per stage (parts, in, out, quarantined, cached, seconds, rows), then the
    quarantined items with their reasons and the panels marked unsure."""
    import json

    from curate.report.terminal import print_status, status_dict
    from curate.runtime.manifest import RunLayout

    if not RunLayout(run_dir).inputs.exists():
        raise _fail(EXIT_USAGE, "not a run directory", f"{run_dir} has no inputs.parquet")
    if as_json:
        print(json.dumps(status_dict(run_dir, _stage_names(), limit), indent=1))
    else:
        print_status(_console(), run_dir, _stage_names(), limit)


@app.command()
def train(config: Path = typer.Argument(..., exists=True, help="training config YAML"),
          overrides: list[str] = typer.Argument(None, help="dotted key=value overrides, e.g. phases.1.epochs=5"),
          shards: Path = typer.Option(..., exists=True, file_okay=False, help="a run's shards folder"),
          out: Path = typer.Option(..., help="checkpoint and metrics folder (resumes if it holds one)")) -> None:
    """Train the region-aware contrastive model on shards (resumes from OUT); prints R@1 next to chance."""
    from curate.train.config import load_train_config
    from curate.train.loop import summary_line
    from curate.train.loop import train as run_training

    try:
        cfg = load_train_config(config, list(overrides or []))
    except (ValidationError, ValueError) as exc:
        raise _fail(EXIT_USAGE, "bad training configuration", exc) from exc
    summary = run_training(cfg, shards, out)
    console.print(f"train: {summary_line(summary)}", highlight=False)


@app.command(name="eval")
def evaluate(checkpoint: Path = typer.Argument(..., exists=True),
             shards: Path = typer.Option(..., exists=True, file_okay=False),
             split: str = typer.Option("val"),
             zeroshot: Path = typer.Option(None, exists=True, file_okay=False,
                                           help="labelled image folder: one sub-folder per class")) -> None:
    """Retrieval R@1/5/10 per level on a split, and zero-shot AUC on a labelled folder."""
    import json

    from curate.eval.retrieval import evaluate as run_eval

    print(json.dumps(run_eval(checkpoint, shards, split=split, zeroshot_dir=zeroshot), indent=1))


@app.command()
def inspect(run_dir: Path = typer.Argument(..., exists=True, file_okay=False),
            max_figures: int = typer.Option(200, min=1, help="figures shown in the gallery"),
            screenshot: bool = typer.Option(False, help="also save report/screenshot.png (needs chromium)")) -> None:
    """Write the run's HTML report (report/index.html) and print its path on stdout."""
    from curate.report.browser import find_chromium, screenshot_page
    from curate.report.html import write_report
    from curate.runtime.manifest import RunLayout

    if not RunLayout(run_dir).inputs.exists():
        raise _fail(EXIT_USAGE, "not a run directory", f"{run_dir} has no inputs.parquet")
    out = write_report(run_dir, _stage_names(), max_figures=max_figures)
    if screenshot:
        chromium = find_chromium()
        if chromium is None:
            console.print("no chromium on PATH: screenshot skipped")
        else:
            console.print(f"screenshot: {screenshot_page(chromium, out, out.parent / 'screenshot.png')}")
    print(out)


@app.command()
def bench(modules: list[str] = typer.Argument(None, help="bench modules, e.g. bench.panels (default: all)")) -> None:
    """Run the benchmarks (from a checkout) and update bench/results.json."""
    try:
        from bench.run import main as run_bench
    except ModuleNotFoundError as exc:
        raise _fail(EXIT_USAGE, "bench needs a source checkout", exc) from exc
    raise typer.Exit(run_bench(list(modules or [])))


@app.command()
def sample(out_dir: Path = typer.Argument(Path("sample_corpus")), seed: int = typer.Option(0)) -> None:
    """Generate the bundled sample corpus (PMC-style packages, PDFs, an image folder) with ground truth."""
    from curate.sample.generate import generate_sample

    truth = generate_sample(out_dir, seed=seed)
    console.print(f"wrote {len(truth.get('figures', []))} figures' ground truth to {out_dir}")


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
