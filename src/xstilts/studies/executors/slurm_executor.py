"""``--executor slurm``: every pending node is a job submitted through submitit, with the resources of
``runtime.slurm``.

On SLURM a node's job is submitted at once with ``dependency=afterok:<its parent's job>``, so SLURM starts it when
its input is done (and, with ``kill_on_invalid_dep``, cancels it if the input failed). An executor that cannot
express dependencies (submitit's local one) gets the jobs in waves: a node is submitted once its input is done.
Either way each job checks that its input is done before it starts (``nodes.run_node``).

Each submission is recorded in the store (``jobs/<node id>.json``), so running the same command again, after
``--no-wait`` or from another login, follows the jobs still queued or running instead of submitting them twice,
resubmits what ended without finishing (failed, cancelled, timed out, or lost: unknown to SLURM), and gathers the
results once everything is done.

Whether a SLURM job is still queued or running comes from ``squeue``, which knows every such job on any cluster,
with or without an accounting database (``sacct``, which submitit reads, fails without one). A job that has left
the queue is over: the node is done in the store, or the job's result file holds its error, or the job ended
without one (cancelled, timed out, out of memory), which SLURM's state and the job's log file say.
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.atomic import write_json_atomic
from xstilts.errors import XstiltsError
from xstilts.studies.executors.nodes import failure_report, run_node
from xstilts.studies.node import Node, plan_nodes

INSTALL_HINT = "pip install 'xstilts[slurm]'"
# SLURM states of a job that will not run (any more); anything else (PENDING, RUNNING, ...) is still live.
ENDED_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL",
                "DEADLINE", "PREEMPTED", "REVOKED", "SPECIAL_EXIT"}
# Why a job may wait that needs no one's attention; any other pending reason is said once (PartitionConfig: it
# asks for more than the partition has, QOSMaxJobsPerUserLimit, ...).
USUAL_PENDING = {"None", "Priority", "Resources", "Dependency", "BeginTime", "Prolog", "JobArrayTaskLimit"}
WHY_ENDED = {
    "CANCELLED": "cancelled (scancel, an administrator, or SLURM because its input's job failed)",
    "TIMEOUT": "stopped at its time limit (runtime.slurm.time_min)",
    "OUT_OF_MEMORY": "stopped for lack of memory (runtime.slurm.mem_gb)",
    "NODE_FAIL": "lost with its node (NODE_FAIL)",
    "BOOT_FAIL": "never started: its node failed to boot (BOOT_FAIL)",
    "PREEMPTED": "preempted",
    "DEADLINE": "stopped at its deadline",
}
SQUEUE_TIMEOUT_S = 120
OUTAGE_S = 600  # while following jobs, how long squeue may keep failing (a controller restarting) before giving up


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


def job_name(node: Node) -> str:
    """The SLURM job name of a node's job: how a recorded job id is told from another job with the same id."""
    return f"xstilts-{node.kind}-{node.stage_key[:10]}"


def job_parameters(executor, settings, node: Node, after: list[str]) -> dict[str, Any]:
    """Per-job submitit parameters: the job's name and, on SLURM, the sbatch options with its dependency."""
    parameters: dict[str, Any] = {"name": job_name(node)}
    if getattr(executor, "cluster", None) == "slurm":
        additional = {"kill_on_invalid_dep": "yes", **settings.additional}
        if after:
            additional["dependency"] = dependency_string(after)
        parameters["slurm_additional_parameters"] = additional  # replaced as a whole: no stale dependency
    return parameters


# --- what SLURM knows of a job ---------------------------------------------------------------------------------

@dataclass
class QueueEntry:
    state: str  # squeue's %T: PENDING, RUNNING, COMPLETED, CANCELLED, ...
    reason: str  # why it is pending, or how it ended (NonZeroExitCode)
    name: str


