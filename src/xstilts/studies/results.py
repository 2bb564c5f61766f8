"""A study's result rows: gathered from the store's evaluation files, each labelled with what its model went
through (``describe_lineage``), then written as ``results.csv``, ``example_scores.jsonl``, ``summary.md`` and
the recipe card ``recipe.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xstilts.atomic import write_text_atomic
from xstilts.config.schema import StudyConfig
from xstilts.families.spec import PRETRAINING_FAMILIES
from xstilts.scoring.example_scores import EXAMPLE_SCORES, write_example_scores
from xstilts.studies.context import Context
from xstilts.studies.evaluate import eval_path
from xstilts.studies.example_scores import gather_example_scores
from xstilts.studies.plan import StageNode
from xstilts.studies.results_files import axes_text, write_results_csv


def write_results(context: Context, out_dir: Path) -> list[dict[str, Any]]:
    """Gather the plan's results from the store into ``results.csv``, ``example_scores.jsonl`` and
    ``summary.md``, with the study's recipe card beside them (``recipe.md``)."""
    from xstilts.reports.summary import write_summary
    from xstilts.studies.recipe_card import recipe_card

    rows = gather_rows(context)
    write_text_atomic(out_dir / "recipe.md", recipe_card(context.study, context.plan))
    write_results_csv(out_dir / "results.csv", rows)
    write_example_scores(out_dir / EXAMPLE_SCORES, gather_example_scores(context.store, context.plan.evaluations))
    write_summary(context.study, rows, out_dir)
    return rows


def describe_lineage(study: StudyConfig, stage: StageNode, task_name: str) -> dict[str, str]:
    """What a result row's model went through, as two labels for the paper table.

    ``pretraining``: ``model`` (a pretrained encoder), ``mlm`` (stages of MLM sources only), both, or ``none``
    (a randomly initialised encoder: the control). ``intermediate``: the sources trained before the stage that
    last trained the evaluated task's head (every non-MLM-only stage, for retrieval), in order, joined by
    ``+``, except stages marked ``target_recipe`` (part of the target task's own recipe, as SocialIQa is of
    XCOPA's in XTREME-R); then the other tasks trained in that same stage, marked `` (joint)``. A source is labelled by its
    task, with ``@split`` when it is not the train split (``xnli@translate-train``) and ``~cs`` when it is
    code-switched, and ``~lora`` when its stage trained a PEFT adapter rather than the whole encoder, so that
    sequential, joint, translated, code-switched, MLM-auxiliary and LoRA variants of one task never share a
    column."""
    from xstilts.tasks import get_task

    evaluated = get_task(task_name)
    chain = [node for node in stage.lineage if not node.untrained]

    def trains_evaluated_head(node: StageNode) -> bool:
        return any(get_task(s.task).head_name == evaluated.head_name for s in node.config.sources)

    def mlm_only(node: StageNode) -> bool:  # pretraining alone: MLM, or span corruption (denoising)
        return all(get_task(s.task).family in PRETRAINING_FAMILIES for s in node.config.sources)

    last = max((i for i, node in enumerate(chain) if trains_evaluated_head(node)), default=len(chain))
    labels: list[str] = []
    for node in chain[:last]:
        if not mlm_only(node) and not node.config.target_recipe:
            mark = f"~{node.config.peft.method}" if node.config.peft is not None else ""
            labels += [source_label(source) + mark for source in node.config.sources]
    if last < len(chain):
        labels += [f"{source_label(source)} (joint)" for source in chain[last].config.sources
                   if get_task(source.task).head_name != evaluated.head_name]
    pretrained = [get_task(s.task).family for node in chain if mlm_only(node) for s in node.config.sources]
    start = "model" if study.model_configs()[stage.model].name_or_path else ""
    pretraining = "+".join(p for p in (start, *dict.fromkeys(pretrained)) if p) or "none"
    return {"intermediate": "+".join(dict.fromkeys(labels)) or "none", "pretraining": pretraining}


def source_label(source) -> str:
    """``task``; ``task@split`` for another split than train (translate-train data); ``task~cs`` for
    code-switched data."""
    label = source.task if source.split == "train" else f"{source.task}@{source.split}"
    return label + ("~cs" if source.code_switch is not None else "")


def gather_rows(context: Context) -> list[dict[str, Any]]:
    rows = []
    study = context.study
    for evaluation in context.plan.evaluations:
        path = eval_path(context, evaluation)
        if not path.exists():
            continue
        lineage = describe_lineage(study, evaluation.stage, evaluation.task)
        axes = axes_text(study.pipeline(evaluation.pipeline).axes)
        for row in json.loads(path.read_text())["rows"]:
            rows.append({
                "study": study.name, "pipeline": evaluation.pipeline, "model": study.model_label(evaluation.stage.model),
                "seed": evaluation.seed, **row, "zero_shot": evaluation.stage.zero_shot, **lineage,
                "stage_key": evaluation.stage.key, "eval_key": evaluation.key, "axes": axes,
                "benchmark": study.benchmark or "", "reference": study.reference or "",
            })
    return rows
