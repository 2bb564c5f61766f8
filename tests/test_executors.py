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
from xstilts.studies.runner import make_context, run_study, training_starts

STAGE = ("{{sources: [{{task: {task}, max_examples: 64}}], steps: {steps}, batch_size: 16, max_length: 48, "
         "optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}}}")
# A shared first stage and two stages after it: three stage nodes, two evaluation nodes.
STUDY = (
    f"name: executors\n{tiny_model_yaml()}stages:\n"
    f"  first: {STAGE.format(task='mock-nli', steps=6)}\n"
    f"  pos: {STAGE.format(task='mock-pos', steps=6)}\n"
    f"  nli: {STAGE.format(task='mock-nli', steps=6)}\n"
    "pipelines:\n  pos: [first, pos]\n  nli: [first, nli]\n"
    "evaluate: {max_examples: 16, languages: [en, de]}\nruntime: {progress: false, threads: 1}\n"
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


def test_a_node_runs_alone_from_its_job_spec_and_checks_its_input(xstilts_home, tmp_path):
    from xstilts.studies.executors.nodes import job_spec, plan_nodes, run_node

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


@pytest.mark.slow
def test_ray_runs_each_stage_once_with_the_numbers_of_a_local_run(xstilts_home, tmp_path, local_results):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'xstilts[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 1024**2, log_to_driver=False,
             configure_logging=False)
    try:
        store = tmp_path / "runs"
        messages: list[str] = []
        run_study(study_in(store), tmp_path / "out", messages.append, executor="ray")
        assert starts_per_stage(store) == dict.fromkeys(starts_per_stage(store), 1)
        assert len(starts_per_stage(store)) == 3
        assert (tmp_path / "out" / "results.csv").read_text() == local_results
        assert any("5 Ray tasks submitted" in m for m in messages), messages

        messages.clear()
        run_study(study_in(store), tmp_path / "again", messages.append, executor="ray")
        assert any("0 Ray tasks submitted" in m for m in messages), messages
        assert set(starts_per_stage(store).values()) == {1}
        assert (tmp_path / "again" / "results.csv").read_text() == local_results
    finally:
        ray.shutdown()
