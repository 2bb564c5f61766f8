"""The loop's policies: schedule, early stopping, gradient accumulation, the training log; bad data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from helpers import target_study_yaml
from xstilts.config.load import parse_study
from xstilts.config.schema import OptimizerConfig, ScheduleConfig
from xstilts.errors import DataError, XstiltsError
from xstilts.studies.runner import run_study
from xstilts.training.optim import build_optimizer, build_schedule

SRC = str(Path(__file__).resolve().parents[1] / "src")

STUDY = yaml.safe_load(
    target_study_yaml(
        "loop",
        evaluate=16,
        sources="[{task: mock-paraphrase, max_examples: 96}]",
        steps=30,
        batch_size=8,
        grad_accumulation=2,
        max_length=48,
        optimizer="{lr: 1.0e-12}",
        selection="{every: 5, max_examples: 24, patience: 2}",
    )
)


def test_warmup_then_linear_decay():
    model = torch.nn.Linear(2, 2)
    optimizer = build_optimizer(model, OptimizerConfig(lr=1.0))
    schedule = build_schedule(optimizer, ScheduleConfig(warmup=0.2), total_steps=10)
    rates = []
    for _ in range(10):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    # warmup = 2 steps: factors 1/3, 2/3; then (10 - s) / 8 for s = 2..9
    expected = [1 / 3, 2 / 3] + [(10 - s) / 8 for s in range(2, 10)]
    assert rates == pytest.approx(expected)


def test_no_weight_decay_on_biases_and_norms():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LayerNorm(3))
    optimizer = build_optimizer(model, OptimizerConfig(weight_decay=0.1))
    decayed = {id(p) for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    assert decayed == {id(model[0].weight)}


def test_early_stopping_and_accumulation(xstilts_home, tmp_path):
    data = json.loads(json.dumps(STUDY))
    data["store"] = str(tmp_path / "runs")
    run_study(parse_study(data), tmp_path / "out")
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    metrics = json.loads((stage / "metrics.json").read_text())
    # lr 1e-12 leaves the dev score unchanged: evaluations at 5, 10, 15; no gain at 10 and 15 -> stop at 15
    assert metrics["stopped_early"] is True and metrics["steps"] == 15
    assert [h["step"] for h in metrics["history"]] == [5, 10, 15]
    assert metrics["best_step"] == 5
    log = [json.loads(line) for line in (stage / "log.jsonl").read_text().splitlines()]
    losses = [r for r in log if "loss" in r]
    assert [r["step"] for r in losses] == list(range(1, 16))
    assert all({"lr", "examples_per_s", "epoch"} <= r.keys() for r in losses)


def _study_on(data_root: Path, store: Path) -> dict:
    data = json.loads(json.dumps(STUDY))
    data.update(store=str(store), data_root=str(data_root))
    data["stages"]["target"].update(steps=2, optimizer={"lr": 1e-3})
    return data


@pytest.fixture()
def local_data(xstilts_home, tmp_path):
    from xstilts.tasks import get_task

    for name in ("mock-mlm", "mock-paraphrase"):
        get_task(name).ensure_files(xstilts_home / "data")
    local = tmp_path / "data"
    shutil.copytree(xstilts_home / "data", local)
    return local


def _train_file(data_root: Path) -> Path:
    from xstilts.tasks import get_task

    return get_task("mock-paraphrase").path("train", "en", data_root)


def test_malformed_line_names_file_and_line(local_data, tmp_path):
    path = _train_file(local_data)
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:-5]  # truncate the JSON of line 3
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        run_study(parse_study(_study_on(local_data, tmp_path / "runs")), tmp_path / "out")
    assert f"{path}:3: not valid JSON" in str(caught.value)


def test_label_outside_the_label_set(local_data, tmp_path):
    path = _train_file(local_data)
    lines = path.read_text().splitlines()
    record = json.loads(lines[4])
    record["label"] = "paraphrse"
    lines[4] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        run_study(parse_study(_study_on(local_data, tmp_path / "runs")), tmp_path / "out")
    message = str(caught.value)
    assert f"{path}:5:" in message and "'paraphrse'" in message and "not_paraphrase, paraphrase" in message


def test_missing_file_says_where_to_put_it(local_data, tmp_path):
    from xstilts.tasks import get_task
    from xstilts.tasks.base import Task

    task = get_task("mock-paraphrase")
    real = Task(**{**task.__dict__, "name": "copy", "prepare": None, "data_folder": "nowhere"})
    with pytest.raises(XstiltsError) as caught:
        real.load("train", "en", local_data)
    assert str(local_data / "nowhere" / "train-en.jsonl") in str(caught.value)
    assert "data_root" in str(caught.value)


def test_cli_reports_bad_data_without_traceback(local_data, tmp_path):
    path = _train_file(local_data)
    path.write_text("not json\n" + path.read_text())
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(_study_on(local_data, tmp_path / "runs")))
    result = subprocess.run([sys.executable, "-m", "xstilts", "run", str(study), "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin",
                                                                 "XSTILTS_HOME": str(tmp_path / "home")})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "not valid JSON" in result.stderr


def test_keep_heads_continues_the_previous_head_and_default_drops_it(xstilts_home, tmp_path):
    from safetensors.torch import load_file

    data = json.loads(json.dumps(STUDY))
    data["store"] = str(tmp_path / "runs")
    first = {"sources": [{"task": "mock-paraphrase", "max_examples": 64}], "steps": 6, "batch_size": 8,
             "max_length": 48, "optimizer": {"lr": 1e-3}, "selection": {"enabled": False}}
    # a second stage with a zero learning rate: whatever head it starts with is what it saves
    frozen = dict(first, optimizer={"lr": 1e-30, "weight_decay": 0.0}, steps=2)
    data["stages"] = {"first": first, "kept": dict(frozen, keep_heads=True), "fresh": frozen}
    data["pipelines"] = {"kept": ["first", "kept"], "fresh": ["first", "fresh"]}
    run_study(parse_study(data), tmp_path / "out")
    heads = {}
    for folder in (tmp_path / "runs").iterdir():
        if folder.is_dir():
            name = yaml.safe_load((folder / "config.yaml").read_text())["stage"]
            heads[name] = load_file(folder / "checkpoint" / "heads.safetensors")
    keys = list(heads["first"])
    assert keys and all(torch.allclose(heads["first"][k], heads["kept"][k], atol=1e-6) for k in keys)
    assert not all(torch.allclose(heads["first"][k], heads["fresh"][k], atol=1e-6) for k in keys)
