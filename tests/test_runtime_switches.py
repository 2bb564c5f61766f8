"""The GPU path's switches, checked on a CPU: fused AdamW, the attention kernel, gradient checkpointing and
torch.compile change speed and memory, not the numbers (up to rounding); and the memory plan's arithmetic."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import yaml

from helpers import SYLLABLE_WORDS, syllable_tokenizer, target_study_yaml, tiny_encoder
from xstilts.config.load import parse_study
from xstilts.config.schema import OptimizerConfig, RuntimeConfig
from xstilts.errors import ConfigError, XstiltsError
from xstilts.studies.runner import run_study
from xstilts.training import acceleration
from xstilts.training.acceleration import compile_problem, configure_encoder, set_attention
from xstilts.training.memory import GIB, XLMR_XL, EncoderShape, layer_activation_bytes, training_memory
from xstilts.training.optim import build_optimizer


@pytest.fixture(scope="module")
def tokenizer():
    return syllable_tokenizer(SYLLABLE_WORDS, lines=100)


def _batch(tokenizer, rows: int = 4):
    texts = [" ".join(SYLLABLE_WORDS[i * 7 % 100: i * 7 % 100 + 3 + 2 * i]) for i in range(rows)]
    return tokenizer(texts, padding=True, return_tensors="pt")


def _loss(encoder, batch) -> torch.Tensor:
    hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    return (hidden * batch["attention_mask"][..., None]).pow(2).mean()


def test_fused_adamw_takes_the_same_steps():
    """fused=True is what CUDA runs get; torch has a fused AdamW on CPUs too, so its numbers are checked here."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.LayerNorm(8))
    twin = copy.deepcopy(model)
    plain, fused = build_optimizer(model, OptimizerConfig(lr=0.1)), build_optimizer(twin, OptimizerConfig(lr=0.1),
                                                                                     fused=True)
    assert fused.defaults["fused"] is True and not plain.defaults["fused"]
    x = torch.randn(16, 8)
    for _ in range(3):
        for net, optimizer in ((model, plain), (twin, fused)):
            optimizer.zero_grad()
            net(x).pow(2).mean().backward()
            optimizer.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_sdpa_and_eager_attention_agree(tokenizer):
    encoder = tiny_encoder(tokenizer, layers=2, seed=0).eval()
    batch = _batch(tokenizer)
    assert set_attention(encoder, "eager") == "eager"
    with torch.no_grad():
        eager = encoder(**batch).last_hidden_state
    assert set_attention(encoder, "auto") == "sdpa" and encoder.config._attn_implementation == "sdpa"
    with torch.no_grad():
        sdpa = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].bool()
    assert (eager[mask] - sdpa[mask]).abs().max().item() <= 1e-5


def test_sdpa_where_the_model_has_none_is_a_config_error():
    class NoSdpa(torch.nn.Module):
        _supports_sdpa = False
        supports_gradient_checkpointing = False

    with pytest.raises(ConfigError, match="runtime.attention: sdpa"):
        set_attention(NoSdpa(), "sdpa")
    assert set_attention(NoSdpa(), "auto") == "eager"  # its own default, untouched
    with pytest.raises(ConfigError, match="runtime.gradient_checkpointing"):
        configure_encoder(NoSdpa(), RuntimeConfig(attention="auto", gradient_checkpointing=True), training=True)


def test_gradient_checkpointing_gives_the_same_numbers(tokenizer):
    """With dropout on: the recomputation replays the RNG state, so loss and gradients are those without it."""
    batch = _batch(tokenizer)
    results = []
    for checkpointing in (False, True):
        encoder = tiny_encoder(tokenizer, layers=2, seed=0).train()
        applied = configure_encoder(encoder, RuntimeConfig(gradient_checkpointing=checkpointing), training=True)
        assert applied["gradient_checkpointing"] is checkpointing
        assert any(getattr(m, "gradient_checkpointing", False) for m in encoder.modules()) is checkpointing
        torch.manual_seed(1)
        loss = _loss(encoder, batch)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in encoder.parameters() if p.grad is not None]))
    (loss_a, grads_a), (loss_b, grads_b) = results
    torch.testing.assert_close(loss_a, loss_b, atol=0.0, rtol=0.0)
    assert len(grads_a) == len(grads_b)
    for a, b in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=1e-5)


def test_gradient_checkpointing_under_a_lora_adapter(tokenizer):
    """A LoRA stage's encoder is a peft wrapper: the switches reach the encoder inside, and the adapter's
    gradients are those without checkpointing."""
    pytest.importorskip("peft")
    from xstilts.config.schema import PeftConfig
    from xstilts.models.adapters import add_adapter

    batch = _batch(tokenizer)
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        wrapped = add_adapter(tiny_encoder(tokenizer, layers=2, seed=0),
                              PeftConfig(method="lora", r=4, alpha=8, target_modules=["query", "value"]))
        applied = configure_encoder(wrapped.train(), RuntimeConfig(attention="eager",
                                                                   gradient_checkpointing=checkpointing),
                                    training=True)
        assert applied["attention"] == "eager"
        torch.manual_seed(1)
        _loss(wrapped, batch).backward()
        grads.append([p.grad.clone() for p in wrapped.parameters() if p.requires_grad])
    assert len(grads[0]) == len(grads[1]) == 8  # q and v LoRA A, B in 2 layers
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=1e-5)


