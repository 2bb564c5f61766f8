"""``xstilts report``: tables, statistics and plots from a run's result files. Light: no torch import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xstilts.reports import DEFAULT_RESAMPLES
from xstilts.reports.write import write_report


def default_results_folder(study: Any) -> Path:
    """Where ``xstilts run`` writes a study's results without ``--out``: ``xstilts-out/<name>[-<variant>]``."""
    return Path("xstilts-out") / (study.name + (f"-{study.variant}" if study.variant else ""))


def report(
    study: Annotated[str, typer.Argument(help="study YAML file or preset name the results belong to")],
    out: Annotated[Path, typer.Option("--out", help="folder to write report.md, report.tex, report.html, "
                                                    "explorer.html and plots/ into")],
    results: Annotated[Optional[Path], typer.Option(
        "--results", help="folder holding results.csv (default: where `xstilts run STUDY` writes it, "
                          "xstilts-out/<study>[-<size>])")] = None,
    size: Annotated[Optional[str], typer.Option("--size", help="the variant the study ran with, e.g. tiny")] = None,
    resamples: Annotated[int, typer.Option("--resamples", min=0,
                                           help="bootstrap resamples (0: no bootstrap over test examples)")]
    = DEFAULT_RESAMPLES,
    seed: Annotated[int, typer.Option("--seed", help="seed of the bootstrap")] = 0,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="draw the plots (matplotlib)")] = True,
) -> None:
    """Paper-style report of a finished (or partly finished) study: the table of target x intermediate tasks
    with deltas, official benchmark average, per-language tables and gains, seed intervals, paired significance
    (against the baseline, and between paired conditions), plots and provenance, as Markdown, LaTeX and one
    self-contained HTML page, with an interactive explorer page beside it."""
    from xstilts.config.load import load_study
    from xstilts.reports.results import load_results

    config = load_study(study, size=size)
    folder = results or default_results_folder(config)
    loaded = load_results(folder)
    title = config.name + (f" ({config.variant})" if config.variant else "")
    paths = write_report(loaded, out, title=title, description=config.description or "",
                         n_resamples=resamples, seed=seed, plots=plots)
    typer.echo(f"{len(loaded.rows)} result rows from {folder / 'results.csv'}"
               + (" (+ example scores)" if loaded.examples else ""), err=True)
    for kind, path in paths.items():
        typer.echo(f"{kind:9} {path}")
