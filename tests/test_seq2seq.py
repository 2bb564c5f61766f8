"""Encoder-decoders (models/seq2seq.py) and the generation family: built and loaded whole and strictly, their kind
checked against the study's families at validate time, decoded by hand-set weights to known outputs, planned,
and run end to end in tiny studies (training, resume, decoding settings in evaluation keys only)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from helpers import empty_task
from xstilts import MAJOR_VERSION, faults
from xstilts.config.load import parse_study
from xstilts.config.model_kinds import model_kind
from xstilts.config.schema import ModelConfig
from xstilts.errors import ConfigError, DataError, XstiltsError
from xstilts.families import get_family
from xstilts.families.common import IGNORE_INDEX
from xstilts.models.tokenizer import train_tokenizer
from xstilts.studies.runner import run_study
from xstilts.studies.stage import training_starts
from xstilts.tasks.base import stable_hash

WORDS = "red blue green cat dog sun moon tree fish bird star rock".split()
GENERATION = get_family("generation")


def generation_task(**fields):
    return empty_task("generation", **{"metrics": ("bleu",), **fields})


def project_tokenizer():
    """The project's own trained tokenizer kind (<s> A </s>; pad 1, eos 2) on the copy task's words."""
    return train_tokenizer([" ".join(WORDS)] * 20, vocab_size=100)


def build(architecture: str, tokenizer, **spec):
    from xstilts.models.seq2seq import build_seq2seq, with_tokenizer

    torch.manual_seed(0)
    settings = dict(architecture=architecture, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=48,
                    max_length=64, dropout=0.0, **spec)
    return with_tokenizer(build_seq2seq(settings, tokenizer), tokenizer)


# ------------------------------------------------------------------------------------------------ models


@pytest.mark.parametrize(("architecture", "decoder_layers"), [("t5", None), ("mt5", 1), ("mbart", 3)])
def test_plan_counts_the_parameters_of_built_encoder_decoders(architecture, decoder_layers, tmp_path):
    from xstilts.studies.estimate import model_size

    tokenizer = project_tokenizer()
    tokenizer.save_pretrained(tmp_path / "tokenizer")
    model = build(architecture, tokenizer, num_decoder_layers=decoder_layers)
    size = model_size(ModelConfig.model_validate({
        "build": {"architecture": architecture, "hidden_size": 32, "num_layers": 2, "num_heads": 2,
                  "intermediate_size": 48, "max_length": 64, "num_decoder_layers": decoder_layers},
        "tokenizer": {"path": str(tmp_path / "tokenizer")}}))
    assert size.parameters == sum(p.numel() for p in model.parameters())  # tied weights once
    # what multiplies each source token: the encoder's layers (embedding lookups and position biases are not matmuls)
    assert size.layer_parameters == sum(p.numel() for name, p in model.get_encoder().named_parameters()
                                        if "embed" not in name and "relative_attention_bias" not in name)
    # each target token: the decoder's layers and the LM head (V x d)
    decoder = sum(p.numel() for name, p in model.get_decoder().named_parameters()
                  if "embed" not in name and "relative_attention_bias" not in name)
    assert size.decoder_parameters == decoder + len(tokenizer) * 32


def test_seq2seq_checkpoint_keeps_the_decoder_and_lm_head(tmp_path):
    from xstilts.models.checkpoint import load_model_from_checkpoint, save_model

    tokenizer = project_tokenizer()
    model = build("mt5", tokenizer)
    save_model(tmp_path / "checkpoint", model, {})
    loaded = load_model_from_checkpoint(tmp_path / "checkpoint", "encoder-decoder", tokenizer)
    assert type(loaded) is type(model)
    saved, back = model.state_dict(), loaded.state_dict()
    assert "lm_head.weight" in back and any(key.startswith("decoder.block.") for key in back)
    assert saved.keys() == back.keys() and all(torch.equal(saved[k], back[k]) for k in saved)
    assert loaded.xstilts_tokenizer is tokenizer


def test_seq2seq_loading_is_strict(tmp_path):
    from safetensors.torch import load_file, save_file

    from xstilts.models.seq2seq import load_seq2seq

    tokenizer = project_tokenizer()
    build("t5", tokenizer).save_pretrained(tmp_path / "t5")  # tied: the file holds the shared embedding once
    load_seq2seq(str(tmp_path / "t5"))  # tied weights are not "missing"
    weights = load_file(tmp_path / "t5" / "model.safetensors")
    dropped = "decoder.block.1.layer.2.DenseReluDense.wo.weight"
    save_file({k: v for k, v in weights.items() if k != dropped}, tmp_path / "t5" / "model.safetensors",
              metadata={"format": "pt"})
    with pytest.raises(XstiltsError, match=f"missing from the checkpoint.*{dropped}"):
        load_seq2seq(str(tmp_path / "t5"))
    save_file({**weights, "decoder.block.0.extra.weight": torch.zeros(2)}, tmp_path / "t5" / "model.safetensors",
              metadata={"format": "pt"})
    with pytest.raises(XstiltsError, match="the model does not have: decoder.block.0.extra.weight"):
        load_seq2seq(str(tmp_path / "t5"))


def test_an_encoder_checkpoint_is_no_encoder_decoder(architecture_folder):
    from xstilts.models.seq2seq import load_seq2seq

    with pytest.raises(XstiltsError, match="not an encoder-decoder"):
        load_seq2seq(str(architecture_folder("xlm-roberta")))


def test_the_model_kind_comes_from_the_config(architecture_folder):
    mt5, xlmr = str(architecture_folder("mt5")), str(architecture_folder("xlm-roberta"))
    assert model_kind(ModelConfig(name_or_path=mt5)) == "encoder-decoder"
    assert model_kind(ModelConfig(name_or_path=mt5, kind="encoder")) == "encoder"
    assert model_kind(ModelConfig(name_or_path=xlmr)) == "encoder"
    built = {"architecture": "mbart", "hidden_size": 32, "num_heads": 2}
    assert model_kind(ModelConfig(build=built, tokenizer={"path": "x"})) == "encoder-decoder"
    with pytest.raises(ValueError, match="does not fit the built architecture"):
        ModelConfig(build=built, tokenizer={"path": "x"}, kind="encoder")
    with pytest.raises(ValueError, match="num_decoder_layers is for encoder-decoders"):
        ModelConfig(build={"architecture": "bert", "num_decoder_layers": 2}, tokenizer={"path": "x"})


def test_encoders_keep_their_lineage_keys(tmp_path):
    from xstilts.studies.plan import model_key

    # The key as it was defined before encoder-decoders: the model config's fields, nothing else.
    hub = ModelConfig(name_or_path="xlm-roberta-base")
    assert model_key(hub, tmp_path) == stable_hash({"v": MAJOR_VERSION, "model": {
        "name_or_path": "xlm-roberta-base", "revision": None, "build": None, "tokenizer": None}})
    built = ModelConfig(build={"architecture": "bert"}, tokenizer={"path": str(tmp_path / "none")})
    assert model_key(built, tmp_path) == stable_hash({"v": MAJOR_VERSION, "model": {
        "name_or_path": None, "revision": None, "tokenizer": {"path": str(tmp_path / "none"), "train": None},
        "build": {"architecture": "bert", "hidden_size": 64, "num_layers": 2, "num_heads": 2,
                  "intermediate_size": 256, "max_length": 512, "dropout": 0.1}}})


def test_mt5_whole_and_its_encoder_are_two_models(architecture_folder, tmp_path):
    from xstilts.studies.plan import model_key

    folder = str(architecture_folder("mt5"))
    assert model_key(ModelConfig(name_or_path=folder), tmp_path) != model_key(
        ModelConfig(name_or_path=folder, kind="encoder"), tmp_path)
    assert model_key(ModelConfig(name_or_path=folder, kind="encoder"), tmp_path) == model_key(
        ModelConfig(name_or_path=folder, kind="encoder", label="shown"), tmp_path)


# ------------------------------------------------------------------------------------------------ the family


def test_featurize_and_collate_make_teacher_forcing_batches():
    tokenizer = project_tokenizer()
    task = generation_task(settings={"target_max_length": 3})
    examples = [{"id": "a", "source": "red cat", "target": "blue dog sun moon"},
                {"id": "b", "source": "fish", "target": "tree"}]
    features = GENERATION.featurize(task, examples, tokenizer, max_length=16)
    eos, bos = tokenizer.eos_token_id, tokenizer.bos_token_id
    assert features[0]["input_ids"][0] == bos and features[0]["input_ids"][-1] == eos
    # labels: no <s> (the decoder starts from its own start token), cut at 3 with </s> kept
    assert features[0]["labels"] == tokenizer("blue dog", add_special_tokens=False)["input_ids"] + [eos]
    assert features[1]["labels"] == tokenizer("tree", add_special_tokens=False)["input_ids"] + [eos]
    assert features[0]["num_beams"] == 1 and features[0]["max_new_tokens"] == 64
    batch = GENERATION.collate(features, tokenizer.pad_token_id)
    assert batch["labels"][1].tolist() == features[1]["labels"] + [IGNORE_INDEX]
    assert batch["input_ids"][1].tolist()[len(features[1]["input_ids"]):] == [tokenizer.pad_token_id] * (
        len(features[0]["input_ids"]) - len(features[1]["input_ids"]))
    assert batch["attention_mask"].sum().item() == sum(len(f["input_ids"]) for f in features)


def test_the_teacher_forced_loss_is_the_models_own():
    tokenizer = project_tokenizer()
    model = build("t5", tokenizer).train()
    task = generation_task()
    examples = [{"id": "a", "source": "red cat", "target": "blue dog sun"},
                {"id": "b", "source": "fish", "target": "x"}]
    batch = GENERATION.collate(GENERATION.featurize(task, examples, tokenizer, 16), tokenizer.pad_token_id)
    loss = GENERATION.loss(GENERATION.forward(model, None, batch), batch)
    reference = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    assert torch.allclose(loss, reference.loss, atol=1e-6)


def word_tokenizer():
    """A word-level tokenizer: <pad>=0 </s>=1 <unk>=2 a=3 b=4 c=5 d=6 e=7; decoding joins words with spaces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(["<pad>", "</s>", "<unk>", "a", "b", "c", "d", "e"])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins the words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def successor_model(tokenizer, successors: dict[int, int]):
    """A T5 whose next token depends on the previous one alone, as ``successors`` says. Every weight is zero but
    the norms (1), the shared embedding (one-hot: token t -> unit vector t; tied to the LM head) and the decoder's
    feed-forward: ``wi`` the identity and ``wo`` 10 x the successor map, so the residual stream after it is
    e_prev + 10 sqrt(d) e_next (RMSNorm turns e_prev into sqrt(d) e_prev) and the logits, a positive multiple of
    it, peak at the successor. Attention adds nothing anywhere, so the source does not matter."""
    from transformers import T5Config, T5ForConditionalGeneration

    from xstilts.models.seq2seq import with_tokenizer

    vocab = len(tokenizer)
    config = T5Config(vocab_size=vocab, d_model=vocab, d_kv=4, d_ff=vocab, num_layers=1, num_heads=2,
                      feed_forward_proj="relu", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                      dropout_rate=0.0)
    model = T5ForConditionalGeneration(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.ones_like(parameter) if "layer_norm" in name else torch.zeros_like(parameter))
        model.shared.weight.copy_(torch.eye(vocab))
        feed_forward = model.decoder.block[0].layer[2].DenseReluDense
        feed_forward.wi.weight.copy_(torch.eye(vocab))
        for previous, following in successors.items():
            feed_forward.wo.weight[following, previous] = 10.0
    return with_tokenizer(model.eval(), tokenizer)


