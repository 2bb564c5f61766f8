"""Parallel local workers: the same results as one process, every node run once, a failure ends the run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from helpers import tiny_model_yaml
from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.studies.runner import run_study

# Two independent first stages (one feeds a second stage), so two workers always have work at once.
STUDY = f"""
name: workers
{tiny_model_yaml()}stages:
  nli: {{sources: [{{task: mock-nli, max_examples: 96}}], steps: 12, batch_size: 16, max_length: 64,
         optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}}}
  pos: {{sources: [{{task: mock-pos, max_examples: 96}}], steps: 12, batch_size: 16, max_length: 64,
         optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}}}
  pos_after_nli: {{sources: [{{task: mock-pos, max_examples: 96}}], steps: 8, batch_size: 16, max_length: 64,
                   optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}}}
pipelines:
  nli: [nli]
  pos: [pos]
  nli-pos: [nli, pos_after_nli]
evaluate: {{max_examples: 24}}
"""


def _study(store: Path, workers: int):
    data = yaml.safe_load(STUDY)
    data["store"] = str(store)
    data["runtime"] = {"progress": False, "threads": 1, "workers": workers}
    return parse_study(data)


def _values(out: Path) -> dict[tuple[str, str, str], str]:
    with open(out / "results.csv", newline="") as handle:
        return {(r["pipeline"], r["language"], r["metric"]): r["value"] for r in csv.DictReader(handle)}


def test_two_workers_give_the_results_of_one_and_train_each_stage_once(xstilts_home, tmp_path):
    serial = run_study(_study(tmp_path / "serial", 1), tmp_path / "out-serial")
    parallel = run_study(_study(tmp_path / "parallel", 2), tmp_path / "out-parallel")
    assert len(parallel) == len(serial) > 0
    # Stage seeds come from lineage keys, not from which process ran the stage: the numbers are identical.
    assert _values(tmp_path / "out-parallel") == _values(tmp_path / "out-serial")
    stages = [path for path in (tmp_path / "parallel").iterdir() if (path / "DONE").exists()]
    assert len(stages) == 3
    for stage in stages:
        steps = [json.loads(line)["step"] for line in (stage / "log.jsonl").read_text().splitlines()
                 if "loss" in line]
        assert steps and steps == sorted(set(steps)), f"{stage.name} was trained more than once: steps {steps}"


def test_a_failing_worker_ends_the_run_with_an_error_and_a_rerun_finishes(xstilts_home, tmp_path):
    # a broken data file of the pos stages: whichever process takes them fails (workers share no memory
    # with the main process, so the failure must come from the data, as it would in a real run)
    data_root = tmp_path / "data"
    study = _study(tmp_path / "store", 2)
    study.data_root = str(data_root)
    from xstilts.tasks import get_task

    train = get_task("mock-pos").existing_path("train", "en", data_root)
    good = train.read_text()
    train.write_text(good.replace('"tags": [', '"tags": [7, ', 1))
    with pytest.raises(XstiltsError, match="mock-pos|train-en|parallel worker failed"):
        run_study(study, tmp_path / "out")
    assert not (tmp_path / "out" / "results.csv").exists()

    train.write_text(good)
    rows = run_study(study, tmp_path / "out")
    assert {row["pipeline"] for row in rows} == {"nli", "pos", "nli-pos"}
