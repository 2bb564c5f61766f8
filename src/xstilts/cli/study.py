"""Study commands. Light: the study is planned, never run, and torch is never imported.

- ``xstilts results``: every result row of a study that the store holds, as CSV, Parquet or JSON, whatever run
  (or runs, or workers) produced them.
- ``xstilts plan``: the DAG a study expands to, what is done, and what the rest will cost.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from xstilts.errors import XstiltsError
from xstilts.studies.estimate import (
    DEFAULT_FLOPS_PER_SECOND,
    GPU_BF16_PEAK,
    GPU_UTILIZATION,
    gpu_flops_per_second,
)


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
    from xstilts.scoring.example_scores import example_score_lines
    from xstilts.studies.context import make_context
    from xstilts.studies.evaluate import is_evaluated
    from xstilts.studies.example_scores import gather_example_scores
    from xstilts.studies.results import gather_rows
    from xstilts.studies.results_files import results_csv_text, results_json_text, results_parquet_bytes

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


MODEL_HELP = "pretrained encoder (folder or hub name) replacing the study's model.name_or_path"


def plan(
    study: Annotated[str, typer.Argument(help="study YAML file or preset name")] = "micro",
    size: Annotated[Optional[str], typer.Option("--size", help="a variant of the study, e.g. tiny")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help=MODEL_HELP)] = None,
    flops_per_second: Annotated[Optional[float], typer.Option(
        "--flops-per-second", min=1.0,
        help="throughput for time estimates (default 70e9: 2 CPU threads; a GPU in bf16 does ~1e14)")
    ] = None,
    gpu: Annotated[Optional[str], typer.Option(
        "--gpu", help=f"estimate times on one GPU of this kind ({', '.join(sorted(GPU_BF16_PEAK))}): "
        f"{GPU_UTILIZATION:.0%} of its dense bf16 peak, an assumption")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    recipe: Annotated[bool, typer.Option(
        "--recipe", help="print the study's recipe card (Markdown): every setting, its value and source, checked "
        "against the published protocol it follows")] = False,
) -> None:
    """Show the stages and evaluations a study expands to (mlm, intermediate, target, evaluate), which are
    done, and an estimate of the tokens, FLOPs and time each needs (upper bounds: see `xstilts.studies.estimate`)."""
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context
    from xstilts.studies.plan_summary import plan_summary

    if gpu is not None and flops_per_second is not None:
        raise XstiltsError("give --gpu or --flops-per-second, not both: --gpu stands for a throughput")
    speed = gpu_flops_per_second(gpu) if gpu is not None else flops_per_second or DEFAULT_FLOPS_PER_SECOND
    context = make_context(load_study(study, size=size, model=model), provisional=True)
    if recipe:
        from xstilts.studies.recipe_card import recipe_card

        typer.echo(recipe_card(context.study, context.plan), nl=False)
        return
    summary = plan_summary(context, speed)
    if gpu is not None:
        summary["gpu"] = gpu.strip().lower()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_table(summary)


def _print_table(summary: dict) -> None:
    """One row per stage and one per evaluation group (the evaluations of one stage), each with the pipelines
    it serves; seed and model get a column only when the plan has several. Whatever cannot be counted yet (data
    not downloaded, a model of unknown size) reads "unknown", and totals over a part say "at least"."""
    from rich.console import Console
    from rich.table import Table

    from xstilts.studies.plan_summary import compact_names, evaluation_groups, human_count, human_time

    kinds = summary["kinds"]
    rows = [{**node, "label": node["kind"]} for node in summary["nodes"]]
    rows += [{**group, "label": f"evaluate x{group['count']}"} for group in evaluation_groups(summary)]
    seeds = sorted({row["seed"] for row in rows})
    models = list(dict.fromkeys(row["model"] for row in rows))
    columns = [("kind", "left"), ("stage", "left"), ("pipelines", "left")]
    columns += [("seed", "right")] if len(seeds) > 1 else []
    columns += [("model", "left")] if len(models) > 1 else []
    columns += [("state", "left"), ("tokens", "right"), ("est. time", "right")]
    table = Table()
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=column == "pipelines", overflow="ellipsis")
    for row in rows:
        cells = [row["label"], row["stage"], compact_names(row.get("pipelines") or ["-"])]
        cells += [str(row["seed"])] if len(seeds) > 1 else []
        cells += [row["model"]] if len(models) > 1 else []
        cells += ["done" if row["done"] else "todo", human_count(row["tokens"]), human_time(row["seconds"])]
        table.add_row(*cells)
    # Piped output gets a width that fits the table rather than rich's 80 columns.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    same = ([f"model {models[0]}"] if len(models) == 1 else []) + ([f"seed {seeds[0]}"] if len(seeds) == 1 else [])
    console.print(f"study {summary['study']}" + (f" ({', '.join(same)})" if same else "")
                  + f": {summary['stages']} stages ({summary['done']} done, {summary['to_run']} to run), "
                  f"{summary['evaluations']} evaluations in {kinds['evaluation_groups']} groups "
                  f"({summary['evaluations_done']} done)", markup=False)
    console.print(table, markup=False)
    for line in _totals_lines(summary):
        console.print(line, markup=False)
    missing = summary["missing_data"]
    if missing:
        shown = "\n  ".join(missing[:5]) + (f"\n  ... and {len(missing) - 5} more" if len(missing) > 5 else "")
        console.print(f"provisional plan: {len(missing)} data files are missing, so the keys that read them "
                      f"are placeholders and nothing counts as done (`xstilts data download ...`):\n  {shown}",
                      markup=False)


def _split_lines(summary: dict, compute) -> list[str]:
    """Training and evaluation apart (what is left of each): evaluation is forward only, a share that the
    totals hide."""
    from xstilts.studies.plan_summary import bounded, human_count, human_time

    speed = summary["flops_per_second"]
    where = (f"on one {summary['gpu']} ({human_count(speed)}FLOP/s: {GPU_UTILIZATION:.0%} of its bf16 peak, assumed)"
             if summary.get("gpu") else f"at {human_count(speed)}FLOP/s")
    lines = []
    for label, nodes, key in (("training", summary["nodes"], "compute_training_to_run"),
                              ("evaluation", summary["evaluation_nodes"], "compute_evaluation_to_run")):
        todo = summary.get(key)
        if todo is None:
            continue
        left = sum(not node["done"] for node in nodes)
        time = bounded(todo["seconds"], todo["unknown"], left, human_time)
        count = f"{left} evaluations" if label == "evaluation" else f"{left} stages"
        lines.append(f"  {label}: {count} to run, {compute(todo, left)}, time "
                     f"{time if time.startswith(('at least', 'unknown')) else '~' + time} {where}")
    return lines


def _published_lines(summary: dict) -> list[str]:
    """How many counts to run are published split sizes rather than counts of downloaded files."""
    lines = []
    for label, nodes in (("stages", summary["nodes"]), ("evaluations", summary["evaluation_nodes"])):
        todo = [node for node in nodes if not node["done"]]
        published = sum(bool(node.get("published_sizes")) for node in todo)
        if published:
            lines.append(f"tokens from published sizes: {published} of {len(todo)} {label} (their data is not "
                         "downloaded; the files' own counts replace them once it is)")
    return lines


def _unknown_sizes(summary: dict) -> str:
    """What the unknown token counts wait for: the evaluated tasks and the stages, by name."""
    tasks = sorted({node["task"] for node in summary["evaluation_nodes"] if not node["done"] and node["tokens"] is None})
    stages = sorted({node.get("stage") or node["kind"] for node in summary["nodes"]
                     if not node["done"] and node["tokens"] is None})
    parts = ([f"the evaluations of {', '.join(tasks)}"] if tasks else []) + (
        [f"the stages {', '.join(stages)}"] if stages else [])
    return " and ".join(parts) or "them"


def _totals_lines(summary: dict) -> list[str]:
    """The counts by kind, the compute of the whole plan and of what is left (honest about what is unknown),
    and what each model costs per token whatever the data."""
    from xstilts.studies.plan_summary import bounded, human_count, human_time

    kinds, speed = summary["kinds"], summary["flops_per_second"]
    nodes = summary["nodes"] + summary["evaluation_nodes"]
    left = sum(not node["done"] for node in nodes)

    def compute(totals: dict, count: int) -> str:
        tokens = bounded(totals["tokens"], totals.get("tokens_unknown", 0), count, lambda v: f"{human_count(v)} tokens")
        work = bounded(totals["flops"], totals["unknown"], count, lambda v: f"{human_count(v)}FLOP")
        return f"{'tokens unknown' if tokens == 'unknown' else tokens}, {'FLOPs unknown' if work == 'unknown' else work}"

    todo = summary["compute_to_run"]
    time = bounded(todo["seconds"], todo["unknown"], left, human_time)
    lines = [f"mlm {kinds['mlm']}, intermediate {kinds['intermediate']}, target {kinds['target']}, "
             f"evaluate {kinds['evaluate']}. All: {compute(summary['compute'], len(nodes))}. To run: "
             f"{compute(todo, left)}, time {time if time.startswith(('at least', 'unknown')) else '~' + time} at "
             f"{human_count(speed)}FLOP/s"]
    lines += _split_lines(summary, compute)
    no_data = todo.get("tokens_unknown", 0)
    no_model = sum(not node["done"] and node.get("flops_per_token") is None for node in nodes)
    lines += _published_lines(summary)
    if no_data:
        lines.append(f"unknown: the tokens of {no_data} of the {left} stages and evaluations to run: they are "
                     "counted from data files that are not there yet, and no published size is known for "
                     f"{_unknown_sizes(summary)} (with the data, their FLOPs and time follow)")
    if no_model:
        lines.append(f"unknown: the FLOPs and time of {no_model} of the {left} stages and evaluations to run: "
                     "their model's size is unknown")
    for name, model in summary["models"].items():
        lines.append(f"model {name}: {human_count(model['parameters'])} parameters ({model['how']})")
        per_token = model.get("flops_per_token")
        if per_token:
            mlm = any(node["model"] == name and node.get("flops_per_token") == per_token["train_mlm"]
                      for node in summary["nodes"]) and per_token["train_mlm"] != per_token["train"]
            lines.append(f"  per token: {human_count(per_token['train'])}FLOP to train"
                         + (f" ({human_count(per_token['train_mlm'])}FLOP with an mlm source)" if mlm else "")
                         + f", {human_count(per_token['evaluate'])}FLOP to evaluate; 1M training tokens take "
                         f"~{human_time(per_token['train'] * 1e6 / speed)} at {human_count(speed)}FLOP/s")
    return lines
