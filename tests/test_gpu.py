"""The GPU path: bf16 autocast through accelerate on a CUDA device. Skipped where there is none."""

from __future__ import annotations

import csv
import json

import pytest
import torch
import yaml

from helpers import tiny_model_yaml
from xstilts.config.load import parse_study
from xstilts.studies.runner import run_study

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

MODEL = tiny_model_yaml(hidden_size=64, num_layers=2, intermediate_size=128, vocab_size=600)
STUDY = yaml.safe_load("name: gpu\n" + MODEL + """\
stages:
  mlm: {sources: [{task: mock-mlm, languages: [en, qad]}], steps: 30, batch_size: 32, max_length: 64,
        optimizer: {lr: 2.0e-3}, selection: {enabled: false}}
  # 4 epochs of 2 x 200 examples: about 50 steps, enough for POS beyond 50% (measured 83% in fp32 on a CPU)
  target: {sources: [{task: mock-qa}, {task: mock-pos}], epochs: 4, batch_size: 32, max_length: 128,
           optimizer: {lr: 1.0e-3}, checkpoint_every: 10, selection: {max_examples: 40}}
pipelines:
  only: [mlm, target]
runtime: {device: cuda, precision: bf16, progress: false}
""")


def test_auto_picks_bf16_and_fused_adamw_on_a_gpu(xstilts_home, tmp_path):
    """precision: auto on a CUDA device of compute capability 8+ trains in bf16 with fused AdamW and SDPA, and
    says so in metrics.json and in every result row."""
    if not torch.cuda.is_bf16_supported(including_emulation=False):
        pytest.skip("this GPU has no native bf16 (compute capability < 8)")
    data = json.loads(json.dumps(STUDY))
    data.update(store=str(tmp_path / "runs"), pipelines={"only": ["target"]})
    data["runtime"] = {"device": "cuda", "precision": "auto", "progress": False}
    data["stages"]["target"].update(epochs=1)
    run_study(parse_study(data), tmp_path / "out")
    (stage,) = [folder for folder in (tmp_path / "runs").iterdir() if folder.is_dir()]
    metrics = json.loads((stage / "metrics.json").read_text())
    assert (metrics["precision"], metrics["device"]) == ("bf16", "cuda")
    assert metrics["runtime"]["fused_optimizer"] is True and metrics["runtime"]["attention"] == "sdpa"
    with open(tmp_path / "out" / "results.csv") as handle:
        assert {row["precision"] for row in csv.DictReader(handle)} == {"bf16"}


def test_bf16_study_on_gpu(xstilts_home, tmp_path):
    data = dict(STUDY, store=str(tmp_path / "runs"))
    run_study(parse_study(data), tmp_path / "out")
    with open(tmp_path / "out" / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["task"] for r in rows} == {"mock-qa", "mock-pos"}
    stages = [folder for folder in (tmp_path / "runs").iterdir() if folder.is_dir()]
    assert len(stages) == 2  # mlm, target
    for folder in stages:
        log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
        losses = [r["loss"] for r in log if "loss" in r]
        assert losses and all(loss == loss for loss in losses)  # finite, no NaN under bf16
    pos_en = [float(r["value"]) for r in rows if r["task"] == "mock-pos" and r["language"] == "en" and r["main"] == "True"]
    assert pos_en[0] > 50
