"""Executors: the ray and slurm (submitit) executors run every stage exactly once, give the numbers of a local
run, and a second run does nothing; a node runs alone from a job spec; the SLURM path orders jobs by
dependencies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import tiny_model_yaml
from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.studies.context import make_context
from xstilts.studies.node import plan_nodes
from xstilts.studies.runner import run_study
from xstilts.studies.stage import training_starts

STAGE = ("{{sources: [{{task: {task}, max_examples: 64}}], steps: {steps}, batch_size: 16, max_length: 48, "
         "optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}}}")
# A shared first stage and two stages after it: three stage nodes, two evaluation nodes.
STUDY = (
    f"name: executors\n{tiny_model_yaml()}stages:\n"
    f"  first: {STAGE.format(task='mock-nli', steps=6)}\n"
    f"  pos: {STAGE.format(task='mock-pos', steps=6)}\n"
    f"  nli: {STAGE.format(task='mock-nli', steps=6)}\n"
    "pipelines:\n  pos: [first, pos]\n  nli: [first, nli]\n"
    "evaluate: {max_examples: 16, languages: [en, qad]}\nruntime: {progress: false, threads: 1}\n"
)


def study_in(store: Path, **runtime):
    data = yaml.safe_load(STUDY)
    data["store"] = str(store)
    data["runtime"].update(runtime)
    return parse_study(data)


def starts_per_stage(store: Path) -> dict[str, int]:
    return {p.name: len(training_starts(p)) for p in store.iterdir() if (p / "config.yaml").exists()}


@pytest.fixture(scope="module")
def local_results(xstilts_home, tmp_path_factory) -> str:
    """results.csv of the study run by the local executor in its own store: the reference numbers."""
    root = tmp_path_factory.mktemp("local")
    run_study(study_in(root / "runs"), root / "out")
    return (root / "out" / "results.csv").read_text()


def test_unknown_executor_suggests_the_closest(xstilts_home, tmp_path):
    with pytest.raises(XstiltsError, match="unknown executor 'slrum': did you mean 'slurm'"):
        run_study(study_in(tmp_path / "runs"), tmp_path / "out", executor="slrum")


def test_executor_settings_are_checked_with_suggestions():
    from xstilts.errors import ConfigError

    data = yaml.safe_load(STUDY)
    data["runtime"].update(executor="rey", ray={"num_cpu": 2}, slurm={"cluster": "slrum"})
    with pytest.raises(ConfigError) as error:
        parse_study(data)
    message = str(error.value)
    assert "runtime.executor: 'rey' is not allowed; did you mean 'ray'?" in message
    assert "runtime.ray.num_cpu: unknown key; did you mean 'num_cpus'" in message
    assert "runtime.slurm.cluster: 'slrum' is not allowed; did you mean 'slurm'?" in message


@pytest.mark.parametrize(("module", "extra"), [("ray", "ray"), ("submitit", "slurm")])
def test_a_missing_extra_names_the_install_command(monkeypatch, module, extra):
    import sys

    from xstilts.studies.executors import ray_executor, slurm_executor

    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    importer = ray_executor.import_ray if module == "ray" else slurm_executor.import_submitit
    with pytest.raises(XstiltsError, match=rf"pip install 'xstilts\[{extra}\]'"):
        importer()


def test_a_node_runs_alone_from_its_job_spec_and_checks_its_input(xstilts_home, tmp_path):
    from xstilts.studies.executors.nodes import job_spec, run_node
    from xstilts.studies.node import plan_nodes

    study = study_in(tmp_path / "runs")
    spec = json.loads(json.dumps(job_spec(study)))  # plain data: what a job receives
    nodes = plan_nodes(make_context(study))
    assert [n.kind for n in nodes] == ["stage"] * 3 + ["eval"] * 2
    first, pos = nodes[0], next(n for n in nodes if n.name.startswith("stage 'pos'"))
    assert pos.parent == first.id
    with pytest.raises(XstiltsError, match="its input, stage 'first' .* is not done"):
        run_node(spec, pos.id)
    assert run_node(spec, first.id) == {"node": first.id, "name": first.name, "ran": True}
    assert run_node(spec, first.id)["ran"] is False
    assert starts_per_stage(tmp_path / "runs") == {first.id: 1}
    with pytest.raises(XstiltsError, match="not in the plan"):
        run_node(spec, "0" * 16)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance on the two cores, shared by the module's Ray tests (starting one takes seconds)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'xstilts[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 1024**2, log_to_driver=False,
             configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_runs_each_stage_once_with_the_numbers_of_a_local_run(xstilts_home, tmp_path, local_results,
                                                                  local_ray):
    store = tmp_path / "runs"
    messages: list[str] = []
    run_study(study_in(store), tmp_path / "out", messages.append, executor="ray")
    assert len(starts_per_stage(store)) == 3 and set(starts_per_stage(store).values()) == {1}
    assert (tmp_path / "out" / "results.csv").read_text() == local_results
    assert any("5 Ray tasks submitted" in m for m in messages), messages

    messages.clear()
    run_study(study_in(store), tmp_path / "again", messages.append, executor="ray")
    assert any("0 Ray tasks submitted" in m for m in messages), messages
    assert set(starts_per_stage(store).values()) == {1}
    assert (tmp_path / "again" / "results.csv").read_text() == local_results


BROKEN = """
tasks:
  broken: {family: classification, files: "data/{split}-{language}.jsonl", splits: {train: [en], test: [en]},
           labels: [neg, pos]}
