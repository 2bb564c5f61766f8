"""`xstilts export` then `xstilts score`: a real (seconds-long) study's predictions, written in the official
layout, score exactly as the study's own results say."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xstilts.cli import app
from xstilts.config.load import load_study
from xstilts.errors import DataError, XstiltsError
from xstilts.scoring.official import layout
from xstilts.scoring.official.export import Source, export, render
from xstilts.studies.runner import run_study
from xstilts.tasks import get_task

QA_EXAMPLES = {
    "en": [("Where does Anna live?", "Anna lives in Berlin and works in Hamburg.", "Berlin"),
           ("Where does Tom work?", "Tom lives in Paris and works in Lyon.", "Lyon"),
           ("What does Eva own?", "Eva owns a red bike.", "a red bike")],
    "de": [("Wo wohnt Anna?", "Anna wohnt in Berlin und arbeitet in Hamburg.", "Berlin"),
           ("Wo arbeitet Tom?", "Tom wohnt in Paris und arbeitet in Lyon.", "Lyon")],
}

STUDY = """\
name: export-check
tasks:
  my-qa:
    family: span_qa
    files: qa/{split}-{language}.jsonl
    splits: {train: [en], test: [en, de]}
    metrics: [f1, exact_match]
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [mock-nli, my-qa], vocab_size: 300}}
stages:
  target:
    sources: [{task: mock-nli, max_examples: 32}, {task: mock-pos, max_examples: 32}, {task: my-qa}]
    steps: 4
    batch_size: 8
    max_length: 96
    selection: {enabled: false}
pipelines:
  only: [target]
evaluate: {split: test, max_examples: 12}
runtime: {progress: false}
"""

MAPPING = {"mock-nli": "xnli", "mock-pos": "udpos", "my-qa": "xquad"}


def _qa_line(language: str, index: int, question: str, context: str, answer: str) -> str:
    return json.dumps({"id": f"{language}-{index}", "question": question, "context": context,
                       "answers": [{"text": answer, "start": context.index(answer)}]})


def _write_labels(task_name: str, folder: str, data_root: Path, labels: Path) -> None:
    """Official label files written from the task's own test files (the examples the study evaluated)."""
    task = get_task(task_name)
    for language in task.languages("test"):
        examples = task.load("test", language, data_root, limit=12)
        if folder == "xnli":
            text = "".join(f"{ex['label']}\n" for ex in examples)
        elif folder == "udpos":
            text = "".join("".join(f"{tag}\n" for tag in ex["tags"]) + "\n" for ex in examples)
        else:
            qas = [{"id": ex["id"], "question": ex["question"],
                    "answers": [{"text": a["text"], "answer_start": a["start"]} for a in ex["answers"]]}
                   for ex in examples]
            text = json.dumps({"data": [{"paragraphs": [{"context": "", "qas": qas}]}]})
        path = layout.task_file(labels, folder, language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_export_then_score_matches_the_study(tmp_path, xstilts_home):
    (tmp_path / "qa").mkdir()
    for split, language in [("train", "en"), ("test", "en"), ("test", "de")]:
        lines = [_qa_line(language, i, *example) for i, example in enumerate(QA_EXAMPLES[language])]
        (tmp_path / "qa" / f"{split}-{language}.jsonl").write_text("\n".join(lines) + "\n")
    study_file = tmp_path / "study.yaml"
    study_file.write_text(STUDY + f"store: {tmp_path / 'runs'}\ndata_root: {tmp_path / 'data'}\n")
    rows = run_study(load_study(study_file), tmp_path / "out")
    assert rows

    runner = CliRunner()
    submission = tmp_path / "submission"
    maps = [arg for name, folder in MAPPING.items() for arg in ("--map", f"{name}={folder}")]
    result = runner.invoke(app, ["export", str(study_file), str(submission), *maps])
    assert result.exit_code == 0, result.output
    # the mock tasks' other language, qad, is synthetic: not an XTREME language, so it is not exported
    assert "mock-nli -> xnli: 1/15 languages" in result.output and "not in xtreme, skipped: qad" in result.output
    for name, folder in MAPPING.items():
        _write_labels(name, folder, tmp_path / "data", tmp_path / "labels")
    result = runner.invoke(app, ["score", "--benchmark", "xtreme", "--partial", "--predictions", str(submission),
                                 "--labels", str(tmp_path / "labels"), "--output", str(tmp_path / "score.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "score.json").read_text())
    assert set(report) == {"xnli", "udpos", "xquad"}  # partial: no group or benchmark scores

    with open(tmp_path / "out" / "results.csv") as handle:
        results = {(r["task"], r["language"], r["metric"]): float(r["value"]) for r in csv.DictReader(handle)}
    checked = 0
    for (task, language, metric), value in results.items():
        official = {"mock-nli": {"accuracy": "accuracy"}, "mock-pos": {"f1": "f1"},
                    "my-qa": {"f1": "f1", "exact_match": "exact_match"}}[task].get(metric)
        if official is None or language == "qad":
            continue  # token accuracy of mock-pos: not an official metric; qad: not exported
        assert report[MAPPING[task]][official][language] == pytest.approx(value, abs=1e-4), (task, language, metric)
        checked += 1
    assert checked == 2 + 2 * 2  # mock-nli accuracy and mock-pos f1 in en; my-qa f1 and exact_match in en and de


def test_export_of_a_run_folder_and_its_errors(tmp_path):
    run = tmp_path / "runs" / "abc"
    (run / "predictions" / "my-retrieval").mkdir(parents=True)
    (run / "predictions" / "my-retrieval" / "test-de.jsonl").write_text(
        '{"id": "s0", "prediction": "s2"}\n{"id": "s1", "prediction": "s1"}\n{"id": "s2", "prediction": "s0"}\n')
    (run / "predictions" / "my-retrieval" / "test-xx.jsonl").write_text('{"id": "s0", "prediction": "s0"}\n')
    result = CliRunner().invoke(app, ["export", str(run), str(tmp_path / "sub"), "--map", "my-retrieval=tatoeba"])
    assert result.exit_code == 0, result.output
    assert "not in xtreme, skipped: xx" in result.output
    # Tatoeba lines are positions in the test file of the retrieved example.
    assert (tmp_path / "sub" / "tatoeba" / "test-de.tsv").read_text() == "2\n1\n0\n"
    source = Source("x", run / "predictions" / "my-retrieval")
    # BUCC: one 'src_id<TAB>en_id' line per paired query; here every query is paired.
    export([source], tmp_path / "sub2", "xtreme", {"x": "bucc2018"})
    assert (tmp_path / "sub2" / "bucc2018" / "test-de.tsv").read_text() == "s0\ts2\ns1\ts1\ns2\ts0\n"
    with pytest.raises(XstiltsError, match="not a xtreme task"):
        export([source], tmp_path / "sub2", "xtreme", {"x": "xcopa"})
    with pytest.raises(DataError, match="a list of tags"):
        render("udpos", Path("p.jsonl"), [(1, "a", "NOUN")])
    assert render("xcopa", Path("p.jsonl"), [(1, "a", 1), (2, "b", 0)]) == '{"label": 1}\n{"label": 0}\n'
