"""Evaluation passes: token-budget batches longest first, the order restored, the same outputs as one plain
batch (fp32), repeated inputs encoded once, and a CUDA out-of-memory answered with a smaller budget."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers import SYLLABLE_WORDS, empty_task, syllable_tokenizer, tiny_encoder
from xstilts.errors import XstiltsError
from xstilts.evaluation import batches
from xstilts.evaluation.embedding import embed_sentences
from xstilts.evaluation.predict import OUT_OF_MEMORY, predict_raw
from xstilts.evaluation.reuse import OutputCache, plan_reuse
from xstilts.families import get_family


def lengths_features(lengths, rows=None):
    rows = rows or [1] * len(lengths)
    return [{"input_ids": [[0] * n] * r if r > 1 else [0] * n, "length": n} for n, r in zip(lengths, rows, strict=True)]


# ---------------------------------------------------------------- batch plans (hand-computed)


def test_batches_go_longest_first_within_the_token_budget():
    features = lengths_features([3, 10, 5, 10, 2])
    # Longest first, ties in input order: 1, 3 (10 tokens), 2 (5), 0 (3), 4 (2). Budget 20: 2 x 10 fits, a third
    # row would pad to 30; then 3 rows x 5 = 15 tokens of which 5 + 3 + 2 = 10 real.
    assert batches.plan_batches(features, 20, max_padding=1.0) == [[1, 3], [2, 0, 4]]
    assert batches.plan_batches(features, 20, max_rows=2, max_padding=1.0) == [[1, 3], [2, 0], [4]]
    # The padding cap: [5, 3] pads 2 of 10 tokens (20%), adding the 2 would pad 5 of 15 (33% > 25%).
    planned = batches.plan_batches(features, 20)
    assert planned == [[1, 3], [2, 0], [4]]
    assert batches.padded_tokens(features, planned) == 2 * 10 + 2 * 5 + 1 * 2
    # A feature longer than the budget runs alone.
    assert batches.plan_batches(lengths_features([50, 3]), 20, max_padding=1.0) == [[0], [1]]


def test_a_multiple_choice_feature_counts_one_row_per_choice():
    features = lengths_features([4, 4, 4], rows=[3, 2, 1])
    assert [batches.feature_rows(f) for f in features] == [3, 2, 1]
    # 3 choices x 4 = 12 <= 20; adding 2 more choices makes 5 x 4 = 20 <= 20; the last: 6 x 4 = 24 > 20.
    assert batches.plan_batches(features, 20) == [[0, 1], [2]]


def test_the_memory_budget_divides_free_memory_by_what_one_token_holds():
    config = type("Config", (), {"hidden_size": 8, "num_hidden_layers": 2, "intermediate_size": 32,
                                 "num_attention_heads": 2})()
    # (2 + 1) x 8 hidden states + 4 x 8 + 2 x 32 + 2 heads x 10 scores = 140 values of 4 bytes.
    assert batches.bytes_per_token(config, longest=10) == 560
    assert batches.memory_token_budget(1_000_000, config, longest=10) == 500_000 // 560
    # Never below one sequence of the longest feature, never above the cap.
    assert batches.memory_token_budget(100, config, longest=10) == 10
    assert batches.memory_token_budget(10**15, config, longest=10) == batches.MAX_GPU_BATCH_TOKENS
    assert batches.tokens_per_batch(None, torch.device("cpu"), config, 10) == batches.DEFAULT_CPU_BATCH_TOKENS
    assert batches.tokens_per_batch(64, torch.device("cpu"), config, 10) == 64
    with pytest.raises(XstiltsError, match="evaluate.batch_tokens"):
        batches.bytes_per_token(object(), longest=10)


def test_a_cuda_budget_is_measured_from_free_memory(monkeypatch):
    """The CUDA path without a GPU: torch's free-memory query stands in."""
    config = type("Config", (), {"hidden_size": 8, "num_hidden_layers": 2, "intermediate_size": 32,
                                 "num_attention_heads": 2})()
    asked = []
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: asked.append(device) or (2_000_000, 10**9))
    assert batches.tokens_per_batch(None, torch.device("cuda", 0), config, 10) == 1_000_000 // 560
    assert asked == [torch.device("cuda", 0)]
    assert batches.tokens_per_batch(4096, torch.device("cuda", 0), config, 10) == 4096  # the setting wins
    assert len(asked) == 1


def test_reuse_plan_encodes_each_key_once_and_never_what_the_cache_holds():
    cache = OutputCache()
    cache.keep("old", np.zeros(2, dtype=np.float32))
    todo, reused = plan_reuse(["a", None, "a", "old", None, "b"], cache)
    assert todo == [0, 1, 4, 5]
    assert reused == {2: "a", 3: "old"}
    with pytest.raises(ValueError):  # what the cache shares cannot be changed for everyone in place
        cache.outputs["old"][0] = 1.0


# ---------------------------------------------------------------- real passes through a tiny encoder


@pytest.fixture(scope="module")
def tokenizer():
    return syllable_tokenizer(SYLLABLE_WORDS)


def sentences(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(SYLLABLE_WORDS) for _ in range(rng.randint(1, 30))) for _ in range(count)]


def one_batch(family, encoder, head, features, pad_token_id):
    """The plain reference: every feature in one batch, in the given order, fp32, no reuse."""
    encoder.eval()
    with torch.no_grad():
        batch = family.collate(features, pad_token_id)
        return family.predict(family.forward(encoder, head, batch), batch)


