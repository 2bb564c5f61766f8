"""The gains a finished grid measured: the ground truth selection is validated against.

The gain of candidate c on target t in language l at seed s is the main-metric value of ``t.pipelines[c]``
minus that of ``t.baseline`` (same task, language, seed, model). ``ALL`` is the mean over the target's languages
at that seed, and exists only where every one of them was measured (a mean over fewer languages would be a
different quantity). A cell missing on either side is left out and named in ``notes``, never silently.

When a study evaluates several splits, the test split is used. A baseline whose every stage has its own seed
(``stages.<name>.seed``, e.g. the micro twins' retrieval baseline: the shared MLM encoder) is trained once: its
one value is the baseline of every seed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xstilts.errors import XstiltsError
from xstilts.selection.estimate import ALL
from xstilts.selection.problem import SelectionProblem, Target

Seed = Any  # an int for every study xstilts runs; results files from elsewhere may carry strings


@dataclass
class Measured:
    """``gains[(target, language)][candidate][seed]``: measured gain in points (``language`` may be ``ALL``)."""

    study: str
    model: str
    seeds: list[Seed]  # the study's seeds
    gains: dict[tuple[str, str], dict[str, dict[Seed, float]]]
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[tuple[str, str]]:
        return list(self.gains)

    def mean_gains(self, target: str, language: str) -> dict[str, float]:
        """Candidate -> its gain averaged over the seeds it was measured at."""
        return {c: sum(by_seed.values()) / len(by_seed) for c, by_seed in self.gains[(target, language)].items()
                if by_seed}


def run_command(problem: SelectionProblem) -> str:
    study = problem.study
    return f"xstilts run {study.name}" + (f" --size {study.variant}" if study.variant else "")


def _main_values(problem: SelectionProblem, rows: Iterable[dict[str, Any]], notes: list[str]) -> dict[tuple, float]:
    """(pipeline, task, language, seed) -> main-metric value, the test split preferred, this problem's model. A
    value that is not a finite number (a failed score) counts as missing, with a note."""
    label = problem.study.model_label(problem.model)
    pipelines = {p for t in problem.targets.values() for p in (t.baseline, *t.pipelines.values())}
    tasks = set(problem.targets)
    by_split: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if not row.get("main") or row.get("pipeline") not in pipelines or row.get("task") not in tasks:
            continue
        if row.get("model") not in (None, "", label):
            continue
        key = (row["pipeline"], row["task"], row["language"], row["seed"])
        split = str(row.get("split") or "test")
        value = float(row["value"]) if row.get("value") not in (None, "") else math.nan
        if not math.isfinite(value):
            notes.append(f"{row['task']} in {row['language']}, pipeline {row['pipeline']}, seed {row['seed']}: "
                         f"the main metric is {row.get('value')!r}, not a number: counted as missing")
            continue
        known = by_split[key].get(split)
        if known is not None and known != value:
            raise XstiltsError(f"study {problem.study.name!r}: two different results ({known} and {value}) for "
                               f"{row['task']} in {row['language']}, pipeline {row['pipeline']}, seed {row['seed']}, "
                               f"split {split}: the rows come from two runs; gather them from one run store")
        by_split[key][split] = value
    return {key: splits.get("test", splits[sorted(splits)[0]]) for key, splits in by_split.items()}


def _trained_once(problem: SelectionProblem, pipeline: str) -> bool:
    stages = problem.study.pipeline(pipeline).stages
    return bool(stages) and all(problem.study.stages[name].seed is not None for name in stages)


def _target_gains(problem: SelectionProblem, target: Target, values: dict[tuple, float], seeds: list[Seed],
                  notes: list[str]) -> dict[str, dict[str, dict[Seed, float]]]:
    """language -> candidate -> seed -> gain for one target; notes name every cell left out."""
    shared = _trained_once(problem, target.baseline)
    out: dict[str, dict[str, dict[Seed, float]]] = {}
    missing_baseline: dict[str, list[Seed]] = defaultdict(list)
    missing: dict[str, dict[Seed, list[str]]] = defaultdict(lambda: defaultdict(list))  # candidate -> seed -> langs
    for language in target.languages:
        baseline_values = {s: v for (p, t, lg, s), v in values.items()
                           if p == target.baseline and t == target.task and lg == language}
        per_candidate: dict[str, dict[Seed, float]] = {}
        for candidate, pipeline in target.pipelines.items():
            per_seed = {}
            for seed in seeds:
                value = values.get((pipeline, target.task, language, seed))
                base = baseline_values.get(seed)
                if base is None and shared and len(baseline_values) == 1:
                    base = next(iter(baseline_values.values()))
                if base is None:
                    if seed not in missing_baseline[language]:
                        missing_baseline[language].append(seed)
                    continue
                if value is None:
                    missing[candidate][seed].append(language)
                    continue
                per_seed[seed] = value - base
            per_candidate[candidate] = per_seed
        out[language] = per_candidate
    by_seeds: dict[str, list[str]] = defaultdict(list)  # the seeds a baseline lacks -> the languages
    for language, lacking in missing_baseline.items():
        by_seeds[", ".join(map(str, lacking))].append(language)
    for seeds_text, languages in by_seeds.items():
        where = "every language" if languages == target.languages else ", ".join(languages)
        notes.append(f"{target.task}: baseline {target.baseline!r} has no result at seed(s) {seeds_text} ({where}): "
                     "no gain measured there")
    lacking: dict[str, list[str]] = defaultdict(list)  # the cells missing -> the pipelines that miss them
    for candidate, by_seed in missing.items():
        cells = "; ".join(f"seed {seed} ({'every language' if lgs == target.languages else ', '.join(lgs)})"
                          for seed, lgs in by_seed.items())
        lacking[cells].append(repr(target.pipelines[candidate]))
    for cells, pipelines in lacking.items():
        notes.append(f"{target.task}: {', '.join(pipelines)} {'has' if len(pipelines) == 1 else 'have'} no result at "
                     f"{cells}")
    return out


def _over_languages(target: Target, by_language: dict[str, dict[str, dict[Seed, float]]], seeds: list[Seed],
                    notes: list[str]) -> dict[str, dict[Seed, float]]:
    """ALL: per candidate and seed, the mean gain over the target's languages, where all were measured."""
    out: dict[str, dict[Seed, float]] = {}
    incomplete = []
    for candidate in target.pipelines:
        out[candidate] = {}
        for seed in seeds:
            values = [by_language[lg][candidate].get(seed) for lg in target.languages]
            if all(v is not None for v in values):
                out[candidate][seed] = sum(values) / len(values)
            elif any(v is not None for v in values):
                incomplete.append(f"{candidate}@{seed}")
    if incomplete:
        notes.append(f"{target.task}: no mean over its languages for {', '.join(incomplete)} (some languages "
                     "not measured)")
    return out


def measured_gains(problem: SelectionProblem, rows: Iterable[dict[str, Any]]) -> Measured:
    """Gains per (target, language), candidate and seed from result rows (``gather_rows`` or ``load_results``)."""
    seeds = list(problem.study.seeds)
    notes: list[str] = []
    values = _main_values(problem, rows, notes)
    seeds += sorted({key[3] for key in values} - set(seeds), key=str)  # rows at seeds the config no longer lists
    gains: dict[tuple[str, str], dict[str, dict[Seed, float]]] = {}
    for target in problem.targets.values():
        by_language = _target_gains(problem, target, values, seeds, notes)
        for language, per_candidate in by_language.items():
            gains[(target.task, language)] = per_candidate
        gains[(target.task, ALL)] = _over_languages(target, by_language, seeds, notes)
    if not any(by_seed for cell in gains.values() for by_seed in cell.values()):
        raise XstiltsError(
            f"study {problem.study.name!r} (model {problem.study.model_label(problem.model)}): no gain is measured: "
            "validation needs the result rows of the grid's pipelines and of their baselines, and none were found. "
            f"Run the grid first: {run_command(problem)}")
    return Measured(problem.study.name, problem.study.model_label(problem.model), seeds, gains, notes)
