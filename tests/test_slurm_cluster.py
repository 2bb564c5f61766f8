"""The slurm executor against a real SLURM: the single-node cluster of ``.ci/slurm/start`` (CI starts it; a
developer runs ``sudo .ci/slurm/start``). Skipped where that cluster is not running.

Each test has its own submitit folder and store. Job order is checked from SLURM's own job records (dependency,
eligible, start and end times), never from how long anything took.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import tiny_model_yaml
from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.studies.runner import run_study
from xstilts.studies.stage import training_starts

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

REPO = Path(__file__).resolve().parents[1]
SLURM_DIR = Path(os.environ.get("XSTILTS_SLURM_DIR", "/tmp/xstilts-slurm"))

STAGE = ("{{sources: [{{task: {task}, max_examples: 32}}], steps: 3, batch_size: 16, max_length: 32, "
         "optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}}}")
STUDY = (
    f"name: slurm-cluster\n{tiny_model_yaml()}stages:\n"
    f"  first: {STAGE.format(task='mock-nli')}\n"
    f"  second: {STAGE.format(task='mock-pos')}\n"
    "pipelines:\n  only: [first]\n"
    "evaluate: {max_examples: 8, languages: [en, de]}\nruntime: {progress: false, threads: 1}\n"
)
BROKEN_TASK = """
tasks:
  broken: {family: classification, files: "data/{split}-{language}.jsonl", splits: {train: [en], test: [en]},
           labels: [neg, pos]}
"""


@pytest.fixture(scope="module")
def slurm_cluster():
    """The running local cluster: its client settings in this process's environment (SLURM_CONF, and its
    ``bin/sacct`` first on the PATH), inherited by submitit's sbatch and by the jobs."""
    pytest.importorskip("submitit", reason="submitit is not installed: pip install 'xstilts[slurm]'")
    status = subprocess.run([str(REPO / ".ci" / "slurm" / "status")], capture_output=True, text=True,
                            env={**os.environ, "XSTILTS_SLURM_DIR": str(SLURM_DIR)})
    if status.returncode != 0:
        pytest.skip(f"no local SLURM cluster ({(status.stdout + status.stderr).strip()}); start one with "
                    "`sudo .ci/slurm/start` (README: Running on a cluster)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", str(SLURM_DIR / "slurm.conf"))
        patch.setenv("PATH", f"{SLURM_DIR / 'bin'}{os.pathsep}{os.environ['PATH']}")
        yield SLURM_DIR


@pytest.fixture(autouse=True)
def no_endless_wait():
    """A guard, not a measurement: a run that waits for a job that will never end (the bugs these tests keep
    away) fails after 5 minutes instead of holding CI until its limit. Every run here takes seconds."""
    import signal

    def give_up(signum, frame):
        raise TimeoutError("the run did not end within 5 minutes: it waits for jobs that will never end")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(300)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def study_in(tmp_path: Path, data: dict | None = None, **slurm):
    data = data or yaml.safe_load(STUDY)
    data["store"] = str(tmp_path / "runs")
    data["runtime"]["slurm"] = {"cluster": "slurm", "folder": str(tmp_path / "jobs"), "poll_s": 0.2,
                                "cpus_per_task": 1, "time_min": 10, **slurm}
    return parse_study(data, base=tmp_path)


def records(store: Path) -> dict[str, dict]:
    """The store's job records by node name: what the executor submitted."""
    found = (json.loads(p.read_text()) for p in (store / "jobs").glob("*.json"))
    return {record["node"]: record for record in found}


def slurm_job(job_id: str) -> dict[str, str]:
    """SLURM's record of a job (``scontrol show job``), as its key=value fields."""
    text = subprocess.run(["scontrol", "--oneliner", "show", "job", job_id], capture_output=True, text=True,
                          check=True).stdout
    return dict(field.split("=", 1) for field in text.split() if "=" in field)


def ended_job(job_id: str) -> dict[str, str]:
    """SLURM's record of a job once it has ended: a job's result is written just before its process exits, so
    the run may return while SLURM still says RUNNING or COMPLETING for a moment."""
    import time

    from xstilts.studies.executors.slurm_executor import ENDED_STATES

    for _ in range(600):
        job = slurm_job(job_id)
        if job["JobState"] in ENDED_STATES:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} has not ended: {job}")


def starts_per_stage(store: Path) -> dict[str, int]:
    return {p.name: len(training_starts(p)) for p in store.iterdir() if (p / "config.yaml").exists()}


