"""The `intermediate` and `pretraining` labels of result rows: sequential, joint, MLM-auxiliary and translated
variants of the same task must land in different columns of the paper table."""

from __future__ import annotations

import pytest
import yaml

from xstilts.config.load import parse_study
from xstilts.studies.plan import build_plan
from xstilts.studies.results import describe_lineage

STUDY = yaml.safe_load("""\
name: labels
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
stages:
  mlm: {sources: [{task: mock-mlm, languages: [en, qad]}], steps: 5, selection: {enabled: false}}
  qa: {sources: [{task: mock-qa}], steps: 5}
  qa-mlm: {sources: [{task: mock-qa}, {task: mock-mlm, languages: [qad]}], steps: 5}
  nli: {sources: [{task: mock-nli}], steps: 5}
  qa+nli: {sources: [{task: mock-qa}, {task: mock-nli}], steps: 5}
pipelines:
  baseline: [mlm, nli]
  sequential: [mlm, qa, nli]
  joint: {stages: [mlm, qa+nli], evaluate: [mock-nli]}
  auxiliary: [mlm, qa-mlm, nli]
  control: [nli]
  retrieval: {stages: [mlm, qa], evaluate: [mock-retrieval]}
""")


@pytest.fixture(scope="module")
def labels(xstilts_home):
    study = parse_study(STUDY)
    plan = build_plan(study, xstilts_home / "data")
    out = {}
    for evaluation in plan.evaluations:
        label = describe_lineage(study, evaluation.stage, evaluation.task)
        out[evaluation.pipeline] = (label["intermediate"], label["pretraining"])
    return out


def test_sequential_joint_and_auxiliary_are_told_apart(labels):
    assert labels["baseline"] == ("none", "mlm")
    assert labels["sequential"] == ("mock-qa", "mlm")
    assert labels["joint"] == ("mock-qa (joint)", "mlm")
    # MLM beside the intermediate task is part of the intermediate training, not pretraining
    assert labels["auxiliary"] == ("mock-qa+mock-mlm", "mlm")
    assert labels["control"] == ("none", "none")
    assert labels["retrieval"] == ("mock-qa", "mlm")  # retrieval: every trained stage before evaluation


def test_other_splits_are_named(xstilts_home):
    from xstilts.config.schema import SourceConfig
    from xstilts.studies.results import source_label

    assert source_label(SourceConfig(task="xnli")) == "xnli"
    assert source_label(SourceConfig(task="xnli", split="translate-train", languages=["de"])) == "xnli@translate-train"
    switched = SourceConfig(task="xnli", code_switch={"dictionaries": {"de": "en-de.txt"}})
    assert source_label(switched) == "xnli~cs"


def test_span_corruption_is_pretraining_not_an_intermediate_task(xstilts_home):
    """An encoder-decoder's denoising stage plays MLM's part: the plan's pretraining kind, the `pretraining`
    label, and no entry in `intermediate` (so the encoder-decoder's pipelines line up with the encoders')."""
    study = parse_study(yaml.safe_load("""\
name: t5-labels
models:
  t5:
    build: {architecture: t5, hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}
    tokenizer: {train: {corpus: [micro-tiny-mlm], vocab_size: 400, sentinels: 10}}
stages:
  denoise: {sources: [{task: micro-tiny-denoise, languages: [en, qaa]}], steps: 5, selection: {enabled: false}}
  qa: {sources: [{task: micro-tiny-squad}], steps: 5}
  nli: {sources: [{task: micro-tiny-xnli}], steps: 5}
pipelines:
  baseline: [denoise, nli]
  sequential: [denoise, qa, nli]
"""))
    plan = build_plan(study, xstilts_home / "data")
    assert {node.name: node.kind for node in plan.stages}["denoise"] == "mlm"
    got = {e.pipeline: describe_lineage(study, e.stage, e.task) for e in plan.evaluations}
    assert (got["baseline"]["intermediate"], got["baseline"]["pretraining"]) == ("none", "denoising")
    assert (got["sequential"]["intermediate"], got["sequential"]["pretraining"]) == ("micro-tiny-squad", "denoising")
