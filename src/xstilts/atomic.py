"""Atomic file writes and folder publishing (a reader, or a crash, never sees a half-written file or folder) and
advisory file locks."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target: never a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; artifacts are for everyone to read
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


# ---------------------------------------------------------------- folders
#
# A folder is published as a whole: it is built in a temporary sibling ``<name>.tmp-<host>-<pid>-<random>``,
# every file and folder of it fsynced, then renamed into place. Whatever moment a crash (kill -9, power loss)
# strikes, ``published_folder`` finds a complete version, the old one or the new one, never a mix:
#
# - a crash while the folder is built leaves a temporary sibling, which readers ignore; it is deleted by the
#   next publish or read on the same host once its process is gone;
# - replacing an existing folder takes two renames, ``<name>`` -> ``<name>.old`` and the new one ->
#   ``<name>``. A crash between them leaves only ``<name>.old``: the last complete version, which readers use
#   and the next publish puts back first; a crash before ``<name>.old`` is deleted leaves both, and
#   ``<name>`` is the newer one.
#
# ``<name>.old`` is the name checkpoints have always used, and their older temporaries ``<name>.tmp-<pid>`` (no
# host) are still recognised, so a run folder left by an older version recovers the same way.


@contextlib.contextmanager
def publish_folder(destination: Path, *, replace: bool = True) -> Iterator[Path]:
    """Yield an empty temporary folder to write into; when the block ends without an error, publish it as
    ``destination`` (its files and folders fsynced first, readable by everyone). An error in the block
    deletes it and leaves ``destination`` as it was.

    ``replace=True``: a new version replaces the existing one. Publishers of one destination must take turns
    (a lock, or one writer per folder, as a run folder's lock gives): the swap's ``.old`` name is shared.
    ``replace=False``: the first published version stays (for content-addressed folders such as caches,
    where every version is the same); any number of processes may race, the losers' versions are deleted."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(destination)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f"{_staging_prefix(destination)}{_owner()}-"))
    try:
        yield staging
        _make_readable_and_durable(staging)
        if replace:
            _swap_in(staging, destination)
        elif not destination.exists():
            try:
                os.rename(staging, destination)
            except OSError:
                if not destination.is_dir():
                    raise
                # another process published it meanwhile (renaming onto a non-empty folder fails): theirs stays
            _fsync_dir(destination.parent)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def published_folder(destination: Path) -> Path | None:
    """The complete version of a folder written by :func:`publish_folder`, to read: ``destination``, or
    ``<destination>.old`` after a crash between the two renames; None if there is none."""
    destination = Path(destination)
    _remove_leftovers(destination)
    if destination.is_dir():
        return destination
    old = _old(destination)
    return old if old.is_dir() else None


def remove_published_folder(destination: Path) -> None:
    """Delete a folder written by :func:`publish_folder` with what a crash may have left of it (its ``.old``,
    the temporary folders of gone publishers), so that no version of it is found again."""
    destination = Path(destination)
    _remove_leftovers(destination)
    for path in (destination, _old(destination)):
        shutil.rmtree(path, ignore_errors=True)


def _swap_in(staging: Path, destination: Path) -> None:
    old = _old(destination)
    if old.exists():
        if destination.exists():
            shutil.rmtree(old)  # a crash after the swap, before its clean-up: destination is the newer one
        else:
            os.rename(old, destination)  # a crash between the renames: old is the last complete version
    if destination.exists():
        os.rename(destination, old)
        _fsync_dir(destination.parent)
    os.rename(staging, destination)
    _fsync_dir(destination.parent)
    if old.exists():
        shutil.rmtree(old)


def _old(destination: Path) -> Path:
    return destination.with_name(f"{destination.name}.old")


def _staging_prefix(destination: Path) -> str:
    return f"{destination.name}.tmp-"


def _owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _remove_leftovers(destination: Path) -> None:
    """Delete the temporary folders of publishers that are gone. Only this host's: a store on a shared
    filesystem may have publishers on other hosts, whose process ids mean nothing here."""
    if not destination.parent.is_dir():
        return
    prefix, host = _staging_prefix(destination), socket.gethostname()
    for entry in destination.parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        owner = entry.name[len(prefix):]
        if owner.isdigit():  # <name>.tmp-<pid>: the form checkpoints used before the host was named
            pid = int(owner)
        else:
            parts = owner.rsplit("-", 2)  # <host>-<pid>-<random>; a host name may hold dashes
            if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                continue
            pid = int(parts[1])
        if pid != os.getpid() and not _process_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # it exists, it is someone else's
    except (OSError, OverflowError):
        return False
    return True


def _make_readable_and_durable(root: Path) -> None:
    """fsync every file and folder under ``root`` (bottom-up, so that each folder's entries are durable before
    it is renamed); add read (and, for folders, search) permission for everyone: mkdtemp and some writers
    (safetensors) make private files, and published artifacts are for everyone to read."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) | 0o444)
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        os.chmod(folder, stat.S_IMODE(os.stat(folder).st_mode) | 0o755)
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    # Makes renames and new entries durable; not every platform can open a folder (Windows), which is fine.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- locks


@contextlib.contextmanager
def file_lock(path: Path, wait: bool = True) -> Iterator[bool]:
    """An exclusive advisory lock on ``path`` (created if missing), released on exit and by the kernel when the
    holder dies, so a crashed run never leaves a stale lock. With ``wait=False`` it yields False when taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