def test_jobs_wait_for_their_parents_through_afterok(xstilts_home, slurm_cluster, tmp_path):
    data = yaml.safe_load(STUDY)
    data["pipelines"] = {"chain": ["first", "second"]}  # three jobs in a row: first, second, its evaluations
    messages: list[str] = []
    rows = run_study(study_in(tmp_path, data), tmp_path / "out", messages.append, executor="slurm")
    assert rows and (tmp_path / "out" / "results.csv").exists()
    assert set(starts_per_stage(tmp_path / "runs").values()) == {1} and len(starts_per_stage(tmp_path / "runs")) == 2

    jobs = {name: record["job_id"] for name, record in records(tmp_path / "runs").items()}
    chain = [jobs["stage 'first' (seed 0)"], jobs["stage 'second' (seed 0)"], jobs["evaluations of stage 'second' "
                                                                                    "(seed 0)"]]
    slurm = [ended_job(job_id) for job_id in chain]
    assert [job["JobState"] for job in slurm] == ["COMPLETED"] * 3
    for i in range(1, len(chain)):
        parent_id, parent, child_id, child = chain[i - 1], slurm[i - 1], chain[i], slurm[i]
        script = (tmp_path / "jobs" / f"{child_id}_submission.sh").read_text()
        assert f"#SBATCH --dependency=afterok:{parent_id}\n" in script
        assert "#SBATCH --kill-on-invalid-dep=yes" in script
        # SLURM made the child eligible, and started it, only once its parent had ended.
        assert child["EligibleTime"] >= parent["EndTime"] and child["StartTime"] >= parent["EndTime"]
    assert sum(m.startswith("submitted") for m in messages) == 3, messages


