"""``--executor slurm``: every pending node is a job submitted through submitit, with the resources of
``runtime.slurm``.

On SLURM a node's job is submitted at once with ``dependency=afterok:<its parent's job>``, so SLURM starts it when
its input is done (and, with ``kill_on_invalid_dep``, cancels it if the input failed). An executor that cannot
express dependencies (submitit's local one) gets the jobs in waves: a node is submitted once its input is done.
Either way each job checks that its input is done before it starts (``nodes.run_node``).

Each submission is recorded in the store (``jobs/<node id>.json``), so running the same command again, after
``--no-wait`` or from another login, follows the jobs still queued or running instead of submitting them twice,
resubmits what ended without finishing, and gathers the results once everything is done.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.atomic import write_json_atomic
from xstilts.errors import XstiltsError
from xstilts.studies.executors.nodes import Node, failure_report, node_finished, plan_nodes, run_node

INSTALL_HINT = "pip install 'xstilts[slurm]'"
# SLURM states of a job that will not run (any more); anything else (PENDING, RUNNING, ...) is still live.
ENDED_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL",
                "DEADLINE", "PREEMPTED", "REVOKED", "SPECIAL_EXIT"}
UNKNOWN_GRACE_S = 300  # sacct may not know a job for a moment after its submission


def import_submitit():
    try:
        import submitit
    except ImportError:
        raise XstiltsError(f"--executor slurm needs submitit, which is not installed: {INSTALL_HINT}") from None
    return submitit


def make_executor(settings):
    """A submitit executor for ``runtime.slurm``: SLURM itself, or local processes (``cluster: local``)."""
    submitit = import_submitit()
    if settings.cluster == "slurm" and shutil.which("sbatch") is None:
        raise XstiltsError("runtime.slurm.cluster is slurm, but this machine has no `sbatch`: run on a SLURM "
                           "login node, or set runtime.slurm.cluster: local to run the jobs as local processes")
    executor = submitit.AutoExecutor(folder=settings.folder, cluster=settings.cluster)
    parameters: dict[str, Any] = {"timeout_min": settings.time_min, "cpus_per_task": settings.cpus_per_task,
                                  "gpus_per_node": settings.gpus_per_node}
    if settings.mem_gb is not None:
        parameters["mem_gb"] = settings.mem_gb
    if settings.cluster == "slurm" and settings.partition:
        parameters["slurm_partition"] = settings.partition
    executor.update_parameters(**parameters)
    return executor


def dependency_string(job_ids: list[str]) -> str:
    """SLURM's ``--dependency`` value: start after every one of ``job_ids`` completed successfully."""
    return "afterok:" + ":".join(job_ids)


def job_parameters(executor, settings, node: Node, after: list[str]) -> dict[str, Any]:
    """Per-job submitit parameters: the job's name and, on SLURM, the sbatch options with its dependency."""
    parameters: dict[str, Any] = {"name": f"xstilts-{node.kind}-{node.stage_key[:10]}"}
    if getattr(executor, "cluster", None) == "slurm":
        additional = {"kill_on_invalid_dep": "yes", **settings.additional}
        if after:
            additional["dependency"] = dependency_string(after)
        parameters["slurm_additional_parameters"] = additional  # replaced as a whole: no stale dependency
    return parameters


@dataclass
class Tracked:
    """A job this command follows: submitted by it (``job``), or found live in the store's records."""

    job_id: str
    job: Any = None
    record: dict[str, Any] | None = None

    def done(self) -> bool:
        if self.job is not None:
            return self.job.done()
        return not recorded_job_live(self.record)

    def error(self) -> str:
        if self.job is not None:
            failure = self.job.exception()
            if failure is not None:
                return _tail(str(failure))
        folder = Path(self.record["folder"]) if self.record else Path(".")
        return (f"job {self.job_id} ended without finishing it; see its logs in {folder} "
                f"({self.job_id}_0_log.err, {self.job_id}_0_log.out)")


def _tail(text: str, lines: int = 25) -> str:
    kept = text.strip().splitlines()
    return "\n".join((["..."] if len(kept) > lines else []) + kept[-lines:])


