"""What runs a study's plan: ``local`` (this process, or ``runtime.workers`` forked workers; see
``runner.drain``), ``ray`` (each node a Ray task) or ``slurm`` (each node a job submitted through submitit).

Every executor runs the same nodes (a stage, or the evaluations of one stage; ``nodes.py``) and they all meet
through the store and its locks: a node runs at most once whoever runs the study, and whatever stopped a run,
the same command resumes it.
"""

from __future__ import annotations

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean

EXECUTORS = ("local", "ray", "slurm")


def check_executor(name: str) -> str:
    if name not in EXECUTORS:
        raise XstiltsError(f"unknown executor {name!r}: {did_you_mean(name, EXECUTORS)} "
                           "(local: this machine; ray: Ray tasks; slurm: SLURM jobs through submitit)")
    return name


def run_elsewhere(name: str, context, spec: dict, say, wait: bool = True) -> bool:
    """Run the plan's pending nodes with the ``ray`` or ``slurm`` executor. Returns True when every node is done
    (results can be gathered), False when jobs were left running (``wait=False``)."""
    runtime = context.study.runtime
    if name == "ray":
        from xstilts.studies.executors.ray_executor import run_with_ray

        run_with_ray(context, spec, runtime.ray, runtime.threads, say)
        return True
    if name == "slurm":
        from xstilts.studies.executors.slurm_executor import make_executor, run_with_submitit

        executor = make_executor(runtime.slurm)
        return run_with_submitit(context, spec, executor, runtime.slurm, say, wait=wait)
    raise XstiltsError(f"executor {name!r} runs in this process; run_elsewhere takes ray or slurm")