"""


@pytest.mark.slow
def test_a_failing_ray_task_is_reported_with_its_node_and_error(xstilts_home, tmp_path, local_ray):
    (tmp_path / "data").mkdir()
    good = json.dumps({"id": "a", "text": "ka lo", "label": "pos"})
    (tmp_path / "data" / "train-en.jsonl").write_text(good + "\n" + json.dumps({"id": "b", "text": "mi",
                                                                                 "label": "maybe"}) + "\n")
    (tmp_path / "data" / "test-en.jsonl").write_text(good + "\n")
    data = yaml.safe_load(STUDY)
    data.update(yaml.safe_load(BROKEN), store=str(tmp_path / "runs"))
    data["stages"]["bad"] = {**data["stages"]["pos"], "sources": [{"task": "broken"}]}
    data["pipelines"] = {"nli": ["first", "nli"], "bad": ["first", "bad"]}
    data["evaluate"]["languages"] = "all"
    study = parse_study(data, base=tmp_path)
    with pytest.raises(XstiltsError) as error:
        run_study(study, tmp_path / "out", executor="ray", base=tmp_path)
    message = str(error.value)
    assert message.startswith("1 Ray task failed:")
    assert "stage 'bad' (seed 0)" in message and "train-en.jsonl:2" in message and "'maybe'" in message
    assert "not run because their input failed: evaluations of stage 'bad' (seed 0)" in message
    nodes = {n.name: n for n in plan_nodes(make_context(study))}
    assert nodes["evaluations of stage 'nli' (seed 0)"].finished(make_context(study))  # the rest finished


class FakeJob:
    def __init__(self, job_id: str):
        self.job_id = job_id


class FakeSlurmExecutor:
    """Records what would be submitted, with the parameters in force at each submission; runs nothing."""

    cluster = "slurm"

    def __init__(self):
        self.parameters: dict = {}
        self.submitted: list[tuple[str, dict]] = []

    def update_parameters(self, **parameters):
        self.parameters.update(parameters)

    def submit(self, function, spec, node_id, threads):
        self.submitted.append((node_id, dict(self.parameters)))
        return FakeJob(str(1000 + len(self.submitted)))


def test_slurm_jobs_wait_for_their_parents_jobs(xstilts_home, tmp_path, monkeypatch):
    from xstilts.studies.executors import slurm_executor
    from xstilts.studies.executors.nodes import job_spec
    from xstilts.studies.node import plan_nodes

    study = study_in(tmp_path / "runs", slurm={"additional": {"account": "lab"}, "folder": str(tmp_path / "jobs")})
    context = make_context(study)
    nodes = plan_nodes(context)
    ids = {n.id: n for n in nodes}
    fake = FakeSlurmExecutor()
    complete = slurm_executor.run_with_submitit(context, job_spec(study), fake, study.runtime.slurm,
                                               lambda message: None, wait=False)
    assert complete is False
    assert [node_id for node_id, _ in fake.submitted] == [n.id for n in nodes]  # all at once, parents first
    job_of = {node_id: str(1001 + i) for i, (node_id, _) in enumerate(fake.submitted)}
    for node_id, parameters in fake.submitted:
        sbatch = parameters["slurm_additional_parameters"]
        assert sbatch["account"] == "lab" and sbatch["kill_on_invalid_dep"] == "yes"
        parent = ids[node_id].parent
        if parent is None:
            assert "dependency" not in sbatch
        else:
            assert sbatch["dependency"] == f"afterok:{job_of[parent]}"
    records = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "runs" / "jobs").glob("*.json")}
    assert {node_id: r["job_id"] for node_id, r in records.items()} == job_of

    # Again while the jobs are queued or running: nothing is submitted twice.
    monkeypatch.setattr(slurm_executor, "recorded_job_live", lambda record: record is not None)
    again = FakeSlurmExecutor()
    slurm_executor.run_with_submitit(context, job_spec(study), again, study.runtime.slurm, lambda m: None, wait=False)
    assert again.submitted == []
    # Again after they ended without finishing (cancelled): everything is resubmitted, in order.
    monkeypatch.setattr(slurm_executor, "recorded_job_live", lambda record: False)
    third = FakeSlurmExecutor()
    slurm_executor.run_with_submitit(context, job_spec(study), third, study.runtime.slurm, lambda m: None, wait=False)
    assert [node_id for node_id, _ in third.submitted] == [n.id for n in nodes]
    assert slurm_executor.dependency_string(["7", "9"]) == "afterok:7:9"


def test_slurm_without_sbatch_says_how_to_run_locally(tmp_path, monkeypatch):
    pytest.importorskip("submitit", reason="submitit is not installed: pip install 'xstilts[slurm]'")
    import shutil

    from xstilts.config.schema import SlurmConfig
    from xstilts.studies.executors.slurm_executor import make_executor

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(XstiltsError, match="no `sbatch`.*cluster: local"):
        make_executor(SlurmConfig(folder=str(tmp_path)))


@pytest.mark.slow
def test_submitit_local_jobs_run_each_stage_once_with_the_numbers_of_a_local_run(xstilts_home, tmp_path,
                                                                                 local_results):
    pytest.importorskip("submitit", reason="submitit is not installed: pip install 'xstilts[slurm]'")
    store = tmp_path / "runs"
    slurm = {"cluster": "local", "folder": str(tmp_path / "jobs"), "poll_s": 0.2, "time_min": 10}
    messages: list[str] = []
    run_study(study_in(store, slurm=slurm), tmp_path / "out", messages.append, executor="slurm")
    assert sum("submitted" in m and "job" in m for m in messages) == 5, messages
    assert len(starts_per_stage(store)) == 3 and set(starts_per_stage(store).values()) == {1}
    assert (tmp_path / "out" / "results.csv").read_text() == local_results

    messages.clear()
    run_study(study_in(store, slurm=slurm), tmp_path / "again", messages.append, executor="slurm")
    assert not any(m.startswith("submitted") for m in messages), messages
    assert set(starts_per_stage(store).values()) == {1}
    assert (tmp_path / "again" / "results.csv").read_text() == local_results


def test_user_errors_survive_pickling_to_the_driver():
    """Ray sends a task's exception to the driver pickled: a DataError or ConfigError must arrive whole."""
    import pickle

    from xstilts.errors import ConfigError, DataError

    data = pickle.loads(pickle.dumps(DataError("train-en.jsonl", "label 'maybe' is unknown", 2)))
    assert (str(data), data.path, data.line) == ("train-en.jsonl:2: label 'maybe' is unknown", "train-en.jsonl", 2)
    config = pickle.loads(pickle.dumps(ConfigError(["a: bad", "b: worse"], "study.yaml")))
    assert config.problems == ["a: bad", "b: worse"] and str(config).startswith("study.yaml: 2 problems")


