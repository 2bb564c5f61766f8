"""The denoising family (T5 span corruption): counts, layouts and corrupted ids checked by hand, draws that follow
the seeded generator (a resumed run corrupts the same way), sentinels in the project's tokenizer, settings, and a
tiny T5 built from a config whose loss falls over a few training steps."""

from __future__ import annotations

import pytest
import torch

from xstilts.errors import XstiltsError
from xstilts.families import family_spec, get_family
from xstilts.families.denoising import corrupt, noise_counts, sentinel_ids, span_mask
from xstilts.models.tokenizer import train_tokenizer
from xstilts.tasks import get_task
from xstilts.tasks.base import Task
from xstilts.tasks.readers import read_jsonl

FAMILY = get_family("denoising")
EOS = 2
SENTINELS = [99, 98, 97]  # <extra_id_0> is the highest id, as in T5's vocabulary
TEXTS = [
    "Anna lives in Rome and works for Acme.",
    "The small dog slept under the table because it was tired.",
    "Ben gave Clara a red car in Paris yesterday, and she was happy.",
    "Acme opened an office in Berlin.",
] * 8
# Long enough for several spans (a short text has one, and one span always ends the text: nothing to draw).
LONG = [" ".join(TEXTS[i:i + 4]) for i in range(4)]


def task(**settings) -> Task:
    return Task(name="denoise-test", family="denoising", description="d", splits={"train": ("en",)},
                reader=read_jsonl, metrics=("accuracy", "perplexity"), settings=settings)


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS, vocab_size=200, sentinels=10)


def examples(texts: list[str]) -> list[dict]:
    return [{"id": str(i), "text": text} for i, text in enumerate(texts)]


# ------------------------------------------------------------------ corruption by hand


def test_noise_counts_follow_t5():
    # n tokens: round(0.15 n) noise tokens (1 .. n - 1) in round(noise / 3) spans (at least 1)
    assert noise_counts(20, 0.15, 3.0) == (3, 1)  # 3.0 noise, 1 span
    assert noise_counts(40, 0.15, 3.0) == (6, 2)
    assert noise_counts(100, 0.15, 3.0) == (15, 5)
    assert noise_counts(3, 0.15, 3.0) == (1, 1)  # 0.45 rounds to 0: at least one
    assert noise_counts(2, 0.9, 1.0) == (1, 1)  # 1.8 rounds to 2: at most n - 1, one kept token per span
    assert noise_counts(1, 0.15, 3.0) == (1, 1)  # one token: all of it is the span
    assert noise_counts(10, 0.5, 1.0) == (5, 5)


def test_corrupt_replaces_each_span_by_its_sentinel():
    tokens = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    mask = [False, False, True, True, False, False, False, True, False, False]
    inputs, labels = corrupt(tokens, mask, SENTINELS, EOS)
    assert inputs == [10, 11, 99, 14, 15, 16, 98, 18, 19, EOS]
    assert labels == [99, 12, 13, 98, 17, EOS]
    with pytest.raises(ValueError, match="more spans than the 1 sentinels"):
        corrupt(tokens, mask, SENTINELS[:1], EOS)


def test_one_span_is_the_last_tokens_whatever_the_generator():
    # 20 tokens: 3 noise tokens in 1 span; kept and noise runs alternate kept first, so the span ends the chunk.
    for seed in (0, 1, 2):
        mask = span_mask(20, 3, 1, torch.Generator().manual_seed(seed))
        assert mask == [False] * 17 + [True] * 3
    inputs, labels = corrupt(list(range(100, 120)), span_mask(20, 3, 1, torch.Generator()), SENTINELS, EOS)
    assert inputs == [*range(100, 117), 99, EOS]
    assert labels == [99, 117, 118, 119, EOS]
    assert span_mask(1, 1, 1, torch.Generator()) == [True]


def test_two_spans_follow_the_documented_draws():
    # 40 tokens, 6 noise tokens in 2 spans. The definition: the noise runs are cut first, at 1 + the first of
    # randperm(6 - 1); then the kept runs, at 1 + the first of randperm(34 - 1); kept, noise, kept, noise.
    reference = torch.Generator().manual_seed(7)
    noise_cut = int(torch.randperm(5, generator=reference)[0]) + 1
    kept_cut = int(torch.randperm(33, generator=reference)[0]) + 1
    expected = [False] * kept_cut + [True] * noise_cut + [False] * (34 - kept_cut) + [True] * (6 - noise_cut)
    assert span_mask(40, 6, 2, torch.Generator().manual_seed(7)) == expected


