"""The middle estimator: LogME (``logme.py``) of the target's English training features after a short probe of
each candidate.

The probe is the candidate's intermediate stage(s) with ``settings.fraction`` of their steps, after the
prefix, at the study's first seed: a node of the probe study (``nodes.probe_study``), trained through the
normal runner, so it is cached in the run store, resumes exactly, and is the same node the probe estimator
continues from. Then the first ``settings.logme_examples`` English training examples of each target are
featurized as its target stage would featurize them, and each encoder's rows (``features.py``: what the
target's head would read) are scored against the target's labels.

Score(candidate, target, ALL) = LogME(probed encoder) - LogME(prefix encoder): the ranking is the one of
LogME(probed) (the prefix term is the same for every candidate of a target), and the difference says how much
the short intermediate training made the target's labels more linearly readable than the encoder the grid starts
from (above 0: more, below: less), on one scale for every target. It gives only ALL: it reads English features
and cannot tell the target languages apart. Targets without labels (retrieval, evaluated on the intermediate
encoder) get no score, and a note.
"""

from __future__ import annotations

import time

from xstilts.selection.estimate import ALL, Cost, Estimate
from xstilts.selection.estimators import cache
from xstilts.selection.estimators.costs import forward_flops, measured_seconds, stage_cost, summary, with_grid
from xstilts.selection.estimators.logme import logme
from xstilts.selection.estimators.nodes import (
    derived_context,
    lineage_keys,
    nodes_for,
    prefix_node,
    probe_study,
    run_nodes,
    stage_node_of,
)
from xstilts.selection.estimators.settings import EstimatorSettings
from xstilts.selection.problem import SelectionProblem
from xstilts.studies.context import Context, Say, ensure_tokenizer, featurize
from xstilts.tasks import get_task

NAME = "logme"


def estimate(problem: SelectionProblem, context: Context, settings: EstimatorSettings, say: Say) -> Estimate:
    from xstilts.selection.estimators.features import LABELLED_FAMILIES

    prefix = prefix_node(context, problem)
    probe = probe_study(context, problem, settings, targets=[])  # the shortened intermediate stages alone
    probe_context = derived_context(context, probe.study)
    probed = {c: stage_node_of(probe_context, pipeline) for c, pipeline in probe.intermediate.items()}
    notes: list[str] = []
    targets = {}
    for task_name, target in problem.targets.items():
        task = get_task(task_name).with_data(context.data_root)
        if task.family not in LABELLED_FAMILIES or "en" not in task.splits.get("train", ()):
            notes.append(f"target {task_name!r} ({task.family}) has no labelled English training data to score "
                         "features against: no LogME score")
            continue
        targets[task_name] = (task, _max_length(problem, target.stage, task_name))
    path = cache.cache_path(context, NAME, {
        "prefix": prefix.key if prefix else context.plan.model_keys[problem.model],
        "probes": {c: node.key for c, node in probed.items()},
        "targets": {name: {"task": task.describe(), "max_length": length,
                           "data": task.fingerprint("train", "en", context.data_root)}
                    for name, (task, length) in targets.items()},
        "settings": {k: getattr(settings, k) for k in ("fraction", "logme_examples", "max_features")},
    })
    cached = cache.load(path)
    if cached is not None:
        return cached
    times = run_nodes(probe_context, nodes_for(probe_context, lineage_keys(list(probed.values())), set()), say)
    probe_keys = {stage.key for last in probed.values() for stage in last.lineage if stage.name not in problem.prefix}
    prefix_times = {k: t for k, t in times.items() if k not in probe_keys}
    if any(not t.cached for t in prefix_times.values()):
        notes.append("the prefix stages were trained now: the grid shares them, so they are not counted in this "
                     "estimate's cost")
    seconds = measured_seconds({k: t for k, t in times.items() if k in probe_keys}, notes, NAME)

    from xstilts.selection.estimators.features import labelled_rows, load_encoder

    start = time.perf_counter()
    tokenizer, _ = ensure_tokenizer(context, problem.model)
    data = {name: featurize(context, task, "train", "en", length, settings.logme_examples, problem.model)
            for name, (task, length) in targets.items()}
    tokens = 0

    def scores_of(node) -> dict[str, float]:
        nonlocal tokens
        encoder = load_encoder(context, problem.model, node)
        out = {}
        for name, (task, _) in targets.items():
            rows, labels, used = labelled_rows(encoder, task, data[name].features, tokenizer.pad_token_id, settings)
            tokens += used
            out[name] = logme(rows, labels)
        return out

    say("select: LogME of the prefix encoder")
    base = scores_of(prefix)
    scores: dict[tuple[str, str], dict[str, float]] = {(name, ALL): {} for name in targets}
    for candidate, node in probed.items():
        say(f"select: LogME after the {candidate!r} probe")
        for name, value in scores_of(node).items():
            if candidate in problem.targets[name].pipelines:
                scores[(name, ALL)][candidate] = value - base[name]
    seconds += time.perf_counter() - start
    flops = stage_cost(summary(probe_context), probe_keys)[0] + forward_flops(context, problem.model, tokens)
    result = Estimate(NAME, scores, with_grid(Cost(seconds, flops), context, problem, notes), notes)
    cache.store(path, result)
    return result


def _max_length(problem: SelectionProblem, stage_name: str | None, task_name: str) -> int:
    """The length the target stage cuts the task's examples to (256, the schema's default, without a stage)."""
    if stage_name is None:
        return 256
    stage = problem.study.stages[stage_name]
    return stage.task_max_length(task_name)