def squeue(job_ids: list[str]) -> dict[str, QueueEntry]:
    """What SLURM's controller knows of these jobs, by job id: every job queued or running, and those that ended
    less than ``MinJobAge`` ago (5 minutes by default). Jobs it does not know are left out. One call for all."""
    if not job_ids:
        return {}
    command = ["squeue", "--noheader", "--states=all", f"--jobs={','.join(job_ids)}", "--format=%i|%T|%r|%j"]
    try:
        answer = subprocess.run(command, capture_output=True, text=True, timeout=SQUEUE_TIMEOUT_S)
    except FileNotFoundError:
        raise XstiltsError("runtime.slurm.cluster is slurm, but this machine has no `squeue` to follow the jobs "
                           "with: run on a SLURM login node") from None
    except subprocess.TimeoutExpired:
        raise XstiltsError(f"`squeue` did not answer within {SQUEUE_TIMEOUT_S} s, so which jobs are still queued "
                           "is unknown; is SLURM's controller up (scontrol ping)? The jobs are recorded: run the "
                           "same command again to follow them") from None
    if answer.returncode != 0:
        if "Invalid job id" in answer.stderr:  # none of them is known
            return {}
        raise XstiltsError(f"`{' '.join(command)}` failed, so which jobs are still queued is unknown:\n"
                           f"{answer.stderr.strip()}\nIs SLURM's controller up (scontrol ping)? The jobs are "
                           "recorded: run the same command again to follow them")
    entries = {}
    for line in answer.stdout.splitlines():
        fields = line.strip().split("|", 3)
        if len(fields) == 4:
            entries[fields[0]] = QueueEntry(fields[1].split()[0] if fields[1] else "UNKNOWN", fields[2], fields[3])
    return entries


def entry_live(entry: QueueEntry | None, name: str | None) -> bool:
    """Whether a job SLURM lists is still queued or running, and is the job we submitted (``name``: job ids start
    again at 1 on a cluster whose controller was reset)."""
    if entry is None or (name is not None and entry.name != name):
        return False
    return entry.state not in ENDED_STATES


def submission_errors() -> tuple[type[BaseException], ...]:
    """What ``executor.submit`` raises when the job cannot be submitted (sbatch's refusal: FailedJobError)."""
    try:
        from submitit.core.utils import FailedJobError
    except ImportError:
        return (OSError, subprocess.SubprocessError)
    return (FailedJobError, OSError, subprocess.SubprocessError)


def cancel_job(record: dict[str, Any]) -> None:
    """Cancel a recorded job that must not run: it waits on a job of its input that ended without finishing."""
    if record["cluster"] == "slurm":
        subprocess.run(["scancel", str(record["job_id"])], capture_output=True, timeout=SQUEUE_TIMEOUT_S)


def _record_path(context, node_id: str) -> Path:
    return context.store.root / "jobs" / f"{node_id}.json"


def read_record(context, node_id: str) -> dict[str, Any] | None:
    import json

    path = _record_path(context, node_id)
    return json.loads(path.read_text()) if path.exists() else None