def _record_path(context, node_id: str) -> Path:
    return context.store.root / "jobs" / f"{node_id}.json"


def read_record(context, node_id: str) -> dict[str, Any] | None:
    import json

    path = _record_path(context, node_id)
    return json.loads(path.read_text()) if path.exists() else None


def recorded_job_live(record: dict[str, Any] | None) -> bool:
    """Whether a recorded job may still run the node: queued or running on SLURM, or a local job's process
    alive on this host."""
    if record is None:
        return False
    if record["cluster"] == "slurm":
        import submitit

        state = str(submitit.SlurmJob(folder=record["folder"], job_id=record["job_id"]).state).upper()
        if state == "UNKNOWN":
            return time.time() - record.get("submitted", 0) < UNKNOWN_GRACE_S
        return state.split()[0] not in ENDED_STATES  # "CANCELLED by 1234"
    if record.get("host") != socket.gethostname():
        return False  # a local job of another machine: it cannot be followed from here
    try:
        os.kill(int(record["job_id"]), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def run_with_submitit(context, spec: dict[str, Any], executor, settings, say, wait: bool = True) -> bool:
    """Submit every pending node (see the module doc), then, with ``wait``, follow the jobs until every node is
    done. Returns True when everything is done; False when jobs were left to run (``wait=False``). Raises one
    XstiltsError naming every node whose job failed, with the job's error."""
    nodes = {node.id: node for node in plan_nodes(context)}
    with_dependencies = getattr(executor, "cluster", None) == "slurm"
    threads = context.study.runtime.threads or settings.cpus_per_task
    tracked: dict[str, Tracked] = {}
    failed: dict[str, str] = {}

    def submit(node: Node, after: list[str]) -> Tracked:
        executor.update_parameters(**job_parameters(executor, settings, node, after))
        job = executor.submit(run_node, spec, node.id, threads)
        record = {"job_id": str(job.job_id), "cluster": getattr(executor, "cluster", "slurm"),
                  "folder": str(Path(settings.folder).resolve()), "host": socket.gethostname(),
                  "submitted": time.time(), "node": node.name}
        write_json_atomic(_record_path(context, node.id), record)
        say(f"submitted {node.name}: job {job.job_id}" + (f" (after job {', '.join(after)})" if after else ""))
        return Tracked(str(job.job_id), job, record)

    def submit_ready() -> int:
        count = 0
        for node in nodes.values():
            if node.id in tracked or node.id in failed or node_finished(context, node):
                continue
            record = read_record(context, node.id)
            if recorded_job_live(record):
                tracked[node.id] = Tracked(record["job_id"], None, record)
                say(f"{node.name}: job {record['job_id']} is queued or running already")
                continue
            after: list[str] = []
            if node.parent is not None and not context.store.is_done(node.parent):
                if node.parent in failed:
                    failed[node.id] = f"not run: its input, {nodes[node.parent].name}, failed"
                    continue
                if not (with_dependencies and node.parent in tracked):
                    continue  # a later wave: submitted once its input is done
                after = [tracked[node.parent].job_id]
            tracked[node.id] = submit(node, after)
            count += 1
        return count

    submitted = submit_ready()
    if not wait:
        later = [n for n in nodes.values() if n.id not in tracked and not node_finished(context, n)]
        say(f"{submitted} jobs submitted, {len(tracked)} queued or running"
            + (f"; {len(later)} nodes wait for their inputs: run the same command again once those are done to "
               "submit them" if later else "") + "; run the same command again to gather the results")
        return not tracked and not later
    while tracked:
        time.sleep(settings.poll_s)
        for node_id, job in list(tracked.items()):
            if not job.done():
                continue
            del tracked[node_id]
            if node_finished(context, nodes[node_id]):
                say(f"finished: {nodes[node_id].name} (job {job.job_id})")
            else:
                failed[node_id] = job.error()
        submit_ready()
    if failed:
        raise XstiltsError(failure_report(nodes, failed, "job", "it resubmits only what is not done"))
    return True

