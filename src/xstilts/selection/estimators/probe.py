"""The dearest estimator: a few steps of the real thing. For each candidate, the shortened intermediate stage of
the logme estimator (the same node: trained once for both), then the target stage with ``settings.fraction`` of
its steps, evaluated zero-shot on the target's dev split in every language (``settings.probe_max_examples``
examples each); the same for the baseline (prefix, then the shortened target stage). A target evaluated on the
intermediate encoder (retrieval) has no target stage: the probed intermediate encoder is evaluated directly,
against the prefix encoder.

Score(candidate, target, l) = probe value - baseline probe value (the target's main metric, in points);
ALL = the mean over the target's languages. Everything runs as derived studies (``nodes.probe_studies``: one
per split evaluated, the dev split, or the study's own split for a target that has none, which a note then
says) through ``studies.node.run_once``, so a crash resumes exactly and a second call trains and evaluates
nothing; its results are read back from the run store, which is its cache.
"""

from __future__ import annotations

import json

import numpy as np

from xstilts.selection.estimate import ALL, Cost, Estimate
from xstilts.selection.estimators.costs import (
    evaluation_cost,
    measured_seconds,
    stage_cost,
    summary,
    with_grid,
)
from xstilts.selection.estimators.nodes import (
    NodeTime,
    ProbeStudy,
    derived_context,
    lineage_keys,
    nodes_for,
    prefix_node,
    probe_studies,
    run_nodes,
)
from xstilts.selection.estimators.settings import EstimatorSettings
from xstilts.selection.problem import SelectionProblem
from xstilts.studies.context import Context, Say
from xstilts.studies.evaluate import eval_path

NAME = "probe"


def estimate(problem: SelectionProblem, context: Context, settings: EstimatorSettings, say: Say) -> Estimate:
    prefix = prefix_node(context, problem)
    shared = lineage_keys([prefix]) if prefix is not None else set()
    notes: list[str] = []
    scores: dict[tuple[str, str], dict[str, float]] = {}
    times: dict[str, NodeTime] = {}
    counted: set[str] = set()
    flops = 0.0
    for probe in probe_studies(context, problem, settings):
        if probe.split != "dev":
            notes.append(f"{', '.join(sorted(probe.baselines))}: no dev split, so the probes are evaluated on "
                         f"{probe.split!r}, the split the grid reports (this estimate has seen it)")
        probe_context = derived_context(context, probe.study)
        times.update(run_nodes(probe_context, nodes_for(probe_context), say))
        _score(probe, _main_values(probe_context), scores, notes)
        plan = summary(probe_context)
        # a stage that two probe studies share (a shortened intermediate) is counted once
        trained = {node.key for node in probe_context.plan.stages} - shared - counted
        counted |= trained
        flops += stage_cost(plan, trained)[0]
        flops += evaluation_cost(plan, {e.stage.key for e in probe_context.plan.evaluations})[0]
    if any(not t.cached for key, t in times.items() if key in shared):
        notes.append("the prefix stages were trained now: the grid shares them, so they are not counted in this "
                     "estimate's cost")
    seconds = measured_seconds({k: t for k, t in times.items() if k not in shared}, notes, NAME)
    return Estimate(NAME, scores, with_grid(Cost(seconds, flops), context, problem, notes), notes)


def _score(probe: ProbeStudy, values: dict[str, dict[tuple[str, str], float]],
           scores: dict[tuple[str, str], dict[str, float]], notes: list[str]) -> None:
    """Probe value - baseline value per (candidate, target, language); ALL: the mean over the languages."""
    for (candidate, task), pipeline in probe.pairs.items():
        baseline = values.get(probe.baselines[task], {})
        per_language = {language: value - baseline[(task, language)]
                        for (evaluated, language), value in values.get(pipeline, {}).items()
                        if evaluated == task and (task, language) in baseline}
        for language, gain in per_language.items():
            scores.setdefault((task, language), {})[candidate] = gain
        if per_language:
            scores.setdefault((task, ALL), {})[candidate] = float(np.mean(list(per_language.values())))
        else:
            notes.append(f"{candidate!r} -> {task!r}: the probe gave no main-metric value: no score")


def _main_values(context: Context) -> dict[str, dict[tuple[str, str], float]]:
    """pipeline -> (task, language) -> the main metric's value, read from the evaluations' result files."""
    out: dict[str, dict[tuple[str, str], float]] = {}
    for evaluation in context.plan.evaluations:
        rows = json.loads(eval_path(context, evaluation).read_text(encoding="utf-8"))["rows"]
        for row in rows:
            if row.get("main") and row.get("value") is not None:
                out.setdefault(evaluation.pipeline, {})[(evaluation.task, evaluation.language)] = float(row["value"])
    return out
