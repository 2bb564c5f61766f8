"""Parallel local workers: several processes drain one plan together.

Each worker runs the same loop (``runner.drain``): take the next stage or evaluation group whose inputs are
done and whose lock nobody holds, run it, repeat. The store's per-node locks make sure no node runs twice,
whoever else is running the study (another worker, another ``xstilts run``, a cluster job). Workers are forked
from the main process before any tensor work, so they share the plan and the registered tasks without
pickling. They share the run's thread budget (``xstilts.threads``): an upstream stage (MLM, an intermediate
stage) runs alone on all of it, target stages and evaluations beside each other on equal shares (small
encoders scale better over processes than over threads), so the numbers never depend on timing.

If a worker fails, the others stop after their current node and the run ends with an error; nothing is lost:
the same command resumes, as after any crash.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable

from xstilts.errors import XstiltsError
from xstilts.threads import share

Drain = Callable[[Callable[[], bool]], None]  # drain(should_stop)


def run_with_workers(drain: Drain, workers: int, threads: int | None) -> None:
    """Run ``drain`` in this process and in ``workers - 1`` forked ones until the plan is done. ``threads``
    is the budget they share (default: every core; see ``xstilts.threads``)."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    budget = threads or os.cpu_count() or 1
    share(budget, workers)
    children = [context.Process(target=_worker, args=(drain, stop, budget, workers), name=f"xstilts-worker-{index}")
                for index in range(1, workers)]
    for child in children:
        child.start()

    def should_stop() -> bool:
        return stop.is_set() or any(child.exitcode not in (None, 0) for child in children)

    try:
        drain(should_stop)
    except BaseException:
        stop.set()
        for child in children:  # a stage killed mid-way resumes from its last saved state next time
            child.terminate()
        raise
    finally:
        for child in children:
            child.join()
        share(0, 0)  # this process is no longer one of a group of workers
    failed = [child for child in children if child.exitcode != 0]
    if failed:
        codes = ", ".join(f"{child.name} exited with {child.exitcode}" for child in failed)
        raise XstiltsError(f"a parallel worker failed ({codes}); its message is above. Fix the cause and run the "
                           "same command again: finished stages are kept and interrupted ones resume")


def _worker(drain: Drain, stop, budget: int, workers: int) -> None:
    share(budget, workers)
    parent = os.getppid()
    try:
        drain(lambda: stop.is_set() or os.getppid() != parent)
    except XstiltsError as error:
        sys.stderr.write(f"xstilts: error: {error}\n")
        sys.stderr.flush()
        os._exit(2)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)
