"""`xstilts micro ...`: generate the data, pretrain the micro encoder, show the languages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

micro_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="The micro-benchmark: generated offline stand-in for XTREME.")

SizeOption = Annotated[str, typer.Option("--size", help="default or tiny")]


def _size_tasks(size: str) -> list:
    """Every micro task of ``size``, registered or not (the generation tasks wait for their family)."""
    from xstilts.micro.tasks import SIZES
    from xstilts.registry import did_you_mean
    from xstilts.tasks.micro import BENCHMARKS, MICRO_TASK_DECLARATIONS

    if size not in SIZES:
        from xstilts.errors import XstiltsError

        raise XstiltsError(f"unknown micro-benchmark size {size!r}: {did_you_mean(size, list(SIZES))}")
    return [task for task in MICRO_TASK_DECLARATIONS if task.benchmark == BENCHMARKS[size]]


@micro_app.command()
def generate(
    size: SizeOption = "default",
    data_root: Annotated[Optional[Path], typer.Option("--data-root", help="default: $XSTILTS_HOME/data")] = None,
) -> None:
    """Write every micro task's files (deterministic: the same bytes on every machine)."""
    from xstilts.studies.store import default_data_root

    root = data_root or default_data_root()
    for task in _size_tasks(size):
        task.ensure_files(root)
        counts = ", ".join(f"{split} {len(langs)} lang" for split, langs in task.splits.items())
        typer.echo(f"{task.name:24} {task.family:16} {counts}")
    typer.echo(f"-> {root / 'micro' / size}")


@micro_app.command()
def pretrain(size: SizeOption = "default",
             quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False) -> None:
    """Train the micro tokenizer and encoder with MLM (the `mlm` stage of the micro study), or find them
    already trained: it is an ordinary stage with a lineage key, shared with `xstilts run`."""
    from xstilts.config.load import load_study
    from xstilts.config.schema import PipelineConfig
    from xstilts.studies.context import make_context
    from xstilts.studies.node import plan_nodes, run_once

    study = load_study("micro", size=None if size == "default" else size)
    study.pipelines = {"pretrain": PipelineConfig(stages=["mlm"], evaluate=[])}
    study.runtime.progress = not quiet
    context = make_context(study)
    (node,) = plan_nodes(context)
    outcome = run_once(context, node, lambda message: typer.echo(f"xstilts: {message}", err=True))
    typer.echo(f"micro encoder ({'trained' if outcome == 'ran' else 'cached'}): "
               f"{context.store.run(node.id).checkpoint}")


@micro_app.command()
def languages() -> None:
    """The micro languages, their typological features and distance to English."""
    from xstilts.micro.languages import (
        LANGUAGE_CODES,
        TYPOLOGY_FEATURES,
        get_language,
        typological_distance,
        typology,
    )

    typer.echo(f"{'code':5} {'distance':>8}  " + " ".join(f[:8].rjust(8) for f in TYPOLOGY_FEATURES))
    for code in LANGUAGE_CODES:
        values = typology(code)
        typer.echo(f"{code:5} {typological_distance('en', code):8.2f}  "
                   + " ".join(f"{values[f]:8.0f}" for f in TYPOLOGY_FEATURES) + f"   {get_language(code).script}")


@micro_app.command()
def dictionary(folder: Annotated[Path, typer.Argument(help="folder to write en-<lang>.txt into")]) -> None:
    """Write MUSE-format dictionaries en-<lang>.txt (every English word form -> its translations) for the
    synthetic languages, for code-switched sources (`code_switch: {dictionaries: {qaa: DIR/en-qaa.txt}}`)."""
    from xstilts.micro.dictionary import dictionary_entries, write_dictionaries

    for path in write_dictionaries(folder):
        code = path.stem.removeprefix("en-")
        typer.echo(f"{path}  ({len(dictionary_entries(code))} pairs)")
