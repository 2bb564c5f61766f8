"""The slurm executor's handling of what SLURM says, without a cluster: squeue's answers, a job's error from its
result file or its state, and the order of cancelling and resubmitting. test_slurm_cluster.py runs the same
paths against a real SLURM."""

from __future__ import annotations

import json
import pickle
import stat
from pathlib import Path

import pytest
import yaml

from helpers import tiny_model_yaml
from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.studies.context import make_context
from xstilts.studies.executors import slurm_executor
from xstilts.studies.executors.nodes import job_spec
from xstilts.studies.executors.slurm_executor import QueueEntry, Tracked, user_error
from xstilts.studies.node import plan_nodes

STAGE = "{sources: [{task: mock-nli, max_examples: 16}], steps: 1, batch_size: 8, max_length: 32, selection: {enabled: false}}"
STUDY = (f"name: slurm-unit\n{tiny_model_yaml()}stages:\n  first: {STAGE}\n  second: {STAGE}\n"
         "pipelines:\n  chain: [first, second]\nevaluate: {max_examples: 8, languages: [en]}\n"
         "runtime: {progress: false, threads: 1}\n")


def study_in(tmp_path: Path):
    data = yaml.safe_load(STUDY)
    data["store"] = str(tmp_path / "runs")
    data["runtime"]["slurm"] = {"folder": str(tmp_path / "jobs"), "poll_s": 0.01}
    return parse_study(data)


TRACE = """Traceback (most recent call last):
  File "/x/submitit/core/submission.py", line 55, in process_job
    result = delayed.result()
  File "/x/xstilts/tasks/base.py", line 162, in load
    raise DataError(path, problem, line)
{last}
"""


def test_a_jobs_user_error_is_read_from_its_traceback():
    data_error = "xstilts.errors.DataError: /d/train-en.jsonl:2: label 'maybe' is not one of the task's labels"
    assert user_error(TRACE.format(last=data_error)) == data_error.split(": ", 1)[1]
    config = "xstilts.errors.ConfigError: study.yaml: 2 problems in the config:\n  - a: bad\n  - b: worse"
    assert user_error(TRACE.format(last=config)) == "study.yaml: 2 problems in the config:\n  - a: bad\n  - b: worse"
    elsewhere = "xstilts.data.download.Unreachable: example.org is unreachable"  # a subclass in another module
    assert user_error(TRACE.format(last=elsewhere)) == "example.org is unreachable"
    # Bugs keep their traceback: another exception, one from xstilts that is no XstiltsError, or a user error
    # during whose handling something else went wrong.
    assert user_error(TRACE.format(last="KeyError: 'labels'")) is None
    assert user_error(TRACE.format(last="xstilts.studies.store.RunStore: odd")) is None
    chained = TRACE.format(last=data_error) + "\nDuring handling of the above exception, another exception occurred:\n\n" \
        + TRACE.format(last="RuntimeError: boom")
    assert user_error(chained) is None
    # submitit's FailedJobError of a local job wraps the traceback between dashed lines.
    wrapped = ("Job (task=0) failed during processing with trace:\n----------------------\n"
               + TRACE.format(last=data_error) + "\n----------------------\nYou can check full logs with "
               "'job.stderr(0)' and 'job.stdout(0)'or at paths:\n  - /j/1_0_log.err\n  - /j/1_0_log.out")
    assert user_error(wrapped) == data_error.split(": ", 1)[1]


def test_a_jobs_error_names_its_log_and_how_slurm_ended_it(tmp_path, monkeypatch):
    record = {"cluster": "slurm", "job_id": "7", "folder": str(tmp_path), "name": "xstilts-stage-0123456789"}
    job = Tracked("7", None, record)
    log = f"log: {tmp_path / '7_0_log.err'} (and 7_0_log.out beside it)"
    with (tmp_path / "7_0_result.pkl").open("wb") as file:
        pickle.dump(("error", TRACE.format(last="xstilts.errors.DataError: d.jsonl:2: bad label")), file)
    failed = QueueEntry("FAILED", "NonZeroExitCode", record["name"])
    assert job.error(failed) == f"job 7 failed: d.jsonl:2: bad label\n{log}"
    with (tmp_path / "7_0_result.pkl").open("wb") as file:
        pickle.dump(("error", TRACE.format(last="ZeroDivisionError: division by zero")), file)
    bug = job.error(None)
    assert bug.startswith("job 7 failed with an error inside xstilts:\nTraceback") and bug.endswith(log)
    assert "ZeroDivisionError: division by zero" in bug

    (tmp_path / "7_0_result.pkl").unlink()  # ended without writing a result
    assert job.error(QueueEntry("TIMEOUT", "TimeLimit", record["name"])) == (
        f"job 7 stopped at its time limit (runtime.slurm.time_min) before it finished\n{log}")
    assert job.error(QueueEntry("CANCELLED", "None", record["name"])).startswith("job 7 cancelled (scancel")
    never = QueueEntry("PENDING", "DependencyNeverSatisfied", record["name"])
    assert job.error(never) == f"job 7 never started: its input's job failed\n{log}"
    monkeypatch.setattr(Tracked, "accounted_state", lambda self: "UNKNOWN")  # squeue and sacct forgot it
    assert job.error(None) == f"job 7 is gone: SLURM no longer knows it, and it did not finish\n{log}"
    monkeypatch.setattr(Tracked, "accounted_state", lambda self: "COMPLETED")
    assert job.error(None).startswith("job 7 finished, but the store does not show the node done")


