"""Tasks declared in a study config (``tasks:``): turned into ordinary Task declarations and registered, so
the rest of the toolkit cannot tell them from built-in ones."""

from __future__ import annotations

from pathlib import Path

from xstilts.tasks import TASKS, register_task
from xstilts.tasks.base import Task
from xstilts.tasks.readers import read_jsonl, read_text_lines, read_tsv_pairs

DATA_ROOT_FIELD = "{data_root}"
# Plain text files (one text per line) hold an MLM corpus; source<TAB>target files a generation task; every other
# file is JSON lines.
TEXT_SUFFIX = ".txt"
TSV_SUFFIX = ".tsv"


def reads_text(template: str) -> bool:
    return template.endswith(TEXT_SUFFIX)


def reads_tsv(template: str) -> bool:
    return template.endswith(TSV_SUFFIX)


def in_data_root(template: str) -> bool:
    """Files under the data root (``{data_root}/my-task/{split}-{language}.jsonl``) are found only when the
    study runs (the root may come from $XSTILTS_DATA), like built-in tasks' files; others are checked at once."""
    return DATA_ROOT_FIELD in template


def _template_file(template: str, base: Path | None):
    def file_for(task: Task, split: str, language: str, data_root: Path) -> Path:
        path = Path(template.format(split=split, language=language, data_root=data_root))
        # Relative templates are read from the study file's folder, so a study and its data travel together.
        return path if path.is_absolute() or base is None else base / path

    return file_for


def declared_metrics(config) -> tuple[str, ...]:
    """The metrics of a declared task: those it lists, else its family's main metric (for its settings)."""
    if config.metrics:
        return tuple(config.metrics)
    from xstilts.families import family_spec

    return family_spec(config.family).default_metrics(config.settings)


def declare(name: str, config, base: Path | None) -> Task:
    return Task(
        name=name,
        family=config.family,
        description=config.description or f"declared in a study ({config.files})",
        splits={split: tuple(languages) for split, languages in config.splits.items()},
        reader=(read_text_lines if reads_text(config.files) else read_tsv_pairs if reads_tsv(config.files)
                else read_jsonl),
        metrics=declared_metrics(config),
        labels=tuple(config.labels),
        version=config.version,
        head=config.head,
        settings=dict(config.settings),
        file_for=_template_file(config.files, base),
        benchmark="study",
    )


def register_study_tasks(tasks: dict, base: Path | None) -> list[str]:
    """Register the study's tasks; a name that clashes with a different declaration is a problem (returned)."""
    problems = []
    for name, config in tasks.items():
        task = declare(name, config, base)
        if name in TASKS:
            existing = TASKS.get(name)
            if existing.benchmark != "study" or existing.describe() != task.describe():
                problems.append(f"tasks.{name}: a task named {name!r} already exists ({existing.benchmark or 'built in'}); "
                                "choose another name")
                continue
            TASKS.replace(name, task)  # the same declaration again (the study loaded twice): refresh its paths
            continue
        register_task(task)
    return problems
