"""Tasks declared in the study file: a new dataset of an existing family with no code."""

from __future__ import annotations

import csv
import json
import textwrap

import pytest

from xstilts.config.load import load_study
from xstilts.errors import ConfigError
from xstilts.studies.runner import run_study

STUDY = """\
name: custom
tasks:
  my-sentiment:
    family: classification
    files: data/{split}-{language}.jsonl
    splits: {train: [en], test: [en, fr]}
    labels: [neg, pos]
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 64}
  tokenizer: {train: {corpus: [my-sentiment], vocab_size: 120}}
stages:
  target:
    sources: [{task: my-sentiment}]
    steps: 3
    batch_size: 4
    max_length: 32
    selection: {enabled: false}
pipelines:
  only: [target]
runtime: {progress: false}
"""

TEXTS = {
    "en": [("a good film", "pos"), ("a bad film", "neg"), ("good fun", "pos"), ("bad acting", "neg")],
    "fr": [("un bon film", "pos"), ("un mauvais film", "neg")],
}


@pytest.fixture()
def study_dir(tmp_path):
    (tmp_path / "data").mkdir()
    for split, language in [("train", "en"), ("test", "en"), ("test", "fr")]:
        lines = [json.dumps({"id": f"{language}-{i}", "text": t, "label": y})
                 for i, (t, y) in enumerate(TEXTS[language])]
        (tmp_path / "data" / f"{split}-{language}.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_declared_task_runs_end_to_end(study_dir, xstilts_home):
    (study_dir / "study.yaml").write_text(STUDY + f"store: {study_dir / 'runs'}\n")
    rows = run_study(load_study(study_dir / "study.yaml"), study_dir / "out")
    assert {(r["task"], r["language"]) for r in rows} == {("my-sentiment", "en"), ("my-sentiment", "fr")}
    with open(study_dir / "out" / "results.csv") as handle:
        assert {r["chance"] for r in csv.DictReader(handle)} == {"50.0000"}  # two labels


def test_declaration_errors_are_reported_with_suggestions(study_dir):
    text = (STUDY.replace("family: classification", "family: clasification")
                 .replace("labels: [neg, pos]", "labels: [neg, pos]\n    metrics: [acuracy]"))
    (study_dir / "study.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_study(study_dir / "study.yaml")
    problems = caught.value.problems
    assert any("tasks.my-sentiment.family" in p and "did you mean 'classification'" in p for p in problems)
    assert any("tasks.my-sentiment.metrics[0]" in p and "did you mean 'accuracy'" in p for p in problems)


def test_missing_declared_file_is_named(study_dir):
    (study_dir / "data" / "test-fr.jsonl").unlink()
    (study_dir / "study.yaml").write_text(STUDY)
    with pytest.raises(ConfigError) as caught:
        load_study(study_dir / "study.yaml")
    (problem,) = caught.value.problems
    assert str(study_dir / "data" / "test-fr.jsonl") in problem and "'test'" in problem and "'fr'" in problem


def test_template_needs_placeholders(study_dir):
    (study_dir / "study.yaml").write_text(STUDY.replace("data/{split}-{language}.jsonl", "data/all.jsonl"))
    with pytest.raises(ConfigError, match=textwrap.shorten("must contain {split} and {language}", 60)):
        load_study(study_dir / "study.yaml")


def test_tasks_naming_one_head_share_it(study_dir, xstilts_home):
    # two sentiment tasks trained through one head (as ANLI+ trains ANLI, MNLI and SNLI through one NLI head)
    text = STUDY.replace("    labels: [neg, pos]\n", "    labels: [neg, pos]\n    head: sentiment\n", 1)
    text = text.replace("tasks:\n", "tasks:\n  other-sentiment:\n    family: classification\n"
                        "    files: data/{split}-{language}.jsonl\n    splits: {train: [en], test: [en]}\n"
                        "    labels: [neg, pos]\n    head: sentiment\n")
    text = text.replace("sources: [{task: my-sentiment}]", "sources: [{task: my-sentiment}, {task: other-sentiment}]")
    (study_dir / "study.yaml").write_text(text + f"store: {study_dir / 'runs'}\n")
    run_study(load_study(study_dir / "study.yaml"), study_dir / "out")
    (stage,) = [p for p in (study_dir / "runs").iterdir() if p.is_dir()]
    heads = json.loads((stage / "checkpoint" / "heads.json").read_text())["heads"]
    assert list(heads) == ["sentiment"]
