"""Evaluating an encoder as loaded (a pipeline with no stages), `xstilts run --model`, study tasks whose files
live in the data root, and the question task made from LASER's Tatoeba pairs."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from xstilts.cli import app
from xstilts.config.load import load_study, parse_study
from xstilts.data import tatoeba_questions
from xstilts.errors import ConfigError, DataError, XstiltsError
from xstilts.studies.plan import build_plan
from xstilts.studies.runner import run_study
from xstilts.tasks import get_task

LASER = tatoeba_questions.Path("/work/shared/samples/tatoeba/laser_v1")

STUDY = """\
name: as-loaded
model: {name_or_path: PLACEHOLDER}
stages:
  target:
    sources: [{task: mock-paraphrase, max_examples: 32}]
    steps: 2
    batch_size: 16
    max_length: 48
    selection: {enabled: false}
pipelines:
  encoder: {stages: [], evaluate: [mock-retrieval]}
runtime: {progress: false}
"""


@pytest.fixture()
def model_folder(tmp_path, xstilts_home):
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from xstilts.models.tokenizer import train_tokenizer
    from xstilts.tasks.mock import mock_corpus

    for name in ("mock-paraphrase", "mock-retrieval"):
        get_task(name).ensure_files(xstilts_home / "data")
    tokenizer = train_tokenizer(list(mock_corpus(xstilts_home / "data")), vocab_size=600)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=300, pad_token_id=tokenizer.pad_token_id)
    folder = tmp_path / "my-encoder"
    XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def study_data(folder, tmp_path, text: str = STUDY) -> dict:
    data = yaml.safe_load(text.replace("PLACEHOLDER", str(folder)))
    data["store"] = str(tmp_path / "runs")
    return data


def hand_retrieval_accuracy(folder, examples: list[dict]) -> float:
    """Independent of the family: each sentence alone through the encoder, mean of the last layer over its
    tokens, cosine; a source is right when its nearest target is its own example's target."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    encoder, tokenizer = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)

    def embed(text: str) -> np.ndarray:
        with torch.no_grad():
            hidden = encoder(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
        vector = hidden.mean(0).numpy()
        return vector / np.linalg.norm(vector)

    targets = [(e["id"], embed(e["target"])) for e in examples if e.get("target")]
    matrix = np.stack([v for _, v in targets])
    pairs = [e for e in examples if e.get("source") and e.get("target")]
    hits = sum(targets[int(np.argmax(matrix @ embed(e["source"])))][0] == e["id"] for e in pairs)
    return 100.0 * hits / len(pairs)


def test_a_pipeline_with_no_stages_evaluates_the_encoder_as_loaded(model_folder, tmp_path, xstilts_home):
    rows = run_study(parse_study(study_data(model_folder, tmp_path)), tmp_path / "out")
    with open(tmp_path / "out" / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["pipeline"], r["task"], r["language"]) for r in table] == [("encoder", "mock-retrieval", "qad")]
    row = table[0]
    assert row["pretraining"] == "model" and row["intermediate"] == "none" and row["zero_shot"] == "True"
    examples = get_task("mock-retrieval").load("test", "qad", xstilts_home / "data")
    assert float(row["value"]) == pytest.approx(hand_retrieval_accuracy(model_folder, examples), abs=1e-6)
    # Nothing was trained: the store holds no stage, only the evaluation of the model itself.
    stage_folder = tmp_path / "runs" / row["stage_key"]
    assert not (stage_folder / "checkpoint").exists() and (stage_folder / "eval").is_dir()
    assert len(rows) == 1


def test_a_pipeline_with_no_stages_must_name_its_tasks(model_folder, tmp_path):
    bare = STUDY.replace("encoder: {stages: [], evaluate: [mock-retrieval]}", "encoder: []")
    with pytest.raises(ConfigError, match=r"pipelines.encoder: a pipeline with no stages .* evaluate"):
        parse_study(study_data(model_folder, tmp_path, bare))
    needs_head = STUDY.replace("evaluate: [mock-retrieval]", "evaluate: [mock-paraphrase]")
    with pytest.raises(ConfigError, match=r"needs the head"):
        parse_study(study_data(model_folder, tmp_path, needs_head))


def test_run_and_plan_take_the_model_from_the_command_line(model_folder, xstilts_home):
    config = load_study("tiny", model=str(model_folder))
    # The tiny preset builds its encoder and trains a tokenizer; --model replaces both with the folder.
    assert config.model.name_or_path == str(model_folder)
    assert config.model.build is None and config.model.tokenizer is None and config.model.label is None
    runner = CliRunner()
    own = runner.invoke(app, ["plan", "tiny", "--json"])
    other = runner.invoke(app, ["plan", "tiny", "--json", "--model", str(model_folder)])
    assert own.exit_code == 0 and other.exit_code == 0, (own.output, other.output)
    own_keys = {n["key"] for n in json.loads(own.stdout)["nodes"]}
    other_keys = {n["key"] for n in json.loads(other.stdout)["nodes"]}
    assert len(own_keys) == len(other_keys) and not own_keys & other_keys  # every stage starts elsewhere
    with pytest.raises(XstiltsError, match="--model is empty"):
        load_study("tiny", model=" ")


