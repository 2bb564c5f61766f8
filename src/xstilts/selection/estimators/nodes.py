"""The stages the estimators train, as ordinary nodes of the run store.

The prefix (pretraining) stages are the grid's own nodes: the same lineage keys, so whatever trains them first,
the grid or an estimator, trains them once for both. The probes are a derived study (``probe_study``): each
candidate's intermediate stages and each target stage with their steps scaled by ``settings.fraction``, named
``<stage>[steps=N]``, after the same prefix, at the study's first seed. Their keys come from their content, so
the logme and probe estimators share each shortened intermediate node, a rerun finds them done, and a crash
resumes them from their saved state, as any stage of ``xstilts run`` does (``studies.node.run_once``).

Each node an estimator runs gets a timing record (``<home>/selection/timings/<node id>.json``): the seconds it
took, reported again when a later call finds the node done.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from xstilts.atomic import write_json_atomic
from xstilts.config.schema import PipelineConfig, StageConfig, StudyConfig
from xstilts.selection.estimators.settings import EstimatorSettings
from xstilts.selection.problem import SelectionProblem
from xstilts.studies.context import Context, Say
from xstilts.studies.node import Node, plan_nodes, run_once
from xstilts.studies.plan import StageNode, build_plan
from xstilts.tasks import get_task

PROBE = "select"  # the prefix of the probe study's pipeline names


def chain_of(context: Context, problem: SelectionProblem, pipeline: str) -> list[StageNode]:
    """The trained stages of ``pipeline`` for the problem's model at the study's first seed (a stage with a
    seed of its own keeps it)."""
    seed = context.study.seeds[0]
    for evaluation in context.plan.evaluations:
        if (evaluation.pipeline == pipeline and evaluation.stage.model == problem.model
                and evaluation.seed in (seed, evaluation.stage.seed)):
            return [node for node in evaluation.stage.lineage if not node.untrained]
    return []


def prefix_node(context: Context, problem: SelectionProblem) -> StageNode | None:
    """The last prefix stage every candidate starts from; None when there is none (the model as loaded)."""
    if not problem.prefix:
        return None
    for target in problem.targets.values():
        chain = [node for node in chain_of(context, problem, target.baseline) if node.name in problem.prefix]
        if chain:
            return chain[-1]
    return None


def shortened(name: str, stage: StageConfig, fraction: float, data_root: Path) -> tuple[str, StageConfig]:
    """The stage with ``fraction`` of its steps (at least one), and its name. A stage given in epochs is first
    counted in steps as the training loop counts them."""
    from xstilts.studies.estimate import source_examples
    from xstilts.training.batching import steps_for_epochs

    steps = stage.steps
    if steps is None:
        sizes = [source_examples(source, data_root) for source in stage.sources]
        steps = steps_for_epochs(sizes, stage.batch_size * stage.grad_accumulation, stage.epochs)
    short = max(1, math.ceil(steps * fraction))
    return f"{name}[steps={short}]", stage.model_copy(update={"steps": short, "epochs": None})


@dataclass
class ProbeStudy:
    """The derived study and the names of its pipelines: per candidate, the shortened intermediate stages alone
    (``intermediate``: what logme scores) and followed by each target (``pairs[(candidate, target)]``), and each
    target's baseline (``baselines[target]``: the prefix and the shortened target stage; the prefix alone for a
    target evaluated on the intermediate encoder)."""

    study: StudyConfig
    split: str = "dev"  # what the probe's evaluations read
    intermediate: dict[str, str] = field(default_factory=dict)
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    baselines: dict[str, str] = field(default_factory=dict)


def probe_study(context: Context, problem: SelectionProblem, settings: EstimatorSettings,
                targets: list[str] | None = None, split: str = "dev") -> ProbeStudy:
    """The probe study of ``targets`` (None: every target; []: the shortened intermediate stages alone),
    evaluated on ``split``."""
    study = context.study
    stages = dict(study.stages)
    short_names: dict[str, str] = {}

    def short(name: str) -> str:
        if name not in short_names:
            short_names[name], stages_config = shortened(name, study.stages[name], settings.fraction,
                                                         context.data_root)
            stages[short_names[name]] = stages_config
        return short_names[name]

    chosen = {task: problem.targets[task] for task in (problem.targets if targets is None else targets)}
    model = problem.model if study.models is not None else None
    pipelines: dict[str, PipelineConfig] = {}
    probe = ProbeStudy(study, split)
    prefix = list(problem.prefix)
    for candidate in problem.candidates:
        intermediate = [short(name) for name in candidate.split("+")]
        probe.intermediate[candidate] = f"{PROBE}:{candidate}"
        pipelines[probe.intermediate[candidate]] = PipelineConfig(stages=prefix + intermediate, evaluate=[],
                                                                  model=model)
        for task, target in chosen.items():
            if candidate not in target.pipelines:
                continue
            tail = [short(target.stage)] if target.stage else []
            probe.pairs[(candidate, task)] = f"{PROBE}:{candidate}/{task}"
            pipelines[probe.pairs[(candidate, task)]] = PipelineConfig(stages=prefix + intermediate + tail,
                                                                       evaluate=[task], model=model)
    for task, target in chosen.items():
        probe.baselines[task] = f"{PROBE}:baseline/{task}"
        tail = [short(target.stage)] if target.stage else []
        pipelines[probe.baselines[task]] = PipelineConfig(stages=prefix + tail, evaluate=[task], model=model)
    probe.study = study.model_copy(update={
        "name": f"{study.name}.select", "seeds": [study.seeds[0]], "stages": stages, "pipelines": pipelines,
        "evaluate": study.evaluate.model_copy(update={"split": split, "max_examples": settings.probe_max_examples}),
        # the estimator says what it does itself; a stage's own progress bar would interleave with it
        "runtime": study.runtime.model_copy(update={"progress": False}),
    })
    return probe


def probe_studies(context: Context, problem: SelectionProblem, settings: EstimatorSettings) -> list[ProbeStudy]:
    """The probe studies of every target, one per split evaluated: a target's dev split, so that choosing never
    looks at the test data the grid reports; the study's own split for a target without a dev split (a
    retrieval task published with a test set only). Their shortened stages are the same nodes."""
    by_split: dict[str, list[str]] = {}
    for task in problem.targets:
        split = "dev" if "dev" in get_task(task).splits else context.study.evaluate.split
        by_split.setdefault(split, []).append(task)
    return [probe_study(context, problem, settings, tasks, split) for split, tasks in by_split.items()]


def derived_context(context: Context, study: StudyConfig) -> Context:
    """A context for ``study`` that shares the store, data, home, processes and tokenizers of ``context``."""
    return Context(study, build_plan(study, context.data_root), context.store, context.data_root, context.home,
                   context.processes, context.tokenizers)


def stage_node_of(context: Context, pipeline: str) -> StageNode:
    """The last stage node of a pipeline of the context's plan (at its only seed)."""
    last = context.study.pipeline(pipeline).stages[-1]
    return next(node for node in context.plan.stages if pipeline in node.pipelines and node.name == last)


