"""Encoder building/loading and checkpoint I/O (models/encoder.py, models/checkpoint.py)."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from helpers import network_attempts
from xstilts.errors import XstiltsError
from xstilts.models.checkpoint import (
    load_encoder_from_checkpoint,
    load_heads,
    load_training_state,
    read_heads_meta,
    save_model,
    save_training_state,
)
from xstilts.models.encoder import (
    build_encoder,
    encoder_hidden_size,
    encoder_num_layers,
    load_encoder,
    load_encoder_tokenizer,
)

torch.set_num_threads(1)

VOCAB, PAD = 50, 1
SPEC = {
    "architecture": "xlm-roberta",
    "hidden_size": 32,
    "num_layers": 2,
    "num_heads": 2,
    "intermediate_size": 64,
    "max_length": 40,
    "dropout": 0.1,
}


def tiny(architecture: str = "xlm-roberta", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_encoder({**SPEC, "architecture": architecture}, vocab_size=VOCAB, pad_token_id=PAD)


def hidden(encoder: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    encoder.eval()
    with torch.no_grad():
        return encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state


IDS = torch.tensor([[0, 5, 6, 7, 8, 2], [0, 9, 10, 11, 12, 2]])


# ----- build_encoder ------------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["xlm-roberta", "bert"])
def test_build_encoder_shapes(architecture):
    encoder = tiny(architecture)
    params = dict(encoder.named_parameters())
    assert params["embeddings.word_embeddings.weight"].shape == (VOCAB, 32)
    assert params["encoder.layer.1.intermediate.dense.weight"].shape == (64, 32)
    assert "encoder.layer.2.intermediate.dense.weight" not in params  # exactly 2 layers
    assert not any(name.startswith("pooler.") for name in params)
    assert encoder.config.pad_token_id == PAD
    assert encoder_hidden_size(encoder) == 32
    assert encoder_num_layers(encoder) == 2
    positions = params["embeddings.position_embeddings.weight"].shape[0]
    # XLM-R: positions pad+1 .. pad+max_length -> table of max_length + pad + 1 = 40 + 2 rows; BERT: 0..39.
    assert positions == (42 if architecture == "xlm-roberta" else 40)


def test_build_encoder_takes_max_length_tokens():
    encoder = tiny()
    ids = torch.full((1, 40), 7)
    assert hidden(encoder, ids).shape == (1, 40, 32)


def test_build_encoder_rejects_unknown_key_and_architecture():
    with pytest.raises(XstiltsError) as info:
        build_encoder({**SPEC, "architecture": "gpt", "layers": 3}, VOCAB, PAD)
    message = str(info.value)
    assert "'layers'" in message and "num_layers" in message  # names the bad key and the allowed ones
    assert "'gpt'" in message and "xlm-roberta" in message and "bert" in message


def test_build_encoder_rejects_indivisible_heads():
    with pytest.raises(XstiltsError, match="multiple of num_heads"):
        build_encoder({**SPEC, "num_heads": 3}, VOCAB, PAD)


# ----- load_encoder -------------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["xlm-roberta", "bert"])
def test_save_pretrained_load_encoder_round_trip(tmp_path, architecture):
    encoder = tiny(architecture)
    encoder.save_pretrained(tmp_path / "enc")
    loaded = load_encoder(str(tmp_path / "enc"))
    assert type(loaded) is type(encoder)
    assert torch.equal(hidden(encoder, IDS), hidden(loaded, IDS))


def _saved(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    folder = tmp_path / "enc"
    tiny().save_pretrained(folder)
    return folder, load_file(folder / "model.safetensors")


def test_load_encoder_names_a_missing_weight(tmp_path):
    folder, weights = _saved(tmp_path)
    del weights["encoder.layer.1.output.dense.bias"]
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(XstiltsError, match=r"missing.*encoder\.layer\.1\.output\.dense\.bias"):
        load_encoder(str(folder))


def test_load_encoder_rejects_an_unknown_weight(tmp_path):
    folder, weights = _saved(tmp_path)
    weights["encoder.layer.0.surprise.weight"] = torch.zeros(3)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(XstiltsError, match=r"encoder\.layer\.0\.surprise\.weight"):
        load_encoder(str(folder))


def test_load_encoder_rejects_a_wrong_shape(tmp_path):
    folder, weights = _saved(tmp_path)
    weights["encoder.layer.0.output.dense.bias"] = torch.zeros(5)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(XstiltsError, match=r"wrong shape.*encoder\.layer\.0\.output\.dense\.bias"):
        load_encoder(str(folder))


def test_load_encoder_accepts_mlm_head_weights(tmp_path):
    folder, weights = _saved(tmp_path)
    weights["lm_head.dense.weight"] = torch.zeros(32, 32)
    weights["lm_head.bias"] = torch.zeros(VOCAB)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    loaded = load_encoder(str(folder))
    assert torch.equal(hidden(loaded, IDS), hidden(tiny(), IDS))


def test_load_encoder_lists_at_most_ten_missing_keys(tmp_path):
    folder, weights = _saved(tmp_path)
    dropped = sorted(k for k in weights if k.startswith("encoder.layer.1."))  # 16 tensors per layer
    for key in dropped:
        del weights[key]
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(XstiltsError) as info:
        load_encoder(str(folder))
    assert f"and {len(dropped) - 10} more" in str(info.value)


def test_load_encoder_refuses_pickle_weights(tmp_path):
    folder, _ = _saved(tmp_path)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(XstiltsError, match="safetensors"):
        load_encoder(str(folder))


def test_load_encoder_missing_folder(tmp_path):
    with pytest.raises(XstiltsError, match="does not exist"):
        load_encoder(str(tmp_path / "nowhere"))


def test_offline_hub_name_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    attempts = network_attempts(monkeypatch)
    for load in (load_encoder, load_encoder_tokenizer):
        with pytest.raises(XstiltsError) as info:
            load("xlm-roberta-base")
        assert attempts == []  # fast: no connection tried (and so none retried or waited out)
        message = str(info.value)
        assert "offline" in message and "neither a local folder nor" in message
        assert "HF_HUB_OFFLINE" in message


def test_tokenizer_round_trip(tmp_path):
    from xstilts.models.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(["the cat sat on the mat", "a dog ran far away"] * 10, vocab_size=40)
    tokenizer.save_pretrained(tmp_path / "tok")
    loaded = load_encoder_tokenizer(str(tmp_path / "tok"))
    assert loaded.is_fast
    assert loaded("the dog sat")["input_ids"] == tokenizer("the dog sat")["input_ids"]


def test_tokenizer_without_fast_files_is_an_error(tmp_path):
    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "tokenizer_config.json").write_text('{"tokenizer_class": "XLMRobertaTokenizer"}')
    with pytest.raises(XstiltsError, match="fast tokenizer"):
        load_encoder_tokenizer(str(tmp_path / "tok"))


# ----- save_model / load_heads --------------------------------------------------------------------------


class Head(torch.nn.Module):
    def __init__(self, hidden_size: int, labels: int):
        super().__init__()
        self.dense = torch.nn.Linear(hidden_size, hidden_size)
        self.out = torch.nn.Linear(hidden_size, labels)


def _heads(seed: int) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    return {"nli": Head(32, 3), "nli.pos": Head(32, 17)}  # a dotted name that prefixes-matches "nli"


def test_save_model_round_trip(tmp_path):
    encoder, heads = tiny(seed=1), _heads(1)
    meta = {"nli": {"labels": ["e", "n", "c"]}, "nli.pos": {"task": "udpos"}}
    save_model(tmp_path / "ckpt", encoder, heads, head_meta=meta)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["encoder", "heads.json", "heads.safetensors"]
    assert {"config.json", "model.safetensors"} <= set(os.listdir(tmp_path / "ckpt" / "encoder"))

    loaded = load_encoder_from_checkpoint(tmp_path / "ckpt")
    assert torch.equal(hidden(encoder, IDS), hidden(loaded, IDS))
    fresh = _heads(2)
    assert not torch.equal(fresh["nli"].out.weight, heads["nli"].out.weight)
    assert load_heads(tmp_path / "ckpt", fresh) == meta
    for name in heads:
        restored = fresh[name].state_dict()
        for key, saved in heads[name].state_dict().items():
            assert torch.equal(saved, restored[key]), (name, key)
    assert read_heads_meta(tmp_path / "ckpt") == meta


def test_save_model_replaces_and_keeps_other_files(tmp_path):
    save_model(tmp_path / "ckpt", tiny(seed=1), _heads(1))
    (tmp_path / "ckpt" / "scores.json").write_text("{}")
    save_model(tmp_path / "ckpt", tiny(seed=3), {"only": Head(32, 2)})
    assert (tmp_path / "ckpt" / "scores.json").read_text() == "{}"
    assert list(read_heads_meta(tmp_path / "ckpt")) == ["only"]
    assert torch.equal(
        hidden(load_encoder_from_checkpoint(tmp_path / "ckpt"), IDS), hidden(tiny(seed=3), IDS)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no staging or .old left behind


def test_load_heads_subset_by_name(tmp_path):
    save_model(tmp_path / "ckpt", tiny(), _heads(1))
    fresh = {"nli": Head(32, 3)}
    assert list(load_heads(tmp_path / "ckpt", fresh, names=["nli"])) == ["nli"]
    assert torch.equal(fresh["nli"].dense.bias, _heads(1)["nli"].dense.bias)


def test_load_heads_is_strict(tmp_path):
    save_model(tmp_path / "ckpt", tiny(), _heads(1))
    with pytest.raises(XstiltsError, match=r"'squad'.*nli"):  # absent head; lists what the checkpoint has
        load_heads(tmp_path / "ckpt", {"squad": Head(32, 2)})
    with pytest.raises(XstiltsError, match=r"another shape.*out\.weight"):
        load_heads(tmp_path / "ckpt", {"nli": Head(32, 4)})

    class Bigger(Head):
        def __init__(self):
            super().__init__(32, 3)
            self.extra = torch.nn.Linear(2, 2)

    untouched = Bigger()
    before = untouched.dense.weight.clone()
    with pytest.raises(XstiltsError, match=r"missing.*extra\.weight"):
        load_heads(tmp_path / "ckpt", {"nli": untouched})
    assert torch.equal(untouched.dense.weight, before)  # nothing loaded on error

    class Smaller(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.out = torch.nn.Linear(32, 3)

    with pytest.raises(XstiltsError, match=r"does not have.*dense\.weight"):
        load_heads(tmp_path / "ckpt", {"nli": Smaller()})


# ----- training state -----------------------------------------------------------------------------------


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 8)
        self.drop = torch.nn.Dropout(0.5)  # draws from the torch RNG: a wrongly restored RNG changes results
        self.out = torch.nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.layer(x))))


def _objects(seed: int = 0):
    torch.manual_seed(seed)
    model = Tiny()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    # Linear warmup over 4 steps, then flat: a plain function, which state_dict() records as None.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 4))
    return model, optimizer, scheduler


def _train(model, optimizer, scheduler, steps: int) -> None:
    model.train()
    for _ in range(steps):
        x = torch.randn(5, 4) + float(np.random.rand()) + random.random()
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()


def _draws() -> tuple:
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def test_training_state_resumes_exactly(tmp_path):
    model, optimizer, scheduler = _objects()
    random.seed(1)
    np.random.seed(1)
    _train(model, optimizer, scheduler, 3)
    extra = {"step": 3, "best": float("-inf"), "position": (2, [5, 6]), "by_task": {"nli": 0.5}}
    save_training_state(
        tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra=extra
    )
    _train(model, optimizer, scheduler, 3)
    after_continuing = _draws()

    # Fresh objects with other weights and other RNG states, then the saved state loaded into them.
    fresh_model, fresh_optimizer, fresh_scheduler = _objects(seed=123)
    random.seed(99)
    np.random.seed(99)
    restored = load_training_state(
        tmp_path / "state", model=fresh_model, optimizer=fresh_optimizer, scheduler=fresh_scheduler
    )
    assert restored == extra and isinstance(restored["position"], tuple)
    assert fresh_scheduler.last_epoch == 3
    assert fresh_optimizer.state_dict()["param_groups"][0]["betas"] == (0.9, 0.999)
    _train(fresh_model, fresh_optimizer, fresh_scheduler, 3)
    resumed = fresh_model.state_dict()
    for name, value in model.state_dict().items():
        assert torch.equal(value, resumed[name]), name
    state_a, state_b = optimizer.state_dict()["state"], fresh_optimizer.state_dict()["state"]
    for index in state_a:
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(state_a[index][key], state_b[index][key]), (index, key)
    assert scheduler.get_last_lr() == fresh_scheduler.get_last_lr()
    assert _draws() == after_continuing


def test_training_state_absent_is_none(tmp_path):
    model, optimizer, scheduler = _objects()
    assert (
        load_training_state(tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler) is None
    )


def test_training_state_is_json_and_safetensors_only(tmp_path):
    model, optimizer, scheduler = _objects()
    _train(model, optimizer, scheduler, 1)
    save_training_state(tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra={})
    assert sorted(os.listdir(tmp_path / "state")) == ["model.safetensors", "state.json", "state.safetensors"]
    json.loads((tmp_path / "state" / "state.json").read_text())
    with pytest.raises(TypeError, match="cannot be stored"):
        save_training_state(
            tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra={"f": object()}
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]  # the failed write left nothing behind


def test_training_state_crash_recovery(tmp_path):
    model, optimizer, scheduler = _objects()
    save_training_state(
        tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra={"v": 1}
    )
    # A crash between "state -> state.old" and "tmp -> state": only the old complete version is left.
    os.rename(tmp_path / "state", tmp_path / "state.old")
    # A crash while writing another version, by a process that no longer exists.
    stray = tmp_path / "state.tmp-999999999"
    stray.mkdir()
    (stray / "state.json").write_text("{torn")

    fresh, fresh_optimizer, fresh_scheduler = _objects(seed=5)
    extra = load_training_state(
        tmp_path / "state", model=fresh, optimizer=fresh_optimizer, scheduler=fresh_scheduler
    )
    assert extra == {"v": 1}
    assert torch.equal(fresh.layer.weight, model.layer.weight)
    assert not stray.exists()

    # The next write puts everything in order: one folder, the newest version.
    save_training_state(
        tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra={"v": 2}
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]
    assert load_training_state(
        tmp_path / "state", model=fresh, optimizer=fresh_optimizer, scheduler=fresh_scheduler
    ) == {"v": 2}


def test_training_state_prefers_the_newer_version(tmp_path):
    model, optimizer, scheduler = _objects()
    save_training_state(
        tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra={"v": 1}
    )
    shutil.copytree(tmp_path / "state", tmp_path / "v1")
    save_training_state(
        tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler, extra={"v": 2}
    )
    # A crash after the swap, before the clean-up: both exist and the folder itself is the newer one.
    os.rename(tmp_path / "v1", tmp_path / "state.old")
    loaded = load_training_state(tmp_path / "state", model=model, optimizer=optimizer, scheduler=scheduler)
    assert loaded == {"v": 2}


def test_model_checkpoint_recovers_old_version(tmp_path):
    encoder = tiny(seed=4)
    save_model(tmp_path / "ckpt", encoder, _heads(1))
    os.rename(tmp_path / "ckpt", tmp_path / "ckpt.old")
    assert torch.equal(hidden(load_encoder_from_checkpoint(tmp_path / "ckpt"), IDS), hidden(encoder, IDS))
    load_heads(tmp_path / "ckpt", _heads(2))


def test_load_encoder_from_checkpoint_accepts_the_encoder_subfolder(tmp_path):
    encoder = tiny(seed=4)
    save_model(tmp_path / "ckpt", encoder, {})
    assert torch.equal(
        hidden(load_encoder_from_checkpoint(tmp_path / "ckpt" / "encoder"), IDS), hidden(encoder, IDS)
    )
    os.rename(tmp_path / "ckpt", tmp_path / "ckpt.old")
    assert torch.equal(
        hidden(load_encoder_from_checkpoint(tmp_path / "ckpt" / "encoder"), IDS), hidden(encoder, IDS)
    )


def test_offline_hub_name_loads_from_the_cache(tmp_path, monkeypatch):
    # The hub cache layout: models--<org>--<name>/refs/main holds the commit, snapshots/<commit>/ the files.
    commit = "0" * 40
    repo = tmp_path / "hf" / "hub" / "models--org--tiny"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    encoder = tiny(seed=6)
    encoder.save_pretrained(repo / "snapshots" / commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    assert torch.equal(hidden(load_encoder("org/tiny"), IDS), hidden(encoder, IDS))
    (repo / "snapshots" / commit / "model.safetensors").rename(
        repo / "snapshots" / commit / "pytorch_model.bin"
    )
    with pytest.raises(XstiltsError, match="safetensors"):
        load_encoder("org/tiny")


def _tiny_mt5(seed: int = 0):
    from transformers import MT5Config, MT5ForConditionalGeneration

    torch.manual_seed(seed)
    config = MT5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                       num_heads=4, decoder_start_token_id=0)
    return MT5ForConditionalGeneration(config).eval()


def test_mt5_checkpoint_loads_its_encoder_alone(tmp_path):
    # research question 5 fine-tunes mT5's encoder: the decoder and LM head of the full checkpoint are left out
    full = _tiny_mt5()
    full.save_pretrained(tmp_path / "mt5")
    loaded = load_encoder(str(tmp_path / "mt5"))
    assert type(loaded).__name__ == "MT5EncoderModel"
    assert not any(name.startswith("decoder.") for name in loaded.state_dict())
    ids = torch.tensor([[5, 9, 13, 1]])
    with torch.no_grad():
        expected = full.encoder(input_ids=ids).last_hidden_state
        assert torch.equal(loaded(input_ids=ids).last_hidden_state, expected)
    # a stage's checkpoint holds the encoder only, and loads back as the same encoder
    save_model(tmp_path / "checkpoint", loaded, heads={})
    again = load_encoder_from_checkpoint(tmp_path / "checkpoint")
    with torch.no_grad():
        assert torch.equal(again(input_ids=ids).last_hidden_state, expected)


def test_mt5_encoder_weights_are_still_strict(tmp_path):
    _tiny_mt5().save_pretrained(tmp_path / "mt5")
    weights = load_file(tmp_path / "mt5" / "model.safetensors")
    del weights["encoder.block.1.layer.1.DenseReluDense.wo.weight"]
    save_file(weights, tmp_path / "mt5" / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(XstiltsError, match=r"missing.*encoder\.block\.1\.layer\.1\.DenseReluDense\.wo\.weight"):
        load_encoder(str(tmp_path / "mt5"))
