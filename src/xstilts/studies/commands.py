"""``xstilts results``: every result row of a study that the store holds, as CSV, Parquet or JSON, whatever run
(or runs, or workers) produced them. Light: the study is planned, never run, and torch is never imported."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from xstilts.errors import XstiltsError


class ResultFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


def results(
    study: Annotated[str, typer.Argument(help="study YAML file or preset name")] = "micro",
    size: Annotated[Optional[str], typer.Option("--size", help="a variant of the study, e.g. tiny")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", help="pretrained encoder (folder or hub name) replacing the study's model.name_or_path")] = None,
    output_format: Annotated[Optional[ResultFormat], typer.Option(
        "--format", help="csv (as results.csv; the default), parquet or json (a list of row objects)")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", help="file to write (default: stdout; parquet needs a file)")] = None,
    examples: Annotated[bool, typer.Option(
        "--examples", help="per-example score units instead of rows, as JSON lines (example_scores.jsonl)")] = False,
) -> None:
    """Gather the result rows of a study's evaluations that are done, from the run store; say on stderr how
    many of the plan's evaluations are done and how many are missing."""
    from xstilts.atomic import write_bytes_atomic
    from xstilts.config.load import load_study
    from xstilts.studies.example_scores import example_score_lines, gather_example_scores
    from xstilts.studies.results_files import results_csv_text, results_json_text, results_parquet_bytes
    from xstilts.studies.runner import gather_rows, is_evaluated, make_context

    if examples and output_format not in (None, ResultFormat.json):
        raise XstiltsError(f"--examples writes JSON lines (the example_scores.jsonl format), not "
                           f"{output_format.value}: drop --format")
    chosen = output_format or ResultFormat.csv
    if chosen is ResultFormat.parquet and output is None:
        raise XstiltsError("--format parquet writes a binary file: give it with --output FILE.parquet "
                           "(or choose --format csv or json for stdout)")
    context = make_context(load_study(study, size=size, model=model))
    evaluations = context.plan.evaluations
    done = sum(is_evaluated(context, evaluation) for evaluation in evaluations)
    typer.echo(f"{done} of {len(evaluations)} evaluations done, {len(evaluations) - done} missing "
               f"(store: {context.store.root})", err=True)
    if examples:
        records = gather_example_scores(context.store, evaluations)
        units_of = {record["eval_key"] for record in records}
        typer.echo(f"per-example units for {len(units_of)} distinct evaluations (those done by an older "
                   "xstilts have none)", err=True)
        data = "".join(example_score_lines(records)).encode("utf-8")
    else:
        rows = gather_rows(context)
        if chosen is ResultFormat.parquet:
            data = results_parquet_bytes(rows)
        elif chosen is ResultFormat.json:
            data = results_json_text(rows).encode("utf-8")
        else:
            data = results_csv_text(rows).encode("utf-8")
        typer.echo(f"{len(rows)} result rows", err=True)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_bytes_atomic(output, data)
        typer.echo(f"-> {output}", err=True)
