"""``xstilts select``: rank a study's candidate intermediate tasks for each target without training the grid,
and (``--validate``) check the rankings against the gains a finished grid measured.

The estimators (``selection/estimators``) train only short probes, through the same runner and store as
``xstilts run`` (cached, resumable); the validation (``selection/validate.py``) reads the study's result rows
from the store, so it needs the grid run first (``xstilts run STUDY``), and says what is missing otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from xstilts.errors import XstiltsError

DEFAULT_ESTIMATORS = ("similarity", "logme", "probe")


def select(
    study: Annotated[str, typer.Argument(help="study YAML file or preset name whose intermediate stages are the "
                                              "candidates")] = "micro-phang2020",
    size: Annotated[Optional[str], typer.Option("--size", help="a variant of the study, e.g. tiny")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", help="pretrained encoder (folder or hub name) replacing the study's model.name_or_path")] = None,
    estimators: Annotated[Optional[list[str]], typer.Option(
        "--estimator", help="an estimator to run (repeat for several): similarity (embeddings of the tasks' "
        "English data), logme (LogME of target features after a short intermediate probe), probe (a few-step "
        "intermediate + target probe evaluated on dev); default: all three")] = None,
    validate: Annotated[bool, typer.Option(
        "--validate", help="compare each estimator's ranking with the gains the study's finished grid measured: "
                           "NDCG@3, regret@1/@3, Spearman, against naive baselines and the seed-noise "
                           "ceiling; writes selection.md, selection.png and selection.json")] = False,
    setting: Annotated[Optional[list[str]], typer.Option(
        "--setting", help="an estimator setting NAME=VALUE (repeat for several), e.g. fraction=0.5 (the share of "
        "each stage's steps a probe trains) or examples=500; see docs/selection-estimators.md#settings")] = None,
    run_grid: Annotated[bool, typer.Option(
        "--run-grid", help="with --validate: first run what the study's grid still lacks (as `xstilts run STUDY` "
                           "would, results in xstilts-out/<study>), so one command reproduces the validation")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="folder for the selection files (default: xstilts-out/<study>/selection)")] = None,
    per_language: Annotated[bool, typer.Option(
        "--per-language", help="also print each estimator's top candidate per target and language (estimators "
                               "that see languages: similarity, probe; the others rank once for all)")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="nothing on stderr but errors")] = False,
) -> None:
    """Rank the candidate intermediate tasks of a study for each of its targets, overall and per language,
    without training the full grid; print each estimator's ranking, its cost and the cost of the grid it
    replaces. With --validate, score the rankings against the grid's measured gains."""
    from xstilts.atomic import write_text_atomic
    from xstilts.cli.app import _say
    from xstilts.cli.report import default_results_folder
    from xstilts.config.load import load_study
    from xstilts.selection.estimators import ESTIMATORS, EstimatorSettings
    from xstilts.selection.problem import selection_problems
    from xstilts.studies.context import make_context

    if run_grid and not validate:
        raise XstiltsError("--run-grid runs the grid that --validate compares with: add --validate, or run the study "
                           f"itself (`xstilts run {study}`)")
    names = list(dict.fromkeys(estimators or DEFAULT_ESTIMATORS))
    unknown = [name for name in names if name not in ESTIMATORS]
    if unknown:
        raise XstiltsError(f"unknown estimator {', '.join(map(repr, unknown))}: choose from "
                           f"{', '.join(ESTIMATORS)} (--estimator NAME, repeated for several)")
    say = (lambda message: None) if quiet else _say
    config = load_study(study, size=size, model=model)
    config.runtime.progress = config.runtime.progress and not quiet
    context = make_context(config)
    folder = out or default_results_folder(config) / "selection"
    if run_grid:
        from xstilts.config.load import resolve_study_path
        from xstilts.studies.runner import run_study

        say(f"the grid first: every stage and evaluation of {config.name} not done yet")
        run_study(config, default_results_folder(config), log=say, base=resolve_study_path(study).resolve().parent)
    problems = selection_problems(context.plan)
    settings = EstimatorSettings.from_pairs(setting or [])
    report: dict = {"study": config.name, "variant": config.variant, "problems": []}
    for problem in problems:
        for note in problem.notes:
            say(note)
        say(f"{config.model_label(problem.model)}: {len(problem.candidates)} candidates "
            f"({', '.join(problem.candidates)}) for {len(problem.targets)} targets")
        estimates = []
        for name in names:
            estimate = ESTIMATORS[name](problem, context, settings, say)
            estimates.append(estimate)
            for note in estimate.notes:
                say(f"{name}: {note}")
        _print_rankings(problem, estimates)
        if per_language:
            _print_per_language(problem, estimates)
        entry = {"model": problem.model, "estimates": [_estimate_json(e) for e in estimates]}
        if validate:
            entry["validation"] = _validate(problem, context, estimates, folder, say)
        report["problems"].append(entry)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "estimates.json", json.dumps(report, indent=1, default=str) + "\n")
    say(f"rankings -> {folder / 'estimates.json'}")


