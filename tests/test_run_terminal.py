"""What `xstilts run` says: a short header (the config only with --show-config), a finish line per stage with
its dev score, results on stdout and everything else on stderr, nothing on stderr with --quiet, Ctrl-C saying
what was kept and the command that goes on, bad output folders and model paths refused before any work, and
degenerate results flagged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xstilts.reports.document import paper_blocks
from xstilts.reports.model import CHANCE_MARK, CONSTANT_MARK, build_report
from xstilts.reports.render import blocks_markdown
from xstilts.reports.results import normalise_row
from xstilts.studies.evaluate import constant_prediction

SRC = str(Path(__file__).resolve().parents[1] / "src")


def xstilts(*args: str, home: Path, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "XSTILTS_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "xstilts", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, **kwargs)


@pytest.mark.slow
def test_tiny_run_header_finish_lines_stdout_and_quiet(tmp_path):
    done = xstilts("run", "tiny", home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"stages"' not in done.stderr and "name: tiny" not in done.stderr  # no config dump
    assert "study tiny: tiny-xlmr; seeds 0; results -> xstilts-out/tiny" in done.stderr
    finished = [line for line in done.stderr.splitlines() if line.startswith("xstilts: done: stage")]
    assert len(finished) == 6  # mlm, intermediate and each target (ner, pos) with and without it: each once
    assert "a smoke test at toy size" in done.stderr  # the preset says so (smoke_test: true)
    assert any("dev " in line and " at step " in line for line in finished)
    assert "All test languages" in done.stdout and "All test languages" not in done.stderr  # results on stdout
    again = xstilts("run", "tiny", "--quiet", "--show-config", home=tmp_path / "home", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stderr.startswith("name: tiny\n")  # --show-config: the resolved config, as YAML, and nothing else
    assert "xstilts:" not in again.stderr
    assert "All test languages" in again.stdout
    quiet = xstilts("run", "tiny", "--quiet", home=tmp_path / "home", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.slow
def test_ctrl_c_says_what_was_kept_and_how_to_go_on(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC, "XSTILTS_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}

    def own_group_with_default_sigint() -> None:
        os.setpgrp()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen([sys.executable, "-m", "xstilts", "run", "micro", "--size", "tiny"], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=own_group_with_default_sigint)
    log = tmp_path / "home" / "runs"
    while not any(log.glob("*/log.jsonl")):  # training has started: the interrupt lands in the middle of work
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group, parallel workers included
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted:" in err and "stages are done and kept in" in err
    assert "run the same command again to go on: xstilts run micro --size tiny" in err


def test_unwritable_output_folder_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = xstilts("run", "tiny", "--out", str(blocker / "results"), home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot write the results to {blocker / 'results'}" in done.stderr
    assert not (tmp_path / "home" / "runs").exists()  # nothing ran


def test_missing_model_folder_is_refused_before_any_work(tmp_path):
    done = xstilts("run", "e5-check", "--model", "./no-such-model", home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "model.name_or_path: no model folder './no-such-model'" in done.stderr


def test_constant_prediction():
    assert constant_prediction(["a", "a", "a"]) and not constant_prediction(["a", "b", "a"])
    assert not constant_prediction(["a"]) and not constant_prediction([None, "a", None])  # one output: nothing to say
    assert constant_prediction([["O", "O"], ["O"]], per_word=True)
    assert not constant_prediction([["O", "B-PER"], ["O"]], per_word=True)
    assert constant_prediction([["x", "y"], ["x", "y"]])  # one ranking for every query
    assert not constant_prediction([["x", "y"], ["y", "x"]])


def row(language, value, chance, constant=False, intermediate="none"):
    return normalise_row({"task": "xnli", "language": language, "value": value, "metric": "accuracy",
                          "main": True, "seed": 0, "split": "test", "model": "m", "chance": chance,
                          "constant": constant, "intermediate": intermediate, "pretraining": "model",
                          "family": "classification", "eval_key": f"{language}-{intermediate}"})


def test_degenerate_cells_are_flagged_with_a_legend():
    rows = [row("en", 33.0, 33.3, constant=True), row("de", 30.0, 33.3),
            row("en", 60.0, 33.3, intermediate="mnli"), row("de", 50.0, 33.3, intermediate="mnli")]
    text = blocks_markdown(paper_blocks(build_report(rows, n_resamples=0, per_language=False)))
    assert f"| xnli | 31.5{CHANCE_MARK}{CONSTANT_MARK} | 55.0 (+23.5) |" in text
    assert "at or below chance" in text and "the same output" in text
