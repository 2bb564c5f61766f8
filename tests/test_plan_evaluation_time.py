"""`xstilts plan` shows evaluation apart from training: forward-only FLOPs of every evaluation (with the splits
its scoring also embeds), by hand on a small plan, and times on one GPU (`--gpu`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.studies import estimate
from xstilts.studies.context import make_context
from xstilts.studies.plan_summary import plan_summary
from xstilts.tasks import get_task

SRC = str(Path(__file__).resolve().parents[1] / "src")

STUDY = """\
name: evaluation-time
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
seeds: [0]
stages:
  nli: {sources: [{task: mock-nli, max_examples: 40}], epochs: 1, batch_size: 8, max_length: 48}
pipelines:
  target: [nli]
  encoder: {stages: [], evaluate: [mock-retrieval]}
evaluate: {max_examples: 10, retrieval: {max_length: 64}}
"""


def test_evaluation_flops_apart_from_training_by_hand(xstilts_home, tmp_path):
    data = yaml.safe_load(STUDY)
    data["store"] = str(tmp_path / "store")
    summary = plan_summary(make_context(parse_study(data)), flops_per_second=estimate.gpu_flops_per_second("h200"))
    # One layer of hidden 32 and feed-forward 64: Q, K, V, O (weights and biases), the feed-forward in and out,
    # two LayerNorms.
    layer = 4 * (32 * 32 + 32) + (32 * 64 + 64) + (64 * 32 + 32) + 2 * 2 * 32
    (model,) = summary["models"].values()
    assert model["layer_parameters"] == layer
    # Evaluations: mock-nli's test set in each of its languages, at most 10 examples of the stage's 48 tokens,
    # 2 FLOPs per layer parameter and token (forward only).
    task = get_task("mock-nli")
    languages = task.splits["test"]
    examples = {language: sum(1 for line in task.path("test", language, xstilts_home / "data").read_text()
                              .splitlines() if line.strip()) for language in languages}
    tokens = sum(min(10, n) * 48 for n in examples.values())
    # mock-retrieval's qad test set: each of the first 10 examples' sentences (source and target, where there is
    # one) is one input of at most 64 tokens; the nearest protocol embeds no other split.
    retrieval = get_task("mock-retrieval")
    lines = retrieval.path("test", "qad", xstilts_home / "data").read_text(encoding="utf-8").splitlines()[:10]
    sentences = sum(json.loads(line).get(side) is not None for line in lines for side in ("source", "target"))
    assert 10 < sentences <= 20
    tokens += sentences * 64
    evaluation = summary["compute_evaluation"]
    assert evaluation["tokens"] == tokens
    assert evaluation["flops"] == 2 * layer * tokens
    assert evaluation["seconds"] == pytest.approx(2 * layer * tokens / (989e12 * 0.4))
    # The model as loaded trains nothing. Training: 1 epoch of 40 examples in batches of 8 = 5 steps of 8 x 48 tokens, 6 FLOPs per parameter and token.
    training = summary["compute_training"]
    assert training["tokens"] == 5 * 8 * 48 and training["flops"] == 6 * layer * 5 * 8 * 48
    assert summary["compute"]["flops"] == pytest.approx(training["flops"] + evaluation["flops"])
    assert summary["compute_evaluation_to_run"] == evaluation
    json.dumps(summary)


def test_a_mining_evaluation_counts_its_threshold_split(xstilts_home):
    study = parse_study(yaml.safe_load(STUDY))
    assert estimate.reference_splits(study, "bucc2018", "test") == ("dev",)
    assert estimate.reference_splits(study, "bucc2018", "dev") == ()  # the threshold split scores itself
    assert estimate.reference_splits(study, "tatoeba", "test") == ()
    assert estimate.reference_splits(study, "mock-nli", "test") == ()


def test_gpu_throughputs_are_a_stated_share_of_their_peaks():
    assert estimate.gpu_flops_per_second("H200") == 989e12 * estimate.GPU_UTILIZATION
    with pytest.raises(XstiltsError, match="--flops-per-second"):
        estimate.gpu_flops_per_second("tpu")


def test_cli_shows_training_and_evaluation_apart_on_one_gpu(xstilts_home, tmp_path):
    path = tmp_path / "study.yaml"
    data = yaml.safe_load(STUDY)
    data["store"] = str(tmp_path / "store")
    path.write_text(yaml.safe_dump(data))
    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "XSTILTS_HOME": str(xstilts_home)}
    result = subprocess.run([sys.executable, "-m", "xstilts", "plan", str(path), "--gpu", "h200"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    evaluations = len(get_task("mock-nli").splits["test"]) + 1  # and mock-retrieval in qad
    assert "  training: 1 stages to run" in result.stdout
    assert f"  evaluation: {evaluations} evaluations to run" in result.stdout
    assert "on one h200 (395.6TFLOP/s: 40% of its bf16 peak, assumed)" in result.stdout
    both = subprocess.run([sys.executable, "-m", "xstilts", "plan", str(path), "--gpu", "h200",
                           "--flops-per-second", "1e12"], capture_output=True, text=True, env=env)
    assert both.returncode != 0 and "not both" in both.stderr
