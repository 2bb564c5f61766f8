"""The artifact store: one folder per lineage key, atomic writes, and a lock per stage.

Each ``runs/<key>/`` is laid out as :class:`xstilts.run_folder.RunFolder` names it. The store's root also
holds ``<key>.lock`` files (one per node) and, for the slurm executor, ``jobs/<node id>.json`` (the job that
was submitted for a node).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

# Re-exported: the store's users write through these.
from xstilts.atomic import (  # noqa: F401
    file_lock,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
    write_yaml_atomic,
)
from xstilts.run_folder import RunFolder


def xstilts_home() -> Path:
    """Where xstilts keeps its store, data and caches: ``$XSTILTS_HOME``; else ``$XDG_CACHE_HOME/xstilts``
    (the XDG base directory spec: only an absolute path counts); else ``~/.cache/xstilts``."""
    if os.environ.get("XSTILTS_HOME"):
        return _from_environment("XSTILTS_HOME")
    cache = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(cache) if os.path.isabs(cache) else Path.home() / ".cache") / "xstilts"


def default_data_root() -> Path:
    """Where task data lives unless a study sets `data_root`: $XSTILTS_DATA, else $XSTILTS_HOME/data."""
    return _from_environment("XSTILTS_DATA") if os.environ.get("XSTILTS_DATA") else xstilts_home() / "data"


def _from_environment(variable: str) -> Path:
    """A folder named by an environment variable, made absolute against the working directory where it was set:
    a relative path must not be read later against a study file's folder (where config paths are relative to)."""
    return Path(os.environ[variable]).expanduser().absolute()


class RunStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def run(self, key: str) -> RunFolder:
        """The parts of the run folder of ``key``."""
        return RunFolder(self.path(key))

    def is_done(self, key: str) -> bool:
        return self.run(key).done_marker.exists()

    def mark_done(self, key: str) -> None:
        write_text_atomic(self.run(key).done_marker, "done\n")

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An exclusive lock on one stage: a second runner waits, then finds the stage done."""
        with file_lock(self.root / f"{key}.lock"):
            yield

    @contextlib.contextmanager
    def try_lock(self, key: str) -> Iterator[bool]:
        """The lock on ``key`` if nobody holds it (yields True), else yields False at once: a worker with
        other work to do moves on instead of waiting."""
        with file_lock(self.root / f"{key}.lock", wait=False) as got:
            yield got