def test_classification_outputs_equal_one_plain_batch_whatever_the_budget(tokenizer):
    family = get_family("classification")
    task = empty_task("classification", labels=("a", "b", "c"), metrics=("accuracy",))
    texts = sentences(23)
    examples = [{"id": f"x{i}", "text": text, "label": "abc"[i % 3]} for i, text in enumerate(texts)]
    features = family.featurize(task, examples, tokenizer, max_length=40)
    encoder = tiny_encoder(tokenizer, layers=2, seed=0)
    head = family.build_head(task, encoder.config).eval()
    expected = one_batch(family, encoder, head, features, tokenizer.pad_token_id)
    longest = max(f["length"] for f in features)
    for budget in (longest, 3 * longest, 10_000):
        raw = predict_raw(encoder, head, family, features, pad_token_id=tokenizer.pad_token_id, batch_tokens=budget)
        for got, want in zip(raw, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert [int(np.argmax(r)) for r in raw] == [int(np.argmax(e)) for e in expected]


def test_span_qa_answers_equal_one_plain_batch(tokenizer):
    family = get_family("span_qa")
    task = empty_task("span_qa", metrics=("f1", "exact_match"))
    texts = sentences(12, seed=1)
    examples = []
    for i, context in enumerate(texts):
        answer = context.split()[0]
        examples.append({"id": f"q{i}", "question": " ".join(texts[(i + 1) % len(texts)].split()[:3]),
                         "context": context, "answers": [{"text": answer, "start": 0}]})
    features = family.featurize(task, examples, tokenizer, max_length=48)
    encoder = tiny_encoder(tokenizer, layers=2, seed=1)
    head = family.build_head(task, encoder.config).eval()
    expected = family.postprocess(task, examples, features,
                                  one_batch(family, encoder, head, features, tokenizer.pad_token_id))
    raw = predict_raw(encoder, head, family, features, pad_token_id=tokenizer.pad_token_id, batch_tokens=100)
    assert family.postprocess(task, examples, features, raw) == expected


def retrieval_features(tokenizer, texts):
    family = get_family("retrieval")
    task = empty_task("retrieval", metrics=("accuracy",))
    examples = [{"id": f"e{i}", "source": text, "target": None} for i, text in enumerate(texts)]
    return family, family.featurize(task, examples, tokenizer, max_length=40)


def test_repeated_sentences_are_embedded_once_with_the_same_vectors(tokenizer):
    distinct = sentences(9, seed=2)
    texts = distinct + distinct[:4] + [distinct[0]]  # 5 repeats
    family, features = retrieval_features(tokenizer, texts)
    encoder = tiny_encoder(tokenizer, layers=2, seed=2)
    expected = one_batch(family, encoder, None, features, tokenizer.pad_token_id)
    cache = OutputCache()
    raw = predict_raw(encoder, None, family, features, pad_token_id=tokenizer.pad_token_id, batch_tokens=64,
                      cache=cache)
    assert (cache.encoded, cache.reused) == (9, 5)
    for got, want in zip(raw, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert raw[9] is raw[0] and raw[13] is raw[0]
    # A second pass through the same model state (BUCC's dev set evaluated after serving as test's threshold
    # set) encodes nothing; a pass with another layer is another key.
    again = predict_raw(encoder, None, family, features[:9], pad_token_id=tokenizer.pad_token_id, cache=cache)
    assert (cache.encoded, cache.reused) == (9, 14)
    assert all(a is b for a, b in zip(again, raw[:9], strict=True))
    other_layer = [{**feature, "layer": 1} for feature in features[:9]]
    predict_raw(encoder, None, family, other_layer, pad_token_id=tokenizer.pad_token_id, cache=cache)
    assert cache.encoded == 18


def test_running_out_of_memory_halves_the_budget_and_loses_nothing(tokenizer, monkeypatch):
    family, features = retrieval_features(tokenizer, sentences(15, seed=3))
    encoder = tiny_encoder(tokenizer, layers=1, seed=3)
    expected = one_batch(family, encoder, None, features, tokenizer.pad_token_id)
    longest = max(f["length"] for f in features)
    seen: list[int] = []
    real_forward = family.forward

    def forward(encoder, head, batch):
        tokens = batch["input_ids"].numel()
        seen.append(tokens)
        if tokens > 2 * longest:
            raise OUT_OF_MEMORY("CUDA out of memory (simulated)")
        return real_forward(encoder, head, batch)

    monkeypatch.setattr(family, "forward", forward)
    raw = predict_raw(encoder, None, family, features, pad_token_id=tokenizer.pad_token_id,
                      batch_tokens=16 * longest)
    for got, want in zip(raw, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert seen[0] > 2 * longest and max(seen[-3:]) <= 2 * longest
    monkeypatch.setattr(family, "forward", lambda *args: (_ for _ in ()).throw(OUT_OF_MEMORY("simulated")))
    with pytest.raises(XstiltsError, match="ran out of memory on one feature"):
        predict_raw(encoder, None, family, features, pad_token_id=tokenizer.pad_token_id, batch_tokens=longest)


def test_embed_sentences_restores_the_order_and_embeds_repeats_once(tokenizer):
    distinct = sentences(7, seed=4)
    texts = [distinct[i] for i in (3, 0, 6, 3, 1, 5, 2, 4, 0)]
    encoder = tiny_encoder(tokenizer, layers=2, seed=4)
    calls: list[int] = []
    encoder.register_forward_hook(lambda module, args, kwargs, out: calls.append(kwargs["input_ids"].shape[0]),
                                  with_kwargs=True)
    vectors = embed_sentences(encoder, tokenizer, texts, layer=1, batch_tokens=40)
    assert sum(calls) == 7  # 9 sentences, 7 distinct
    alone = np.stack([embed_sentences(encoder, tokenizer, [text], layer=1)[0] for text in texts])
    np.testing.assert_allclose(vectors, alone, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[3])