@pytest.mark.parametrize(("num_beams", "max_new_tokens", "expected"), [
    (1, 8, "a b c"), (1, 2, "a b"), (3, 8, "a b c")])
def test_greedy_and_beam_decoding_give_the_hand_set_output(num_beams, max_new_tokens, expected):
    tokenizer = word_tokenizer()
    # start (pad 0) -> a (3) -> b (4) -> c (5) -> </s> (1)
    model = successor_model(tokenizer, {0: 3, 3: 4, 4: 5, 5: 1})
    task = generation_task(settings={"num_beams": num_beams, "max_new_tokens": max_new_tokens})
    examples = [{"id": "x", "source": "d e", "target": "a b c"}, {"id": "y", "source": "e", "target": "a b"}]
    features = GENERATION.featurize(task, examples, tokenizer, 16)
    batch = GENERATION.collate(features, tokenizer.pad_token_id)
    texts = GENERATION.predict(GENERATION.forward(model, None, batch), batch)
    assert texts == [expected, expected]
    predictions = GENERATION.postprocess(task, examples, features, texts)
    from xstilts.scoring.generation import corpus_bleu

    assert GENERATION.score(task, examples, predictions) == {"bleu": corpus_bleu(predictions, ["a b c", "a b"])}


def test_chance_answers_with_another_examples_target():
    task = generation_task()
    distinct = [{"id": str(i), "source": "s", "target": f"w{i} v{i} u{i} t{i}"} for i in range(6)]
    same = [{"id": str(i), "source": "s", "target": "one two three four"} for i in range(6)]
    # no n-gram is shared between two targets: any example answered with its own target would score above 0
    assert GENERATION.chance(task, distinct) == {"bleu": 0.0}
    assert GENERATION.chance(task, same)["bleu"] == pytest.approx(100.0)  # every other target is this one
    assert GENERATION.chance(task, same[:1]) == {"bleu": 0.0}


