"""A study's evaluations of one stage share their outputs: a retrieval set whose sentences another evaluation of
the stage already embedded is not embedded again, and scores as if it had been."""

from __future__ import annotations

import csv
import json

import yaml

from xstilts.config.load import parse_study
from xstilts.studies.runner import run_study
from xstilts.tasks import get_task

STUDY = """\
name: reuse
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
tasks:
  copied-retrieval: {family: retrieval, files: COPY, splits: {test: [qad]}, metrics: [accuracy]}
stages:
  unused: {sources: [{task: mock-paraphrase, max_examples: 8}], steps: 1, batch_size: 8, max_length: 48}
pipelines:
  encoder: {stages: [], evaluate: [mock-retrieval, copied-retrieval]}
runtime: {progress: false}
"""


def test_a_set_embedded_before_is_reused_with_the_same_score(tmp_path, xstilts_home):
    original = get_task("mock-retrieval")
    original.ensure_files(xstilts_home / "data")
    lines = original.path("test", "qad", xstilts_home / "data").read_text(encoding="utf-8").splitlines()
    copy = tmp_path / "copy.jsonl"
    copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = yaml.safe_load(STUDY.replace("COPY", str(copy)))
    data["store"] = str(tmp_path / "runs")
    said: list[str] = []
    run_study(parse_study(data), tmp_path / "out", said.append)
    with open(tmp_path / "out" / "results.csv") as handle:
        values = {row["task"]: row["value"] for row in csv.DictReader(handle) if row["main"] == "True"}
    assert values["copied-retrieval"] == values["mock-retrieval"]
    # Every example has a source and a target: each sentence is one input. The second evaluation reuses all of
    # the first one's (and the first reuses any sentence that repeats inside the set).
    examples = [json.loads(line) for line in lines if line.strip()]
    sentences = [text for example in examples for text in (example.get("source"), example.get("target")) if text]
    inputs, distinct = 2 * len(sentences), len(set(sentences))
    assert f"reused outputs of repeated inputs: {distinct} of {inputs} inputs encoded, {inputs - distinct} reused" \
        in said
