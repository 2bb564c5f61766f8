"""`xstilts select` end to end on a tiny grid with two seeds: rankings, costs, and --validate's files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from xstilts.cli.app import app

# two candidates (qa, choice) for two targets and retrieval, two seeds over one shared MLM stage
STUDY = """\
name: selection-cli
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
seeds: [0, 1]
stages:
  mlm:
    seed: 0
    sources: [{task: mock-mlm, languages: [en, qad]}]
    steps: 6
    batch_size: 16
    max_length: 64
    selection: {enabled: false}
  qa: {sources: [{task: mock-qa}], steps: 8, batch_size: 8, max_length: 96, selection: {max_examples: 10}}
  choice: {sources: [{task: mock-choice}], steps: 4, batch_size: 8, max_length: 96, selection: {max_examples: 10}}
  nli: {sources: [{task: mock-nli}], steps: 8, batch_size: 16, max_length: 64, selection: {max_examples: 10}}
grids:
  - name: "{intermediate}/{target}"
    stages: [mlm, "{intermediate}", "{target}"]
    axes: {intermediate: [null, qa, choice], target: [nli]}
  - name: "{intermediate}/retrieval"
    stages: [mlm, "{intermediate}"]
    evaluate: [mock-retrieval]
    axes: {intermediate: [null, qa, choice]}
evaluate: {max_examples: 20}
runtime: {progress: false, trackers: [], workers: 1}
"""


@pytest.fixture()
def study(xstilts_home, tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(STUDY + f"store: {tmp_path / 'runs'}\n", encoding="utf-8")
    return path


def test_select_ranks_without_the_grid_then_validates_against_it(study, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # --run-grid writes the grid's results to xstilts-out/<study> here
    runner = CliRunner()
    out = tmp_path / "selection"
    ranked = runner.invoke(app, ["select", str(study), "--estimator", "similarity", "--out", str(out), "--quiet",
                                 "--per-language"])
    assert ranked.exit_code == 0, ranked.output
    assert "mock-nli" in ranked.output and "the grid it replaces" in ranked.output
    assert "similarity: the top candidate per language" in ranked.output and "qad" in ranked.output
    (problem,) = json.loads((out / "estimates.json").read_text())["problems"]
    (estimate,) = problem["estimates"]
    targets = {entry["target"] for entry in estimate["scores"] if entry["language"] == "all"}
    assert targets == {"mock-nli", "mock-retrieval"}
    assert all(set(entry["scores"]) == {"qa", "choice"} for entry in estimate["scores"])
    assert 0 < estimate["cost"]["flops"] < estimate["cost"]["grid_flops"]

    # before the grid ran, --validate says what to run
    early = runner.invoke(app, ["select", str(study), "--estimator", "similarity", "--out", str(out), "--validate"])
    assert early.exit_code != 0 and "xstilts run" in str(early.exception or early.output)

    validated = runner.invoke(app, ["select", str(study), "--estimator", "similarity", "--out", str(out),
                                    "--validate", "--run-grid", "--quiet"])  # the grid, then the validation
    assert validated.exit_code == 0, validated.output
    text = (out / "selection.md").read_text()
    for name in ("similarity", "largest", "same family", "random", "seed-noise ceiling", "NDCG@3"):
        assert name in text
    assert (tmp_path / "xstilts-out" / "selection-cli" / "results.csv").is_file()
    data = json.loads((out / "selection.json").read_text())
    assert data and (out / "selection.png").stat().st_size > 0


def test_an_unknown_estimator_lists_the_known_ones(study):
    result = CliRunner().invoke(app, ["select", str(study), "--estimator", "oracle"])
    assert result.exit_code != 0
    assert "similarity" in str(result.exception) and "logme" in str(result.exception)


def test_settings_are_checked_by_name_and_type(study):
    result = CliRunner().invoke(app, ["select", str(study), "--setting", "fractoin=0.5", "--setting",
                                      "examples=many", "--setting", "centre"])
    message = str(result.exception)
    assert result.exit_code != 0
    assert "select.fractoin: no such setting; did you mean 'fraction'" in message
    assert "select.examples: 'many' is not a valid int" in message
    assert "--setting 'centre': write NAME=VALUE" in message


def test_settings_parse_to_their_types():
    from xstilts.selection.estimators import EstimatorSettings

    settings = EstimatorSettings.from_pairs(["fraction=0.5", "examples=40", "centre=false"])
    assert (settings.fraction, settings.examples, settings.centre) == (0.5, 40, False)
    assert EstimatorSettings.from_pairs([]) == EstimatorSettings()
