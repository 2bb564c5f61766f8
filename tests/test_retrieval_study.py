"""BUCC 2018 and Tatoeba end to end: evaluated in a (seconds-long) study after an intermediate stage, from
files in the official layout built from the samples; `xstilts export` writes the submission and
`xstilts score --partial` scores it to exactly the study's own result rows."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xstilts.cli import app
from xstilts.config.load import load_study
from xstilts.studies.runner import run_study

SAMPLES = Path("/work/shared/samples")
TATOEBA = {"de": "deu", "zh": "cmn"}
TATOEBA_LIMIT = 200

STUDY = """\
name: {name}
model:
  build: {{hidden_size: 32, num_layers: 2, num_heads: 2, intermediate_size: 64, max_length: 128}}
  tokenizer: {{train: {{corpus: [mock-nli], vocab_size: 300}}}}
stages:
  intermediate:
    sources: [{{task: mock-nli, max_examples: 32}}]
    steps: 3
    batch_size: 8
    max_length: 64
    selection: {{enabled: false}}
pipelines:
  stilts: {{stages: [intermediate], evaluate: [{task}]}}
evaluate: {{split: test, languages: [{languages}]{limit}}}
runtime: {{progress: false, threads: 1}}
store: {store}
data_root: {data}
"""


def official_data(root: Path) -> None:
    """bucc2018/bucc2018/fr-en/ with both parts, and LASER's tatoeba files, as the official downloads leave them."""
    pair = root / "bucc2018" / "bucc2018" / "fr-en"
    pair.mkdir(parents=True)
    for part in SAMPLES.glob("bucc2018/tfds_dummy/*/bucc2018/fr-en/*"):
        shutil.copy(part, pair / part.name)
    (root / "tatoeba").mkdir()
    for code in TATOEBA.values():
        for side in (code, "eng"):
            shutil.copy(SAMPLES / "tatoeba/laser_v1" / f"tatoeba.{code}-eng.{side}", root / "tatoeba")


def official_labels(labels: Path) -> None:
    """BUCC: the test ('training') gold as released. Tatoeba: for each English sentence in sorted order (the
    first TATOEBA_LIMIT, the ones the study evaluates), the 0-based line of its translation."""
    (labels / "bucc2018").mkdir(parents=True)
    shutil.copy(SAMPLES / "bucc2018/tfds_dummy/training-gold/bucc2018/fr-en/fr-en.training.gold",
                labels / "bucc2018" / "test-fr.tsv")
    (labels / "tatoeba").mkdir()
    for language, code in TATOEBA.items():
        english = (SAMPLES / "tatoeba/laser_v1" / f"tatoeba.{code}-eng.eng").read_text(encoding="utf-8")
        lines = [line.strip() for line in english.splitlines()]
        order = sorted(range(len(lines)), key=lambda i: lines[i])[:TATOEBA_LIMIT]
        (labels / "tatoeba" / f"test-{language}.tsv").write_text("".join(f"{i}\n" for i in order))


def test_bucc_and_tatoeba_study_export_and_score(tmp_path, xstilts_home):
    data, store = tmp_path / "data", tmp_path / "runs"
    official_data(data)
    # Two studies (their languages differ), one intermediate stage: the second finds it done in the store.
    studies = {
        "bucc2018": STUDY.format(name="bucc", task="bucc2018", languages="fr", limit="", store=store, data=data),
        "tatoeba": STUDY.format(name="tatoeba", task="tatoeba", languages="de, zh",
                                limit=f", max_examples: {TATOEBA_LIMIT}", store=store, data=data),
    }
    results: dict[tuple[str, str, str], float] = {}
    runner = CliRunner()
    submission = tmp_path / "submission"
    for task, text in studies.items():
        study_file = tmp_path / f"{task}.yaml"
        study_file.write_text(text)
        rows = run_study(load_study(study_file), tmp_path / f"out-{task}")
        with open(tmp_path / f"out-{task}" / "results.csv") as handle:
            for row in csv.DictReader(handle):
                results[(row["task"], row["language"], row["metric"])] = float(row["value"])
        assert {row["intermediate"] for row in rows} == {"mock-nli"}
        result = runner.invoke(app, ["export", str(study_file), str(submission), "--benchmark", "xtreme"])
        assert result.exit_code == 0, result.output
    assert len(list(store.glob("*/checkpoint"))) == 1  # the intermediate stage ran once
    assert set(results) == {("bucc2018", "fr", m) for m in ("f1", "precision", "recall")} | {
        ("tatoeba", "de", "accuracy"), ("tatoeba", "zh", "accuracy")}

    # The BUCC submission holds exactly the pairs the run predicted (query id -> paired English id).
    (predictions,) = store.glob("*/predictions/bucc2018/test-fr.jsonl")
    pairs = [json.loads(line) for line in predictions.read_text().splitlines()]
    expected = "".join(f"{p['id']}\t{p['prediction']}\n" for p in pairs if p["prediction"] is not None)
    assert (submission / "bucc2018" / "test-fr.tsv").read_text() == expected
    assert expected and all(line.split("\t")[0].startswith("fr-") for line in expected.splitlines())
    tatoeba_lines = (submission / "tatoeba" / "test-de.tsv").read_text().split()
    assert len(tatoeba_lines) == TATOEBA_LIMIT and all(line.isdecimal() for line in tatoeba_lines)

    official_labels(tmp_path / "labels")
    result = runner.invoke(app, ["score", "--benchmark", "xtreme", "--partial", "--predictions", str(submission),
                                 "--labels", str(tmp_path / "labels"), "--output", str(tmp_path / "score.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "score.json").read_text())
    for (task, language, metric), value in results.items():
        assert report[task][metric][language] == pytest.approx(value, abs=1e-4), (task, language, metric)
