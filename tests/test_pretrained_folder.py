"""A study whose model is a local Hugging Face folder (the path real pretrained encoders take)."""

from __future__ import annotations

import csv

import pytest
import yaml

from helpers import network_attempts
from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.studies.runner import run_study

STUDY = """\
name: folder
model: {name_or_path: PLACEHOLDER}
stages:
  target:
    sources: [{task: mock-paraphrase, max_examples: 64}]
    steps: 4
    batch_size: 16
    max_length: 48
    selection: {enabled: false}
pipelines:
  only: [target]
evaluate: {max_examples: 16}
runtime: {progress: false}
"""


@pytest.fixture()
def model_folder(tmp_path, xstilts_home):
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from xstilts.models.tokenizer import train_tokenizer
    from xstilts.tasks import get_task
    from xstilts.tasks.mock import mock_corpus

    get_task("mock-paraphrase").ensure_files(xstilts_home / "data")
    tokenizer = train_tokenizer(list(mock_corpus(xstilts_home / "data")), vocab_size=600)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=130, pad_token_id=tokenizer.pad_token_id)
    folder = tmp_path / "my-encoder"
    XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_study_on_a_local_pretrained_folder(model_folder, tmp_path):
    data = yaml.safe_load(STUDY.replace("PLACEHOLDER", str(model_folder)))
    data["store"] = str(tmp_path / "runs")
    rows = run_study(parse_study(data), tmp_path / "out")
    with open(tmp_path / "out" / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert {r["language"] for r in table} == {"en", "qad"} and len(rows) == len(table)
    assert all(r["model"] == str(model_folder) for r in table)


def test_folder_with_missing_weights_is_an_error_naming_the_keys(model_folder, tmp_path):
    from safetensors.torch import load_file, save_file

    weights = load_file(model_folder / "model.safetensors")
    dropped = next(k for k in weights if "layer.0.attention" in k)
    del weights[dropped]
    save_file(weights, model_folder / "model.safetensors", metadata={"format": "pt"})
    data = yaml.safe_load(STUDY.replace("PLACEHOLDER", str(model_folder)))
    data["store"] = str(tmp_path / "runs")
    with pytest.raises(XstiltsError) as caught:
        run_study(parse_study(data), tmp_path / "out")
    assert dropped.split(".", 1)[-1] in str(caught.value) or dropped in str(caught.value)


def test_hub_name_offline_fails_at_once(tmp_path, xstilts_home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    attempts = network_attempts(monkeypatch)
    data = yaml.safe_load(STUDY.replace("PLACEHOLDER", "FacebookAI/xlm-roberta-base"))
    store = tmp_path / "runs"
    data["store"] = str(store)
    with pytest.raises(XstiltsError, match="offline"):
        run_study(parse_study(data), tmp_path / "out")
    # At once: no connection tried (so none retried or waited out), and not one step trained.
    assert attempts == []
    assert list(store.glob("*/state")) == list(store.glob("*/checkpoint")) == []