def test_generation_examples_are_checked():
    task = generation_task()
    assert GENERATION.validate_example(task, {"id": "a", "source": "x", "target": ""}) is None
    assert "'source' must be a non-empty string" in GENERATION.validate_example(task, {"id": "a", "source": " ",
                                                                                       "target": "y"})
    assert "'target' must be a string" in GENERATION.validate_example(task, {"id": "a", "source": "x"})


def test_tsv_pairs_name_the_bad_line(tmp_path):
    from xstilts.tasks.readers import read_tsv_pairs

    path = tmp_path / "train-en.tsv"
    path.write_text("red cat\tcat red\n\nno tab here\n")
    with pytest.raises(DataError, match=r"train-en.tsv:3: expected source<TAB>target, found 0 tabs"):
        list(read_tsv_pairs(path, "train", "en"))
    path.write_text("red cat\tcat red\n")
    assert list(read_tsv_pairs(path, "train", "en")) == [
        (1, {"id": "train-en-1", "source": "red cat", "target": "cat red"})]


# ------------------------------------------------------------------------------------------------ studies


def copy_data(folder: Path, train: int = 2000) -> None:
    """A copy task (source = target: 2 to 4 of 12 words); the test languages share the words (a copy transfers)."""
    import random

    for name, count, seed in (("train-en", train, 1), ("dev-en", 20, 2), ("test-en", 30, 3), ("test-de", 30, 4)):
        rng = random.Random(seed)
        lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))) for _ in range(count)]
        (folder / f"{name}.tsv").write_text("".join(f"{line}\t{line}\n" for line in lines))


