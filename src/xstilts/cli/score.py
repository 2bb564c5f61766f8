"""``xstilts score`` (official-parity scoring of a submission folder) and ``xstilts export`` (a study's
predictions in the official layout). Light: no torch; the study is only planned, never run."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean


class Benchmark(str, Enum):
    xtreme = "xtreme"
    xtreme_r = "xtreme-r"
    xglue = "xglue"


def score(
    benchmark: Annotated[Benchmark, typer.Option("--benchmark", help="xtreme, xtreme-r or xglue")],
    predictions: Annotated[Path, typer.Option("--predictions", help="folder of <task>/test-<lang>.<ext> files "
                                                                    "(XGLUE: <TASK>/<lang>.prediction)")],
    labels: Annotated[Path, typer.Option("--labels", help="label folder in the same layout (XGLUE: the "
                                                          "xglue_full_dataset folder)")],
    output: Annotated[Path, typer.Option("--output", help="JSON report to write")],
    split: Annotated[str, typer.Option("--split", help="XGLUE only: test or dev")] = "test",
    partial: Annotated[bool, typer.Option("--partial", help="XTREME(-R): score only the languages that have a "
                                                            "prediction file; no benchmark or group scores")] = False,
) -> None:
    """Score a submission folder exactly as the official scorer does; writes its JSON report.

    Bad input (a missing or malformed file, a gold label outside the task's label set, prediction ids that
    match no label id) stops with exit code 2, naming the file and line, and nothing is written. Values the
    official scorer accepts but that are probably mistakes are scored as it scores them, with a warning."""
    from xstilts.atomic import write_text_atomic

    if output.is_dir():
        raise XstiltsError(f"--output {output} is a folder: give the path of the JSON report to write")
    notes: list[str] = []
    if benchmark is Benchmark.xglue:
        from xstilts.scoring.official.xglue import evaluate as evaluate_xglue

        report = evaluate_xglue(predictions, labels, split, notes=notes)
        headline = {task: values["avg"] for task, values in report.items()}
    else:
        from xstilts.scoring.official.aggregate import evaluate

        report = evaluate(benchmark.value, predictions, labels, partial=partial, notes=notes)
        headline = {key: (value["avg_metric"] if isinstance(value, dict) else value) for key, value in report.items()}
    for line in notes:
        typer.echo(f"warning: {line}", err=True)
    try:
        write_text_atomic(output, json.dumps(report, indent=2) + "\n")
    except OSError as error:
        raise XstiltsError(f"cannot write the report {output}: {error.strerror or error}") from None
    for key, value in headline.items():
        typer.echo(f"{key:16} {value:.2f}")
    typer.echo(f"report -> {output}", err=True)


def _sources(target: str, pipeline: str | None, seed: int | None, model: str | None = None):
    """The prediction folders of a run folder (``runs/<key>``) or of a study's evaluations."""
    from xstilts.run_folder import RunFolder
    from xstilts.scoring.official.export import Source

    predictions = RunFolder(Path(target)).predictions
    if predictions.is_dir():
        return [Source(p.name, p) for p in sorted(predictions.iterdir()) if p.is_dir()]
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context

    context = make_context(load_study(target))
    models = list(context.study.model_configs())
    if model is not None and model not in models:
        raise XstiltsError(f"study {context.study.name!r} has no model {model!r}: {did_you_mean(model, models)}")
    evaluations = [e for e in context.plan.evaluations if e.split == "test"
                   and (pipeline is None or e.pipeline == pipeline) and (seed is None or e.seed == seed)
                   and (model is None or e.stage.model == model)]
    if not evaluations:
        pipelines = sorted({e.pipeline for e in context.plan.evaluations})
        raise XstiltsError(f"study {context.study.name!r} has no test evaluation for pipeline {pipeline!r} "
                           f"seed {seed!r}; its pipelines: {', '.join(pipelines)}")
    by_task: dict[str, set[tuple[str, int, str, str]]] = {}
    for e in evaluations:
        by_task.setdefault(e.task, set()).add((e.pipeline, e.seed, e.stage.model, e.stage.key))
    sources = []
    for task, runs in sorted(by_task.items()):
        if len({key for *_, key in runs}) > 1:
            several = len({m for _, _, m, _ in runs}) > 1
            choices = ", ".join(f"--pipeline {p} --seed {s}" + (f" --model {m}" if several else "")
                                for p, s, m, _ in sorted(runs))
            raise XstiltsError(f"task {task!r} is evaluated by several runs of the study; pick one: {choices}")
        (*_, key), = runs
        sources.append(Source(task, context.store.run(key).task_predictions(task)))
    return sources


def export(
    target: Annotated[str, typer.Argument(help="a run folder (runs/<key>) or a study YAML file / preset")],
    out: Annotated[Path, typer.Argument(help="folder to write <task>/test-<lang>.<ext> (XGLUE: <TASK>/<lang>.prediction) "
                                              "into")],
    benchmark: Annotated[Benchmark, typer.Option("--benchmark", help="xtreme, xtreme-r or xglue")] = Benchmark.xtreme,
    mapping: Annotated[Optional[list[str]], typer.Option(
        "--map", help="TASK=FOLDER: export a task under an official folder name (e.g. mock-nli=xnli, or NC for XGLUE)")] = None,
    pipeline: Annotated[Optional[str], typer.Option("--pipeline", help="the study's pipeline to export")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="the seed to export")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="the model to export (studies with `models:`)")] = None,
) -> None:
    """Write test predictions in the official XTREME / XTREME-R or XGLUE submission layout."""
    from xstilts.scoring.official.export import export as write_export
    from xstilts.scoring.official.export import parse_mapping

    mapped = parse_mapping(mapping or [], benchmark.value)
    for line in write_export(_sources(target, pipeline, seed, model), out, benchmark.value, mapped):
        typer.echo(line)
    typer.echo(f"submission -> {out}", err=True)