@dataclass
class NodeTime:
    seconds: float  # measured when the node ran (now or in an earlier call)
    cached: bool  # done before this call
    known: bool = True  # False: done by someone else (the grid), no record of its seconds


def timings_path(context: Context, node_id: str) -> Path:
    return context.home / "selection" / "timings" / f"{node_id}.json"


def run_nodes(context: Context, nodes: list[Node], say: Say) -> dict[str, NodeTime]:
    """Run each node that is not done, in order (parents first), through ``run_once``: the store lock, the
    re-check, resume from a saved state. Returns each node's time."""
    prepare_runtime(context.study)
    times = {}
    for node in nodes:
        path = timings_path(context, node.id)
        if not node.finished(context):
            say(f"select: {node.name}")
            start = time.perf_counter()
            if run_once(context, node, say) == "ran":
                seconds = time.perf_counter() - start
                write_json_atomic(path, {"node": node.id, "name": node.name, "seconds": seconds})
                times[node.id] = NodeTime(seconds, False)
                continue
        # done before, or by another process meanwhile (run_once waited for its lock, then found it done)
        record = _read_record(path)
        times[node.id] = NodeTime(record if record is not None else 0.0, True, record is not None)
    return times


def _read_record(path: Path) -> float | None:
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record (or a torn one): the node's time is unknown here


def nodes_for(context: Context, stage_keys: set[str] | None = None, eval_stage_keys: set[str] | None = None
              ) -> list[Node]:
    """The plan's nodes (stages first, parents before children) restricted to the given stage keys and the
    evaluation groups of the given stages; ``None``: all of that kind."""
    out = []
    for node in plan_nodes(context):
        wanted = stage_keys if node.kind == "stage" else eval_stage_keys
        if wanted is None or node.stage_key in wanted:
            out.append(node)
    return out


def lineage_keys(nodes: list[StageNode]) -> set[str]:
    return {ancestor.key for node in nodes for ancestor in node.lineage if not ancestor.untrained}


def prepare_runtime(study: StudyConfig) -> None:
    """What ``run_study`` sets before running nodes: the thread count and quiet transformers loading."""
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    if study.runtime.threads:
        torch.set_num_threads(study.runtime.threads)