def copy_study(tmp_path: Path, task: str, steps: int, **extra) -> dict:
    copy_data(tmp_path)
    study = {
        "name": task,
        "model": {"build": {"architecture": "t5", "hidden_size": 64, "num_layers": 2, "num_heads": 4,
                            "intermediate_size": 128, "max_length": 32, "dropout": 0.0},
                  "tokenizer": {"train": {"corpus": [task], "vocab_size": 100}}},
        "tasks": {task: {"family": "generation", "files": str(tmp_path / "{split}-{language}.tsv"),
                         "splits": {"train": ["en"], "dev": ["en"], "test": ["en", "de"]},
                         "settings": {"max_new_tokens": 8}}},
        "stages": {"copy": {"sources": [{"task": task}], "steps": steps, "batch_size": 16, "max_length": 32,
                            "optimizer": {"lr": 1e-3}, "schedule": {"warmup": 0.05},
                            "checkpoint_every": max(2, steps // 3)}},
        "pipelines": {"trained": ["copy"]},
        "store": str(tmp_path / "runs"),
        "runtime": {"progress": False, "threads": 1},
    }
    for key, value in extra.items():
        study[key] = value
    return study


def rows_of(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_a_tiny_t5_learns_to_copy(tmp_path, xstilts_home):
    data = copy_study(tmp_path, "s2s-copy", steps=600)
    data["pipelines"]["untrained"] = {"stages": [], "evaluate": ["s2s-copy"]}
    rows = rows_of_run(parse_study(data), tmp_path / "out")
    bleu = {(r["pipeline"], r["language"]): float(r["value"]) for r in rows}
    for language in ("en", "de"):
        assert bleu[("trained", language)] > bleu[("untrained", language)] + 40, bleu
        assert bleu[("trained", language)] > float(next(r["chance"] for r in rows if r["language"] == language)) + 40


def rows_of_run(study, out: Path) -> list[dict[str, str]]:
    run_study(study, out)
    return rows_of(out)


def test_changing_the_decoding_evaluates_again_without_training_again(tmp_path, xstilts_home):
    data = copy_study(tmp_path, "s2s-lineage", steps=6)
    first = rows_of_run(parse_study(data), tmp_path / "first")
    data["evaluate"] = {"decoding": {"num_beams": 3, "max_new_tokens": 5}}
    second = rows_of_run(parse_study(data), tmp_path / "second")
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if (p / "DONE").exists()]
    assert len(training_starts(stage)) == 1  # trained once
    assert {r["stage_key"] for r in first} == {r["stage_key"] for r in second} == {stage.name}
    assert not {r["eval_key"] for r in first} & {r["eval_key"] for r in second}  # evaluated again
    recipes = [json.loads(r["recipe"]) for r in second]
    assert all(r["num_beams"] == 3 and r["max_new_tokens"] == 5 for r in recipes), recipes
    assert all(json.loads(r["recipe"])["num_beams"] == 1 for r in first)


def test_a_resumed_generation_stage_equals_the_uninterrupted_one(tmp_path, xstilts_home):
    from safetensors.torch import load_file

    results = {}
    for run in ("clean", "crash"):
        folder = tmp_path / run
        folder.mkdir()
        study = parse_study(copy_study(folder, "s2s-resume", steps=9))
        if run == "crash":  # states are saved every 3 steps: crash after step 5, resume from 3
            with faults.armed("train.step@5:raise"), pytest.raises(faults.InjectedFault):
                run_study(study, folder / "out")
        results[run] = rows_of_run(study, folder / "out")
    assert [r["value"] for r in results["clean"]] == [r["value"] for r in results["crash"]]
    (key,) = [m.parent.name for m in (tmp_path / "crash" / "runs").glob("*/metrics.json")]
    assert json.loads((tmp_path / "crash" / "runs" / key / "metrics.json").read_text())["resumed_from"] == 3
    clean, resumed = (load_file(tmp_path / run / "runs" / key / "checkpoint" / "encoder" / "model.safetensors")
                      for run in ("clean", "crash"))
    assert "lm_head.weight" in clean or "shared.weight" in clean
    assert any(k.startswith("decoder.") for k in clean)
    assert clean.keys() == resumed.keys() and all(torch.equal(clean[k], resumed[k]) for k in clean)


def test_validate_matches_families_and_model_kinds(tmp_path, architecture_folder):
    data = copy_study(tmp_path, "s2s-kinds", steps=2)
    encoder = {"name_or_path": str(architecture_folder("xlm-roberta"))}
    with pytest.raises(ConfigError, match=r"stages\.copy\.sources\[0\]\.task: task 's2s-kinds': the generation "
                       "family needs an encoder-decoder model .* is an encoder"):
        parse_study({**data, "model": encoder})
    mt5 = str(architecture_folder("mt5"))
    nli = {**data, "model": {"name_or_path": mt5},
           "stages": {"nli": {"sources": [{"task": "mock-ner"}], "steps": 2}}, "pipelines": {"main": ["nli"]}}
    with pytest.raises(ConfigError, match=r"task 'mock-ner': the tagging family runs on an encoder under "
                       r"a task head, but model .* is an encoder-decoder.*families/text_to_text.py.*kind: encoder"):
        parse_study(nli)
    parse_study({**nli, "model": {"name_or_path": mt5, "kind": "encoder"}})  # its encoder alone: fine
    # retrieval runs on an encoder-decoder's encoder
    retrieval = {"stages": [], "evaluate": ["mock-retrieval"]}
    parse_study({**data, "pipelines": {"trained": ["copy"], "retrieval": retrieval}})
    with pytest.raises(ConfigError, match=r"model\.kind: .* is a 'xlm-roberta' model, not an encoder-decoder"):
        parse_study({**data, "model": {**encoder, "kind": "encoder-decoder"}})
    with pytest.raises(ConfigError, match="decoding settings apply to generation tasks only"):
        parse_study({**data, "evaluate": {"decoding_by_task": {"mock-retrieval": {"num_beams": 2}}}})


def test_retrieval_embeds_with_the_encoder_of_an_encoder_decoder(tmp_path, xstilts_home):
    data = copy_study(tmp_path, "s2s-retrieval", steps=2)
    data["model"]["tokenizer"]["train"]["corpus"] = ["s2s-retrieval", "mock-retrieval"]
    data["pipelines"] = {"retrieval": {"stages": [], "evaluate": ["mock-retrieval"]}}
    rows = rows_of_run(parse_study(data), tmp_path / "out")
    assert rows and {r["task"] for r in rows} == {"mock-retrieval"}
    assert all(json.loads(r["recipe"])["pooling"] == "mean" for r in rows)


def test_plan_estimates_encoder_decoder_compute(tmp_path, xstilts_home):
    from xstilts.studies.context import make_context
    from xstilts.studies.plan_summary import plan_summary

    data = copy_study(tmp_path, "s2s-plan", steps=10)
    summary = plan_summary(make_context(parse_study(data)))
    (model,) = summary["models"].values()
    (stage,) = summary["nodes"]
    # 10 steps x 16 examples: 32 source tokens through the encoder, 64 target tokens through decoder + LM head
    assert stage["tokens"] == 10 * 16 * (32 + 64)
    assert stage["flops"] == 6 * 10 * 16 * (32 * model["layer_parameters"] + 64 * model["decoder_parameters"])
    for evaluation in summary["evaluation_nodes"]:  # 30 test examples, 8 new tokens each, greedy
        assert evaluation["flops"] == 2 * 30 * (32 * model["layer_parameters"] + 8 * model["decoder_parameters"])
    assert summary["compute"]["unknown"] == 0


def test_plan_knows_published_mt5_whole_before_the_download():
    from xstilts.studies.estimate import model_size

    whole, encoder = (model_size(ModelConfig(name_or_path="google/mt5-base", kind=kind))
                      for kind in (None, "encoder"))
    assert "published" in whole.how and whole.layer_parameters == encoder.layer_parameters
    # 12 decoder layers of mt5-base (d 768, 12 x 64 inner, d_ff 2048, gated): self- and cross-attention,
    # three matrices of feed-forward, three RMSNorms; then the final norm and the 250112 x 768 LM head
    d, inner, ff, vocab = 768, 768, 2048, 250112
    assert whole.decoder_parameters == 12 * (8 * d * inner + 3 * d * ff + 3 * d) + d + vocab * d


@pytest.mark.slow
def test_two_processes_train_an_encoder_decoder_under_ddp(tmp_path, xstilts_home):
    import os
    import subprocess
    import sys

    import yaml

    data = copy_study(tmp_path, "s2s-ddp", steps=8)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(data))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "xstilts", "run",
               str(study), "--out", str(tmp_path / "out"), "--quiet"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = rows_of(tmp_path / "out")
    assert {(r["task"], r["language"]) for r in rows} == {("s2s-ddp", "en"), ("s2s-ddp", "de")}
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if (p / "DONE").exists()]
    assert len([line for line in (stage / "log.jsonl").read_text().splitlines() if '"loss"' in line]) == 8


@pytest.mark.parametrize("model", ["mt5 folder", "built mbart"])
def test_sentencepiece_and_mbart_models_run_a_generation_study(model, tmp_path, xstilts_home, architecture_folder):
    """A hub-style mT5 folder (its SentencePiece T5 tokenizer: no BOS, </s> closes each text) loaded whole by
    name_or_path, and a built mBART (decoder starts from </s>), each trained and evaluated for a few steps."""
    data = copy_study(tmp_path, f"s2s-{model.split()[1]}", steps=3)
    if model == "mt5 folder":
        data["model"] = {"name_or_path": str(architecture_folder("mt5"))}
    else:
        data["model"]["build"]["architecture"] = "mbart"
    rows = rows_of_run(parse_study(data), tmp_path / "out")
    assert {r["language"] for r in rows} == {"en", "de"} and all(r["metric"] == "bleu" for r in rows)
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if (p / "DONE").exists()]
    predictions = [json.loads(line)["prediction"] for line in
                   (stage / "predictions" / data["name"] / "test-en.jsonl").read_text().splitlines()]
    assert len(predictions) == 30 and all(isinstance(p, str) and p == p.strip() for p in predictions)
    config = json.loads((stage / "checkpoint" / "encoder" / "config.json").read_text())
    assert config["is_encoder_decoder"] is True