def test_compile_without_a_toolchain_says_so(monkeypatch):
    monkeypatch.setattr(acceleration.shutil, "which", lambda name: None)
    assert "no C++ compiler" in compile_problem("cpu")
    with pytest.raises(XstiltsError, match="runtime.compile: true, but no C\\+\\+ compiler"):
        configure_encoder(torch.nn.Linear(2, 2), RuntimeConfig(attention="eager", compile=True), training=True)


@pytest.mark.heavy  # compiling takes minutes on two shared cores
@pytest.mark.skipif(compile_problem("cpu") is not None, reason="torch.compile has no toolchain here")
def test_compiled_training_gives_the_same_loss(tokenizer):
    """A few AdamW steps of a tiny encoder (no dropout: compiled dropout draws another random stream), compiled
    and not: the same losses within rounding."""
    batch = _batch(tokenizer)
    losses = []
    for compiled in (False, True):
        torch._dynamo.reset()
        encoder = tiny_encoder(tokenizer, layers=1, seed=0, hidden_dropout_prob=0.0,
                               attention_probs_dropout_prob=0.0).train()
        configure_encoder(encoder, RuntimeConfig(compile=compiled), training=True)
        optimizer = build_optimizer(encoder, OptimizerConfig(lr=1e-3))
        run = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = _loss(encoder, batch)
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    assert losses[1] == pytest.approx(losses[0], rel=1e-4, abs=1e-6)


STUDY = yaml.safe_load(target_study_yaml("gpu-path", evaluate=8, sources="[{task: mock-paraphrase, max_examples: 32}]",
                                         steps=4, batch_size=8, max_length=32, selection="{enabled: false}"))


@pytest.mark.slow
def test_the_loop_with_checkpointing_and_eager_attention_trains_the_same(xstilts_home, tmp_path):
    """The whole loop with gradient checkpointing and eager attention: the same losses and scores as with
    neither (the stage key is the same too: runtime settings are in no key)."""
    outcomes = []
    # Checkpointing turns the first-token-only last layer off (it would draw other dropout masks): off in both.
    plain = {"first_token_only": False}
    for name, runtime in (("plain", plain), ("switches", {"gradient_checkpointing": True, "attention": "eager"})):
        data = json.loads(json.dumps(STUDY))
        data["store"] = str(tmp_path / name / "runs")
        data["runtime"].update(runtime)
        run_study(parse_study(data), tmp_path / name / "out")
        (stage,) = [p for p in (tmp_path / name / "runs").iterdir() if p.is_dir()]
        log = [json.loads(line) for line in (stage / "log.jsonl").read_text().splitlines()]
        metrics = json.loads((stage / "metrics.json").read_text())
        outcomes.append((stage.name, [r["loss"] for r in log if "loss" in r], metrics["runtime"]))
    (key_a, losses_a, runtime_a), (key_b, losses_b, runtime_b) = outcomes
    assert key_a == key_b
    assert losses_b == pytest.approx(losses_a, rel=1e-5)
    assert runtime_a["gradient_checkpointing"] is False and runtime_b["gradient_checkpointing"] is True
    assert (runtime_a["attention"], runtime_b["attention"]) == ("sdpa", "eager")


def test_memory_plan_arithmetic():
    shape = EncoderShape(layers=2, hidden=4, heads=2, intermediate=16, vocab=10, positions=6)
    # embeddings (10 + 6 + 1) * 4 + 8 = 76; a layer 4*16 + 16 + 2*4*16 + 16 + 4 + 16 = 244
    assert shape.parameters == 76 + 2 * 244
    # per token 24*4 + 4*16 = 160 bytes; eager attention 9 bytes x 2 heads x 3 x 5 x 5
    assert layer_activation_bytes(shape, batch=3, length=5) == 15 * 160
    assert layer_activation_bytes(shape, batch=3, length=5, sdpa=False) == 15 * 160 + 9 * 2 * 3 * 25
    plain = training_memory(shape, batch=3, length=5)
    assert (plain.weights, plain.gradients, plain.optimizer, plain.autocast_copies) == (4 * 564, 4 * 564, 8 * 564,
                                                                                         2 * 564)
    assert plain.activations == 2 * 15 * 160 and plain.total == 18 * 564 + 2 * 15 * 160
    checkpointed = training_memory(shape, batch=3, length=5, checkpointing=True)
    assert checkpointed.activations == 2 * 4 * 4 * 15 + 15 * 160
    assert plain.mlm_logits == 4 * 15 * 10


def test_xlmr_xl_fits_one_80gb_gpu_with_checkpointing():
    """The plan docs/running.md states: XLM-R XL's 3.5B parameters at batch 32 x 512 tokens."""
    assert 3.4e9 < XLMR_XL.parameters < 3.6e9
    plain = training_memory(XLMR_XL, batch=32, length=512).gib()
    checkpointed = training_memory(XLMR_XL, batch=32, length=512, checkpointing=True).gib()
    assert plain["total"] > 80 > checkpointed["total"]
    assert training_memory(XLMR_XL, batch=32, length=512, checkpointing=True).total < 80 * GIB