def write_broken_data(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    good = json.dumps({"id": "a", "text": "ka lo", "label": "pos"})
    bad = json.dumps({"id": "b", "text": "mi", "label": "maybe"})
    (tmp_path / "data" / "train-en.jsonl").write_text(f"{good}\n{bad}\n")
    (tmp_path / "data" / "test-en.jsonl").write_text(good + "\n")


def test_a_failing_parent_cancels_its_dependent_and_names_the_node_and_its_log(xstilts_home, slurm_cluster,
                                                                                  tmp_path, monkeypatch):
    """Also on a cluster without accounting: with the real sacct ("accounting storage is disabled"), where job
    states read through sacct stay UNKNOWN, the run still ends (it once waited forever for the dependent)."""
    path = [entry for entry in os.environ["PATH"].split(os.pathsep) if Path(entry) != slurm_cluster / "bin"]
    monkeypatch.setenv("PATH", os.pathsep.join(path))  # bin/sacct off the PATH: the real sacct
    write_broken_data(tmp_path)
    data = yaml.safe_load(STUDY)
    data.update(yaml.safe_load(BROKEN_TASK))
    data["stages"] = {"bad": {**data["stages"]["first"], "sources": [{"task": "broken"}]}}
    data["pipelines"] = {"bad": ["bad"]}
    data["evaluate"]["languages"] = "all"
    with pytest.raises(XstiltsError) as error:
        run_study(study_in(tmp_path, data), tmp_path / "out", executor="slurm", base=tmp_path)
    jobs = {name: record["job_id"] for name, record in records(tmp_path / "runs").items()}
    parent, child = jobs["stage 'bad' (seed 0)"], jobs["evaluations of stage 'bad' (seed 0)"]
    message = str(error.value)
    assert message.startswith("1 job failed:\n  stage 'bad' (seed 0) (")
    assert (f"job {parent} failed: {tmp_path}/data/train-en.jsonl:2: label 'maybe' is not one of the task's "
            "labels") in message
    assert f"log: {tmp_path / 'jobs' / f'{parent}_0_log.err'}" in message
    assert "Traceback" not in message and "submitit" not in message
    assert "not run because their input failed: evaluations of stage 'bad' (seed 0)" in message
    assert not (tmp_path / "out" / "results.csv").exists()

    assert ended_job(parent)["JobState"] == "FAILED"
    dependent = ended_job(child)
    assert dependent["JobState"] == "CANCELLED" and dependent["Dependency"] == f"afterok:{parent}(failed)"
    assert not (tmp_path / "jobs" / f"{child}_0_log.err").exists()  # it never ran


def test_jobs_cancelled_or_lost_are_resubmitted_by_the_same_command(xstilts_home, slurm_cluster, tmp_path):
    study = study_in(tmp_path)
    assert run_study(study, tmp_path / "out", executor="slurm", wait=False) is None
    before = records(tmp_path / "runs")
    stage, evaluation = before["stage 'first' (seed 0)"], before["evaluations of stage 'first' (seed 0)"]
    # From outside: the stage's job is cancelled (SLURM then cancels its dependent), and the dependent's job is
    # lost (its record names a job SLURM never had, as after the controller forgot it).
    subprocess.run(["scancel", stage["job_id"]], check=True)
    lost = {**evaluation, "job_id": "67000000"}
    (tmp_path / "runs" / "jobs" / next(p.name for p in (tmp_path / "runs" / "jobs").glob("*.eval.json"))
     ).write_text(json.dumps(lost))

    messages: list[str] = []
    rows = run_study(study, tmp_path / "out", messages.append, executor="slurm")
    assert rows and (tmp_path / "out" / "results.csv").exists()
    after = records(tmp_path / "runs")
    assert after["stage 'first' (seed 0)"]["job_id"] not in (stage["job_id"],)
    assert after["evaluations of stage 'first' (seed 0)"]["job_id"] not in (evaluation["job_id"], "67000000")
    assert sum(m.startswith("submitted") for m in messages) == 2, messages
    assert not any("queued or running already" in m for m in messages), messages


def test_no_wait_returns_at_once_and_the_same_command_follows_the_jobs(xstilts_home, slurm_cluster, tmp_path):
    study = study_in(tmp_path)
    messages: list[str] = []
    assert run_study(study, tmp_path / "out", messages.append, executor="slurm", wait=False) is None
    assert any("2 jobs submitted, 2 queued or running" in m and "run the same command again" in m
               for m in messages), messages
    assert not (tmp_path / "out" / "results.csv").exists()
    submitted = {name: record["job_id"] for name, record in records(tmp_path / "runs").items()}

    messages.clear()
    rows = run_study(study, tmp_path / "out", messages.append, executor="slurm")
    assert rows and (tmp_path / "out" / "results.csv").exists()
    assert not any(m.startswith("submitted") for m in messages), messages  # followed, not submitted again
    assert any("queued or running already" in m for m in messages), messages
    assert {name: record["job_id"] for name, record in records(tmp_path / "runs").items()} == submitted
    assert set(starts_per_stage(tmp_path / "runs").values()) == {1}
    assert all(ended_job(job_id)["JobState"] == "COMPLETED" for job_id in submitted.values())


def test_a_refused_submission_is_a_clear_error(xstilts_home, slurm_cluster, tmp_path):
    with pytest.raises(XstiltsError) as error:
        run_study(study_in(tmp_path, partition="nope"), tmp_path / "out", executor="slurm")
    message = str(error.value)
    assert message.startswith("SLURM refused the job of stage 'first' (seed 0): ")
    assert "Invalid partition name specified" in message and "runtime.slurm (partition" in message
    assert "Traceback" not in message


class StopWaiting(Exception):
    pass


def test_a_job_pending_for_an_unusual_reason_is_said(xstilts_home, slurm_cluster, tmp_path):
    """A job that asks for more CPUs than the node has waits forever (PartitionConfig): the run says why."""
    def say(message: str) -> None:
        if "is pending (" in message:
            raise StopWaiting(message)

    try:
        with pytest.raises(StopWaiting) as stopped:
            run_study(study_in(tmp_path, cpus_per_task=64), tmp_path / "out", say, executor="slurm")
    finally:
        for record in records(tmp_path / "runs").values():
            subprocess.run(["scancel", record["job_id"]], check=True)
    job = records(tmp_path / "runs")["stage 'first' (seed 0)"]["job_id"]
    assert str(stopped.value) == (f"stage 'first' (seed 0): job {job} is pending (PartitionConfig); "
                                  f"`scontrol show job {job}` says why")


def test_a_recorded_job_is_live_only_while_slurm_queues_it_under_its_name(slurm_cluster, tmp_path):
    from xstilts.studies.executors.slurm_executor import recorded_job_live

    held = subprocess.run(["sbatch", "--parsable", "--hold", "--job-name=xstilts-stage-0123456789",
                           f"--output={tmp_path}/%j.out", "--wrap", "true"],
                          capture_output=True, text=True, check=True).stdout.strip()
    record = {"cluster": "slurm", "job_id": held, "name": "xstilts-stage-0123456789", "folder": str(tmp_path)}
    try:
        assert recorded_job_live(record)
        assert not recorded_job_live({**record, "name": "xstilts-stage-9876543210"})  # an id used again
        assert not recorded_job_live({**record, "job_id": "67000000"})  # one SLURM never had, or forgot
    finally:
        subprocess.run(["scancel", held], check=True)
    assert not recorded_job_live(record)


def test_the_sacct_wrapper_gives_submitit_every_state(slurm_cluster, tmp_path):
    """Without accounting, submitit's `sacct` call fails and every state reads UNKNOWN; bin/sacct answers it."""
    import submitit

    held = subprocess.run(["sbatch", "--parsable", "--hold", f"--output={tmp_path}/%j.out", "--wrap", "true"],
                          capture_output=True, text=True, check=True).stdout.strip()
    try:
        query = submitit.SlurmJob(folder=tmp_path, job_id=held).watcher._make_command()
        assert query[:4] == ["sacct", "-o", "JobID,State,NodeList", "--parsable2"]  # what the wrapper answers
        answer = subprocess.run(["sacct", "-o", "JobID,State,NodeList", "--parsable2", "-j", held, "-j", "67000000"],
                                capture_output=True, text=True, check=True).stdout
        assert submitit.slurm.slurm.SlurmInfoWatcher().read_info(answer) == {
            held: {"JobID": held, "State": "PENDING", "NodeList": ""}}
    finally:
        subprocess.run(["scancel", held], check=True)
    job = submitit.SlurmJob(folder=tmp_path, job_id=held)
    assert job.watcher.get_state(held, mode="force") == "CANCELLED" and job.done()
