"""What each process of a run is doing right now: one small file per process,
``$XSTILTS_HOME/activity/<store id>/<host>-<pid>.json`` (the node, its pipelines, the training step), written by the process that
runs a node (:func:`xstilts.studies.node.run_once`) and by its training loop, read by the run's live display
(:mod:`xstilts.studies.monitor`). Parallel workers are separate processes: files are how they tell the display.
A file whose process is gone is stale: it is ignored, and removed by the next reader on the same host.
The files live beside the caches, not in the store: the store holds run folders only, and may be shared by
machines that each show their own processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from xstilts.atomic import write_json_atomic
from xstilts.studies.store import xstilts_home

FOLDER = "activity"
_current: dict[str, Any] = {}  # this process's record (updated without reading the file back)


def _folder(store_root: Path) -> Path:
    store_id = hashlib.sha1(str(Path(store_root).resolve()).encode()).hexdigest()[:12]
    return xstilts_home() / FOLDER / store_id


def _path(store_root: Path) -> Path:
    return _folder(store_root) / f"{socket.gethostname()}-{os.getpid()}.json"


def start(store_root: Path, node: str, pipelines: list[str]) -> None:
    """This process starts a node (``"stage 'squad' (seed 0)"``) for these pipelines."""
    _current.clear()
    _current.update(pid=os.getpid(), host=socket.gethostname(), node=node, pipelines=list(pipelines),
                    started=time.time(), step=None, total=None, loss=None)
    write_json_atomic(_path(store_root), _current)


def step(store_root: Path, done: int, total: int, loss: float | None = None, resumed_from: int | None = None) -> None:
    """Training progress of the node this process runs (``resumed_from``: the step a saved state resumed at)."""
    if not _current:
        return
    _current.update(step=done, total=total, loss=loss, resumed_from=resumed_from)
    write_json_atomic(_path(store_root), _current)


def finish(store_root: Path) -> None:
    _current.clear()
    try:
        _path(store_root).unlink()
    except FileNotFoundError:
        pass


def process_alive(pid: int) -> bool:
    """Whether a process of this id runs on this machine (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_all(store_root: Path) -> list[dict[str, Any]]:
    """The records of every process at work on this store (on this host: those alive; other hosts' as they
    are), oldest first."""
    folder = _folder(store_root)
    if not folder.is_dir():
        return []
    here, records = socket.gethostname(), []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being replaced, or torn by a crash
        if record.get("host") == here and not process_alive(int(record.get("pid", 0))):
            path.unlink(missing_ok=True)
            continue
        records.append(record)
    return sorted(records, key=lambda r: r.get("started", 0))