DATA_ROOT_STUDY = """\
name: rooted
model: {name_or_path: PLACEHOLDER}
tasks:
  my-task:
    family: classification
    files: "{data_root}/my-task/{split}-{language}.jsonl"
    splits: {train: [en], test: [en, de]}
    labels: [neg, pos]
stages:
  target: {sources: [{task: my-task}], steps: 1, selection: {enabled: false}}
pipelines:
  only: [target]
"""


def test_study_task_files_can_live_in_the_data_root(model_folder, tmp_path):
    data = study_data(model_folder, tmp_path, DATA_ROOT_STUDY)
    data["data_root"] = str(tmp_path / "data")
    study = parse_study(data)  # the data root may be given only at run time: no file is needed to validate
    with pytest.raises(XstiltsError, match=re.escape(str(tmp_path / "data" / "my-task" / "train-en.jsonl"))):
        build_plan(study, tmp_path / "data")
    folder = tmp_path / "data" / "my-task"
    folder.mkdir(parents=True)
    for split, language in (("train", "en"), ("test", "en"), ("test", "de")):
        (folder / f"{split}-{language}.jsonl").write_text(
            json.dumps({"id": "1", "text": f"{split} {language}", "label": "pos"}) + "\n")
    assert len(build_plan(study, tmp_path / "data").evaluations) == 2
    assert get_task("my-task").load("test", "de", tmp_path / "data")[0]["text"] == "test de"
    bad = DATA_ROOT_STUDY.replace("{data_root}/my-task/", "{root}/")
    with pytest.raises(ConfigError, match=r"has the field \{root\}; a template may hold only \{split\}, \{language\} and \{data_root\}"):
        parse_study(study_data(model_folder, tmp_path, bad))


# ------------------------------------------------------------------ the question task from LASER's pairs


@pytest.mark.skipif(not LASER.is_dir(), reason="needs the LASER Tatoeba samples")
def test_question_task_from_the_laser_pairs(tmp_path):
    counts = tatoeba_questions.write_data_root(LASER, tmp_path)
    read = lambda name: [json.loads(line) for line in  # noqa: E731
                         (tmp_path / "tatoeba-questions" / f"{name}.jsonl").read_text().splitlines()]
    german = (LASER / "tatoeba.deu-eng.deu").read_text(encoding="utf-8").splitlines()
    english = (LASER / "tatoeba.deu-eng.eng").read_text(encoding="utf-8").splitlines()
    test_de = read("test-de")
    for row in test_de:
        line = int(row["id"].removeprefix("de-"))  # 1-based line of the pair files
        assert 501 <= line <= 1000
        # The label is the English side's question mark; the text is the German line without its final "?"/".".
        assert row["label"] == ("question" if english[line - 1].strip().endswith("?") else "statement")
        assert row["text"] == german[line - 1].strip().rstrip("?.!").rstrip()
        assert not row["text"].endswith(("?", ".", "!"))
    labels = [r["label"] for r in test_de]
    assert labels.count("question") == labels.count("statement") == len(labels) // 2  # balanced: chance 50
    # Every question among the German test lines is kept unless its English sentence is also in training.
    train_english = {r["text"].lower() for r in read("train-en")}
    questions = [i for i in range(500, 1000) if english[i].strip().endswith("?")
                 and english[i].strip().rstrip("?").rstrip().lower() not in train_english]
    assert labels.count("question") == len(questions) > 40
    # English and every language are tested on the same pairs; no test sentence is a training sentence.
    test_en = read("test-en")
    assert [r["id"] for r in test_en if r["id"].startswith("de-")] == [r["id"] for r in test_de]
    assert not {r["text"].lower() for r in test_en} & train_english
    assert counts[("train", "en")] == len(read("train-en")) and {lang for _, lang in counts} == {
        "en", "de", "zh", "ar", "ja"}
    assert sorted(p.name for p in (tmp_path / "tatoeba").iterdir()) == sorted(p.name for p in LASER.glob("tatoeba.*"))


def test_question_task_needs_aligned_pairs(tmp_path):
    (tmp_path / "tatoeba.deu-eng.deu").write_text("Hallo\n" * 1000)
    with pytest.raises(DataError, match=r"tatoeba.deu-eng.eng: missing"):
        tatoeba_questions.write_data_root(tmp_path, tmp_path / "root")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("Hello\n" * 999)
    with pytest.raises(DataError, match=r"tatoeba.deu-eng.deu: 1000 lines but its pair file has 999"):
        tatoeba_questions.write_data_root(tmp_path, tmp_path / "root")
