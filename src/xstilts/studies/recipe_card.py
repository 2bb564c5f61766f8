"""A study's recipe card: every setting that determines its numbers, its value, and where the value comes from,
generated from the resolved config and its plan (never typed by hand, so it cannot drift).

For each trained stage: its tasks, length, batch, optimizer, schedule, selection and heads; for each evaluated
task: its languages, metric, score rule and (retrieval) embedding recipe. A study with ``reference:`` has each
setting checked against that published protocol (:mod:`xstilts.studies.protocols`): a match, a documented deliberate
deviation (with its reason), or an unexplained difference, which the card counts at the top. A study with
``benchmark:`` has its languages and scores checked against the benchmark's official tables.

``xstilts plan STUDY --recipe`` prints it; ``xstilts run`` writes it beside the results as ``recipe.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from xstilts import __version__
from xstilts.config.checks import selection_task_names
from xstilts.config.evaluations import eval_max_length, evaluated_task
from xstilts.config.schema import StageConfig, StudyConfig
from xstilts.families.spec import PRETRAINING_FAMILIES
from xstilts.studies.plan import Plan
from xstilts.studies.protocols import (
    DEVIATIONS,
    ENGINE_DIFFERENCES,
    EVALUATION_REFERENCES,
    REFERENCES,
    Ref,
    TrainingReference,
)
from xstilts.tasks import get_task
from xstilts.tasks.benchmarks import get_benchmark

MATCH, DEVIATION, UNEXPLAINED, OURS = "✓ reference", "≠ deliberate", "≠ UNEXPLAINED", "our choice"


@dataclass
class Line:
    setting: str
    value: Any
    reference: Ref | None = None
    status: str = OURS
    why: str = ""


def _same(ours: Any, reference: Any) -> bool:
    if isinstance(ours, (int, float)) and isinstance(reference, (int, float)) and not isinstance(ours, bool):
        return math.isclose(float(ours), float(reference), rel_tol=1e-9)
    if isinstance(reference, frozenset):  # the reference allows any of these (e.g. an lr per model size)
        return any(_same(ours, choice) for choice in reference)
    if isinstance(ours, (list, tuple)) and isinstance(reference, (list, tuple)):
        return len(ours) == len(reference) and all(_same(a, b) for a, b in zip(ours, reference, strict=True))
    return ours == reference


def _judge(line: Line, task: str) -> Line:
    if line.reference is None:
        return line
    if _same(line.value, line.reference.value):
        line.status = MATCH
        return line
    why = DEVIATIONS.get((line.setting, task)) or DEVIATIONS.get((line.setting, "*"))
    line.status, line.why = (DEVIATION, why) if why else (UNEXPLAINED, "")
    return line


def stage_lines(stage: StageConfig, kind: str, evaluated: list[str], reference: TrainingReference | None) -> list[Line]:
    """The settings of one trained stage, each with its reference (when the study follows one)."""
    tasks = [source.task for source in stage.sources]
    trained = "+".join(dict.fromkeys(tasks))
    # An auxiliary MLM source changes neither the batch a task's recipe asks for nor what selection reads.
    supervised = ([t for t in dict.fromkeys(tasks) if get_task(t).family not in PRETRAINING_FAMILIES]
                  or list(dict.fromkeys(tasks)))
    target = next((t for t in evaluated if reference and t in reference.targets), None) if kind == "target" else None
    recipe_of = next((t for t in evaluated if reference and t in reference.target_recipes), None)
    refs: dict[str, Ref] = {}
    if reference is not None:
        refs.update(reference.every_stage)
        if stage.target_recipe and recipe_of is not None:
            refs.update(reference.target_recipes[recipe_of])
            target = recipe_of
        elif kind == "intermediate":
            refs.update(reference.intermediate)
            qa = all(get_task(t).family == "span_qa" for t in supervised)
            refs["effective batch"] = reference.intermediate["effective batch (QA)" if qa else "effective batch"]
        elif target is not None and supervised == [reference.targets[target]["training tasks"].value]:
            refs.update(reference.targets[target])
        elif target is not None:
            # A joint stage (intermediate and target tasks at once) is a study's own design: the reference's
            # target recipe does not describe it; each task's length still does.
            target = None
    select = stage.selection
    lines = [
        Line("training tasks", trained, refs.get("training tasks"),
             OURS if kind != "target" or "training tasks" in refs else "our design (joint training)"),
        Line("epochs", stage.epochs if stage.epochs is not None else f"{stage.steps} steps", refs.get("epochs")),
        Line("effective batch", stage.batch_size * stage.grad_accumulation, refs.get("effective batch")),
    ]
    for source in stage.sources:
        length = getattr(source, "max_length", None) or stage.max_length
        ref = refs.get("max length") if target is not None else None
        if ref is None and reference is not None:
            ref = reference.task_lengths.get(source.task)
        lines.append(Line(f"max length ({source.task})", length, ref))
    if len(stage.sources) > 1:
        sampler = stage.sampler
        detail = {"capped": f", cap {sampler.cap}", "temperature": f", T={sampler.temperature}"}.get(sampler.kind, "")
        lines.append(Line("sampler", sampler.kind + detail, refs.get("sampler")))
    lines += [
        Line("learning rate", stage.optimizer.lr, refs.get("learning rate")),
        Line("warmup", stage.schedule.warmup, refs.get("warmup")),
        Line("schedule", stage.schedule.kind, refs.get("schedule")),
        Line("weight decay", stage.optimizer.weight_decay, refs.get("weight decay")),
        Line("Adam betas", tuple(stage.optimizer.betas), refs.get("Adam betas")),
        Line("Adam epsilon", stage.optimizer.eps, refs.get("Adam epsilon")),
        Line("gradient clipping", stage.optimizer.max_grad_norm, refs.get("gradient clipping")),
        Line("heads", "kept" if stage.keep_heads else "new", refs.get("heads")),
    ]
    if stage.peft is not None:  # only then: full fine-tuning, the reference's way, adds no line
        peft = stage.peft
        lines.append(Line("trained weights", f"{peft.method} r {peft.r}, alpha {peft.alpha:g}, dropout "
                          f"{peft.dropout:g} on {', '.join(peft.target_modules)}; "
                          f"{'merged' if peft.merge else 'kept as adapter'} at the end", None))
    if select.enabled:
        chosen = selection_task_names(stage)
        data = f"{'+'.join(chosen)} {select.split}" + ("" if select.languages == ["en"] else
                                                        f" ({', '.join(select.languages)})")
        if kind == "intermediate" and sorted(chosen) == sorted(supervised) and select.split == "dev":
            data = "own dev" if select.languages == ["en"] else data
        lines += [Line("selection data", data, refs.get("selection data")),
                  Line("selection every", select.every or "each epoch", refs.get("selection every")),
                  Line("selection examples", select.max_examples, refs.get("selection examples")),
                  Line("selection patience", select.patience, refs.get("selection patience"))]
    else:
        lines.append(Line("selection data", "none (the final checkpoint)", refs.get("selection data")))
    subject = target or (supervised[0] if len(supervised) == 1 else "*")
    return [_judge(line, subject) for line in lines]


def evaluation_lines(study: StudyConfig, plan: Plan) -> list[tuple[str, list[Line]]]:
    """Per evaluated task: languages, metric and score rule against the benchmark; a retrieval task's recipe
    against the reference."""
    reference = REFERENCES.get(study.reference or "")
    bench = get_benchmark(study.benchmark) if study.benchmark else None
    out = []
    for name in dict.fromkeys(e.task for e in plan.evaluations):
        task = evaluated_task(study, get_task(name))
        ours = list(dict.fromkeys(e.language for e in plan.evaluations if e.task == name))
        lines = []
        official = bench.languages.get(name) if bench else None
        if official is not None:
            source = Ref(len(official), f"{bench.source}")
            lines.append(_judge(Line("languages", len(ours), source), name))
            lines.append(Line("score", bench.score_rule(name), Ref(bench.score_rule(name), bench.source), MATCH))
        else:
            lines.append(Line("languages", len(ours), None, "task declaration"))
        lines.append(Line("metric", task.main_metric, None, "task declaration"))
        if bench is not None:
            lines.append(_judge(Line("split", study.evaluate.split, Ref("test", bench.source)), name))
        else:
            lines.append(Line("split", study.evaluate.split))
        if task.family == "retrieval":
            from xstilts.families.retrieval_settings import RetrievalSettings

            settings = RetrievalSettings.of(task)
            stage = next(e.stage for e in plan.evaluations if e.task == name)
            retrieval = dict(reference.retrieval) if reference and name in reference.retrieval_tasks else {}
            benchmark_refs = EVALUATION_REFERENCES.get((study.benchmark or "", name), {})
            retrieval.update(benchmark_refs)
            ours = {"layer": settings.layer, "pooling": settings.pooling,
                    "max length": eval_max_length(study, stage, task)}
            lines += [_judge(Line(setting, value, retrieval.get(setting)), name) for setting, value in ours.items()]
            lines.append(Line("search", _search(settings), None, "task declaration"))
            described = {"retrieval model": "the study's encoder after its stages"}
            for setting, ref in benchmark_refs.items():
                if setting not in ours:
                    value = described.get(setting, f"{settings.pooling} of layer {settings.layer}")
                    lines.append(_judge(Line(setting, value, ref), name))
        out.append((name, lines))
    return out


def _search(settings: Any) -> str:
    if settings.protocol == "mining":
        return (f"ratio-margin mining, k={settings.margin_k} both directions, greedy one-to-one, margin > 0; "
                f"threshold chosen on {settings.threshold_split} ({settings.threshold_rule} rule)")
    if settings.protocol == "ranking":
        return "cosine ranking, top 20"
    return f"nearest by {settings.similarity}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ", ".join(_cell(v) for v in value)
    return "" if value is None else str(value)


def _table(lines: list[Line]) -> list[str]:
    rows = ["| setting | value | reference | source | status |", "|---|---|---|---|---|"]
    for line in lines:
        ref = line.reference
        status = line.status + (f": {line.why}" if line.why else "")
        rows.append(f"| {line.setting} | {_cell(line.value)} | {_cell(ref.value) if ref else ''} | "
                    f"{ref.source if ref else ''} | {status} |")
    return rows


def recipe_card(study: StudyConfig, plan: Plan) -> str:
    reference = REFERENCES.get(study.reference or "")
    bench = get_benchmark(study.benchmark) if study.benchmark else None
    stages: dict[str, tuple[str, list[str]]] = {}
    for node in plan.stages:
        # a stage of a target's own recipe is judged by the target its pipelines evaluate
        evaluated = [e.task for e in plan.evaluations if e.stage.key == node.key or
                     (node.config.target_recipe and e.pipeline in node.pipelines)]
        kind, tasks = stages.get(node.name, (node.kind, []))
        stages[node.name] = (kind, list(dict.fromkeys(tasks + evaluated)))
    stage_tables = {name: stage_lines(study.stages[name], kind, evaluated, reference)
                    for name, (kind, evaluated) in stages.items()}
    evaluations = evaluation_lines(study, plan)
    every = [line for lines in stage_tables.values() for line in lines] + [
        line for _, lines in evaluations for line in lines]
    unexplained = sum(line.status == UNEXPLAINED for line in every)
    deliberate = sorted({line.why for line in every if line.status == DEVIATION})
    models = ", ".join(study.model_label(name) for name in study.model_configs())
    out = [f"# Recipe card: {study.name}" + (f" ({study.variant})" if study.variant else ""), "",
           f"Generated by `xstilts plan {study.name} --recipe` (xstilts {__version__}) from the resolved config and "
           "its plan: do not edit by hand.", "",
           f"- Models: {models}; seeds: {', '.join(map(str, study.seeds))}.",
           f"- Benchmark: {bench.title + ' (languages and scores: ' + bench.source + ')' if bench else 'none'}.",
           f"- Reference: {reference.title if reference else 'none (every setting is the study’s own choice)'}.",
           f"- Checked against the reference: {sum(line.status == MATCH for line in every)} settings match, "
           f"{sum(line.status == DEVIATION for line in every)} deviate deliberately, {unexplained} differ without "
           "an explanation" + (" (marked ≠ UNEXPLAINED below)." if unexplained else "."), ""]
    out += ["## Stages", ""]
    for name, (kind, evaluated) in stages.items():
        after = f"; evaluated on {', '.join(evaluated)}" if evaluated else ""
        if study.stages[name].target_recipe:
            after = f"; part of {', '.join(evaluated)}'s own recipe, not labelled as intermediate training"
        out += [f"### {name} ({kind}{after})", "", *_table(stage_tables[name]), ""]
    out += ["## Evaluations", ""]
    for name, lines in evaluations:
        out += [f"### {name}", "", *_table(lines), ""]
    if deliberate:
        out += ["## Deliberate deviations", "", *(f"- {why}" for why in deliberate), ""]
    if reference is not None:
        out += ["## Differences of the engine from the reference code", "", *(f"- {d}" for d in ENGINE_DIFFERENCES),
                ""]
    return "\n".join(out).rstrip() + "\n"
