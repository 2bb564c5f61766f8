"""`xstilts plan`'s summary: counts by kind, done flags, compute estimates by hand, parameter counts against
real encoders, and the CLI (text and JSON, no torch import)."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xstilts.config.load import parse_study
from xstilts.config.schema import ModelConfig, StageConfig
from xstilts.studies import estimate
from xstilts.studies.context import make_context
from xstilts.studies.plan_summary import plan_summary
from xstilts.tasks import get_task

SRC = str(Path(__file__).resolve().parents[1] / "src")

STUDY = yaml.safe_load("""\
name: estimate
models:
  small:
    build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
    tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
  wide:
    label: wide-encoder
    build: {architecture: bert, hidden_size: 48, num_layers: 2, num_heads: 2, intermediate_size: 96, max_length: 128}
    tokenizer: {train: {corpus: [mock-mlm], vocab_size: 500}}
seeds: [0]
stages:
  mlm: {sources: [{task: mock-mlm, languages: [en, qad]}], steps: 5, batch_size: 32, max_length: 128,
        selection: {enabled: false}}
  nli: {sources: [{task: mock-nli, max_examples: 50}], epochs: 2, batch_size: 16, grad_accumulation: 2,
        max_length: 64}
pipelines:
  baseline: [mlm, nli]
  direct: {stages: [nli], model: small}
