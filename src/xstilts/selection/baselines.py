"""Naive baselines an estimator must beat before it is called useful.

- ``largest``: always the candidate with the most training examples. A candidate's size is the number of
  examples its stages' sources hold (every language, after ``max_examples`` / ``fraction``), counted by
  ``studies.estimate.source_examples``, the count the plan uses: the data files where they are there, else
  the published size of the split. MLM sources are not counted: they are unlabelled text added beside the task
  (``squad-mlm``), not the task the candidate stands for. Translated and code-switched copies are counted:
  they are labelled training examples.
- ``same family``: the candidate whose tasks share the target task's family (``Task.family``: a span-QA
  intermediate for a QA target, a tagging one for NER). A candidate all of whose (non-MLM) tasks are of that
  family ranks first, then one with some such tasks (a multi-task mixture), then the others; size breaks ties
  (so a target whose family no candidate has gets the ``largest`` ranking).
- ``random``: a uniformly random ranking, scored by its exact expectation (``metrics.RANDOM_EXPECTATIONS``),
  never by a draw: :class:`RandomRanking` carries no ranking of its own.

Each gives one ranking per target for all its languages (``ALL``); computing them costs nothing measurable.
Candidates they cannot tell apart (equal sizes) get equal scores, which validation scores as a random order of
them (``metrics``: expectations over tie-breaks), not by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xstilts.selection.estimate import ALL, Cost, Estimate
from xstilts.selection.problem import SelectionProblem

LARGEST = "largest"
SAME_FAMILY = "same family"
RANDOM = "random"
BASELINES = (LARGEST, SAME_FAMILY, RANDOM)


@dataclass
class RandomRanking(Estimate):
    """The random baseline: its metrics are the exact expectations over uniformly random rankings; its
    ``scores`` are all 0 (no candidate preferred) and must not be read as a ranking."""


def _task_sources(problem: SelectionProblem, candidate: str):
    from xstilts.tasks import get_task

    for stage in problem.stages_of(candidate):
        for source in stage.sources:
            task = get_task(source.task)
            if task.family != "mlm":
                yield source, task


def candidate_sizes(problem: SelectionProblem, data_root: Path) -> dict[str, int]:
    """Training examples of each candidate (see the module docstring for what is counted)."""
    from xstilts.studies.estimate import source_examples

    return {candidate: sum(source_examples(source, data_root) for source, _ in _task_sources(problem, candidate))
            for candidate in problem.candidates}


def candidate_families(problem: SelectionProblem) -> dict[str, set[str]]:
    """The families of each candidate's (non-MLM) tasks."""
    return {c: {task.family for _, task in _task_sources(problem, c)} for c in problem.candidates}


def largest(problem: SelectionProblem, sizes: dict[str, int]) -> Estimate:
    scores = {(target, ALL): {c: float(sizes[c]) for c in problem.candidates} for target in problem.targets}
    listed = ", ".join(f"{c} {sizes[c]}" for c in sorted(sizes, key=lambda c: (-sizes[c], c)))
    return Estimate(LARGEST, scores, Cost(), [f"training examples per candidate (MLM sources not counted): {listed}"])


def same_family(problem: SelectionProblem, sizes: dict[str, int], families: dict[str, set[str]],
                target_families: dict[str, str]) -> Estimate:
    """``target_families``: target task -> its family. Score = match level (2 every task of the candidate in the
    target's family, 1 some, 0 none) + size / (largest size + 1), so that size only breaks ties."""
    scale = max(sizes.values(), default=0) + 1
    scores = {}
    for target, family in target_families.items():
        scores[(target, ALL)] = {
            c: (2.0 if families[c] == {family} else 1.0 if family in families[c] else 0.0) + sizes[c] / scale
            for c in problem.candidates}
    unmatched = sorted(t for t, f in target_families.items() if not any(f in families[c] for c in families))
    notes = [f"no candidate of the family of {', '.join(unmatched)}: ranked by size"] if unmatched else []
    return Estimate(SAME_FAMILY, scores, Cost(), notes)


def random_ranking(problem: SelectionProblem) -> RandomRanking:
    scores = {(target, ALL): {c: 0.0 for c in problem.candidates} for target in problem.targets}
    return RandomRanking(RANDOM, scores, Cost(), ["exact expectation over uniformly random rankings"])


def naive_baselines(problem: SelectionProblem, data_root: Path) -> list[Estimate]:
    """The three baselines for ``problem``, counting candidate sizes under ``data_root``."""
    from xstilts.tasks import get_task

    sizes = candidate_sizes(problem, data_root)
    families = candidate_families(problem)
    target_families = {target: get_task(target).family for target in problem.targets}
    return [largest(problem, sizes), same_family(problem, sizes, families, target_families),
            random_ranking(problem)]