def test_the_runner_checks_the_model_kind_too(tmp_path, xstilts_home):
    from xstilts.studies.context import checked_model_kind, make_context
    from xstilts.tasks import get_task

    context = make_context(parse_study(copy_study(tmp_path, "s2s-guard", steps=2)))
    (model,) = context.study.model_configs()
    assert checked_model_kind(context, model, [get_task("s2s-guard"), get_task("mock-retrieval")]) == "encoder-decoder"
    with pytest.raises(XstiltsError, match="task 'mock-ner': the tagging family runs on an encoder"):
        checked_model_kind(context, model, [get_task("mock-ner")])


def test_only_generation_tasks_read_tsv_pairs(tmp_path):
    data = copy_study(tmp_path, "s2s-tsv", steps=2)
    data["tasks"]["s2s-tsv"]["family"] = "classification"
    data["tasks"]["s2s-tsv"]["labels"] = ["a", "b"]
    data["tasks"]["s2s-tsv"].pop("settings")
    with pytest.raises(ConfigError, match=r"tasks\.s2s-tsv\.files: only generation tasks read source<TAB>target"):
        parse_study(data)


def test_off_target_is_reported_per_evaluated_language(tmp_path, xstilts_home):
    from xstilts.scoring.language_id import off_target

    data = copy_study(tmp_path, "s2s-off-target", steps=2)
    data["tasks"]["s2s-off-target"]["metrics"] = ["bleu", "off_target"]
    rows = rows_of_run(parse_study(data), tmp_path / "out")
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if (p / "DONE").exists()]
    for language in ("en", "de"):
        (row,) = [r for r in rows if r["metric"] == "off_target" and r["language"] == language]
        predictions = [json.loads(line)["prediction"] for line in (
            stage / "predictions" / "s2s-off-target" / f"test-{language}.jsonl").read_text().splitlines()]
        # the share of this language's outputs py3langid does not identify as the language
        assert float(row["value"]) == pytest.approx(off_target(predictions, language).percent, abs=1e-4)
        assert row["chance"] == "" and row["main"] == "False" and float(row["weight"]) == 30


