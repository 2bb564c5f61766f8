"""Micro-benchmark tasks: the offline stand-in for XTREME, generated in code (``xstilts.micro``).

Every micro task is registered twice, once per size, so that the size is part of the name and never hidden
state: ``micro-<task>`` (default size, benchmark "micro") and ``micro-tiny-<task>`` (tiny size, for tests,
benchmark "micro-tiny"). Files are written the first time a task needs them, under
``<data_root>/micro/<size>/<task>/<split>-<lang>.jsonl`` (e.g. ``micro/tiny/xnli/test-qae.jsonl``).

Languages: English ("en") and the synthetic languages ``qaa`` ... ``qae`` (ISO 639 private-use codes,
registered by ``xstilts.micro.languages``). Intermediate tasks are English only; target tasks train on English
and have dev and test sets in every language; retrieval tasks are evaluation only, in the synthetic languages.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.micro.tasks import TASKS as MICRO_TASKS
from xstilts.micro.tasks import build
from xstilts.tasks import register_task
from xstilts.tasks.base import Task
from xstilts.tasks.generated import write_missing
from xstilts.tasks.readers import read_jsonl

SEED = 0  # the registered tasks' data; changing it changes every file (and so every fingerprint)
BENCHMARKS = {"default": "micro", "tiny": "micro-tiny"}
# registered name -> (micro task key, size)
_SOURCES: dict[str, tuple[str, str]] = {}


def task_name(key: str, size: str) -> str:
    return f"micro-{key}" if size == "default" else f"micro-{size}-{key}"


def prepare(task: Task, data_root: Path) -> None:
    """Generate the files of a micro task that are missing (existing files are left alone)."""
    key, size = _SOURCES[task.name]
    write_missing(task, data_root, lambda: build(key, size, seed=SEED))


def _register(key: str, size: str) -> Task:
    spec = MICRO_TASKS[key]
    name = task_name(key, size)
    _SOURCES[name] = (key, size)
    return register_task(
        Task(
            name=name,
            family=spec.family,
            description=spec.description + ("" if size == "default" else f" ({size} size)"),
            splits=spec.splits(),
            reader=read_jsonl,
            metrics=spec.metrics,
            labels=spec.labels,
            version="1",
            settings=dict(spec.settings),
            head=None if spec.head is None else task_name(spec.head, size),
            data_folder=f"micro/{size}/{key}",
            prepare=prepare,
            benchmark=BENCHMARKS[size],
        )
    )


MICRO_TASK_DECLARATIONS: tuple[Task, ...] = tuple(
    _register(key, size) for size in BENCHMARKS for key in MICRO_TASKS
)
