"""``xstilts report``: tables, statistics and plots from a run's result files. Light: no torch import."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xstilts.errors import XstiltsError
from xstilts.reports import DEFAULT_RESAMPLES
from xstilts.reports.write import write_report


def default_results_folder(study: Any) -> Path:
    """Where ``xstilts run`` writes a study's results without ``--out``: ``xstilts-out/<name>[-<variant>]``."""
    return Path("xstilts-out") / (study.name + (f"-{study.variant}" if study.variant else ""))


def run_command(study: str, size: str | None) -> str:
    """The ``xstilts run`` command line that writes the results of ``study`` at ``size`` where ``report`` looks."""
    return f"xstilts run {shlex.quote(study)}" + (f" --size {shlex.quote(size)}" if size else "")


def find_results(study: str, size: str | None, say: Callable[[str], None]) -> tuple[Path, Any, str | None]:
    """The folder holding the results of ``xstilts run STUDY [--size S]``, the study config they belong to,
    and the size. With ``size``: that size's folder. Without: the study's own folder or any of its sizes'
    (``variants``) that holds results.csv, the most recent when several do (``say`` tells which). When none
    does, an error that gives the exact command that writes them."""
    from xstilts.config.load import load_study, load_yaml, resolve_study_path

    if size is not None:
        config = load_study(study, size=size)
        folder = default_results_folder(config)
        if not (folder / "results.csv").is_file():
            raise XstiltsError(f"no results.csv in {folder}: run the study first (`{run_command(study, size)}`), "
                               "or point --results at the folder the run wrote (its --out)")
        return folder, config, size
    data, _ = load_yaml(resolve_study_path(study))
    variants = data.get("variants") if isinstance(data.get("variants"), dict) else {}
    candidates: list[tuple[Path, Any, str | None]] = []
    for name in [None, *variants]:
        try:
            config = load_study(study, size=name)
        except XstiltsError:
            continue  # a variant that does not load cannot have run either
        folder = default_results_folder(config)
        if all(folder != seen for seen, _, _ in candidates):
            candidates.append((folder, config, name))
    found = [c for c in candidates if (c[0] / "results.csv").is_file()]
    if not found:
        folders = ", ".join(str(folder) for folder, _, _ in candidates)
        commands = " or ".join(f"`{run_command(study, name)}`" for _, _, name in candidates)
        raise XstiltsError(f"no results.csv in {folders}: run the study first ({commands}), or point --results "
                           "at the folder the run wrote (its --out)")
    found.sort(key=lambda c: (c[0] / "results.csv").stat().st_mtime, reverse=True)
    folder, config, name = found[0]
    if len(found) > 1:
        others = ", ".join(str(other) for other, _, _ in found[1:])
        say(f"using {folder}, the most recent results of {study} (`{run_command(study, name)}`; also there: "
            f"{others}: choose with --size or --results)")
    return folder, config, name


def report(
    study: Annotated[str, typer.Argument(help="study YAML file or preset name the results belong to")],
    out: Annotated[Path, typer.Option("--out", help="folder to write report.md, report.tex, report.html, "
                                                    "explorer.html and plots/ into")],
    results: Annotated[Optional[Path], typer.Option(
        "--results", help="folder holding results.csv (default: where `xstilts run STUDY [--size S]` writes it, "
                          "xstilts-out/<study>[-<size>]; without --size, the most recent of the study's sizes)")
    ] = None,
    size: Annotated[Optional[str], typer.Option(
        "--size", help="the variant the study ran with, e.g. tiny (default: whichever size ran last)")] = None,
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

    if results is not None:
        config, folder = load_study(study, size=size), results
    else:
        folder, config, size = find_results(study, size, lambda message: typer.echo(f"xstilts: {message}", err=True))
    loaded = load_results(folder)
    title = config.name + (f" ({config.variant})" if config.variant else "")
    paths = write_report(loaded, out, title=title, description=config.description or "",
                         n_resamples=resamples, seed=seed, plots=plots)
    typer.echo(f"{len(loaded.rows)} result rows from {folder / 'results.csv'}"
               + (" (+ example scores)" if loaded.examples else ""), err=True)
    for kind, path in paths.items():
        typer.echo(f"{kind:9} {path}")