class FailedJob(FakeJob):
    def done(self):
        return True

    def exception(self):
        return RuntimeError("Traceback ...\nxstilts.errors.DataError: train-en.jsonl:2: simulated failure")


class FakeLocalExecutor(FakeSlurmExecutor):
    """submitit's local executor has no dependencies; here every job ends at once, failing."""

    cluster = "local"

    def submit(self, function, spec, node_id, threads):
        super().submit(function, spec, node_id, threads)
        return FailedJob(str(1000 + len(self.submitted)))


def test_without_dependencies_jobs_go_in_waves_and_a_failure_stops_the_branch(xstilts_home, tmp_path):
    from xstilts.studies.executors import slurm_executor
    from xstilts.studies.executors.nodes import job_spec

    study = study_in(tmp_path / "runs", slurm={"cluster": "local", "poll_s": 0.01, "folder": str(tmp_path)})
    context = make_context(study)
    fake = FakeLocalExecutor()
    with pytest.raises(XstiltsError) as error:
        slurm_executor.run_with_submitit(context, job_spec(study), fake, study.runtime.slurm, lambda m: None)
    first = plan_nodes(context)[0]
    assert [node_id for node_id, _ in fake.submitted] == [first.id]  # its children wait for it: never submitted
    assert all("slurm_additional_parameters" not in parameters for _, parameters in fake.submitted)
    message = str(error.value)
    assert message.startswith("1 job failed:\n  stage 'first' (seed 0)") and "simulated failure" in message
    assert ("not run because their input failed: stage 'pos' (seed 0), stage 'nli' (seed 0), evaluations of "
            "stage 'pos' (seed 0), evaluations of stage 'nli' (seed 0)") in message