def recorded_job_live(record: dict[str, Any] | None) -> bool:
    """Whether a recorded job may still run the node: queued or running on SLURM (a job SLURM no longer lists, or
    lists under another name, is over), or a local job's process alive on this host."""
    if record is None:
        return False
    if record["cluster"] == "slurm":
        job_id = str(record["job_id"])
        return entry_live(squeue([job_id]).get(job_id), record.get("name"))
    if record.get("host") != socket.gethostname():
        return False  # a local job of another machine: it cannot be followed from here
    try:
        os.kill(int(record["job_id"]), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


# --- a job's error --------------------------------------------------------------------------------------------

def _tail(text: str, lines: int = 25) -> str:
    kept = text.strip().splitlines()
    return "\n".join((["..."] if len(kept) > lines else []) + kept[-lines:])


_EXCEPTION_LINE = re.compile(r"^(xstilts(?:\.\w+)*)\.(\w+): ", re.MULTILINE)


def user_error(trace: str) -> str | None:
    """The message of the XstiltsError that ended a job, from the traceback the job left; None when the job
    ended with another exception (a bug: its traceback is what helps)."""
    trace = trace.split("\n----------------------\nYou can check full logs")[0]  # submitit's FailedJobError
    matches = list(_EXCEPTION_LINE.finditer(trace))
    if not matches or "Traceback (most recent call last)" in trace[matches[-1].end():]:
        return None
    module, name = matches[-1].groups()
    try:
        kind = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    if not (isinstance(kind, type) and issubclass(kind, XstiltsError)):
        return None
    return trace[matches[-1].end():].strip().removesuffix("----------------------").strip()


def describe_trace(job_id: str, trace: str) -> str:
    message = user_error(trace)
    if message is not None:
        return f"job {job_id} failed: {message}"
    return f"job {job_id} failed with an error inside xstilts:\n{_tail(trace)}"


@dataclass
class Tracked:
    """A job this command follows: submitted by it (``job``, a submitit Job), or found live in the store's
    records (``job`` None)."""

    job_id: str
    job: Any = None
    record: dict[str, Any] | None = None
    said: str = ""  # the last pending reason said, so each is said once

    @property
    def folder(self) -> Path:
        return Path(self.record["folder"]) if self.record else Path(".")

    def logs(self) -> str:
        return f"log: {self.folder / f'{self.job_id}_0_log.err'} (and {self.job_id}_0_log.out beside it)"

    def result_file(self) -> Path:
        return self.folder / f"{self.job_id}_0_result.pkl"

    def local_done(self) -> bool:
        if self.job is not None:
            return self.job.done()
        return not recorded_job_live(self.record)

    def error(self, entry: QueueEntry | None = None) -> str:
        """Why the job ended without finishing its node, with its log file: the job's own error where it left
        one, else how SLURM ended it."""
        result = self.result_file()
        if result.exists():
            try:
                with result.open("rb") as file:
                    outcome, value = pickle.load(file)
            except Exception:  # a damaged result file: say how the job ended instead
                outcome, value = "unreadable", None
            if outcome == "error":
                return f"{describe_trace(self.job_id, str(value))}\n{self.logs()}"
            if outcome == "success":
                return self.not_in_store()
        if self.job is not None and (self.record or {}).get("cluster") != "slurm":
            failure = self.job.exception()  # a local job: submitit reads its error
            if failure is not None:
                return f"{describe_trace(self.job_id, str(failure))}\n{self.logs()}"
        if entry is not None and entry.reason == "DependencyNeverSatisfied":
            return f"job {self.job_id} never started: its input's job failed\n{self.logs()}"
        state = entry.state if entry is not None else self.accounted_state()
        if state == "COMPLETED":
            return self.not_in_store()
        if state == "UNKNOWN":
            return f"job {self.job_id} is gone: SLURM no longer knows it, and it did not finish\n{self.logs()}"
        why = WHY_ENDED.get(state, f"ended {state}")
        return f"job {self.job_id} {why} before it finished\n{self.logs()}"

    def not_in_store(self) -> str:
        return (f"job {self.job_id} finished, but the store does not show the node done: do the jobs share the "
                f"store's file system with this machine?\n{self.logs()}")

    def accounted_state(self) -> str:
        """The state sacct (through submitit) gives a job squeue no longer lists; UNKNOWN without accounting."""
        if (self.record or {}).get("cluster") != "slurm":
            return "UNKNOWN"
        import logging

        import submitit

        quiet = logging.getLogger("submitit")  # without accounting sacct fails, which submitit logs as a warning
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            job = submitit.SlurmJob(folder=self.folder, job_id=self.job_id)
            state = str(job.watcher.get_state(self.job_id, mode="force"))
        finally:
            quiet.setLevel(level)
        return (state.split() or ["UNKNOWN"])[0].upper()


# --- the driver ------------------------------------------------------------------------------------------------

def run_with_submitit(context, spec: dict[str, Any], executor, settings, say, wait: bool = True) -> bool:
    """Submit every pending node (see the module doc), then, with ``wait``, follow the jobs until every node is
    done. Returns True when everything is done; False when jobs were left to run (``wait=False``). Raises one
    XstiltsError naming every node whose job failed, with the job's error and log file."""
    nodes = {node.id: node for node in plan_nodes(context)}
    with_dependencies = getattr(executor, "cluster", None) == "slurm"
    cluster = getattr(executor, "cluster", "slurm")
    threads = context.study.runtime.threads or settings.cpus_per_task
    tracked: dict[str, Tracked] = {}
    failed: dict[str, str] = {}
    outage: dict[str, Any] = {}  # since when squeue has been failing, and whether that was said

    def submit(node: Node, after: list[str]) -> Tracked:
        executor.update_parameters(**job_parameters(executor, settings, node, after))
        try:
            job = executor.submit(run_node, spec, node.id, threads)
        except submission_errors() as error:
            queued = [f"{nodes[n].name} (job {t.job_id})" for n, t in tracked.items()]
            raise XstiltsError(
                (f"SLURM refused the job of {node.name}: {str(error).strip()}\nCheck runtime.slurm (partition, "
                 "time_min, cpus_per_task, gpus_per_node, mem_gb, additional) against the cluster (sinfo)"
                 if with_dependencies else f"the local job of {node.name} could not start: {error}")
                + (f"; jobs submitted before it stay queued and the same command follows them: {', '.join(queued)}"
                   if queued else "")) from None
        record = {"job_id": str(job.job_id), "cluster": cluster, "name": job_name(node),
                  "folder": str(Path(settings.folder).resolve()), "host": socket.gethostname(),
                  "submitted": time.time(), "node": node.name}
        write_json_atomic(_record_path(context, node.id), record)
        say(f"submitted {node.name}: job {job.job_id}" + (f" (after job {', '.join(after)})" if after else ""))
        return Tracked(str(job.job_id), job, record)

    def submit_ready() -> int:
        count = 0
        for node in nodes.values():
            if node.id in tracked or node.id in failed or node.finished(context):
                continue
            record = read_record(context, node.id)
            parent_resubmitted = (with_dependencies and node.parent in tracked
                                  and tracked[node.parent].job is not None)
            if recorded_job_live(record):
                if not parent_resubmitted:
                    tracked[node.id] = Tracked(record["job_id"], None, record)
                    say(f"{node.name}: job {record['job_id']} is queued or running already")
                    continue
                # It waits on its input's earlier job, which ended without finishing: it must wait on the new one.
                cancel_job(record)
                say(f"{node.name}: cancelled job {record['job_id']}, which waited on its input's earlier job")
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

    def ended() -> dict[str, QueueEntry | None]:
        """The tracked jobs that are over, with what squeue last said of each (None: it no longer lists it)."""
        if not with_dependencies:
            return {node_id: None for node_id, job in tracked.items() if job.local_done()}
        try:
            entries = squeue([job.job_id for job in tracked.values()])
        except XstiltsError as error:  # the controller may be restarting: the jobs go on meanwhile
            outage.setdefault("since", time.monotonic())
            if time.monotonic() - outage["since"] > OUTAGE_S:
                raise
            if not outage.get("said"):
                outage["said"] = True
                say(f"{error}\n(asking again every {settings.poll_s:g} s for {OUTAGE_S // 60} minutes)")
            return {}
        outage.clear()
        over: dict[str, QueueEntry | None] = {}
        for node_id, job in tracked.items():
            entry = entries.get(job.job_id)
            if not entry_live(entry, job.record.get("name") if job.record else None):
                over[node_id] = entry
            elif job.result_file().exists() and nodes[node_id].finished(context):
                over[node_id] = entry  # done; its process is ending
            elif entry.state == "PENDING" and entry.reason == "DependencyNeverSatisfied":
                # Its input's job failed; SLURM cancels such a job itself (kill_on_invalid_dep) unless the
                # cluster ignores that: then it would wait forever.
                cancel_job(job.record)
                over[node_id] = entry
            elif entry.state == "PENDING" and entry.reason not in USUAL_PENDING and entry.reason != job.said:
                job.said = entry.reason
                say(f"{nodes[node_id].name}: job {job.job_id} is pending ({entry.reason}); "
                    f"`scontrol show job {job.job_id}` says why")
        return over

    submitted = submit_ready()
    if not wait:
        later = [n for n in nodes.values() if n.id not in tracked and not n.finished(context)]
        say(f"{submitted} jobs submitted, {len(tracked)} queued or running"
            + (f"; {len(later)} nodes wait for their inputs: run the same command again once those are done to "
               "submit them" if later else "") + "; run the same command again to gather the results")
        return not tracked and not later
    while tracked:
        time.sleep(settings.poll_s)
        for node_id, entry in ended().items():
            job = tracked.pop(node_id)
            if nodes[node_id].finished(context):
                say(f"finished: {nodes[node_id].name} (job {job.job_id})")
            else:
                failed[node_id] = job.error(entry)
        submit_ready()
    if failed:
        raise XstiltsError(failure_report(nodes, failed, "job", "it resubmits only what is not done"))
    return True
