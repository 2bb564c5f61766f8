"""What one evaluation of a study is: the languages it runs in, the token limit, and the task as evaluated
(a retrieval task with the study's layer and pooling, a generation task with the study's decoding settings).

Kept apart from the plan so that the plan (its keys), the runner (what it runs) and ``xstilts plan`` (what it
shows) derive these from one place.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from xstilts.config.schema import DEFAULT_EVAL_MAX_LENGTH, RetrievalRecipe, StudyConfig
from xstilts.families.text_to_text import DECODING_FAMILIES
from xstilts.tasks.base import Task


def evaluation_languages(study: StudyConfig, task: Task, split: str) -> list[str]:
    """The languages ``task`` is evaluated in: its benchmark's official ones when the study names a benchmark
    (those the split has), else every language of the split; then only those ``evaluate.languages`` lists."""
    available = task.splits[split]
    if study.benchmark is not None:
        from xstilts.tasks.benchmarks import get_benchmark

        official = get_benchmark(study.benchmark).languages.get(task.name)
        if official is not None:
            available = tuple(language for language in official if language in available)
    wanted = study.evaluate.languages
    return [language for language in available if wanted == "all" or language in wanted]


def retrieval_recipe(study: StudyConfig, task_name: str) -> RetrievalRecipe:
    """The study's retrieval settings for one task: ``evaluate.retrieval`` with the task's entry of
    ``evaluate.retrieval_by_task`` laid over it."""
    merged = study.evaluate.retrieval.model_dump()
    override = study.evaluate.retrieval_by_task.get(task_name)
    if override is not None:
        merged.update({key: value for key, value in override.model_dump().items() if value is not None})
    return RetrievalRecipe(**merged)


def decoding_recipe(study: StudyConfig, task_name: str) -> dict[str, Any]:
    """The decoding settings the study sets for one generation task: ``evaluate.decoding`` with the task's entry
    of ``evaluate.decoding_by_task`` laid over it (only the settings given)."""
    chosen = study.evaluate.decoding.chosen()
    override = study.evaluate.decoding_by_task.get(task_name)
    return {**chosen, **(override.chosen() if override is not None else {})}


def evaluated_task(study: StudyConfig, task: Task, language: str | None = None) -> Task:
    """The task as the study evaluates it: a retrieval task with the study's layer and pooling in its settings,
    a generation task with the study's decoding settings (so they enter its feature-cache and evaluation keys,
    never a stage's; so does a QA task run text to text, ``families/text_to_text.py``) and, given the evaluated
    ``language`` and a task that reports off_target, that language as its target; any other task, and one the
    study sets nothing for, as declared."""
    if task.family in DECODING_FAMILIES:  # generation, and QA text to text on an encoder-decoder
        chosen = decoding_recipe(study, task.name)
        if language is not None and "off_target" in task.metrics:
            chosen["target_language"] = language
        return replace(task, settings={**task.settings, **chosen}) if chosen else task
    if task.family != "retrieval":
        return task
    recipe = retrieval_recipe(study, task.name)
    chosen = {key: value for key, value in (("layer", recipe.layer), ("pooling", recipe.pooling)) if value is not None}
    if not chosen:
        return task
    return replace(task, settings={**task.settings, **chosen})


def eval_max_length(study: StudyConfig, stage: Any, task: Task | None = None) -> int:
    """Tokens per example when evaluating ``task`` on ``stage``: a retrieval task's ``max_length`` from the
    study's retrieval settings, else ``evaluate.max_length``, else the stage's (a pipeline with no stages:
    the default)."""
    if task is not None and task.family == "retrieval":
        recipe = retrieval_recipe(study, task.name)
        if recipe.max_length is not None:
            return recipe.max_length
    if study.evaluate.max_length is not None:
        return study.evaluate.max_length
    return DEFAULT_EVAL_MAX_LENGTH if stage.config is None else stage.config.max_length


def max_length_is_explicit(study: StudyConfig, task: Task) -> bool:
    """Whether the evaluation's token limit is set by the study rather than following its stage (then it enters
    the evaluation's key; otherwise the stage key already determines it)."""
    if study.evaluate.max_length is not None:
        return True
    return task.family == "retrieval" and retrieval_recipe(study, task.name).max_length is not None
