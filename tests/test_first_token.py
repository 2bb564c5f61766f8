"""The first-token-only last layer (families/first_token.py) gives the vectors and gradients of the whole
encoder, for every layer kind it handles, and leaves the others alone."""

from __future__ import annotations

import copy

import pytest
import torch
import transformers

from xstilts.families.common import encode
from xstilts.families.first_token import SWITCH, first_token_output, prunable_layers

SMALL = dict(vocab_size=60, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
             max_position_embeddings=40, pad_token_id=1)
HANDLED = {"xlm-roberta": ("XLMRobertaConfig", "XLMRobertaModel"), "bert": ("BertConfig", "BertModel"),
           "roberta": ("RobertaConfig", "RobertaModel")}


def build(config_class: str, model_class: str, **extra) -> torch.nn.Module:
    torch.manual_seed(0)
    config = getattr(transformers, config_class)(**{**SMALL, **extra})
    return getattr(transformers, model_class)(config)


def batch(padded: bool) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 60, (4, 9), generator=generator)
    mask = torch.ones_like(ids)
    if padded:  # rows of 9, 6, 3 and 1 real tokens
        for row, length in enumerate((9, 6, 3, 1)):
            mask[row, length:] = 0
            ids[row, length:] = 1
    return {"input_ids": ids, "attention_mask": mask}


def whole(encoder, inputs):
    setattr(encoder, SWITCH, False)
    try:
        return encode(encoder, inputs).last_hidden_state[:, 0]
    finally:
        setattr(encoder, SWITCH, True)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("name", sorted(HANDLED))
def test_same_vectors_as_the_whole_encoder(name, padded, attention):
    encoder = build(*HANDLED[name]).eval()
    encoder.set_attn_implementation(attention)
    inputs = batch(padded)
    assert prunable_layers(encoder) is not None
    with torch.no_grad():
        expected, got = whole(encoder, inputs), first_token_output(encoder, inputs)
    assert got.shape == expected.shape == (4, 32)
    assert (got - expected).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", sorted(HANDLED))
def test_same_gradients_in_training_without_dropout(name):
    encoder = build(*HANDLED[name], hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0).train()
    twin = copy.deepcopy(encoder)
    inputs = batch(padded=True)
    target = torch.randn(4, 32, generator=torch.Generator().manual_seed(2))
    (whole(encoder, inputs) * target).sum().backward()
    (first_token_output(twin, inputs) * target).sum().backward()
    for (key, a), (_, b) in zip(encoder.named_parameters(), twin.named_parameters(), strict=True):
        if a.grad is None:  # the pooler and nothing else is unused by both
            assert b.grad is None, key
            continue
        # fp32 sums over positions in another order: rounding relative to the gradient's size
        torch.testing.assert_close(b.grad, a.grad, atol=1e-5, rtol=1e-4, msg=key)


def test_the_layer_is_put_back_and_the_checkpoint_names_are_unchanged():
    encoder = build(*HANDLED["xlm-roberta"])
    keys, last = list(encoder.state_dict()), encoder.encoder.layer[-1]
    first_token_output(encoder, batch(padded=True))
    assert encoder.encoder.layer[-1] is last
    assert list(encoder.state_dict()) == keys

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    encoder.encoder.layer[-1].feed_forward_chunk = broken
    with pytest.raises(RuntimeError, match="boom"):
        first_token_output(encoder, batch(padded=True))
    assert encoder.encoder.layer[-1] is last


def test_under_a_lora_adapter():
    peft = pytest.importorskip("peft")
    encoder = build(*HANDLED["xlm-roberta"]).eval()
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], init_lora_weights=False)
    wrapped = peft.get_peft_model(encoder, config)
    assert prunable_layers(wrapped) is not None
    inputs = batch(padded=True)
    with torch.no_grad():
        expected, got = whole(wrapped, inputs), first_token_output(wrapped, inputs)
    assert (got - expected).abs().max().item() <= 1e-5


@pytest.mark.parametrize("config_class, model_class, extra", [
    ("DebertaV2Config", "DebertaV2Model", {"relative_attention": True, "position_buckets": 8}),
    ("XLMRobertaXLConfig", "XLMRobertaXLModel", {}),
    ("ModernBertConfig", "ModernBertModel", {}),
    ("BertConfig", "BertModel", {"position_embedding_type": "relative_key"}),
])
def test_other_layers_run_whole(config_class, model_class, extra):
    if not hasattr(transformers, config_class):
        pytest.skip(f"this transformers has no {config_class}")
    try:
        encoder = build(config_class, model_class, **extra).eval()
    except (TypeError, ValueError) as error:  # an option this version does not take
        pytest.skip(f"{config_class}: {error}")
    assert prunable_layers(encoder) is None
    inputs = batch(padded=True)
    with torch.no_grad():
        torch.testing.assert_close(first_token_output(encoder, inputs), whole(encoder, inputs))


def test_switched_off():
    encoder = build(*HANDLED["bert"])
    setattr(encoder, SWITCH, False)
    assert prunable_layers(encoder) is None


def test_t5_style_encoders_are_mean_pooled_over_real_tokens():
    """mT5 has no CLS token: its sentence vector is the mean of the real tokens' last states."""
    from xstilts.families.heads import sentence_states, t5_style

    torch.manual_seed(0)
    config = transformers.MT5Config(vocab_size=60, d_model=16, d_kv=4, d_ff=32, num_layers=2, num_heads=4,
                                    pad_token_id=0, decoder_start_token_id=0)
    encoder = transformers.MT5EncoderModel(config).eval()
    assert t5_style(encoder)
    inputs = batch(padded=True)
    with torch.no_grad():
        states = encoder(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
        got = sentence_states(encoder, inputs)
    for row, length in enumerate((9, 6, 3, 1)):  # the real lengths batch() made
        torch.testing.assert_close(got[row], states[row, :length].mean(0))


def test_cls_style_encoders_read_the_first_token():
    from xstilts.families.heads import sentence_states, t5_style

    encoder = build(*HANDLED["xlm-roberta"]).eval()
    assert not t5_style(encoder)
    inputs = batch(padded=True)
    with torch.no_grad():
        torch.testing.assert_close(sentence_states(encoder, inputs), whole(encoder, inputs), atol=1e-5, rtol=0)
