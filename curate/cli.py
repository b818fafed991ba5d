"""The ``curate`` command: run a pipeline, show a run's funnel, make the sample corpus.

Exit codes: 0 done; 1 a stage failed (its error is printed); 2 bad configuration or usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="panel2patch curation pipeline")
console = Console(stderr=True)


def _pipeline():
    from stages import PIPELINE

    return PIPELINE


@app.command()
def run(config: Path = typer.Argument(..., exists=True, help="run config YAML"),
        overrides: list[str] = typer.Argument(None, help="key=value overrides, e.g. part_size=8"),
        until: str = typer.Option(None, help="stop after this stage"),
        only: str = typer.Option(None, help="run only this stage"),
        runner: str = typer.Option(None, help="local or ray (default from config)"),
        ray_address: str = typer.Option(None, help="join this Ray cluster instead of a local one"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output")) -> None:
    """Run the pipeline (resumes: finished parts with the same config are skipped)."""
    from curate.ingest.discover import discover_sources
    from curate.runtime.config import load_config
    from curate.runtime.runner import LocalRunner, PipelineError

    extra = list(overrides or [])
    if runner:
        extra.append(f"runner={runner}")
    if ray_address:
        extra.append(f"ray_address={ray_address}")
    try:
        cfg = load_config(config, extra)
    except (ValidationError, ValueError) as exc:
        console.print(f"[red]bad configuration[/red]: {exc}")
        raise typer.Exit(2) from exc

    def progress(stage: str, done: int, total: int) -> None:
        if not quiet:
            console.print(f"  {stage:<9} {done}/{total} parts", highlight=False)

    def discover(c):
        return discover_sources(Path(c.input_dir))

    try:
        if cfg.runner == "ray":
            from curate.runtime.ray_runner import RayRunner

            runner_obj = RayRunner(cfg, _pipeline(), discover, progress)
        else:
            runner_obj = LocalRunner(cfg, _pipeline(), discover, progress)
        reports = runner_obj.run(until=until, only=only)
    except (PipelineError, FileNotFoundError) as exc:
        console.print(f"[red]run failed[/red]: {exc}")
        raise typer.Exit(1) from exc
    if not quiet:
        for rep in reports:
            c = rep.counts
            console.print(f"{rep.stage:<9} in {c.get('in', 0):>5}  out {c.get('out', 0):>5}  quarantined "
                          f"{c.get('quarantined', 0):>4}  cached parts {rep.cached_parts}/{rep.parts}  "
                          f"{rep.seconds:.1f}s", highlight=False)
        console.print(f"run directory: {cfg.run_dir}")


@app.command()
def status(run_dir: Path = typer.Argument(..., exists=True, file_okay=False)) -> None:
    """Print the funnel of a run: items in, out, quarantined, rows written, seconds, per stage."""
    from curate.runtime.status import run_funnel

    n_items, parts, funnels = run_funnel(run_dir, [s.name for s in _pipeline()])
    table = Table(title=f"{run_dir}: {n_items} input items in {parts} parts")
    for col in ("stage", "parts", "in", "out", "quarantined", "rows", "seconds"):
        table.add_column(col, justify="left" if col in ("stage", "rows") else "right")
    for f in funnels:
        rows = ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(f.counts.items()) if k.startswith("rows."))
        table.add_row(f.stage, str(f.parts_done), str(f.counts.get("in", 0)), str(f.counts.get("out", 0)),
                      str(f.counts.get("quarantined", 0)), rows, f"{f.seconds:.2f}")
    Console().print(table)


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
        console.print(f"[red]bad training configuration[/red]: {exc}")
        raise typer.Exit(2) from exc
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
            max_figures: int = typer.Option(200, help="figures shown in the gallery")) -> None:
    """Write the run's HTML report (report/index.html): funnel, quarantine, figures with overlays."""
    from curate.report.html import write_report

    out = write_report(run_dir, [s.name for s in _pipeline()], max_figures=max_figures)
    console.print(f"report: {out}")


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
