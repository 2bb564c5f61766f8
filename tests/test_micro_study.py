"""The default micro study, tiny variant, end to end (the test-suite twin of `xstilts run`)."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xstilts.config.load import load_study
from xstilts.studies.context import make_context
from xstilts.studies.runner import run_study

SRC = str(Path(__file__).resolve().parents[1] / "src")
TARGETS = ["copa", "ner", "pawsx", "pos", "qa", "xnli"]
LANGUAGES = {"en", "qaa", "qab", "qac", "qad", "qae"}


@pytest.fixture(scope="module")
def tiny_micro(xstilts_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("micro-tiny")
    study = load_study("micro", size="tiny")
    study.runtime.progress = False
    started = time.perf_counter()
    rows = run_study(study, out)
    return study, out, rows, time.perf_counter() - started


def test_every_target_language_and_pipeline(tiny_micro):
    study, out, rows, _ = tiny_micro  # its run time is measured in the README, not asserted (busy machines)
    with open(out / "results.csv") as handle:
        table = [r for r in csv.DictReader(handle) if r["main"] == "True"]
    for intermediate in ("none", "micro-tiny-nli", "micro-tiny-squad", "micro-tiny-choice"):
        for target in TARGETS:
            languages = {r["language"] for r in table
                         if r["task"] == f"micro-tiny-{target}" and r["intermediate"] == intermediate
                         and r["pretraining"] == "mlm"}
            assert languages == LANGUAGES, (intermediate, target)
    control = {r["task"] for r in table if r["pretraining"] == "none"}
    assert control == {f"micro-tiny-{t}" for t in TARGETS}
    retrieval = {(r["task"], r["language"]) for r in table if r["family"] == "retrieval"}
    assert retrieval == {(f"micro-tiny-{t}", lang) for t in ("tatoeba", "bucc") for lang in LANGUAGES - {"en"}}


def test_summary_has_the_paper_table(tiny_micro):
    _, out, _, _ = tiny_micro
    text = (out / "summary.md").read_text()
    assert "| target \\ intermediate | baseline (none) | choice | nli | squad | control (no pretraining) |" in text
    for target in TARGETS:
        assert f"\n| {target} | " in text
    assert "Zero-shot languages only" in text


def test_pretrain_command_reuses_the_study_mlm_stage(tiny_micro, xstilts_home):
    study = tiny_micro[0]
    (mlm,) = [n for n in make_context(study).plan.stages if n.name == "mlm"]
    result = subprocess.run([sys.executable, "-m", "xstilts", "micro", "pretrain", "--size", "tiny", "--quiet"],
                            capture_output=True, text=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin",
                                                                 "XSTILTS_HOME": str(xstilts_home)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(cached)" in result.stdout and mlm.key in result.stdout
