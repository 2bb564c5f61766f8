"""PEFT stages (`peft: {method: lora, ...}`): the config, the lineage key, what trains, the checkpoints (small
while training, merged or kept at the end), exact resume, and LoRA intermediate training followed by a full or a
LoRA target stage."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from helpers import SYLLABLE_WORDS, syllable_tokenizer, tiny_encoder
from xstilts import faults
from xstilts.config.checks import built_adaptable_modules
from xstilts.config.load import parse_study
from xstilts.errors import ConfigError
from xstilts.models.adapters import adaptable_modules, adapter_summary, add_adapter, merged
from xstilts.models.checkpoint import load_encoder_from_checkpoint
from xstilts.studies.runner import run_study

pytest.importorskip("peft")

# An intermediate stage and a target stage, each small; the pipelines below pick LoRA or full versions.
STUDY = """\
name: peft
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
stages:
  inter: &inter
    sources: [{task: mock-nli, max_examples: 160}]
    steps: 12
    batch_size: 16
    max_length: 64
    optimizer: {lr: 1.0e-2}
    checkpoint_every: 5
    selection: {every: 4, max_examples: 40}
    peft: {r: 4, alpha: 8}
  inter-kept: {<<: *inter, peft: {r: 4, alpha: 8, merge: false}}
  target: {<<: *inter, sources: [{task: mock-pos, max_examples: 160}], peft: null}
  target-lora: {<<: *inter, sources: [{task: mock-pos, max_examples: 160}], peft: {r: 4, target_modules: [query, value, dense]}}
pipelines:
  lora-full: [inter, target]
  kept-lora: [inter-kept, target-lora]