def fake_squeue(tmp_path: Path, monkeypatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "squeue").write_text("#!/bin/sh\n" + script)
    (bin_dir / "squeue").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")


def test_squeue_answers_are_read_and_its_failures_are_clear(tmp_path, monkeypatch):
    fake_squeue(tmp_path, monkeypatch, 'echo "$@" > "$(dirname "$0")/args"\n'
                "echo '12|PENDING|DependencyNeverSatisfied|xstilts-eval-0123456789'\n"
                "echo '13|CANCELLED|None|xstilts-stage-0123456789'\n")
    entries = slurm_executor.squeue(["12", "13", "14"])
    assert entries == {"12": QueueEntry("PENDING", "DependencyNeverSatisfied", "xstilts-eval-0123456789"),
                       "13": QueueEntry("CANCELLED", "None", "xstilts-stage-0123456789")}
    assert (tmp_path / "bin" / "args").read_text().split() == [
        "--noheader", "--states=all", "--jobs=12,13,14", "--format=%i|%T|%r|%j"]
    assert slurm_executor.entry_live(entries["12"], "xstilts-eval-0123456789")
    assert not slurm_executor.entry_live(entries["12"], "xstilts-eval-9999999999")  # the id of another job
    assert not slurm_executor.entry_live(entries["13"], None) and not slurm_executor.entry_live(None, None)

    fake_squeue(tmp_path, monkeypatch, "echo 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n")
    assert slurm_executor.squeue(["67000000"]) == {}  # none known: all over
    fake_squeue(tmp_path, monkeypatch, "echo 'slurm_load_jobs error: Unable to contact slurm controller' >&2\n"
                                       "exit 1\n")
    with pytest.raises(XstiltsError, match="(?s)squeue.*failed.*Unable to contact slurm controller.*scontrol ping"):
        slurm_executor.squeue(["12"])


class FakeJob:
    def __init__(self, job_id: str):
        self.job_id = job_id


class FakeSlurmExecutor:
    """Records each submission with the parameters in force; runs nothing."""

    cluster = "slurm"

    def __init__(self, first_id: int = 1001):
        self.parameters: dict = {}
        self.submitted: list[tuple[str, dict]] = []
        self.next_id = first_id

    def update_parameters(self, **parameters):
        self.parameters.update(parameters)

    def submit(self, function, spec, node_id, threads):
        self.submitted.append((node_id, dict(self.parameters)))
        self.next_id += 1
        return FakeJob(str(self.next_id - 1))


def test_a_queued_job_of_a_resubmitted_input_is_cancelled_and_resubmitted_after_it(xstilts_home, tmp_path,
                                                                                     monkeypatch):
    """The first stage's job was lost while the second's still waits on it: the rerun resubmits the first stage
    and must not leave the second waiting on (or, once SLURM forgets the lost job, running after) the old one."""
    study = study_in(tmp_path)
    context = make_context(study)
    first, second, evaluation = plan_nodes(context)
    slurm_executor.run_with_submitit(context, job_spec(study), FakeSlurmExecutor(), study.runtime.slurm,
                                     lambda m: None, wait=False)  # jobs 1001, 1002, 1003
    monkeypatch.setattr(slurm_executor, "recorded_job_live", lambda record: record["job_id"] != "1001")
    cancelled: list[str] = []
    monkeypatch.setattr(slurm_executor, "cancel_job", lambda record: cancelled.append(record["job_id"]))
    again = FakeSlurmExecutor(first_id=2001)
    messages: list[str] = []
    slurm_executor.run_with_submitit(context, job_spec(study), again, study.runtime.slurm, messages.append,
                                     wait=False)
    assert [node_id for node_id, _ in again.submitted] == [first.id, second.id, evaluation.id]
    assert cancelled == ["1002", "1003"]  # each waited on a job that is being replaced
    dependency = {node_id: p["slurm_additional_parameters"].get("dependency") for node_id, p in again.submitted}
    assert dependency == {first.id: None, second.id: "afterok:2001", evaluation.id: "afterok:2002"}
    assert any("cancelled job 1002, which waited on its input's earlier job" in m for m in messages), messages


