"""The artifact store: one folder per lineage key, atomic writes, and a lock per stage.

Layout of ``runs/<key>/``: ``config.yaml`` (resolved, written first), ``log.jsonl`` (training log),
``state/`` (resumable training state, removed when the stage is done), ``checkpoint/`` (best model,
safetensors), ``metrics.json``, ``eval/<key>.json`` (result rows), ``predictions/``, and ``DONE``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml


def xstilts_home() -> Path:
    return Path(os.environ.get("XSTILTS_HOME") or Path.home() / ".cache" / "xstilts")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target: never a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def write_yaml_atomic(path: Path, value: Any) -> None:
    write_text_atomic(path, yaml.safe_dump(value, sort_keys=False, allow_unicode=True))


class RunStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def is_done(self, key: str) -> bool:
        return (self.path(key) / "DONE").exists()

    def mark_done(self, key: str) -> None:
        write_text_atomic(self.path(key) / "DONE", "done\n")

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An exclusive lock on one stage: a second runner waits, then finds the stage done."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{key}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
