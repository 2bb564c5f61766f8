"""MLM family: chunking, dynamic masking, the tied head at masked positions, scoring and a learning check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers import empty_task, tiny_encoder
from xstilts.errors import XstiltsError
from xstilts.families.mlm import FAMILY, mask_tokens, random_non_special_ids
from xstilts.tasks.base import Task

CORPUS = [
    "the cat sat on the mat and the dog sat on the rug",
    "one two three four five six seven eight nine ten",
    "red green blue yellow red green blue yellow",
    "a b c d e f g h i j k l m n o p",
]


def make_task(metrics=("accuracy", "perplexity"), **settings) -> Task:
    return empty_task("mlm", name="mlm-test", metrics=metrics, settings=settings)


@pytest.fixture(scope="module")
def tokenizer():
    from xstilts.models.tokenizer import train_tokenizer

    return train_tokenizer(CORPUS * 5, vocab_size=80)


def examples_of(texts):
    return [{"id": str(i), "text": text} for i, text in enumerate(texts)]


# ---------------------------------------------------------------- featurize


def test_validate_example():
    task = make_task()
    assert FAMILY.validate_example(task, {"id": "1", "text": "hello"}) is None
    assert "empty" in FAMILY.validate_example(task, {"id": "1", "text": "  "})
    assert "string" in FAMILY.validate_example(task, {"id": "1", "text": None})
    assert "'id'" in FAMILY.validate_example(task, {"text": "hello"})


def test_long_text_is_chunked_and_keeps_every_token(tokenizer):
    long_text = " ".join(CORPUS * 4)
    examples = examples_of(["red green", long_text])
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=16)
    expected = [tokenizer(e["text"], add_special_tokens=False)["input_ids"] for e in examples]
    assert len(expected[1]) > 100  # really several chunks
    for index, tokens in enumerate(expected):
        own = [f for f in features if f["example_index"] == index]
        body = []
        for feature in own:
            ids = feature["input_ids"]
            assert len(ids) <= 16 and feature["length"] == len(ids)
            assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
            assert feature["special_tokens_mask"] == [1] + [0] * (len(ids) - 2) + [1]
            body.extend(ids[1:-1])
        assert body == tokens
    assert len([f for f in features if f["example_index"] == 1]) == math.ceil(len(expected[1]) / 14)
    first = features[0]
    assert first["mask_token_id"] == tokenizer.mask_token_id and first["vocab_size"] == len(tokenizer)
    assert first["special_ids"] == sorted(tokenizer.all_special_ids)


# ---------------------------------------------------------------- masking


def masking_batch(rows=50, width=200, token=7):
    """`rows` sequences of `width` copies of one token between <s>=0 and </s>=2."""
    ids = torch.full((rows, width + 2), token)
    ids[:, 0], ids[:, -1] = 0, 2
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True
    return ids, special


def test_mask_proportions_and_split():
    ids, special = masking_batch()
    generator = torch.Generator().manual_seed(1)
    masked, labels = mask_tokens(
        ids, special, generator, mask_token_id=4, vocab_size=1000, special_ids=[0, 1, 2, 3, 4]
    )
    chosen = labels != -100
    # 15% of 200 non-special positions = 30 per row, exactly.
    assert chosen.sum(dim=1).tolist() == [30] * 50
    assert (labels[chosen] == 7).all()
    total = chosen.sum().item()  # 1500
    to_mask = (masked[chosen] == 4).float().sum().item() / total
    to_random = ((masked[chosen] != 4) & (masked[chosen] != 7)).float().sum().item() / total
    kept = (masked[chosen] == 7).float().sum().item() / total
    # Binomial standard deviations over 1500 draws: ~0.010 for 80%, ~0.008 for 10%: allow about 4.
    assert abs(to_mask - 0.8) < 0.04
    assert abs(to_random - 0.1) < 0.03
    assert abs(kept - 0.1) < 0.03
    # Positions not chosen are untouched.
    assert torch.equal(masked[~chosen], ids[~chosen])


def test_at_least_one_mask_and_rounding():
    # 3 tokens: 0.45 rounds to 0 -> raised to 1; 20 tokens: exactly 3.
    for width, expected in [(3, 1), (20, 3), (1, 1)]:
        ids, special = masking_batch(rows=4, width=width)
        _, labels = mask_tokens(ids, special, torch.Generator().manual_seed(0), 4, 1000, [0, 1, 2, 3, 4])
        assert (labels != -100).sum(dim=1).tolist() == [expected] * 4


def test_special_tokens_and_padding_are_never_masked(tokenizer):
    features = FAMILY.featurize(make_task(), examples_of(CORPUS), tokenizer, max_length=12)
    special_ids = set(tokenizer.all_special_ids)
    for seed in range(20):
        batch = FAMILY.collate(features, tokenizer.pad_token_id, torch.Generator().manual_seed(seed))
        real = batch["attention_mask"].bool()
        for row, feature in enumerate(features):
            specials = [i for i, s in enumerate(feature["special_tokens_mask"]) if s]
            assert (batch["labels"][row, specials] == -100).all()
            assert batch["input_ids"][row, specials].tolist() == [feature["input_ids"][i] for i in specials]
        assert (batch["labels"][~real] == -100).all()
        assert (batch["input_ids"][~real] == tokenizer.pad_token_id).all()
        masked = batch["labels"][batch["labels"] != -100].tolist()
        assert masked and not any(label in special_ids for label in masked)


def test_random_replacements_avoid_special_ids():
    draws = random_non_special_ids(
        (20000,), vocab_size=10, special_ids=[0, 3, 9, 1], generator=torch.Generator()
    )
    counts = torch.bincount(draws, minlength=10)
    # Allowed: 2, 4, 5, 6, 7, 8 -> each about 20000 / 6 = 3333.
    assert counts[[0, 1, 3, 9]].tolist() == [0, 0, 0, 0]
    assert all(abs(counts[i].item() - 3333) < 250 for i in (2, 4, 5, 6, 7, 8))


def test_same_seed_same_masks_other_seed_other_masks(tokenizer):
    features = FAMILY.featurize(make_task(), examples_of(CORPUS), tokenizer, max_length=64)
    pad = tokenizer.pad_token_id
    a = FAMILY.collate(features, pad, torch.Generator().manual_seed(5))
    b = FAMILY.collate(features, pad, torch.Generator().manual_seed(5))
    c = FAMILY.collate(features, pad, torch.Generator().manual_seed(6))
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["labels"], b["labels"])
    assert not torch.equal(a["labels"], c["labels"])
    # No generator: a fresh one seeded 0, so evaluation batches are the same every time.
    d, e = FAMILY.collate(features, pad), FAMILY.collate(features, pad)
    assert torch.equal(d["labels"], e["labels"]) and torch.equal(d["input_ids"], e["input_ids"])
    assert torch.equal(d["labels"], FAMILY.collate(features, pad, torch.Generator().manual_seed(0))["labels"])
    # Padding to the longest feature of the batch, not to max_length.
    assert a["input_ids"].shape[1] == max(f["length"] for f in features) < 64


# ---------------------------------------------------------------- head


def test_head_only_at_masked_positions_and_decoder_tied(tokenizer):
    torch.set_num_threads(1)
    encoder = tiny_encoder(tokenizer, seed=0)
    head = FAMILY.build_head(make_task(), encoder.config)
    features = FAMILY.featurize(make_task(), examples_of(CORPUS), tokenizer, max_length=32)
    batch = FAMILY.collate(features, tokenizer.pad_token_id, torch.Generator().manual_seed(0))
    seen = {}
    head.register_forward_pre_hook(lambda module, args: seen.update(hidden=args[0], weight=args[1]))
    outputs = FAMILY.forward(encoder, head, batch)
    masked = int((batch["labels"] != -100).sum())
    assert masked < batch["input_ids"].numel() // 4
    assert seen["hidden"].shape == (masked, 32)
    assert outputs["logits"].shape == (masked, len(tokenizer))
    assert outputs["counts"].tolist() == (batch["labels"] != -100).sum(dim=1).tolist()
    # Tied: the decoder weight is the embedding matrix itself (same storage), and the head owns no copy.
    embeddings = encoder.get_input_embeddings().weight
    assert seen["weight"] is embeddings and seen["weight"].data_ptr() == embeddings.data_ptr()
    vocab, hidden = len(tokenizer), 32
    assert sum(p.numel() for p in head.parameters()) == hidden * hidden + hidden + 2 * hidden + vocab
    # Logits from the definition: LayerNorm(GELU(dense(h))) @ E^T + bias.
    transformed = head.layer_norm(torch.nn.functional.gelu(head.dense(seen["hidden"])))
    assert torch.allclose(outputs["logits"], transformed @ embeddings.T + head.bias, atol=1e-5)


def test_forward_backward_reaches_head_and_tied_embeddings(tokenizer):
    torch.set_num_threads(1)
    encoder = tiny_encoder(tokenizer, seed=0)
    head = FAMILY.build_head(make_task(), encoder.config)
    features = FAMILY.featurize(make_task(), examples_of(CORPUS[:2]), tokenizer, max_length=32)
    batch = FAMILY.collate(features, tokenizer.pad_token_id, torch.Generator().manual_seed(0))
    outputs = FAMILY.forward(encoder, head, batch)
    loss = FAMILY.loss(outputs, batch)
    # Untrained: close to the uniform loss ln(V).
    assert loss.ndim == 0 and abs(loss.item() - math.log(len(tokenizer))) < 1.5
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    # A token absent from the input gets gradient only through the tied decoder.
    absent = sorted(set(range(5, len(tokenizer))) - set(batch["input_ids"].flatten().tolist()))[0]
    assert encoder.get_input_embeddings().weight.grad[absent].abs().sum() > 0


# ---------------------------------------------------------------- predict, postprocess, score, chance


def test_predict_per_feature_by_hand():
    # Vocabulary of 2; three masked positions: two in feature 0, one in feature 1.
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    labels = torch.tensor([0, 0, 1])
    outputs = {"logits": logits, "labels": labels, "counts": torch.tensor([2, 1])}
    raw = FAMILY.predict(outputs, {})
    # cross-entropy of [a, b] with label 0 = log(1 + e^(b - a)): log(1 + e^-2) (right), log(1 + e) (wrong);
    # [0, 3] with label 1 = log(1 + e^-3) (right).
    assert np.allclose(raw[0], [2, 1, math.log(1 + math.exp(-2)) + math.log(1 + math.e)])
    assert np.allclose(raw[1], [1, 1, math.log(1 + math.exp(-3))])
    features = [{"example_index": 0, "vocab_size": 2}, {"example_index": 0, "vocab_size": 2}]
    predictions = FAMILY.postprocess(make_task(), examples_of(["x"]), features, raw)
    assert predictions[0]["masked"] == 3 and predictions[0]["correct"] == 2


def test_score_is_micro_and_perplexity_is_exp_mean_loss():
    predictions = [{"masked": 3, "correct": 1, "loss": 3.0}, {"masked": 1, "correct": 1, "loss": 1.0}]
    scores = FAMILY.score(make_task(), examples_of(["x", "y"]), predictions)
    # micro: 2 right of 4 = 50 (the macro mean would be (33.3 + 100) / 2); perplexity exp(4 / 4) = e
    assert scores["accuracy"] == 50.0
    assert math.isclose(scores["perplexity"], math.e)
    assert set(FAMILY.score(make_task(metrics=("accuracy",)), [], predictions)) == {"accuracy"}
    with pytest.raises(XstiltsError, match="mlm family does not compute the metric 'f1'"):
        FAMILY.score(make_task(metrics=("f1",)), [], predictions)


def test_chance_uses_the_vocabulary_size(tokenizer):
    assert FAMILY.chance(make_task(vocab_size=1000), []) == {"accuracy": 0.1, "perplexity": 1000.0}
    unseen = empty_task("mlm", name="never-seen", splits={})
    with pytest.raises(XstiltsError, match="vocabulary size"):
        FAMILY.chance(unseen, [])
    FAMILY.featurize(make_task(), examples_of(["red"]), tokenizer, 16)
    assert FAMILY.chance(make_task(), []) == {
        "accuracy": 100.0 / len(tokenizer),
        "perplexity": len(tokenizer),
    }


def test_unknown_setting_is_an_error(tokenizer):
    with pytest.raises(XstiltsError, match="did you mean 'vocab_size'"):
        FAMILY.featurize(make_task(vocab_sise=5), examples_of(["red"]), tokenizer, 16)


# ---------------------------------------------------------------- it learns


def test_it_learns_repetitive_text(tokenizer):
    torch.set_num_threads(1)
    encoder = tiny_encoder(tokenizer, seed=1)
    head = FAMILY.build_head(make_task(), encoder.config)
    features = FAMILY.featurize(make_task(), examples_of([CORPUS[2]] * 8 + [CORPUS[1]] * 8), tokenizer, 32)
    parameters = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(50):
        batch = FAMILY.collate(features, tokenizer.pad_token_id, generator)
        loss = FAMILY.loss(FAMILY.forward(encoder, head, batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    # From about ln(48) = 3.9 to well under a third of the start (measured: 3.5 -> 0.6 over seeds).
    assert last < 0.35 * first, (first, last)