evaluate: {max_examples: 20}
runtime: {progress: false, threads: 1}
"""


def study_data(**changes) -> dict:
    data = yaml.safe_load(STUDY)
    for stage, fields in changes.items():
        data["stages"][stage] = {**data["stages"][stage], **fields}
    return data


def problems_of(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_study(data)
    return str(caught.value)


# ----- config --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("peft, key, words", [
    ({"method": "prefix"}, "stages.inter.peft.method", "unknown PEFT method 'prefix'"),
    ({"method": "adapter"}, "stages.inter.peft.method", "bottleneck adapters are not in the peft library"),
    ({"r": 0}, "stages.inter.peft.r", "greater than 0"),
    ({"r": -4}, "stages.inter.peft.r", "greater than 0"),
    ({"dropout": 1.0}, "stages.inter.peft.dropout", "less than 1"),
    ({"target_modules": ["query", "query"]}, "stages.inter.peft.target_modules", "more than once"),
    ({"target_modules": ["query value"]}, "stages.inter.peft.target_modules", "not a module name"),
    ({"target_modules": ["qeury"]}, "stages.inter.peft.target_modules", "'qeury' name(s) no Linear"),
    ({"rank": 8}, "stages.inter.peft.rank", "unknown key; choose one of alpha"),
])
def test_bad_peft_settings_are_config_errors_naming_the_key(peft, key, words):
    message = problems_of(study_data(inter={"peft": {"r": 4, **peft}}))
    assert key in message and words in message, message


def test_target_modules_are_checked_against_the_built_encoder():
    message = problems_of(study_data(inter={"peft": {"target_modules": ["query", "LayerNorm"]}}))
    # LayerNorm exists but LoRA cannot adapt it; the message lists what can be targeted
    assert "'LayerNorm' name(s) no Linear or Embedding module of the built xlm-roberta encoder" in message
    assert "query" in message.split("it has:")[1] and "intermediate.dense" in message
    # dotted suffixes and full names are module names too
    parse_study(study_data(inter={"peft": {"target_modules": ["attention.self.query", "encoder.layer.0.output.dense",
                                                                "word_embeddings"]}}))


@pytest.mark.parametrize("architecture", ["xlm-roberta", "bert"])
def test_the_table_of_built_modules_is_the_built_encoders(architecture):
    from xstilts.models.encoder import build_encoder

    encoder = build_encoder({"architecture": architecture, "hidden_size": 16, "num_layers": 3, "num_heads": 2},
                            vocab_size=50, pad_token_id=1)
    assert sorted(adaptable_modules(encoder)) == sorted(built_adaptable_modules(3))


def test_lineage_key_tells_lora_from_full_and_keeps_old_keys(xstilts_home, tmp_path):
    from xstilts.studies.plan import _stage_described, build_plan

    data = study_data()
    data["pipelines"] = {"lora": ["inter"], "full": ["target"]}
    study = parse_study(data)
    # without peft, a stage is described exactly as before the option existed: its key is unchanged
    assert "peft" not in _stage_described(study.stages["target"])

    def key(**peft) -> str:
        changed = copy.deepcopy(data)
        changed["stages"]["inter"]["peft"] = peft
        changed["pipelines"] = {"lora": ["inter"]}
        return build_plan(parse_study(changed), xstilts_home / "data").stages[0].key

    without = copy.deepcopy(data)
    without["stages"]["inter"].pop("peft")
    without["pipelines"] = {"lora": ["inter"]}
    full = build_plan(parse_study(without), xstilts_home / "data").stages[0].key
    keys = {full, key(r=4, alpha=8), key(r=8, alpha=8), key(r=4, alpha=8, merge=False),
            key(r=4, alpha=8, target_modules=["query"])}
    assert len(keys) == 5  # full, and each LoRA setting, are different stages


# ----- the adapter ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    return syllable_tokenizer(SYLLABLE_WORDS)


def _peft_config(**fields):
    from xstilts.config.schema import PeftConfig

    return PeftConfig(**fields)


def test_only_the_adapter_trains_and_merging_keeps_the_function(tokenizer):
    encoder = tiny_encoder(tokenizer, layers=2, seed=0)
    total_before = sum(p.numel() for p in encoder.parameters())
    wrapped = add_adapter(encoder, _peft_config(r=4, alpha=8, target_modules=["query", "value"]))
    counts = adapter_summary(wrapped)
    # r (in + out) per adapted matrix: 4 * (32 + 32) for query and value in 2 layers
    assert counts["trainable"] == 4 * (32 + 32) * 2 * 2 == 1024
    assert counts["total"] == total_before + 1024 and counts["trainable"] < counts["total"] / 20
    torch.manual_seed(1)
    for name, parameter in wrapped.named_parameters():
        if "lora_B" in name:  # B starts at zero (the adapter starts as the identity): make it do something
            parameter.data.normal_(0, 0.5)
    wrapped.eval()
    ids = torch.randint(5, len(tokenizer), (3, 11))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        adapted = wrapped(input_ids=ids, attention_mask=mask)[0]
        plain = merged(wrapped)
        assert not any(type(m).__name__.startswith("Lora") for m in plain.modules())
        assert (adapted - plain(input_ids=ids, attention_mask=mask)[0]).abs().max() < 1e-5
        assert (adapted - tiny_encoder(tokenizer, layers=2, seed=0).eval()(input_ids=ids, attention_mask=mask)[0]
                ).abs().max() > 1e-2  # and the adapter did change the function


def test_unknown_target_of_a_loaded_encoder_names_the_key(tokenizer):
    with pytest.raises(ConfigError, match=r"stages.x.peft.target_modules: 'wo' name\(s\) no Linear"):
        add_adapter(tiny_encoder(tokenizer), _peft_config(target_modules=["query", "wo"]), where="stages.x.peft")


# ----- stages end to end ---------------------------------------------------------------------------------


def stage_folder(store: Path, name: str) -> Path:
    (folder,) = [p.parent for p in store.glob("*/config.yaml") if yaml.safe_load(p.read_text())["stage"] == name]
    return folder


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def with_store(data: dict, store: Path):
    return parse_study({**data, "store": str(store)})


@pytest.fixture(scope="module")
def both_pipelines(xstilts_home, tmp_path_factory):
    store = tmp_path_factory.mktemp("peft-store")
    rows = run_study(with_store(study_data(), store), tmp_path_factory.mktemp("peft-out"))
    return store, rows


def test_lora_intermediate_then_full_target(both_pipelines):
    store, rows = both_pipelines
    inter, target = stage_folder(store, "inter"), stage_folder(store, "target")
    # merge: true: a plain encoder, no adapter left; the full target stage loaded it and trained every weight
    assert (inter / "checkpoint" / "encoder").is_dir() and not (inter / "checkpoint" / "adapter").exists()
    merged_weights = load_file(inter / "checkpoint" / "encoder" / "model.safetensors")
    assert not any("lora" in k for k in merged_weights)
    target_weights = load_file(target / "checkpoint" / "encoder" / "model.safetensors")
    assert set(target_weights) == set(merged_weights)
    query = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(target_weights[query], merged_weights[query])
    key = "encoder.layer.0.intermediate.dense.weight"  # not a LoRA target: only full training changes it
    assert not torch.equal(target_weights[key], merged_weights[key])
    main = [r for r in rows if r["main"] and r["pipeline"] == "lora-full"]
    assert {r["intermediate"] for r in main} == {"mock-nli~lora"}  # a LoRA intermediate has its own column


def test_kept_adapter_then_lora_target(both_pipelines, xstilts_home):
    store, rows = both_pipelines
    kept, target = stage_folder(store, "inter-kept"), stage_folder(store, "target-lora")
    checkpoint = kept / "checkpoint"
    assert (checkpoint / "encoder").is_dir() and (checkpoint / "adapter" / "adapter_model.safetensors").is_file()
    # the encoder kept beside the adapter is the one the stage started from (the built encoder, seeded by key)
    from xstilts.models.adapters import is_adapted

    unmerged = load_encoder_from_checkpoint(checkpoint, merge_adapter=False)
    assert is_adapted(unmerged)
    plain = load_encoder_from_checkpoint(checkpoint)
    assert not is_adapted(plain)
    ids = torch.randint(5, 300, (2, 9))
    with torch.no_grad():
        a = unmerged.eval()(input_ids=ids, attention_mask=torch.ones_like(ids))[0]
        b = plain.eval()(input_ids=ids, attention_mask=torch.ones_like(ids))[0]
    assert (a - b).abs().max() < 1e-5
    # the LoRA target merged its own adapter on top of the kept one: every non-target weight is the kept stage's
    # base + adapter (merged), the adapted matrices moved
    before = {k: v for k, v in plain.state_dict().items()}
    after = load_file(target / "checkpoint" / "encoder" / "model.safetensors")
    untouched = "encoder.layer.0.attention.self.key.weight"
    assert torch.equal(after[untouched], before[untouched])
    assert not torch.equal(after["encoder.layer.0.attention.output.dense.weight"],
                           before["encoder.layer.0.attention.output.dense.weight"])
    assert {r["intermediate"] for r in rows if r["main"] and r["pipeline"] == "kept-lora"} == {"mock-nli~lora"}


def test_lora_checkpoints_are_small_and_resume_is_exact(xstilts_home, tmp_path):
    data = study_data()
    data["pipelines"] = {"lora": ["inter-kept"]}
    clean_store, crash_store = tmp_path / "clean", tmp_path / "crash"
    run_study(with_store(data, clean_store), tmp_path / "clean-out")

    study = with_store(data, crash_store)
    # after the dev evaluation at 8 (a best checkpoint) and... the state saved at 5; crash at 7
    with faults.armed("train.step@9:raise"), pytest.raises(faults.InjectedFault):
        run_study(study, tmp_path / "crash-out")
    (folder,) = [p for p in crash_store.iterdir() if p.is_dir()]
    full_encoder = size(stage_folder(clean_store, "inter-kept") / "checkpoint" / "encoder")
    # while training: the checkpoint holds the adapter and heads, the state the trainable tensors only
    checkpoint = folder / "checkpoint"
    assert {p.name for p in checkpoint.iterdir()} == {"adapter", "heads.safetensors", "heads.json"}
    state = load_file(folder / "state" / "model.safetensors")
    assert state and all("lora_" in k or k.startswith("heads.") or "position_ids" in k or "token_type_ids" in k
                         for k in state), sorted(state)
    assert size(checkpoint) < full_encoder / 3
    assert (folder / "state" / "model.safetensors").stat().st_size < full_encoder / 3
    optimizer_tensors = load_file(folder / "state" / "state.safetensors")
    adam = [k for k in optimizer_tensors if k.endswith("exp_avg")]
    trainable = [k for k in state if "lora_" in k or k.startswith("heads.")]
    assert len(adam) == len(trainable)  # Adam moments of the trainable tensors only

    run_study(study, tmp_path / "crash-out")
    clean, crashed = stage_folder(clean_store, "inter-kept"), folder
    clean_metrics = json.loads((clean / "metrics.json").read_text())
    crash_metrics = json.loads((crashed / "metrics.json").read_text())
    assert crash_metrics["resumed_from"] == 5
    assert crash_metrics["history"] == clean_metrics["history"]
    for part in ("encoder/model.safetensors", "adapter/adapter_model.safetensors", "heads.safetensors"):
        a, b = load_file(clean / "checkpoint" / part), load_file(crashed / "checkpoint" / part)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), part


def test_the_report_pairs_lora_with_full_intermediate_training():
    from xstilts.reports.columns import Column
    from xstilts.reports.pairs import condition_pairs

    full, lora = (Column(label, variant=(("training", t),)) for label, t in (("nli", "full"), ("nli~lora", "lora")))
    other = Column("squad~lora", variant=(("training", "lora"),))
    assert {(p.a.intermediate, p.b.intermediate, p.differs)
            for p in condition_pairs([Column("none"), full, lora, other])} == {("nli~lora", "nli", "training")}
    # hand-written pipelines (no axis): the training mark alone tells them apart
    (pair,) = condition_pairs([Column("nli"), Column("nli~lora"), Column("squad")])
    assert {pair.a.intermediate, pair.b.intermediate} == {"nli", "nli~lora"} and pair.differs == "PEFT vs full training"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_lora_stages_in_bf16_on_gpu(xstilts_home, tmp_path):
    data = study_data()
    data["runtime"] = {"device": "cuda", "precision": "bf16", "progress": False}
    rows = run_study(with_store(data, tmp_path / "store"), tmp_path / "out")
    assert {r["pipeline"] for r in rows} == {"lora-full", "kept-lora"}
    kept = stage_folder(tmp_path / "store", "inter-kept") / "checkpoint"
    unmerged = load_encoder_from_checkpoint(kept, merge_adapter=False).cuda().eval()
    plain = load_encoder_from_checkpoint(kept).cuda().eval()
    ids = torch.randint(5, 300, (2, 9), device="cuda")
    with torch.no_grad():  # fp32 weights on the GPU: merged and unmerged agree as on a CPU
        a = unmerged(input_ids=ids, attention_mask=torch.ones_like(ids))[0]
        b = plain(input_ids=ids, attention_mask=torch.ones_like(ids))[0]
    assert (a - b).abs().max() < 1e-4


def test_the_plan_counts_no_weight_gradients_for_frozen_weights(xstilts_home):
    """A LoRA stage's backward pass computes activation gradients through the frozen weights (2 FLOPs per
    parameter and token) but not their weight gradients: 4 per parameter and token in all, against 6."""
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context
    from xstilts.studies.plan_summary import plan_summary

    summary = plan_summary(make_context(load_study("micro-lora-intermediate"), provisional=True))
    layers = next(iter(summary["models"].values()))["layer_parameters"]
    per_token = {node["stage"]: node["flops_per_token"] for node in summary["nodes"]}
    assert per_token["nli-lora"] == 4 * layers
    assert per_token["nli-full"] == 6 * layers
