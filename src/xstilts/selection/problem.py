"""What a study asks to choose: its candidate intermediate stages, its target tasks, and which pipeline measures
each (candidate, target) pair and which one is the target's baseline (the same pipeline without intermediate
stages).

It is read from the study's plan, not from grid axes, so any study whose pipelines are ``[pretraining...,
intermediate..., target]`` (or ``[pretraining..., intermediate...]`` evaluated on retrieval tasks) can be
selected over. A candidate is the name of the intermediate stage (several in a row are joined by ``+``); a target
is the evaluated task's name. One problem per model of the study.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xstilts.config.schema import StageConfig, StudyConfig
from xstilts.errors import XstiltsError
from xstilts.studies.plan import Plan, StageNode


@dataclass
class Target:
    task: str  # the evaluated task
    stage: str | None  # the stage that trains it (None: evaluated on the intermediate encoder, as retrieval is)
    baseline: str  # the pipeline without intermediate stages
    languages: list[str]  # as evaluated
    pipelines: dict[str, str] = field(default_factory=dict)  # candidate -> pipeline


@dataclass
class SelectionProblem:
    study: StudyConfig
    model: str
    prefix: list[str]  # stages before the intermediate one (pretraining: MLM or span corruption), by name
    candidates: list[str]  # intermediate stages (joined by "+" when several in a row), in the study's order
    targets: dict[str, Target]  # task name -> its target
    notes: list[str] = field(default_factory=list)

    def stages_of(self, candidate: str) -> list[StageConfig]:
        """The stage configs a candidate trains, in order."""
        return [self.study.stages[name] for name in candidate.split("+")]


def _chain(plan: Plan, pipeline: str, model: str) -> tuple[list[StageNode], list[str]]:
    """The stages of ``pipeline`` for ``model`` (their names and kinds are the same at every seed), and the tasks
    it evaluates."""
    evaluations = [e for e in plan.evaluations if e.pipeline == pipeline and e.stage.model == model]
    if not evaluations:
        return [], []
    chain = [node for node in evaluations[0].stage.lineage if not node.untrained]
    return chain, list(dict.fromkeys(e.task for e in evaluations))


def selection_problems(plan: Plan) -> list[SelectionProblem]:
    """One problem per model; an error when the study has no pipeline pairs to select over."""
    study = plan.study
    problems = []
    for model in study.model_configs():
        shapes: dict[str, tuple[tuple[str, ...], str, str | None, tuple[str, ...]]] = {}
        for pipeline in study.pipelines:
            if model not in study.pipeline_models(pipeline):
                continue
            chain, tasks = _chain(plan, pipeline, model)
            if not chain:
                continue
            prefix = tuple(n.name for n in chain if n.kind == "mlm")
            intermediate = "+".join(n.name for n in chain if n.kind == "intermediate" and not n.config.target_recipe)
            target = next((n.name for n in chain if n.kind == "target"), None)
            recipe = tuple(n.name for n in chain if n.kind == "intermediate" and n.config.target_recipe)
            for task in tasks:
                shapes[f"{pipeline}\0{task}"] = (prefix + recipe, intermediate, target, (pipeline, task))
        problem = _problem(plan, model, shapes)
        if problem is not None:
            problems.append(problem)
    if not problems:
        raise XstiltsError(f"study {study.name!r} has no pipelines to select over: select needs pipelines that "
                           "differ only in their intermediate stages, one without any (the baseline), e.g. a grid "
                           "with axes `intermediate: [null, nli, squad]` and `target: [...]`")
    return problems


def _problem(plan: Plan, model: str, shapes: dict) -> SelectionProblem | None:
    baselines = {(prefix, target, task): pipeline
                 for prefix, intermediate, target, (pipeline, task) in shapes.values() if not intermediate}
    targets: dict[str, Target] = {}
    candidates: list[str] = []
    notes: list[str] = []
    prefixes: set[tuple[str, ...]] = set()
    for prefix, intermediate, target, (pipeline, task) in shapes.values():
        if not intermediate:
            continue
        baseline = baselines.get((prefix, target, task))
        if baseline is None:
            notes.append(f"pipeline {pipeline!r} ({task}) has no baseline pipeline (the same stages without "
                         f"{intermediate!r}): left out")
            continue
        if task not in targets:
            languages = sorted({e.language for e in plan.evaluations if e.pipeline == baseline and e.task == task})
            targets[task] = Target(task, target, baseline, languages)
        elif targets[task].baseline != baseline:
            notes.append(f"task {task!r} is a target of two baselines ({targets[task].baseline!r}, "
                         f"{baseline!r}): pipeline {pipeline!r} left out")
            continue
        targets[task].pipelines.setdefault(intermediate, pipeline)
        if intermediate not in candidates:
            candidates.append(intermediate)
        prefixes.add(prefix)
    if not targets:
        return None
    prefix = sorted(prefixes, key=len)[0]
    return SelectionProblem(plan.study, model, list(prefix), candidates, targets, notes)
