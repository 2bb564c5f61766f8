"""The task registry. Declarations are plain data and import no torch."""

from __future__ import annotations

import importlib

from xstilts.registry import Registry
from xstilts.tasks.base import Task

TASKS: Registry[Task] = Registry("task")

# Modules that declare tasks; a test checks this list against the files in this folder.
TASK_MODULES = [
    "xstilts.tasks.mock",
    "xstilts.tasks.micro",
    "xstilts.tasks.xtreme",
    "xstilts.tasks.intermediate",
    "xstilts.tasks.xglue",
]


def register_task(task: Task) -> Task:
    from xstilts.families import FAMILY_MODULES

    if task.family not in FAMILY_MODULES:
        raise ValueError(f"task {task.name!r} names unknown family {task.family!r}")
    return TASKS.register(task.name, task)


_loaded = False


def _load_all() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in TASK_MODULES:
            importlib.import_module(module)


def get_task(name: str) -> Task:
    _load_all()
    return TASKS.get(name)


def task_names() -> list[str]:
    _load_all()
    return TASKS.names()


def check_task(name: str) -> str | None:
    _load_all()
    return TASKS.check(name)
