"""Run a study: build its plan, run every node that is not done with the chosen executor, and gather the
results (``results.csv``, ``example_scores.jsonl``, ``summary.md``, ``recipe.md``).

What a node is and how it runs once is :mod:`xstilts.studies.node`; this module only decides who runs the
nodes: this process alone (in plan order), this process with parallel workers, a torchrun/accelerate process
group, or the ray and slurm executors (:mod:`xstilts.studies.executors`). Nodes meet through the store, never
through memory, so any of them can run any node given only the plan and the store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from xstilts import threads
from xstilts.config.schema import StudyConfig
from xstilts.studies.context import Context, Say, make_context, quiet
from xstilts.studies.monitor import StudyMonitor
from xstilts.studies.node import plan_nodes, run_once
from xstilts.studies.processes import Processes
from xstilts.studies.results import write_results
from xstilts.studies.store import write_yaml_atomic


def run_study(study: StudyConfig, out_dir: Path, log: Say | None = None, *, executor: str | None = None,
              wait: bool = True, base: Path | None = None) -> list[dict[str, Any]] | None:
    """Run every pending node and write the results into ``out_dir``; returns the rows. ``executor`` (default
    ``runtime.executor``) is local, ray or slurm; ``base`` is the folder the study's relative task files are
    read from (the study file's; default: the working directory). With ``wait=False`` the slurm executor
    returns None once its jobs are submitted."""
    from xstilts.studies.executors import check_executor
    from xstilts.training.tracking import check_trackers_installed

    executor = check_executor(executor or study.runtime.executor)
    check_trackers_installed(study.runtime.trackers)  # before any stage trains or is submitted
    if executor != "local":
        return _run_elsewhere(study, out_dir, log or quiet, executor, wait, base)
    import torch
    import transformers

    # Per-file loading bars from transformers drown the stage progress; our own bar says enough.
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    if study.runtime.threads:
        torch.set_num_threads(study.runtime.threads)
    # One live display for the whole run (studies/monitor.py) replaces every stage's own progress bar, and
    # the nodes' start lines: it shows what each process does, workers included.
    show = study.runtime.progress
    study = study.model_copy(update={"runtime": study.runtime.model_copy(update={"progress": False})})
    context = make_context(study)
    runtime = study.runtime
    context.processes = Processes(use_cuda=runtime.device == "cuda" or (runtime.device == "auto"
                                                                        and torch.cuda.is_available()))
    main = context.processes.is_main
    say = (log or quiet) if main else quiet
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_yaml_atomic(out_dir / "study.yaml", study.model_dump(mode="json"))
    _announce(context, say)
    monitor = StudyMonitor(context, say) if show and main else nullcontext()
    node_say = quiet if show else say  # with the live display, the nodes' own lines would only repeat it
    with monitor:
        if context.processes.world > 1:
            _run_in_group(context, node_say)
        elif runtime.workers > 1:
            from xstilts.studies.executors.nodes import job_spec
            from xstilts.studies.workers import run_with_workers

            say(f"{runtime.workers} parallel workers sharing {runtime.threads or os.cpu_count()} threads")
            run_with_workers(lambda should_stop: drain(context, node_say, should_stop), runtime.workers,
                             runtime.threads, job_spec(study, base))
        else:
            drain(context, node_say)
    if not main:
        return []
    return write_results(context, out_dir)


def _announce(context: Context, say: Say, executor: str = "") -> None:
    from xstilts.training.tracking import viewing_hint

    pending = [n for n in context.plan.stages if not context.store.is_done(n.key)]
    say(f"{len(context.plan.stages)} stages ({len(pending)} to run), {len(context.plan.evaluations)} evaluations"
        + (f"; executor {executor}" if executor else ""))
    if pending and not executor and (hint := viewing_hint(context.study.runtime, context.store.root)):
        say(hint)


def _run_elsewhere(study: StudyConfig, out_dir: Path, say: Say, executor: str, wait: bool,
                   base: Path | None) -> list[dict[str, Any]] | None:
    """The driver of the ray and slurm executors: submit the nodes, wait, gather. It trains nothing itself."""
    from xstilts.studies.executors import run_elsewhere
    from xstilts.studies.executors.nodes import job_spec

    context = make_context(study)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_yaml_atomic(out_dir / "study.yaml", study.model_dump(mode="json"))
    _announce(context, say, executor)
    if not run_elsewhere(executor, context, job_spec(study, base), say, wait=wait):
        return None
    return write_results(context, out_dir)


def _run_in_group(context: Context, say: Say) -> None:
    """A torchrun/accelerate process group: every process trains each stage together, in plan order; the main
    process then evaluates alone."""
    nodes = plan_nodes(context)
    for node in nodes:
        if node.kind == "stage":
            run_once(context, node, say)
    if context.processes.is_main:  # evaluation needs no process group: the main process does it alone
        with context.processes.solo():
            for node in nodes:
                if node.kind == "eval":
                    run_once(context, node, say)
    context.processes.barrier()


def drain(context: Context, say: Say, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Run every node of the plan that is not done: the first ready one (its input done) that nobody else holds,
    again and again, in plan order. One process alone runs the plan in order; several (parallel workers, or
    other runs of the same study) share it through the store's locks, and none waits while it has work."""
    nodes = plan_nodes(context)
    # A stage others build on runs alone on this machine (all threads); the rest share it (threads.py).
    upstream = {node.parent for node in nodes if node.kind == "stage" and node.parent is not None}
    pending = list(nodes)
    while pending and not should_stop():
        ran = False
        for node in list(pending):
            if node.finished(context):
                pending.remove(node)
                continue
            if not node.ready(context):
                continue
            alone = node.kind == "stage" and node.id in upstream
            with threads.node_slot(context.store.root / "workers.lock", alone) as slot:
                outcome = run_once(context, node, say, wait=False) if slot else "busy"
            if outcome == "busy":
                continue
            pending.remove(node)
            ran = True
            break
        if pending and not ran:
            time.sleep(0.2)  # everything left is running elsewhere or waits for something that is