def test_masks_have_the_counted_noise_in_the_counted_spans():
    generator = torch.Generator().manual_seed(3)
    for length in (5, 17, 64, 200):
        noise, spans = noise_counts(length, 0.15, 3.0)
        mask = span_mask(length, noise, spans, generator)
        runs = sum(1 for i, noisy in enumerate(mask) if noisy and (i == 0 or not mask[i - 1]))
        assert (len(mask), sum(mask), runs, mask[0], mask[-1]) == (length, noise, spans, False, True)


# ------------------------------------------------------------------ the family on a tokenizer


def test_trained_tokenizer_has_sentinels_at_the_top(tokenizer):
    size = len(tokenizer)
    assert sentinel_ids(tokenizer) == list(range(size - 1, size - 11, -1))
    assert tokenizer.convert_ids_to_tokens(size - 1) == "<extra_id_0>"
    # never split, dropped when decoding
    ids = tokenizer("Anna <extra_id_3> Rome", add_special_tokens=False)["input_ids"]
    assert size - 4 in ids and "extra_id" not in tokenizer.decode(ids, skip_special_tokens=True)
    plain = train_tokenizer(TEXTS, vocab_size=200)
    assert sentinel_ids(plain) == [] and len(plain) == size - 10
    assert plain.get_vocab() == {t: i for t, i in tokenizer.get_vocab().items() if not t.startswith("<extra_id_")}


def test_featurize_and_collate_rebuild_the_text(tokenizer):
    texts = [*TEXTS[:2], *LONG]
    features = FAMILY.featurize(task(), examples(texts), tokenizer, max_length=128)
    assert [f["example_index"] for f in features] == list(range(len(texts)))
    assert features[-1]["noise_spans"] > 1
    batch = FAMILY.collate(features, tokenizer.pad_token_id, torch.Generator().manual_seed(0))
    assert batch["input_ids"].shape == batch["attention_mask"].shape
    for row, feature in enumerate(features):
        tokens = tokenizer(texts[row], add_special_tokens=False)["input_ids"]
        assert feature["input_ids"] == tokens
        length = int(batch["attention_mask"][row].sum())
        inputs = batch["input_ids"][row, :length].tolist()
        labels = [t for t in batch["labels"][row].tolist() if t != -100]
        assert length == feature["length"] and inputs[-1] == labels[-1] == tokenizer.eos_token_id
        # putting each span back in place of its sentinel gives the text again
        spans, current = {}, None
        for token in labels[:-1]:
            if token in feature["sentinel_ids"]:
                current = token
                spans[current] = []
            else:
                spans[current].append(token)
        rebuilt = [t for token in inputs[:-1] for t in (spans[token] if token in spans else [token])]
        assert rebuilt == tokens
        assert sum(len(span) for span in spans.values()) == feature["noise_tokens"]
        assert len(spans) == feature["noise_spans"]


def test_long_texts_are_cut_into_chunks_with_room_for_eos(tokenizer):
    text = " ".join(TEXTS[:4])
    tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
    features = FAMILY.featurize(task(), examples([text]), tokenizer, max_length=16)
    assert [t for f in features for t in f["input_ids"]] == tokens  # nothing is lost
    assert all(len(f["input_ids"]) <= 15 for f in features) and {f["example_index"] for f in features} == {0}
    batch = FAMILY.collate(features, tokenizer.pad_token_id)
    assert batch["input_ids"].shape[1] <= 16


def test_same_generator_same_corruption_and_a_resumed_generator_continues(tokenizer):
    features = FAMILY.featurize(task(), examples(LONG), tokenizer, max_length=128)
    assert all(f["noise_spans"] > 1 for f in features)
    pad = tokenizer.pad_token_id

    def two_batches(generator):
        return FAMILY.collate(features, pad, generator), FAMILY.collate(features, pad, generator)

    first, second = two_batches(torch.Generator().manual_seed(5))
    again_first, again_second = two_batches(torch.Generator().manual_seed(5))
    for key in first:
        assert torch.equal(first[key], again_first[key]) and torch.equal(second[key], again_second[key])
    assert not torch.equal(first["input_ids"], second["input_ids"])  # a new draw for every batch
    # a run resumed from the generator's saved state draws the second batch it would have drawn
    generator = torch.Generator().manual_seed(5)
    FAMILY.collate(features, pad, generator)
    resumed = torch.Generator()
    resumed.set_state(generator.get_state())
    assert torch.equal(FAMILY.collate(features, pad, resumed)["labels"], second["labels"])
    # no generator: evaluation batches are corrupted the same way every time
    assert torch.equal(FAMILY.collate(features, pad)["input_ids"], FAMILY.collate(features, pad)["input_ids"])


