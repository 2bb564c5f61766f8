"""Several processes (torchrun on CPU with gloo): the stage trains under DDP through accelerate, the main
process alone writes artifacts and evaluates, and the result has the same shape as a single-process run."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import by_tag, read_events, target_study_yaml

SRC = str(Path(__file__).resolve().parents[1] / "src")

STUDY = target_study_yaml(
    "ddp",
    evaluate=32,
    runtime="{progress: false, threads: 1}",
    sources="[{task: mock-nli, max_examples: 128}, {task: mock-pos, max_examples: 128}]",
    steps=12,
    batch_size=16,
    max_length=64,
    optimizer="{lr: 1.0e-3}",
    checkpoint_every=5,
    selection="{every: 6, max_examples: 32}",
)


@pytest.mark.slow
def test_two_process_run(tmp_path, xstilts_home):
    study = tmp_path / "study.yaml"
    study.write_text(STUDY + f"store: {tmp_path / 'runs'}\n")
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "xstilts", "run",
               str(study), "--out", str(tmp_path / "out"), "--quiet"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "out" / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["task"], r["language"]) for r in rows if r["main"] == "True"} == {
        ("mock-nli", "en"), ("mock-nli", "qad"), ("mock-pos", "en"), ("mock-pos", "qad")}
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert (stage / "DONE").exists() and not (stage / "state").exists()
    log_lines = (stage / "log.jsonl").read_text().splitlines()
    assert len([line for line in log_lines if '"loss"' in line]) == 12  # one writer, not two
    (board,) = (stage / "tensorboard").iterdir()  # the main process alone logs to TensorBoard
    assert len(list(board.glob("events.out.tfevents.*"))) == 1
    assert [step for step, _ in by_tag(read_events(board), "train/loss")] == list(range(1, 13))
