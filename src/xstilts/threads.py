"""Sharing a run's CPU threads between parallel workers.

A run has a thread budget (``runtime.threads``, default all cores). Alone, a worker uses all of it; when
several workers are busy at once, each uses its share. Workers count themselves busy in a shared counter, and
the training loop calls :func:`rebalance` every step, so a long stage (MLM pretraining) that ran alone on all
threads gives half of them back as soon as a second worker starts a stage, and takes them again when it ends.
Without parallel workers nothing here is active.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_total: int = 0
_busy: Any = None  # a multiprocessing.Value("i") shared by the workers of one run


def share(total: int, busy_counter: Any) -> None:
    """Make this process one of the workers sharing ``total`` threads (called in every worker)."""
    global _total, _busy
    _total, _busy = total, busy_counter


@contextlib.contextmanager
def working() -> Iterator[None]:
    """Count this worker busy while it runs one node."""
    if _busy is None:
        yield
        return
    with _busy.get_lock():
        _busy.value += 1
    rebalance()
    try:
        yield
    finally:
        with _busy.get_lock():
            _busy.value -= 1


def rebalance() -> None:
    """Set this process's torch threads to its share of the budget (cheap: call it every step)."""
    if _busy is None:
        return
    import torch

    share_now = max(1, _total // max(1, _busy.value))
    if torch.get_num_threads() != share_now:
        torch.set_num_threads(share_now)
