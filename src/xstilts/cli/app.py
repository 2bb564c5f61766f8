"""The ``xstilts`` command. Heavy imports (torch, transformers) happen inside the commands that train or
evaluate, so ``--help``, ``ls``, ``validate``, ``plan`` and ``results`` answer at once."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from xstilts import __version__
from xstilts.errors import Interrupted, XstiltsError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="English intermediate-task training and zero-shot cross-lingual transfer (X-STILTs).",
    pretty_exceptions_enable=False,
)


def _err(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    # Escaped: messages hold brackets that are not markup (sources[0], squad[fraction=0.5], 'xstilts[mlflow]').
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}", markup=True)


def _say(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    # Soft wrap: the terminal folds long lines itself, and a command in a message stays whole in a log file.
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[dim]xstilts:[/] {escape(message)}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xstilts {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """xstilts: one study config in, zero-shot results per language out."""


MODEL_HELP = "pretrained encoder (folder or hub name) replacing the study's model.name_or_path"


@app.command()
def run(
    study: Annotated[str, typer.Argument(help="study YAML file or preset name (see `xstilts ls presets`)")] = "micro",
    out: Annotated[Optional[Path], typer.Option("--out", help="output folder (default: xstilts-out/<study>)")] = None,
    size: Annotated[Optional[str], typer.Option("--size", help="a variant of the study, e.g. tiny")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help=MODEL_HELP)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="nothing on stderr but errors (the results table still "
                                                     "goes to stdout)")] = False,
    show_config: Annotated[bool, typer.Option("--show-config", help="print the resolved config (YAML) first; the "
                                               "run folder keeps it as study.yaml either way")] = False,
    executor: Annotated[Optional[str], typer.Option(
        "--executor", help="local (default; runtime.workers processes), ray (Ray tasks) or slurm (SLURM jobs "
        "through submitit); default: the study's runtime.executor")] = None,
    wait: Annotated[bool, typer.Option(
        "--wait/--no-wait", help="slurm: wait for the jobs and write the results (default), or return once they "
        "are submitted; the same command later follows them and gathers the results")] = True,
) -> None:
    """Validate a study (default: the micro-benchmark study), run every stage not yet done (resuming
    interrupted ones), evaluate, write results.csv and a Markdown summary."""
    from xstilts.cli.run_checks import check_model_paths, check_writable, interrupted_message, run_header
    from xstilts.config.load import load_study, resolve_study_path
    from xstilts.studies.executors import check_executor

    if executor is not None:
        check_executor(executor)
    config = load_study(study, size=size, model=model)
    say = (lambda message: None) if quiet else _say
    if quiet:
        config.runtime.progress = False
    out_dir = out or Path("xstilts-out") / (config.name + (f"-{config.variant}" if config.variant else ""))
    check_writable(out_dir)
    check_model_paths(config)
    if show_config:
        import yaml

        typer.echo(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True), err=True)
    for line in run_header(config, out_dir):
        say(line)
    from xstilts.studies.runner import run_study

    try:
        rows = run_study(config, out_dir, log=say, executor=executor, wait=wait,
                         base=resolve_study_path(study).resolve().parent)
    except KeyboardInterrupt:
        raise Interrupted(interrupted_message(config, sys.argv)) from None
    if rows is None:
        say(f"results not gathered yet: run the same command again to follow the jobs and write {out_dir}")
        return
    if os.environ.get("RANK", "0") != "0":  # other processes of a torchrun/accelerate group stay quiet
        return
    _print_summary(rows)
    say(f"{len(rows)} result rows -> {out_dir / 'results.csv'}; summary -> {out_dir / 'summary.md'}; recipe card "
        f"-> {out_dir / 'recipe.md'}")
    # Plain echo, never wrapped: a command to paste.
    if not quiet:
        typer.echo(f"xstilts: next: {report_command(study, size, out, config.name + (f'-{config.variant}' if config.variant else ''))}",
                   err=True)


def report_command(study: str, size: str | None, results: Path | None, name: str) -> str:
    """The ``xstilts report`` command line for what ``xstilts run STUDY [--size S] [--out DIR]`` wrote."""
    import shlex

    return (f"xstilts report {shlex.quote(study)}" + (f" --size {shlex.quote(size)}" if size else "")
            + (f" --results {shlex.quote(str(results))}" if results is not None else "")
            + f" --out {shlex.quote(f'report-{name}')}")


def _print_summary(rows: list[dict]) -> None:
    """The paper's table (targets x intermediate tasks, deltas vs the baseline) on the terminal, one per model,
    then the published numbers beside ours: the same tables as summary.md and `xstilts report` (one report
    model), without the bootstrap over test examples."""
    from rich.console import Console
    from rich.table import Table as RichTable

    from xstilts.reports.document import Table, paper_blocks
    from xstilts.reports.model import build_report
    from xstilts.reports.results import normalise_row

    if not rows:
        return
    report = build_report([normalise_row(row) for row in rows], n_resamples=0, per_language=False)
    console = Console()  # results on stdout (`xstilts run ... > results.txt`), what the run says on stderr
    title = ""
    for block in paper_blocks(report):
        if not isinstance(block, Table):
            title = block.text
            continue
        shown = RichTable(title=title or block.caption)
        for i, name in enumerate(block.header):
            shown.add_column(name, justify="left" if i == 0 else "right")
        for i, cells in enumerate(block.rows):
            shown.add_row(*cells, style="bold" if block.bold_last and i == len(block.rows) - 1 else None)
        console.print(shown, markup=False)
        for note in block.notes:
            console.print(note, markup=False, soft_wrap=True)


@app.command()
def validate(files: Annotated[list[str], typer.Argument(help="study YAML files or preset names")]) -> None:
    """Check study configs without running anything; report every problem with its key path and line."""
    from xstilts.config.load import load_study
    from xstilts.errors import XstiltsError

    failed = False
    for name in files:
        try:
            config = load_study(name)
        except XstiltsError as error:  # every problem of this file; then the next file
            failed = True
            _err(str(error))
            continue
        for warning in config._warnings:
            typer.echo(f"warning: {name}: {warning}", err=True)
        typer.echo(f"{name}: ok (study {config.name!r}: {len(config.stages)} stages, "
                   f"{len(config.pipelines)} pipelines, {len(config.seeds)} seeds)")
    if failed:
        raise typer.Exit(2)


class Listable(str, Enum):
    tasks = "tasks"
    families = "families"
    presets = "presets"
    metrics = "metrics"


@app.command("ls")
def list_entries(what: Annotated[Listable, typer.Argument(help="what to list")]) -> None:
    """List registered tasks, families, presets or metrics."""
    if what is Listable.tasks:
        from xstilts.tasks import get_task, task_names

        for name in task_names():
            task = get_task(name)
            languages = sorted({lang for langs in task.splits.values() for lang in langs})
            typer.echo(f"{name:24} {task.family:16} {task.benchmark:8} {','.join(languages):20} {task.description}")
    elif what is Listable.families:
        from xstilts.families import FAMILY_MODULES, family_spec

        for name in FAMILY_MODULES:  # each family's own description (its spec module: no torch)
            typer.echo(f"{name:16} {family_spec(name).description}")
    elif what is Listable.presets:
        from xstilts.config.load import preset_names, presets_dir

        for name in preset_names():
            first = (presets_dir() / f"{name}.yaml").read_text().splitlines()[0].lstrip("# ")
            typer.echo(f"{name:24} {first}")
    else:
        from xstilts.scoring.registry import METRICS

        for name in METRICS.names():
            typer.echo(f"{name:16} {METRICS.get(name).description}")


from xstilts.cli import init_preset  # noqa: E402  (typer only; the work is imported lazily)

app.command("init")(init_preset.init)

from xstilts.cli.micro import micro_app  # noqa: E402  (typer only; the work is imported lazily)

app.add_typer(micro_app, name="micro")

from xstilts.cli.data import data_app  # noqa: E402  (typer only; the work is imported lazily)

app.add_typer(data_app, name="data")

from xstilts.cli import score as score_commands  # noqa: E402  (typer only)

app.command()(score_commands.score)
app.command()(score_commands.export)

from xstilts.cli import study as study_commands  # noqa: E402  (typer only)

app.command("results")(study_commands.results)
app.command()(study_commands.plan)

from xstilts.cli.models import models_app  # noqa: E402  (typer only; the work is imported lazily)

app.add_typer(models_app, name="models")

from xstilts.cli import report as report_commands  # noqa: E402  (typer only; the work is imported lazily)

app.command()(report_commands.report)

from xstilts.cli import select as select_commands  # noqa: E402  (typer only; the work is imported lazily)

app.command("select")(select_commands.select)


def main() -> None:
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except Interrupted as stopped:  # not an error: the user stopped the run
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold]{escape(str(stopped))}[/]")
        sys.exit(stopped.exit_code)
    except XstiltsError as error:
        _err(str(error))
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        _err("interrupted; run the same command again to resume")
        sys.exit(130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:  # usage errors arrive here in non-standalone mode
        if _is_usage_error(error):
            error.show()
            sys.exit(2)
        if type(error).__name__ == "Abort":  # click turns Ctrl-C outside a run into Abort
            _err("interrupted; run the same command again to resume")
            sys.exit(130)
        raise


def _is_usage_error(error: Exception) -> bool:
    """Click's ClickException, wherever it comes from (typer >= 0.20 ships its own copy of click)."""
    return any(cls.__name__ == "ClickException" for cls in type(error).__mro__) and hasattr(error, "show")
