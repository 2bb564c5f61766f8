"""The XTREME / XTREME-R report, in the shape of the official evaluate.py's output file.

Top level: ``all_task`` (when every task of the benchmark was scored), then one entry per group whose tasks
were all scored, then one entry per scored task: ``{metric: {language: value}}``, ``avg_<metric>`` (plain mean
over the task's languages) and ``avg_metric`` ((EM + F1) / 2 for QA, else F1, accuracy or map@20). A task is
scored when both folders have its sub-folder; then every language file must exist. As the official script, a
task folder missing on either side leaves the task (and ``all_task``) out, but never silently: a note names the
missing folder, any folder that was ignored (``PANX``, ``panx_``: with the task it looks like) and the scores
that are therefore absent, and so do notes on stray files in a task folder.

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
    table = layout.TASK_LANGUAGES[benchmark][task]
    languages = table
    if partial:
        languages = tuple(lg for lg in table if layout.task_file(predictions, task, lg).is_file())
        if not languages:
            raise XstiltsError(f"{predictions / task} holds no test-<lang>.{layout.suffix(task)} file of a "
                               f"{benchmark} {task} language ({', '.join(table)})")
        if len(languages) < len(table):
            layout.note(predictions / task, f"--partial: {len(languages)} of the {len(table)} {task} languages are "
                                            f"scored; no prediction file for {', '.join(lg for lg in table if lg not in languages)}")
    _note_stray_files(task, table, predictions, labels)
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


def _note_stray_files(task: str, languages: tuple[str, ...], *folders: Path) -> None:
    """Files of a task folder that the official scorer does not read (another extension or case, a language
    outside the table), named so that a misnamed file is not silently left out."""
    expected = {layout.task_file(Path(), task, language).name for language in languages}
    for folder in folders:
        try:
            stray = sorted(entry.name for entry in (Path(folder) / task).iterdir()
                           if entry.name not in expected and not entry.name.startswith("."))
        except OSError:
            continue  # an unreadable folder: its files are reported when read
        if stray:
            shown = ", ".join(stray[:6]) + (f", ... ({len(stray)} in all)" if len(stray) > 6 else "")
            layout.note(Path(folder) / task, f"ignored: {shown} (the scorer reads test-<lang>.{layout.suffix(task)} "
                                             f"for the {task} languages: {', '.join(languages)})")


def _subfolders(folder: Path, what: str) -> set[str]:
    if not Path(folder).is_dir():
        raise XstiltsError(f"{what} folder {folder} does not exist" if not Path(folder).exists()
                           else f"{what} folder {folder} is not a folder")
    try:
        return {entry.name for entry in Path(folder).iterdir() if entry.is_dir()}
    except OSError as error:
        raise XstiltsError(f"{what} folder {folder} cannot be read: {error.strerror or error}") from None


def _folder_hint(name: str, benchmark: str) -> str:
    tasks = layout.TASK_LANGUAGES[benchmark]
    if name in layout.ALL_TASK_DIRS:
        other = [b for b, table in layout.TASK_LANGUAGES.items() if name in table]
        return f"{name} is {'an ' + ' and '.join(other) if other else 'no'} task, not one of --benchmark {benchmark}"
    return f"not an {benchmark} task folder; {layout.folder_hint(name, tasks)}"


def _available_tasks(benchmark: str, predictions: Path, labels: Path, partial: bool) -> list[str]:
    """The benchmark's tasks with a folder on both sides, in table order; notes on ignored folders, tasks left
    unscored and the benchmark and group scores that are therefore absent."""
    tasks = layout.TASK_LANGUAGES[benchmark]
    if Path(predictions).resolve() == Path(labels).resolve():
        raise XstiltsError(f"--predictions and --labels are the same folder ({predictions}): every prediction would "
                           f"be scored against itself; give the label folder")
    sides = {"prediction": (Path(predictions), _subfolders(predictions, "prediction")),
             "label": (Path(labels), _subfolders(labels, "label"))}
    for folder, names in sides.values():
        for name in sorted(names):
            if name not in tasks and not name.startswith((".", "__")):
                layout.note(folder / name, f"ignored folder: {_folder_hint(name, benchmark)}")
    available = [task for task in tasks if all(task in names for _, names in sides.values())]
    missing = [task for task in tasks if task not in available]
    if not available:
        raise XstiltsError(
            f"no {benchmark} task folder is in both {predictions} and {labels}; expected some of "
            f"{', '.join(tasks)} (<dir>/<task>/test-<lang>.<ext>)"
        )
    for task in missing:
        absent = [folder / task for folder, names in sides.values() if task not in names]
        if partial and len(absent) == len(sides):
            continue  # --partial scores the tasks given; a task on one side only is still worth a word
        also = f" (nor is there {absent[1]})" if len(absent) > 1 else ""
        layout.note(absent[0], f"no such folder{also}: task {task} is not scored")
    if missing and not partial:
        groups = [g for g, members in layout.TASK_GROUPS[benchmark].items() if set(members) & set(missing)]
        layout.note(Path(predictions), f"the report has no all_task score (it needs all {len(tasks)} {benchmark} "
                                       f"tasks; {', '.join(missing)} not scored)"
                                       + (f" and no {', '.join(groups)} group score" if groups else ""))
    return available


def evaluate(benchmark: str, predictions: Path, labels: Path, partial: bool = False,
             notes: list[str] | None = None) -> dict[str, Any]:
    """The report; with ``partial`` each task is scored on the languages that have a prediction file and the
    benchmark and group scores (which would not be comparable) are left out. Notes (values the official
    scorer accepts but that are probably mistakes, ignored folders and files) are appended to ``notes``, or
    become Python warnings without it."""
    layout.check_benchmark(benchmark)
    with layout.collecting_notes() as collected:
        report = _evaluate(benchmark, Path(predictions), Path(labels), partial)
    layout.deliver_notes(collected, notes)
    return report


def _evaluate(benchmark: str, predictions: Path, labels: Path, partial: bool) -> dict[str, Any]:
    tasks = layout.TASK_LANGUAGES[benchmark]
    detailed = {task: score_task(benchmark, task, predictions, labels, partial)
                for task in _available_tasks(benchmark, predictions, labels, partial)}
    overall: dict[str, Any] = {}
    if partial:
        return detailed
    if set(detailed) == set(tasks):
        overall["all_task"] = sum(detailed[t]["avg_metric"] for t in tasks) / len(tasks)
    for group, members in layout.TASK_GROUPS[benchmark].items():
        if set(members) <= set(detailed):
            overall[group] = sum(detailed[t]["avg_metric"] for t in members) / len(members)
    return {**overall, **detailed}
