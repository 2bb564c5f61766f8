"""What runs a study's plan: ``local`` (this process, or ``runtime.workers`` forked workers; see
``runner.drain``), ``ray`` (each node a Ray task) or ``slurm`` (each node a job submitted through submitit).

Every executor runs the same nodes (a stage, or the evaluations of one stage; ``nodes.py``) and they all meet
through the store and its locks: a node runs at most once whoever runs the study, and whatever stopped a run,
the same command resumes it.
"""

from __future__ import annotations

from typing import Any, Protocol

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean
from xstilts.studies.context import Context, Say

EXECUTORS = ("local", "ray", "slurm")
JobSpec = dict[str, Any]  # what a fresh process needs to rebuild the study (executors/nodes.job_spec)


class Executor(Protocol):
    """Runs a plan's pending nodes somewhere else than this process (each through ``run_once`` in its own
    process); True when every node is done and the results can be gathered, False when jobs were left
    running (``wait=False``)."""

    def __call__(self, context: Context, spec: JobSpec, say: Say, *, wait: bool = True) -> bool: ...


def run_ray(context: Context, spec: JobSpec, say: Say, *, wait: bool = True) -> bool:
    """Ray tasks; always waits (Ray gives nothing to follow later)."""
    from xstilts.studies.executors.ray_executor import run_with_ray

    runtime = context.study.runtime
    run_with_ray(context, spec, runtime.ray, runtime.threads, say)
    return True


def run_slurm(context: Context, spec: JobSpec, say: Say, *, wait: bool = True) -> bool:
    """SLURM jobs through submitit; ``wait=False`` returns once they are submitted."""
    from xstilts.studies.executors.slurm_executor import make_executor, run_with_submitit

    settings = context.study.runtime.slurm
    return run_with_submitit(context, spec, make_executor(settings), settings, say, wait=wait)


REMOTE: dict[str, Executor] = {"ray": run_ray, "slurm": run_slurm}


def check_executor(name: str) -> str:
    if name not in EXECUTORS:
        raise XstiltsError(f"unknown executor {name!r}: {did_you_mean(name, EXECUTORS)} "
                           "(local: this machine; ray: Ray tasks; slurm: SLURM jobs through submitit)")
    return name


def run_elsewhere(name: str, context: Context, spec: JobSpec, say: Say, wait: bool = True) -> bool:
    """Run the plan's pending nodes with the ``ray`` or ``slurm`` executor (see :class:`Executor`)."""
    if name not in REMOTE:
        raise XstiltsError(f"executor {name!r} runs in this process; run_elsewhere takes {' or '.join(REMOTE)}")
    return REMOTE[name](context, spec, say, wait=wait)