XGLUE_SAMPLES = Path("/work/shared/samples/xglue/hf_xglue")


@pytest.mark.skipif(not (XGLUE_SAMPLES / "xglue_full_dataset" / "QG").is_dir(), reason="XGLUE samples not available")
def test_xglue_qg_trains_in_english_and_generates_in_every_language(tmp_path, xstilts_home):
    (tmp_path / "data").mkdir()
    # the archive's layout: <data_root>/xglue/xglue_full_dataset
    (tmp_path / "data" / "xglue").symlink_to(XGLUE_SAMPLES)
    study = parse_study({
        "name": "s2s-xglue-qg", "data_root": str(tmp_path / "data"), "store": str(tmp_path / "runs"),
        "model": {"build": {"architecture": "mt5", "hidden_size": 32, "num_layers": 1, "num_heads": 2,
                            "intermediate_size": 64},
                  "tokenizer": {"train": {"corpus": ["xglue-qg"], "vocab_size": 300}}},
        "stages": {"qg": {"sources": [{"task": "xglue-qg"}], "steps": 2, "batch_size": 2, "max_length": 64,
                          "selection": {"enabled": False}}},
        "pipelines": {"main": ["qg"]},
        "evaluate": {"decoding": {"max_new_tokens": 6}},
        "runtime": {"progress": False, "threads": 1},
    })
    rows = rows_of_run(study, tmp_path / "out")
    languages = ["de", "en", "es", "fr", "it", "pt"]
    assert sorted(r["language"] for r in rows if r["metric"] == "bleu") == languages
    assert sorted(r["language"] for r in rows if r["metric"] == "off_target") == languages
    assert all(r["zero_shot"] == "True" for r in rows)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_tiny_t5_learns_to_copy_in_bf16_on_a_gpu(tmp_path, xstilts_home):
    data = copy_study(tmp_path, "s2s-copy-gpu", steps=600)
    data["runtime"] = {"device": "cuda", "precision": "bf16", "progress": False}
    rows = rows_of_run(parse_study(data), tmp_path / "out")
    assert all(float(r["value"]) > 40 and r["precision"] == "bf16" for r in rows), rows
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if (p / "DONE").exists()]
    assert json.loads((stage / "metrics.json").read_text())["device"] == "cuda"