evaluate: {max_examples: 10}
""")


def layer_parameters(h: int, layers: int, i: int) -> int:
    # per layer: Q, K, V, O (weights + biases), FFN in and out, two LayerNorms
    return layers * (4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h)


@pytest.fixture()
def study(xstilts_home, tmp_path):
    data = copy.deepcopy(STUDY)
    data["store"] = str(tmp_path / "store")
    return parse_study(data)


def test_summary_counts_and_estimates_by_hand(study, xstilts_home):
    context = make_context(study)
    summary = plan_summary(context, flops_per_second=1e9)
    # small: mlm, nli after mlm, nli alone; wide: mlm, nli after mlm
    assert (summary["stages"], summary["done"], summary["to_run"]) == (5, 0, 5)
    assert summary["kinds"] == {"mlm": 2, "intermediate": 0, "target": 3, "evaluate": 3 * 2, "evaluation_groups": 3}
    small, wide = summary["models"]["small"], summary["models"]["wide"]
    assert small["layer_parameters"] == layer_parameters(32, 1, 64)
    assert wide["layer_parameters"] == layer_parameters(48, 2, 96) and wide["label"] == "wide-encoder"
    # XLM-R: 400 words + (128 + pad id 1 + 1) positions + 1 type; BERT: 500 + 128 + 2; embedding LayerNorm
    assert small["parameters"] == (400 + 130 + 1) * 32 + 2 * 32 + layer_parameters(32, 1, 64)
    assert wide["parameters"] == (500 + 128 + 2) * 48 + 2 * 48 + layer_parameters(48, 2, 96)

    nli_task = get_task("mock-nli")
    lines = {(split, language): sum(1 for line in nli_task.path(split, language, xstilts_home / "data")
                                    .read_text().splitlines() if line.strip())
             for split, language in (("train", "en"), ("test", "en"), ("test", "qad"))}
    assert lines[("train", "en")] > 50
    mlm_tokens = 5 * 32 * 128
    nli_steps = math.ceil(2 * math.ceil(50 / (16 * 2)))  # 2 epochs of 50 examples in steps of 32
    nli_tokens = nli_steps * 32 * 64
    by_node = {(n["model"], n["stage"], n["parent"] is None): n for n in summary["nodes"]}
    mlm = by_node[("small", "mlm", True)]
    assert mlm["kind"] == "mlm" and mlm["tokens"] == mlm_tokens
    # an mlm stage also multiplies by the output projection over the vocabulary
    assert mlm["flops"] == 6 * (small["layer_parameters"] + 400 * 32) * mlm_tokens
    assert mlm["seconds"] == pytest.approx(mlm["flops"] / 1e9)
    nli = by_node[("wide", "nli", False)]
    assert nli["tokens"] == nli_tokens and nli["flops"] == 6 * wide["layer_parameters"] * nli_tokens
    evaluation = next(e for e in summary["evaluation_nodes"] if e["model"] == "small" and e["language"] == "qad")
    assert evaluation["tokens"] == min(10, lines[("test", "qad")]) * 64  # the stage's max_length
    assert evaluation["flops"] == 2 * small["layer_parameters"] * evaluation["tokens"]
    nodes = summary["nodes"] + summary["evaluation_nodes"]
    assert summary["compute"]["tokens"] == sum(n["tokens"] for n in nodes)
    assert summary["compute"]["flops"] == pytest.approx(sum(n["flops"] for n in nodes))
    assert summary["compute"]["unknown"] == 0
    json.dumps(summary)  # plain data


@pytest.mark.parametrize(("stage", "expected"), [
    # 1 epoch of 50 + 30 examples in batches of 16: 4 + 2 = 6 steps. Proportional sampling draws mock-nli
    # (32 tokens) with probability 50/80 and mock-paraphrase (the stage's 64) with 30/80: 16 x (20 + 24) a step.
    ({"epochs": 1}, 6 * 16 * (20 + 24)),
    ({"steps": 5}, 5 * 16 * (20 + 24)),
    # capped at 30 examples: each source 1/2, 16 x (16 + 32) a step
    ({"epochs": 1, "sampler": {"kind": "capped", "cap": 30}}, 6 * 16 * (16 + 32)),
    # one length for both (as before per-source lengths): no sampler weights needed
    ({"steps": 5, "max_length": 32}, 5 * 16 * 32),
])
def test_stage_tokens_use_each_source_length(stage, expected, xstilts_home):
    config = StageConfig(sources=[{"task": "mock-nli", "max_examples": 50, "max_length": 32},
                                  {"task": "mock-paraphrase", "max_examples": 30}],
                         **{"batch_size": 16, "max_length": 64, **stage})
    data_root = xstilts_home / "data"
    assert estimate.source_examples(config.sources[1], data_root) == 30  # the data holds more than the caps
    assert estimate.stage_tokens(config, data_root) == expected


def test_done_stages_and_evaluations_are_counted(study):
    from xstilts.atomic import write_json_atomic
    from xstilts.studies.evaluate import eval_path

    context = make_context(study)
    first = context.plan.stages[0]
    context.store.mark_done(first.key)
    evaluation = context.plan.evaluations[0]
    write_json_atomic(eval_path(context, evaluation), {"key": evaluation.key, "rows": []})
    summary = plan_summary(context)
    assert (summary["done"], summary["to_run"]) == (1, 4)
    assert (summary["evaluations_done"], summary["evaluations_to_run"]) == (1, 5)
    done = [n for n in summary["nodes"] if n["done"]]
    assert [n["key"] for n in done] == [first.key]
    assert summary["compute_to_run"]["tokens"] == summary["compute"]["tokens"] - done[0]["tokens"] - \
        next(e["tokens"] for e in summary["evaluation_nodes"] if e["done"])


@pytest.mark.parametrize("architecture", ["xlm-roberta", "bert"])
def test_parameter_formula_matches_a_built_encoder(architecture):
    from xstilts.models.encoder import build_encoder

    spec = {"architecture": architecture, "hidden_size": 24, "num_layers": 2, "num_heads": 3,
            "intermediate_size": 40, "max_length": 50}
    model = ModelConfig(build=spec, tokenizer={"train": {"corpus": ["mock-mlm"], "vocab_size": 300}})
    size = estimate.model_size(model)
    encoder = build_encoder(spec, vocab_size=300, pad_token_id=1)  # the trained tokenizer's pad id
    assert size.parameters == sum(p.numel() for p in encoder.parameters())
    assert size.layer_parameters == sum(p.numel() for name, p in encoder.named_parameters() if "embeddings" not in name)


@pytest.mark.parametrize("kind", ["xlm-roberta", "bert"])
def test_parameter_formula_matches_a_pretrained_folder(kind, tmp_path):
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    config_class, model_class = (XLMRobertaConfig, XLMRobertaModel) if kind == "xlm-roberta" else (BertConfig, BertModel)
    config = config_class(vocab_size=333, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                          intermediate_size=28, max_position_embeddings=70, type_vocab_size=1)
    config.save_pretrained(tmp_path)  # config.json only: the count needs no weights
    encoder = model_class(config, add_pooling_layer=False)  # load_encoder drops the pooler too
    size = estimate.model_size(ModelConfig(name_or_path=str(tmp_path)))
    assert size.parameters == sum(p.numel() for p in encoder.parameters())


def test_presets_hub_encoders_have_their_published_size():
    # XLMRobertaModel("xlm-roberta-base") has 278,043,648 parameters with its pooler (768 x 768 + 768), which
    # an encoder fine-tuned here leaves out
    size = estimate.model_size(ModelConfig(name_or_path="xlm-roberta-base"))
    assert size.parameters == 278_043_648 - (768 * 768 + 768)
    assert estimate.model_size(ModelConfig(name_or_path="FacebookAI/xlm-roberta-base")).parameters == size.parameters


def test_unknown_model_size_is_unknown_not_a_guess(xstilts_home, tmp_path):
    size = estimate.model_size(ModelConfig(name_or_path="some-org/an-encoder"))
    assert size.parameters is None and size.how.startswith("unknown")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 8}))
    assert estimate.model_size(ModelConfig(name_or_path=str(tmp_path))).parameters is None
    data = copy.deepcopy(STUDY)
    data["models"] = {"hub": {"name_or_path": "some-org/an-encoder"}}
    data["pipelines"] = {"baseline": ["mlm", "nli"]}
    data["store"] = str(tmp_path / "store")
    summary = plan_summary(make_context(parse_study(data)))
    assert summary["nodes"] and all(n["flops"] is None and n["seconds"] is None and n["tokens"] > 0
                                    for n in summary["nodes"])
    assert summary["compute"]["unknown"] == summary["stages"] + summary["evaluations"]
    assert summary["compute"]["flops"] == 0


def test_cli_plan_text_and_json_without_torch(xstilts_home, tmp_path):
    path = tmp_path / "study.yaml"
    data = copy.deepcopy(STUDY)
    data["store"] = str(tmp_path / "store")
    path.write_text(yaml.safe_dump(data))
    code = (
        "import sys\n"
        "from xstilts.cli import app\n"
        "for args in (['plan', sys.argv[1]], ['plan', sys.argv[1], '--json', '--flops-per-second', '1e9']):\n"
        "    sys.argv = ['xstilts', *args]\n"
        "    try:\n        app(standalone_mode=False)\n    except SystemExit:\n        pass\n"
        "print('HEAVY', [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "XSTILTS_HOME": str(xstilts_home)})
    assert result.returncode == 0, result.stderr
    text, _, rest = result.stdout.partition("{\n")
    assert "5 stages (0 done, 5 to run), 6 evaluations in 3 groups" in text
    assert "mlm 2, intermediate 0, target 3, evaluate 6." in text and "wide-encoder" not in text
    assert "evaluate x2" in text and "model small:" in text
    payload, _, heavy = ("{\n" + rest).rpartition("}")
    summary = json.loads(payload + "}")
    assert summary["kinds"]["target"] == 3 and summary["flops_per_second"] == 1e9
    assert {"kind", "stage", "seed", "model", "done", "tokens", "flops", "seconds"} <= set(summary["nodes"][0])
    assert "HEAVY []" in heavy