def test_a_tokenizer_without_sentinels_is_refused_with_the_fix():
    plain = train_tokenizer(TEXTS, vocab_size=200)
    with pytest.raises(XstiltsError, match=r"needs 2 sentinel tokens .*has 0\. Train it with sentinels"):
        FAMILY.featurize(task(), examples(TEXTS[:1]), plain, max_length=40)  # 39 tokens: 6 noise, 2 spans
    with pytest.raises(XstiltsError, match="max_length 1 leaves no room"):
        FAMILY.featurize(task(), examples(TEXTS[:1]), plain, max_length=1)


def test_settings_are_checked():
    spec = family_spec("denoising")
    assert spec.model_kind == "encoder-decoder" and spec.reads_plain_text and FAMILY.trainable
    defaults = spec.defaults()
    assert (defaults.noise_density, defaults.mean_noise_span_length) == (0.15, 3.0)
    problems = [message for _, message in spec.problems({"noise_density": 1.0}, ["accuracy"])]
    assert problems == ["noise_density must be above 0 and below 1 (a text needs corrupted and kept tokens), got 1.0"]
    assert spec.problems({"mean_noise_span_length": 0.5}, ["accuracy"])
    assert spec.problems({"noise_densty": 0.2}, ["accuracy"])[0][1].endswith("did you mean 'noise_density'?")
    assert get_task("micro-tiny-denoise").family == "denoising"


# ------------------------------------------------------------------ a tiny T5 learns


def test_a_tiny_t5_lowers_its_loss(tokenizer):
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, dropout_rate=0.0, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id)
    model = T5ForConditionalGeneration(config)
    the_task = task()
    features = FAMILY.featurize(the_task, examples(TEXTS[:8]), tokenizer, max_length=32)
    assert FAMILY.build_head(the_task, config) is None
    generator = torch.Generator().manual_seed(0)
    probe = FAMILY.collate(features, tokenizer.pad_token_id)  # the same corruption before and after

    def probe_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(FAMILY.loss(FAMILY.forward(model, None, probe), probe))

    before = probe_loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(30):
        batch = FAMILY.collate(features, tokenizer.pad_token_id, generator)
        loss = FAMILY.loss(FAMILY.forward(model, None, batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = probe_loss()
    assert after < 0.7 * before, (before, after)
    # evaluation goes through the mlm family's results: per-example accuracy units and perplexity
    model.eval()
    with torch.no_grad():
        raw = FAMILY.predict(FAMILY.forward(model, None, probe), probe)
    predictions = FAMILY.postprocess(the_task, examples(TEXTS[:8]), features, raw)
    assert [p["masked"] for p in predictions] == [int((probe["labels"][i] != -100).sum()) for i in range(8)]
    evaluation = FAMILY.scored(the_task, examples(TEXTS[:8]), predictions)
    assert 0.0 <= evaluation.scores["accuracy"] <= 100.0 and evaluation.scores["perplexity"] >= 1.0
    assert FAMILY.chance(the_task, examples(TEXTS[:8]))["accuracy"] == pytest.approx(100.0 / len(tokenizer))


def test_an_encoder_is_refused(tokenizer):
    from transformers import BertConfig, BertModel

    encoder = BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                   num_attention_heads=2, intermediate_size=32))
    features = FAMILY.featurize(task(), examples(TEXTS[:2]), tokenizer, max_length=32)
    batch = FAMILY.collate(features, tokenizer.pad_token_id)
    with pytest.raises(XstiltsError, match="needs an encoder-decoder model .* not a BertModel"):
        FAMILY.forward(encoder, None, batch)


def test_the_plan_counts_what_the_decoder_writes():
    from dataclasses import replace

    from xstilts.studies.estimate import decoder_tokens

    task = get_task("micro-mlm")
    denoising = replace(task, family="denoising", settings={})
    # 128 tokens: round(19.2) = 19 noise tokens in round(19 / 3) = 6 spans: 19 + 6 sentinels + the end token
    assert decoder_tokens(denoising, 128, training=True) == 19 + 6 + 1
    assert decoder_tokens(task, 128, training=True) == 0  # an encoder's MLM has no decoder