def test_a_micro_generation_task_runs_through_the_family(tmp_path, xstilts_home):
    """micro-ntg (tasks/micro.py, data generated in code) trains in English and generates in every micro language."""
    study = parse_study({
        "name": "s2s-micro-ntg", "store": str(tmp_path / "runs"),
        "model": {"build": {"architecture": "t5", "hidden_size": 32, "num_layers": 1, "num_heads": 2,
                            "intermediate_size": 64},
                  "tokenizer": {"train": {"corpus": ["micro-ntg"], "vocab_size": 500}}},
        "stages": {"ntg": {"sources": [{"task": "micro-ntg", "max_examples": 64}], "steps": 3, "batch_size": 8,
                           "max_length": 64, "selection": {"max_examples": 8}}},
        "pipelines": {"main": ["ntg"]},
        "evaluate": {"max_examples": 8, "decoding": {"max_new_tokens": 6}},
        "runtime": {"progress": False, "threads": 1},
    })
    rows = rows_of_run(study, tmp_path / "out")
    assert sorted(r["language"] for r in rows) == ["en", "qaa", "qab", "qac", "qad", "qae"]
    assert all(r["metric"] == "bleu" and r["chance"] != "" for r in rows)


def test_a_denoising_stage_pretrains_the_encoder_decoder_a_generation_stage_fine_tunes(tmp_path, xstilts_home):
    """Span corruption (families/denoising.py) on plain text, then the copy task, on one built T5 whose trained
    tokenizer has T5's sentinels (`sentinels:`); the generation stage starts from the denoising checkpoint."""
    data = copy_study(tmp_path, "s2s-denoise-copy", steps=3)
    corpus = tmp_path / "corpus-en.txt"
    corpus.write_text("".join(f"{line.split(chr(9))[0]}\n" for line in
                              (tmp_path / "train-en.tsv").read_text().splitlines()[:200]))
    data["tasks"]["s2s-denoise"] = {"family": "denoising", "files": str(tmp_path / "corpus-{language}.txt"),
                                    "splits": {"train": ["en"]}}
    data["model"]["tokenizer"]["train"].update(corpus=["s2s-denoise-copy"], sentinels=20)
    data["stages"]["denoise"] = {"sources": [{"task": "s2s-denoise"}], "steps": 3, "batch_size": 8,
                                 "max_length": 32, "selection": {"enabled": False}}
    data["pipelines"] = {"pretrained": ["denoise", "copy"]}
    rows = rows_of_run(parse_study(data), tmp_path / "out")
    assert {r["language"] for r in rows} == {"en", "de"}
    import yaml

    configs = {p.name: yaml.safe_load((p / "config.yaml").read_text())
               for p in (tmp_path / "runs").iterdir() if (p / "DONE").exists()}
    by_stage = {config["stage"]: (key, config["parent"]) for key, config in configs.items()}
    assert set(by_stage) == {"denoise", "copy"}
    assert by_stage["copy"][1] == by_stage["denoise"][0]  # fine-tuned from the denoising checkpoint


