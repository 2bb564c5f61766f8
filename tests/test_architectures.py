"""The architecture matrix: every supported multilingual encoder, built tiny from its own config class and saved
as a hub-style folder (tests/architectures.py), loaded strictly by `name_or_path` and run through a tiny study
of every family (MLM where the tokenizer has a mask token, classification, tagging, span QA, multiple choice,
retrieval), resumed after a crash."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from architectures import ARCHITECTURES
from xstilts import faults
from xstilts.config.load import parse_study
from xstilts.errors import ConfigError
from xstilts.studies.runner import run_study

NAMES = list(ARCHITECTURES)
TASKS = ["mock-nli", "mock-pos", "mock-qa", "mock-choice"]


def study_yaml(folder, mlm: bool) -> dict:
    """MLM on en + qad (for a tokenizer with a mask token), then one stage training the four task families at
    once (a crash-safe state every 2 steps), evaluated on them and on retrieval in every test language."""
    stages = {
        "tasks": {
            "sources": [{"task": task, "max_examples": 12} for task in TASKS],
            "steps": 10, "batch_size": 4, "max_length": 64, "checkpoint_every": 2,
            "selection": {"enabled": False},
        },
    }
    if mlm:
        stages["mlm"] = {"sources": [{"task": "mock-mlm", "languages": ["en", "qad"], "max_examples": 12}],
                         "steps": 2, "batch_size": 4, "max_length": 32, "selection": {"enabled": False}}
    # mT5 runs here as its encoder alone, under the encoder families' heads (the encoder-only variant)
    model = {"name_or_path": str(folder), **({"kind": "encoder"} if folder.name == "mt5" else {})}
    return {
        "name": "matrix", "model": model, "stages": stages,
        "pipelines": {"main": {"stages": (["mlm"] if mlm else []) + ["tasks"], "evaluate": [*TASKS, "mock-retrieval"]}},
        "evaluate": {"max_examples": 6}, "runtime": {"progress": False, "threads": 1},
    }


# Glot500's 401k-piece vocabulary makes its study (tokenizer loads, MLM) several times slower than the others.
STUDIED = [pytest.param(n, marks=pytest.mark.slow) if n == "glot500" else n for n in NAMES]


def trained_families(monkeypatch) -> set[str]:
    """The families whose loss is computed from now on (each training step computes its source's)."""
    from xstilts.families import get_family

    seen: set[str] = set()
    for family in ("mlm", "classification", "tagging", "span_qa", "multiple_choice"):
        cls = type(get_family(family))

        def loss(self, outputs, batch, _real=cls.loss, _name=family):
            seen.add(_name)
            return _real(self, outputs, batch)

        monkeypatch.setattr(cls, "loss", loss)
    return seen


@pytest.mark.parametrize("name", STUDIED)
def test_tiny_study_of_every_family_with_resume(name, architecture_folder, tmp_path, monkeypatch):
    arch = ARCHITECTURES[name]
    trained = trained_families(monkeypatch)
    data = study_yaml(architecture_folder(name), mlm=arch.mlm)
    data["store"] = str(tmp_path / "runs")
    study = parse_study(data)
    # Crash after step 5 of the task stage (its state was saved at 4), then run again: it resumes.
    with faults.armed("train.step@5:raise"), pytest.raises(faults.InjectedFault):
        run_study(study, tmp_path / "out")
    run_study(study, tmp_path / "out")
    with open(tmp_path / "out" / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    seen = {(r["task"], r["language"]) for r in rows}
    for task in TASKS:
        assert {(task, "en"), (task, "qad")} <= seen, (task, seen)
    assert ("mock-retrieval", "qad") in seen
    assert trained == {"classification", "tagging", "span_qa", "multiple_choice"} | ({"mlm"} if arch.mlm else set())
    assert all(r["model"] == str(architecture_folder(name)) for r in rows)
    resumed = [json.loads(m.read_text()).get("resumed_from") for m in (tmp_path / "runs").glob("*/metrics.json")]
    assert 4 in resumed


def test_mt5_mlm_stage_is_a_config_error(architecture_folder, tmp_path):
    data = study_yaml(architecture_folder("mt5"), mlm=True)
    data["store"] = str(tmp_path / "runs")
    with pytest.raises(ConfigError, match="mask token") as caught:
        run_study(parse_study(yaml.safe_load(yaml.safe_dump(data))), tmp_path / "out")
    assert "stages.mlm" in str(caught.value)
    assert not list((tmp_path / "runs").glob("*/state"))


@pytest.mark.parametrize("name", [n for n in NAMES if n != "glot500"])
def test_plan_estimates_the_compute_of_every_node(name, architecture_folder, tmp_path):
    from xstilts.studies.context import make_context
    from xstilts.studies.plan_summary import plan_summary

    data = study_yaml(architecture_folder(name), mlm=ARCHITECTURES[name].mlm)
    data["store"] = str(tmp_path / "runs")
    summary = plan_summary(make_context(parse_study(data)))
    nodes = summary["nodes"] + summary["evaluation_nodes"]
    assert nodes and all(n["flops"] and n["seconds"] for n in nodes)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["modernbert", "deberta-v2", "mt5", "xlm-roberta-xl"])
def test_resumed_study_equals_the_uninterrupted_one(name, architecture_folder, tmp_path):
    import torch

    arch = ARCHITECTURES[name]
    results = {}
    for run in ("clean", "crash"):
        data = study_yaml(architecture_folder(name), mlm=arch.mlm)
        data["store"] = str(tmp_path / run)
        study = parse_study(data)
        if run == "crash":
            with faults.armed("train.step@5:raise"), pytest.raises(faults.InjectedFault):
                run_study(study, tmp_path / f"{run}-out")
        run_study(study, tmp_path / f"{run}-out")
        with open(tmp_path / f"{run}-out" / "results.csv") as handle:
            results[run] = list(csv.DictReader(handle))
    assert results["clean"] == results["crash"]
    from safetensors.torch import load_file

    # Lineage keys come from content, not from the store: the resumed stage has the same key in both stores.
    (key,) = [m.parent.name for m in (tmp_path / "crash").glob("*/metrics.json")
              if json.loads(m.read_text()).get("resumed_from") == 4]
    clean, resumed = (load_file(tmp_path / run / key / "checkpoint" / "encoder" / "model.safetensors")
                      for run in ("clean", "crash"))
    assert clean.keys() == resumed.keys() and all(torch.equal(clean[k], resumed[k]) for k in clean)
