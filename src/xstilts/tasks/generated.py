"""Tasks whose data is generated in code (mock and micro): write the missing files on first use."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.atomic import file_lock, write_text_atomic
from xstilts.errors import XstiltsError
from xstilts.tasks.base import Task

Files = dict[tuple[str, str], list[dict[str, Any]]]


def to_jsonl(examples: list[dict[str, Any]]) -> str:
    """Stable bytes: sorted keys, real characters (the same file on every machine)."""
    return "".join(json.dumps(example, ensure_ascii=False, sort_keys=True) + "\n" for example in examples)


def write_missing(task: Task, data_root: Path, generate: Callable[[], Files]) -> None:
    """Write every (split, language) file of ``task`` that does not exist yet; existing files are left alone.
    Each file is written atomically, so processes preparing the same task at once never tear a file."""
    data_root = Path(data_root)
    targets = {(split, lang): task.path(split, lang, data_root)
               for split, langs in task.splits.items() for lang in langs}
    if all(path.exists() for path in targets.values()):
        return
    # Parallel workers may need the same task at once: one generates, the others then find the files.
    try:
        with file_lock(data_root / f".{task.data_dir.replace('/', '-')}.lock"):
            _write(task, data_root, targets, generate)
    except OSError as error:
        raise XstiltsError(
            f"cannot write the generated data of task {task.name!r} under {data_root}: {error}. "
            "Set `data_root` in the config (or XSTILTS_DATA) to a writable folder."
        ) from None


def _write(task: Task, data_root: Path, targets: dict, generate: Callable[[], Files]) -> None:
    missing = {key: path for key, path in targets.items() if not path.exists()}
    if not missing:
        return
    files = generate()
    for key, path in missing.items():
        write_text_atomic(path, to_jsonl(files[key]))