def _estimate_json(estimate) -> dict:
    return {"estimator": estimate.estimator, "notes": estimate.notes, "cost": vars(estimate.cost),
            "scores": [{"target": target, "language": language, "scores": scores}
                       for (target, language), scores in estimate.scores.items()]}


def _print_rankings(problem, estimates) -> None:
    from rich.console import Console
    from rich.table import Table

    from xstilts.selection.estimate import ALL
    from xstilts.studies.plan_summary import human_count, human_time

    table = Table(title=f"top 3 candidates per target ({problem.model})", show_lines=False)
    table.add_column("target")
    for estimate in estimates:
        table.add_column(estimate.estimator)
    for target in problem.targets:
        cells = []
        for estimate in estimates:
            if (target, ALL) in estimate.scores:
                cells.append(", ".join(estimate.ranking(target, ALL)[:3]))
            else:
                cells.append("n/a")
        table.add_row(target, *cells)
    console = Console(soft_wrap=True)
    console.print(table)
    for estimate in estimates:
        cost = estimate.cost
        share = f" ({100 * cost.flops / cost.grid_flops:.1f}% of it)" if cost.grid_flops else ""
        console.print(f"{estimate.estimator}: {human_time(cost.seconds)}, {human_count(cost.flops)}FLOP; the grid "
                      f"it replaces: {human_count(cost.grid_flops)}FLOP{share}, ~{human_time(cost.grid_seconds)} as "
                      "the plan estimates it", highlight=False)


def _print_per_language(problem, estimates) -> None:
    """Per estimator that ranks per language: a table of targets x languages, each cell its top candidate."""
    from rich.console import Console
    from rich.table import Table

    from xstilts.selection.estimate import ALL

    console = Console(soft_wrap=True)
    languages = list(dict.fromkeys(lang for target in problem.targets.values() for lang in target.languages))
    for estimate in estimates:
        if not any(language != ALL for _, language in estimate.scores):
            console.print(f"{estimate.estimator}: one ranking for all languages (above)", highlight=False)
            continue
        table = Table(title=f"{estimate.estimator}: the top candidate per language")
        table.add_column("target")
        for language in languages:
            table.add_column(language)
        for name, target in problem.targets.items():
            table.add_row(name, *(estimate.ranking(name, language)[0]
                                  if language in target.languages and (name, ALL) in estimate.scores else ""
                                  for language in languages))
        console.print(table)


def _validate(problem, context, estimates, folder: Path, say) -> dict:
    from xstilts.selection.baselines import naive_baselines
    from xstilts.selection.measured import measured_gains
    from xstilts.selection.report import write_validation
    from xstilts.selection.validate import validate
    from xstilts.studies.results import gather_rows

    measured = measured_gains(problem, gather_rows(context))
    validation = validate(problem, measured, estimates, naive_baselines(problem, context.data_root))
    paths = write_validation(validation, folder)
    _print_validation(validation)
    say(f"validation -> {', '.join(str(p) for p in paths)}")
    return {"files": [str(p) for p in paths]}


def _print_validation(validation) -> None:
    """NDCG@3 per target (the target as a whole, against single seeds) of every ranking beside the ceiling,
    and each estimator's verdicts."""
    from rich.console import Console
    from rich.table import Table

    from xstilts.selection.estimate import ALL

    table = Table(title=f"NDCG@3 against single seeds ({len(validation.seeds)} seeds); ✓ useful")
    table.add_column("target")
    for name in validation.ranked:
        table.add_column(name, justify="right")
    table.add_column("seed-noise ceiling", justify="right")
    useful = {(v.estimator, v.target): v.useful for v in validation.verdicts}
    for target in validation.targets:
        if (target, ALL) not in validation.cells:
            continue
        cells = []
        for name in validation.ranked:
            scored = validation.scored.get((name, target, ALL))
            value = scored.per_seed["ndcg@3"].mean if scored else None
            cells.append("n/a" if value is None else f"{value:.2f}" + (" ✓" if useful.get((name, target)) else ""))
        ceiling = validation.ceiling.get((target, ALL))
        cells.append("n/a" if ceiling is None else f"{ceiling['ndcg@3'].mean:.2f} ± {ceiling['ndcg@3'].spread:.2f}")
        table.add_row(target, *cells)
    console = Console(soft_wrap=True)
    console.print(table)
    for name in validation.estimators:
        targets = [v.target for v in validation.verdicts if v.estimator == name and v.useful]
        decided = [v for v in validation.verdicts if v.estimator == name and v.useful is not None]
        console.print(f"{name}: useful for {len(targets)} of {len(decided)} targets"
                      + (f" ({', '.join(targets)})" if targets else ""), highlight=False)
