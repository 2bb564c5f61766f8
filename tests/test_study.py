"""End to end: the tiny study, skipping finished stages, tokenize-once, exact resume, NaN handling."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import target_study_yaml
from xstilts import faults
from xstilts.config.load import load_study, parse_study
from xstilts.errors import TrainingDiverged
from xstilts.studies.results_files import RESULT_COLUMNS
from xstilts.studies.runner import run_study
from xstilts.studies.stage import training_starts

SRC = str(Path(__file__).resolve().parents[1] / "src")

# One target stage, small enough for several runs per test file.
RESUME_STUDY = target_study_yaml(
    "resume",
    evaluate=40,
    sources="[{task: mock-nli, max_examples: 160}]",
    steps=24,
    batch_size=16,
    max_length=64,
    optimizer="{lr: 1.0e-3}",
    checkpoint_every=5,
    selection="{every: 8, max_examples: 40}",
)


def study_with_store(text: str, store: Path):
    data = yaml.safe_load(text)
    data["store"] = str(store)
    return parse_study(data)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def tiny_run(xstilts_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-out")
    study = load_study("tiny")
    study.runtime.progress = False
    study.runtime.threads = 1
    rows = run_study(study, out)
    return study, out, rows


def test_tiny_study_end_to_end(tiny_run):
    study, out, rows = tiny_run
    table = read_csv(out / "results.csv")
    assert list(table[0].keys()) == RESULT_COLUMNS
    assert len(table) == len(rows) > 0
    seen = {(r["pipeline"], r["task"], r["language"]) for r in table if r["main"] == "True"}
    # every target task evaluated in every test language, with and without the intermediate stage; retrieval in
    # qad only
    for intermediate in ("none", "intermediate"):
        for task in ("ner", "pos"):
            assert {(f"{intermediate}/{task}", f"mock-{task}", "en"), (f"{intermediate}/{task}", f"mock-{task}", "qad")} <= seen
    assert ("retrieval", "mock-retrieval", "qad") in seen
    pos_chance = [float(r["chance"]) for r in table if r["task"] == "mock-pos" and r["metric"] == "accuracy"]
    assert len(pos_chance) == 4 and all(abs(c - 100 / 14) < 1e-3 for c in pos_chance)  # 14 tags: a uniform guess
    assert all(r["zero_shot"] == "True" for r in table)
    bounded = [float(r["value"]) for r in table if r["metric"] != "perplexity"]
    assert bounded and all(0.0 <= value <= 100.0 for value in bounded)


def test_english_learns_beyond_chance(tiny_run):
    _, out, _ = tiny_run
    table = read_csv(out / "results.csv")

    def english(task: str) -> list[dict[str, str]]:
        return [r for r in table if r["task"] == task and r["language"] == "en" and r["main"] == "True"]

    assert len(english("mock-pos")) == 2 and min(float(r["value"]) for r in english("mock-pos")) > 5 * 100 / 14  # 14 tags
    # NER's main score is entity F1; its chance (a random tagger's F1, about 8) is computed from the test data.
    assert len(english("mock-ner")) == 2 and all(float(r["value"]) > 5 * float(r["chance"]) for r in english("mock-ner"))


def test_shared_stage_trained_once_and_rerun_skips_everything(tiny_run, monkeypatch):
    study, out, rows = tiny_run
    from xstilts.studies.context import make_context

    context = make_context(study)
    names = sorted(n.name for n in context.plan.stages)
    # mlm is shared by all five pipelines, intermediate by three: 6 distinct stages, not 13
    assert names == ["intermediate", "mlm", "ner", "ner", "pos", "pos"]
    folders = [context.store.path(n.key) for n in context.plan.stages]

    def trained(folder: Path) -> tuple:
        """What training a stage again would change: its start records, its DONE marker and its checkpoint."""
        weights = folder / "checkpoint" / "encoder" / "model.safetensors"
        return (len(training_starts(folder)), (folder / "DONE").stat().st_mtime_ns, weights.stat().st_ino,
                weights.stat().st_mtime_ns)

    before = {folder: trained(folder) for folder in folders}
    assert all(record[0] == 1 for record in before.values()), before  # each stage trained once, none twice
    from xstilts.families import get_family

    def fail(*args, **kwargs):
        raise AssertionError("a cached split was tokenized again")

    family = get_family("tagging")  # both targets tag
    monkeypatch.setattr(type(family), "featurize", fail)
    again = run_study(study, out)
    assert again == rows
    assert {folder: trained(folder) for folder in folders} == before  # no start record, nothing rewritten


def test_features_are_cached(tiny_run, xstilts_home):
    from xstilts.studies.context import ensure_tokenizer, featurize, make_context
    from xstilts.tasks import get_task

    study = tiny_run[0]
    context = make_context(study)
    ensure_tokenizer(context)
    data = featurize(context, get_task("mock-pos"), "test", "qad", 64, None)
    assert data.from_cache
    assert data._examples is None  # a cache hit reads features only; examples are read when asked for
    assert len(data.examples) == 1 + max(f["example_index"] for f in data.features)
    fresh = featurize(context, get_task("mock-pos"), "test", "qad", 48, None)  # other max length, other key
    assert not fresh.from_cache and fresh.cache_key != data.cache_key


def _metrics(store: Path) -> tuple[dict, dict]:
    (folder,) = [p for p in store.iterdir() if p.is_dir()]
    metrics = json.loads((folder / "metrics.json").read_text())
    from safetensors.torch import load_file

    weights = load_file(folder / "checkpoint" / "encoder" / "model.safetensors")
    return metrics, weights


def _same_weights(clean: dict, other: dict) -> bool:
    import torch

    assert clean and clean.keys() == other.keys()
    return all(torch.equal(clean[k], other[k]) for k in clean)


def test_resume_after_crash_equals_uninterrupted(xstilts_home, tmp_path):
    clean_out, crash_out = tmp_path / "clean-out", tmp_path / "crash-out"
    run_study(study_with_store(RESUME_STUDY, tmp_path / "clean"), clean_out)

    study = study_with_store(RESUME_STUDY, tmp_path / "crash")
    # After the state saved at 15 and the dev evaluation at 16.
    with faults.armed("train.step@17:raise"), pytest.raises(faults.InjectedFault):
        run_study(study, crash_out)
    run_study(study, crash_out)

    clean_metrics, clean_weights = _metrics(tmp_path / "clean")
    crash_metrics, crash_weights = _metrics(tmp_path / "crash")
    assert crash_metrics["resumed_from"] == 15
    assert crash_metrics["history"] == clean_metrics["history"]
    assert crash_metrics["best_score"] == clean_metrics["best_score"]
    assert _same_weights(clean_weights, crash_weights)
    assert read_csv(clean_out / "results.csv") == read_csv(crash_out / "results.csv")


def test_resume_after_kill_9(xstilts_home, tmp_path):
    """`xstilts run` killed by a real SIGKILL in the middle of training, then the same command again."""
    study_file = tmp_path / "study.yaml"
    store = tmp_path / "killed"
    study_file.write_text(RESUME_STUDY + f"store: {store}\n")
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    env.pop(faults.ENV, None)
    command = [sys.executable, "-m", "xstilts", "run", str(study_file), "--out", str(tmp_path / "out"), "--quiet"]
    # The run kills itself (kill -9) right after step 17, the state saved at 15 on disk.
    killed = subprocess.run(command, env={**env, faults.ENV: "train.step@17:kill"}, capture_output=True,
                            text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    (folder,) = [p for p in store.iterdir() if p.is_dir()]
    assert (folder / "state").is_dir() and not (folder / "DONE").exists()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    clean = tmp_path / "clean"
    run_study(study_with_store(RESUME_STUDY, clean), tmp_path / "clean-out")
    killed_metrics, killed_weights = _metrics(store)
    clean_metrics, clean_weights = _metrics(clean)
    assert killed_metrics["resumed_from"] == 15
    assert [s["resuming"] for s in training_starts(folder)] == [False, True]
    assert killed_metrics["history"] == clean_metrics["history"]
    assert _same_weights(clean_weights, killed_weights)


def test_nan_loss_stops_with_clear_message_and_keeps_state(xstilts_home, tmp_path, monkeypatch):

    from xstilts.families import get_family

    family = get_family("classification")
    original = type(family).loss
    calls = {"n": 0}

    def poisoned(self, outputs, batch):
        calls["n"] += 1
        loss = original(self, outputs, batch)
        return loss * float("nan") if calls["n"] == 8 else loss

    monkeypatch.setattr(type(family), "loss", poisoned)
    study = study_with_store(RESUME_STUDY, tmp_path / "store")
    with pytest.raises(TrainingDiverged) as caught:
        run_study(study, tmp_path / "out")
    message = str(caught.value)
    assert "at step 8" in message and "lower optimizer.lr" in message.lower()
    (folder,) = [p for p in (tmp_path / "store").iterdir() if p.is_dir()]
    assert (folder / "state" / "state.json").exists() and not (folder / "DONE").exists()
    # the state saved at step 5 (checkpoint_every: 5) is kept: running again resumes from it
    monkeypatch.setattr(type(family), "loss", original)
    run_study(study, tmp_path / "out")
    assert json.loads((folder / "metrics.json").read_text())["resumed_from"] == 5


MODELS_STUDY = """\
name: two-models
models:
  xlmr:
    label: tiny-xlmr
    build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
    tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
  bert:
    build: {architecture: bert, hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
    tokenizer: {train: {corpus: [mock-mlm], vocab_size: 300}}
stages:
  target:
    sources: [{task: mock-nli}]
    steps: 4
    batch_size: 8
    max_length: 48
    selection: {enabled: false}
grids:
  - name: "nli-{fraction}"
    stages: [target]
    axes: {fraction: [0.25, 0.5]}
    set: {"target.sources[0].fraction": "{fraction}"}
evaluate: {max_examples: 12}
runtime: {progress: false, threads: 1}
"""


@pytest.mark.slow
def test_several_models_own_tokenizers_model_and_axes_columns(xstilts_home, tmp_path):
    from xstilts.studies.context import ensure_tokenizer, make_context

    study = study_with_store(MODELS_STUDY, tmp_path / "store")
    rows = run_study(study, tmp_path / "out")
    table = read_csv(tmp_path / "out" / "results.csv")
    assert len(table) == len(rows) > 0
    main = [r for r in table if r["main"] == "True"]
    # 2 models x 2 fractions x mock-nli in en and qad
    assert len(main) == 2 * 2 * 2
    assert {r["model"] for r in main} == {"tiny-xlmr", "bert"}  # the label, else the key in `models`
    assert {(r["model"], r["pipeline"], json.loads(r["axes"])["fraction"]) for r in main} == {
        (m, f"nli-{f}", f) for m in ("tiny-xlmr", "bert") for f in (0.25, 0.5)}
    # each model trained its own tokenizer: 400 and 300 words, and its stages are its own
    context = make_context(study)
    tokenizers = {name: ensure_tokenizer(context, name) for name in ("xlmr", "bert")}
    assert tokenizers["xlmr"][1] != tokenizers["bert"][1]
    assert len(tokenizers["xlmr"][0]) > len(tokenizers["bert"][0])
    assert len({r["stage_key"] for r in main}) == 4
    assert "Models: tiny-xlmr, bert" in (tmp_path / "out" / "summary.md").read_text()
    # export: one pipeline runs for each model, so --model picks the run
    import yaml

    from xstilts.cli.score import _sources
    from xstilts.errors import XstiltsError

    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study.model_dump(mode="json")))
    with pytest.raises(XstiltsError, match="--model bert"):
        _sources(str(path), "nli-0.25", 0)
    (source,) = _sources(str(path), "nli-0.25", 0, "bert")
    bert = {r["stage_key"] for r in main if r["model"] == "bert" and r["pipeline"] == "nli-0.25"}
    assert source.task == "mock-nli" and source.folder.parent.parent.name in bert
    with pytest.raises(XstiltsError, match="no model 'bret': did you mean 'bert'"):
        _sources(str(path), "nli-0.25", 0, "bret")
