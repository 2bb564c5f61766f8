"""Parallel local workers: several processes drain one plan together.

Each worker runs the same loop (``runner.drain``): take the next stage or evaluation group whose inputs are
done and whose lock nobody holds, run it, repeat. The store's per-node locks make sure no node runs twice,
whoever else is running the study (another worker, another ``xstilts run``, a cluster job). The extra workers
start from a fork server, not from a fork of this process: a process that has already run tensor work has a
live OpenMP thread pool, and a forked copy of it hangs in its first parallel region (GNU OpenMP is not
fork-safe), which happens whenever one Python process runs two studies. Each worker rebuilds the study's context
from its job spec (``executors.nodes``), as a Ray task or a SLURM job does. They share the run's thread budget (``xstilts.threads``): an upstream stage (MLM, an intermediate
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
from typing import Any

from xstilts.errors import XstiltsError
from xstilts.studies.activity import process_alive
from xstilts.threads import share

Drain = Callable[[Callable[[], bool]], None]  # drain(should_stop)


def run_with_workers(drain: Drain, workers: int, threads: int | None, spec: dict[str, Any]) -> None:
    """Run ``drain`` in this process and in ``workers - 1`` others (which rebuild the study from ``spec``, a
    ``executors.nodes.job_spec``) until the plan is done. ``threads`` is the budget they share (default: every
    core; see ``xstilts.threads``)."""
    context = multiprocessing.get_context("forkserver")
    # The server imports the heavy modules once and each worker forks from it with them loaded (an import,
    # unlike tensor work, starts no OpenMP pool, so the fork stays safe).
    context.set_forkserver_preload(["torch", "transformers", "datasets", "xstilts.studies.runner",
                                    "xstilts.studies.executors.nodes"])
    stop = context.Event()
    budget = threads or os.cpu_count() or 1
    share(budget, workers)
    children = [context.Process(target=_worker, args=(spec, stop, budget, workers, os.getpid()),
                                name=f"xstilts-worker-{index}")
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


def _worker(spec: dict[str, Any], stop, budget: int, workers: int, main_pid: int) -> None:
    share(budget, workers)
    try:
        import transformers

        from xstilts.studies.executors.nodes import context_from_spec
        from xstilts.studies.runner import drain

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        context = context_from_spec(spec)
        # Silent: the main process's live display shows what every worker does (from their activity files).
        drain(context, lambda message: None, lambda: stop.is_set() or not process_alive(main_pid))
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C reached the whole process group: the main process says what was kept
    except XstiltsError as error:
        sys.stderr.write(f"xstilts: error: {error}\n")
        sys.stderr.flush()
        sys.exit(2)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(1)
