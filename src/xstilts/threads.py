"""Sharing a run's CPU threads between parallel workers, deterministically.

A run has a thread budget (``runtime.threads``, default all cores). With parallel workers, a node's thread count
is fixed by the plan, never by timing, because a different thread count changes floating-point sums and so the
trained weights:

- an *upstream* stage (one that other stages start from: MLM pretraining, an intermediate stage) runs alone, on
  the whole budget; no other node of the store runs meanwhile;
- every other node (a target stage, an evaluation) runs on ``budget // workers`` threads, beside the others.

"Alone" is a shared/exclusive file lock in the store (``exclusive`` below): leaves hold it shared, an upstream
stage holds it exclusively. Without parallel workers nothing here is active and the run uses its budget.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

_budget: int = 0
_workers: int = 0


def share(budget: int, workers: int) -> None:
    """Make this process one of ``workers`` processes sharing ``budget`` threads (0, 0: not shared)."""
    global _budget, _workers
    _budget, _workers = budget, workers


def shared() -> bool:
    return _workers > 1


@contextlib.contextmanager
def node_slot(lock_path: Path, upstream: bool) -> Iterator[bool]:
    """Enter the store's run slot for one node: exclusively for an upstream stage, shared otherwise. Yields
    False (at once) if the slot is not free, so the worker can look for other work; sets this process's
    threads to the node's fixed share when it yields True."""
    if not shared():
        yield True
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_EX if upstream else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            import torch

            torch.set_num_threads(_budget if upstream else max(1, _budget // _workers))
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