def test_a_job_that_can_never_start_is_cancelled_where_slurm_leaves_it_pending(xstilts_home, tmp_path,
                                                                                 monkeypatch):
    """Without kill_on_invalid_dep, a job whose input failed pends forever (DependencyNeverSatisfied): the
    run cancels it and ends with the failure instead of waiting for it."""
    study = study_in(tmp_path)
    context = make_context(study)
    first, second, evaluation = plan_nodes(context)
    names = {n.id: slurm_executor.job_name(n) for n in (first, second, evaluation)}
    monkeypatch.setattr(slurm_executor, "squeue", lambda ids: {
        "1001": QueueEntry("FAILED", "NonZeroExitCode", names[first.id]),
        "1002": QueueEntry("PENDING", "DependencyNeverSatisfied", names[second.id]),
        "1003": QueueEntry("PENDING", "DependencyNeverSatisfied", names[evaluation.id])})
    cancelled: list[str] = []
    monkeypatch.setattr(slurm_executor, "cancel_job", lambda record: cancelled.append(record["job_id"]))
    (tmp_path / "jobs").mkdir()
    with (tmp_path / "jobs" / "1001_0_result.pkl").open("wb") as file:
        pickle.dump(("error", TRACE.format(last="xstilts.errors.DataError: d.jsonl:2: bad label")), file)
    with pytest.raises(XstiltsError) as error:
        slurm_executor.run_with_submitit(context, job_spec(study), FakeSlurmExecutor(), study.runtime.slurm,
                                         lambda m: None)
    assert cancelled == ["1002", "1003"]
    message = str(error.value)
    assert message.startswith(f"1 job failed:\n  stage 'first' (seed 0) ({first.id}):\n    job 1001 failed: "
                              "d.jsonl:2: bad label\n    log: ")
    assert ("not run because their input failed: stage 'second' (seed 0), evaluations of stage 'second' (seed 0)"
            in message)
    records = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "runs" / "jobs").glob("*.json")}
    assert records[first.id]["name"] == names[first.id]  # how a rerun tells this job from another with its id


def test_following_jobs_outlasts_a_brief_squeue_outage_and_gives_up_on_a_long_one(xstilts_home, tmp_path,
                                                                                    monkeypatch):
    study = study_in(tmp_path)
    context = make_context(study)
    first, second, evaluation = plan_nodes(context)
    names = {n.id: slurm_executor.job_name(n) for n in (first, second, evaluation)}
    calls: list[int] = []

    def flaky_squeue(ids):
        calls.append(len(ids))
        if len(calls) <= 2:
            raise XstiltsError("`squeue` failed: Unable to contact slurm controller")
        return {"1001": QueueEntry("CANCELLED", "None", names[first.id]),
                "1002": QueueEntry("CANCELLED", "DependencyNeverSatisfied", names[second.id]),
                "1003": QueueEntry("CANCELLED", "DependencyNeverSatisfied", names[evaluation.id])}

    monkeypatch.setattr(slurm_executor, "squeue", flaky_squeue)
    messages: list[str] = []
    with pytest.raises(XstiltsError, match=r"(?s)^1 job failed:.*job 1001 cancelled \(scancel"):
        slurm_executor.run_with_submitit(context, job_spec(study), FakeSlurmExecutor(), study.runtime.slurm,
                                         messages.append)
    assert len(calls) == 3
    assert sum("Unable to contact slurm controller" in m and "asking again" in m for m in messages) == 1, messages

    calls.clear()
    monkeypatch.setattr(slurm_executor, "OUTAGE_S", -1)  # an outage longer than the run waits out
    study = study_in(tmp_path / "again")  # a fresh store: no records to look up before submitting
    with pytest.raises(XstiltsError, match="Unable to contact slurm controller"):
        slurm_executor.run_with_submitit(make_context(study), job_spec(study), FakeSlurmExecutor(),
                                         study.runtime.slurm, lambda m: None)
    assert calls == [3]  # the first look at the three submitted jobs
