"""Concurrency and crash safety of the local executor, with real processes: two `xstilts run` of one study at
once train every stage exactly once, and a run killed with SIGKILL in the middle of a grid resumes with the
same command to the results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

from helpers import tiny_model_yaml
from xstilts import faults
from xstilts.config.load import parse_study
from xstilts.studies.runner import run_study
from xstilts.studies.stage import training_starts

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _stage(task: str, steps: int, checkpoint_every: int = 200) -> str:
    return (f"{{sources: [{{task: {task}, max_examples: 96}}], steps: {steps}, batch_size: 16, max_length: 64, "
            f"optimizer: {{lr: 1.0e-3}}, selection: {{enabled: false}}, checkpoint_every: {checkpoint_every}}}")


def grid_study(name: str, target_steps: int, checkpoint_every: int) -> str:
    """One shared first stage (NLI) and three target stages after it: four stages, three pipelines."""
    return (
        f"name: {name}\n{tiny_model_yaml()}"
        "stages:\n"
        f"  first: {_stage('mock-nli', 8)}\n"
        f"  pos: {_stage('mock-pos', target_steps, checkpoint_every)}\n"
        f"  nli: {_stage('mock-nli', target_steps, checkpoint_every)}\n"
        f"  ner: {_stage('mock-ner', target_steps, checkpoint_every)}\n"
        "pipelines:\n  pos: [first, pos]\n  nli: [first, nli]\n  ner: [first, ner]\n"
        "evaluate: {max_examples: 24}\nruntime: {progress: false, threads: 1}\n"
    )


def _command(study_file: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "xstilts", "run", str(study_file), "--out", str(out), "--quiet"]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    env.pop(faults.ENV, None)
    return {**env, **extra}


def _stage_folders(store: Path) -> list[Path]:
    return sorted(p for p in store.iterdir() if (p / "config.yaml").exists())


def _parent(folder: Path) -> str | None:
    return yaml.safe_load((folder / "config.yaml").read_text())["parent"]


@pytest.mark.slow
def test_two_runs_of_one_study_train_every_stage_once(xstilts_home, tmp_path):
    study_file = tmp_path / "study.yaml"
    store = tmp_path / "runs"
    study_file.write_text(grid_study("together", target_steps=10, checkpoint_every=200) + f"store: {store}\n")
    processes = [subprocess.Popen(_command(study_file, tmp_path / f"out-{i}"), env=_env(), text=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(2)]
    outputs = [process.communicate(timeout=240)[1] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]

    folders = _stage_folders(store)
    assert len(folders) == 4
    for folder in folders:
        assert (folder / "DONE").exists() and not (folder / "state").exists()
        starts = training_starts(folder)
        assert len(starts) == 1 and not starts[0]["resuming"], f"{folder.name} trained {len(starts)} times"
        steps = [json.loads(line)["step"] for line in (folder / "log.jsonl").read_text().splitlines()
                 if '"loss"' in line]
        assert steps and steps == sorted(set(steps))
        json.loads((folder / "metrics.json").read_text())  # complete JSON: written atomically
        assert load_file(folder / "checkpoint" / "encoder" / "model.safetensors")  # a whole checkpoint
    # --quiet runs say nothing (the start records above are the proof that each stage trained once)
    assert outputs == ["", ""], "\n".join(outputs)
    first, second = ((tmp_path / f"out-{i}" / "results.csv").read_text() for i in range(2))
    assert first == second and len(first.splitlines()) > 1


@pytest.mark.slow
def test_a_grid_killed_mid_stage_resumes_with_the_same_command(xstilts_home, tmp_path):
    text = grid_study("killed", target_steps=20, checkpoint_every=5)
    study_file = tmp_path / "study.yaml"
    store = tmp_path / "runs"
    study_file.write_text(text + f"store: {store}\n")
    command = _command(study_file, tmp_path / "out")
    # The run kills itself (kill -9) right after step 12 of the first target stage to reach it (the shared
    # first stage has 8 steps), its state saved at step 10 on disk.
    killed = subprocess.run(command, env=_env(**{faults.ENV: "train.step@12:kill"}), capture_output=True,
                            text=True, timeout=240)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    done_before = {folder.name for folder in _stage_folders(store) if (folder / "DONE").exists()}
    (killed_in,) = [folder for folder in _stage_folders(store) if folder.name not in done_before]
    assert _parent(killed_in) is not None and (killed_in / "state").is_dir()
    assert len(done_before) >= 1

    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    for folder in _stage_folders(store):
        starts = training_starts(folder)
        if folder == killed_in:  # started, killed, resumed from its saved state
            assert [s["resuming"] for s in starts] == [False, True]
            assert json.loads((folder / "metrics.json").read_text())["resumed_from"] == 10
        else:  # finished before the kill (never trained again) or trained only by the second run
            assert [s["resuming"] for s in starts] == [False], folder.name
    assert len(_stage_folders(store)) == 4

    clean = parse_study({**yaml.safe_load(text), "store": str(tmp_path / "clean")})
    run_study(clean, tmp_path / "clean-out")
    assert (tmp_path / "out" / "results.csv").read_text() == (tmp_path / "clean-out" / "results.csv").read_text()
