"""The XTREME / XTREME-R report, in the shape of the official evaluate.py's output file.

Top level: ``all_task`` (when every task of the benchmark was scored), then one entry per group whose tasks
were all scored, then one entry per scored task: ``{metric: {language: value}}``, ``avg_<metric>`` (plain mean
over the task's languages) and ``avg_metric`` ((EM + F1) / 2 for QA, else F1, accuracy or map@20). A task is
scored when both folders have its sub-folder; then every language file must exist.

One deliberate difference: the official script cannot score LAReQA (its table lists no languages, and with a
lareqa folder present it fails), so it never reports XTREME-R's ``all_task``; we score LAReQA (mAP@20) and do.
Its per-language numbers are each language's mean AP@20; its ``avg_map@20`` (and so ``avg_metric`` and
``all_task``) is the mean AP@20 over every question of every language, as LAReQA's own mean_avg_prec_at_k
pools them, so a language with more questions weighs more (``scorers.POOLED``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xstilts.errors import XstiltsError
from xstilts.scoring.official import layout
from xstilts.scoring.official.scorers import POOLED, SCORERS


def score_task(benchmark: str, task: str, predictions: Path, labels: Path, partial: bool = False) -> dict[str, Any]:
    languages = layout.TASK_LANGUAGES[benchmark][task]
    if partial:
        languages = tuple(lg for lg in languages if layout.task_file(predictions, task, lg).is_file())
        if not languages:
            raise XstiltsError(f"{predictions / task} holds no test-<lang>.{layout.suffix(task)} file of a "
                               f"{benchmark} {task} language ({', '.join(layout.TASK_LANGUAGES[benchmark][task])})")
    per_metric: dict[str, Any] = {}
    pooled, every_question = POOLED.get(task), []
    for language in languages:
        prediction_file = layout.require(layout.task_file(predictions, task, language))
        label_file = layout.require(layout.task_file(labels, task, language))
        if pooled is not None:
            questions = pooled.scores(prediction_file, label_file)
            every_question += questions
            per_metric.setdefault(pooled.metric, {})[language] = sum(questions) / len(questions) * 100
            continue
        for metric, value in SCORERS[task](prediction_file, label_file, language).items():
            per_metric.setdefault(metric, {})[language] = value
    averages = {f"avg_{m}": sum(values.values()) / len(values) for m, values in per_metric.items()}
    if pooled is not None:
        averages[f"avg_{pooled.metric}"] = sum(every_question) / len(every_question) * 100
    score: dict[str, Any] = {**per_metric, **averages}
    if task in layout.QA_TASKS:
        score["avg_metric"] = (score["avg_exact_match"] + score["avg_f1"]) / 2
    else:
        for metric in ("f1", "accuracy", "map@20"):
            if f"avg_{metric}" in score:
                score["avg_metric"] = score[f"avg_{metric}"]
                break
    return score


def _subfolders(folder: Path, what: str) -> set[str]:
    if not Path(folder).is_dir():
        raise XstiltsError(f"{what} folder {folder} does not exist")
    return {entry.name for entry in Path(folder).iterdir() if entry.is_dir()}


def evaluate(benchmark: str, predictions: Path, labels: Path, partial: bool = False) -> dict[str, Any]:
    """The report; with ``partial`` each task is scored on the languages that have a prediction file and the
    benchmark and group scores (which would not be comparable) are left out."""
    layout.check_benchmark(benchmark)
    available = _subfolders(predictions, "prediction") & _subfolders(labels, "label")
    tasks = layout.TASK_LANGUAGES[benchmark]
    detailed = {task: score_task(benchmark, task, predictions, labels, partial)
                for task in tasks if task in available}
    if not detailed:
        raise XstiltsError(
            f"no {benchmark} task folder is in both {predictions} and {labels}; expected some of "
            f"{', '.join(tasks)} (<dir>/<task>/test-<lang>.<ext>)"
        )
    overall: dict[str, Any] = {}
    if partial:
        return detailed
    if set(detailed) == set(tasks):
        overall["all_task"] = sum(detailed[t]["avg_metric"] for t in tasks) / len(tasks)
    for group, members in layout.TASK_GROUPS[benchmark].items():
        if set(members) <= set(detailed):
            overall[group] = sum(detailed[t]["avg_metric"] for t in members) / len(members)
    return {**overall, **detailed}