def test_tokenizers_without_sentinels_keep_their_keys(tmp_path):
    from xstilts.studies.plan import corpus_fingerprints, model_key

    model = ModelConfig(build={"architecture": "bert"},
                        tokenizer={"train": {"corpus": ["mock-mlm"], "vocab_size": 500}})
    dumped = model.model_dump(exclude={"label", "kind"})
    dumped["build"].pop("num_decoder_layers")
    dumped["tokenizer"]["train"].pop("sentinels")  # the config as it was before `sentinels` existed
    expected = stable_hash({"v": MAJOR_VERSION, "model": {**dumped, "corpus": corpus_fingerprints(
        ["mock-mlm"], tmp_path, set())}})
    assert model_key(model, tmp_path, set()) == expected
    with_sentinels = model.model_copy(deep=True)
    with_sentinels.tokenizer.train.sentinels = 20
    assert model_key(with_sentinels, tmp_path, set()) != expected


# ------------------------------------------------------------------------------------------------ mBART-50 codes


def mbart50_tokenizer(tmp_path):
    """A real MBart50TokenizerFast (its 52 language codes added by transformers) over a tiny trained vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import MBart50TokenizerFast

    core = Tokenizer(models.Unigram())
    core.pre_tokenizer = pre_tokenizers.Metaspace()
    core.train_from_iterator([" ".join(WORDS)] * 20, trainers.UnigramTrainer(
        vocab_size=120, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>"))
    core.save(str(tmp_path / "tokenizer.json"))
    return MBart50TokenizerFast(tokenizer_file=str(tmp_path / "tokenizer.json"), src_lang="en_XX", tgt_lang="en_XX")


def test_mbart50_sources_open_with_their_language_code_and_generation_forces_it(tmp_path):
    from xstilts.data.cache import featurize_cached
    from xstilts.families.generation import generate_texts
    from xstilts.families.language_codes import code_for
    from xstilts.tasks import get_task

    tokenizer = mbart50_tokenizer(tmp_path)
    de = tokenizer.convert_tokens_to_ids("de_DE")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "xglue").symlink_to(XGLUE_SAMPLES)
    task = get_task("xglue-qg")
    split = featurize_cached(task, "test", "de", data_root=tmp_path / "data", cache_root=tmp_path / "features",
                             tokenizer=tokenizer, tokenizer_id="mbart50", max_length=32)
    assert all(f["input_ids"][0] == de and f["labels"][0] == de for f in split.features)
    assert tokenizer.src_lang == "en_XX"  # restored after featurizing
    model = build("mbart", tokenizer)
    seen = []
    generate = model.generate
    model.generate = lambda **kw: seen.append(kw["generation_config"].forced_bos_token_id) or generate(**kw)
    model.eval()
    family = get_family("generation")
    generate_texts(model, family.collate(split.features[:2], tokenizer.pad_token_id))
    assert seen == [de]
    with pytest.raises(XstiltsError, match="no language code for 'qaa'"):
        code_for(tokenizer, "qaa")
    plain = project_tokenizer()  # no codes: nothing forced
    model = build("mbart", plain)
    split = featurize_cached(task, "test", "de", data_root=tmp_path / "data", cache_root=tmp_path / "plain",
                             tokenizer=plain, tokenizer_id="plain", max_length=32)
    seen.clear()
    generate = model.generate
    model.generate = lambda **kw: seen.append(kw["generation_config"].forced_bos_token_id) or generate(**kw)
    model.eval()
    generate_texts(model, family.collate(split.features[:2], plain.pad_token_id))
    assert seen == [None]
