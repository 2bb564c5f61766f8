"""The classification family: schema checks, pair featurization, padding, head, postprocess, scores."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from helpers import SYLLABLE_WORDS, empty_task, fit_and_score, syllable_tokenizer, tiny_encoder
from xstilts.errors import XstiltsError
from xstilts.families.classification import FAMILY
from xstilts.tasks.base import Task

NLI_LABELS = ("entailment", "neutral", "contradiction")
WORDS = SYLLABLE_WORDS + "the cat sat on a mat good bad".split()


def make_task(labels=NLI_LABELS, metrics=("accuracy",)) -> Task:
    return empty_task("classification", labels=labels, metrics=metrics)


@pytest.fixture(scope="module")
def tokenizer():
    return syllable_tokenizer(WORDS)


# ----------------------------------------------------------------------------- validate_example


def test_validate_accepts_single_and_pair():
    task = make_task()
    assert FAMILY.validate_example(task, {"id": "1", "text": "a", "label": "neutral"}) is None
    assert (
        FAMILY.validate_example(task, {"id": "1", "text": "a", "text_pair": None, "label": "neutral"}) is None
    )
    assert (
        FAMILY.validate_example(task, {"id": "1", "text": "a", "text_pair": "b", "label": "neutral"}) is None
    )


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (
            {"id": "1", "text": "a", "label": "entailed"},
            "label 'entailed' is not one of the task's labels: entailment, neutral, contradiction",
        ),
        ({"id": "1", "text": "a", "label": 0}, "'label' must be a string, found int 0"),
        (
            {"id": "1", "text": "a"},
            "'label' is missing: each example needs one of the task's labels: entailment, neutral, contradiction",
        ),
        ({"id": 1, "text": "a", "label": "neutral"}, "'id' must be a string, found int"),
        ({"id": "1", "label": "neutral"}, "'text' must be a string, found null"),
        (
            {"id": "1", "text": "a", "text_pair": 3, "label": "neutral"},
            "'text_pair' must be a string or null, found int",
        ),
    ],
)
def test_validate_messages(example, message):
    assert FAMILY.validate_example(make_task(), example) == message


def test_validate_task_without_labels():
    problem = FAMILY.validate_example(make_task(labels=()), {"id": "1", "text": "a", "label": "x"})
    assert problem == "task 't' declares no labels: a classification task needs `labels` in its declaration"


# ----------------------------------------------------------------------------- featurize / collate


def test_featurize_pair_and_single(tokenizer):
    task = make_task()
    examples = [
        {"id": "p", "text": "the cat sat", "text_pair": "kalo on a mat", "label": "contradiction"},
        {"id": "s", "text": "good mat", "label": "entailment"},
    ]
    features = FAMILY.featurize(task, examples, tokenizer, max_length=64)
    pair_ids = tokenizer("the cat sat", "kalo on a mat")["input_ids"]
    single_ids = tokenizer("good mat")["input_ids"]
    assert features[0]["input_ids"] == pair_ids
    assert features[1]["input_ids"] == single_ids
    # XLM-R layout: <s>=0 A </s>=2 </s>=2 B </s>=2; a single text is <s> A </s>.
    assert pair_ids[0] == 0 and pair_ids[-1] == 2 and pair_ids.count(2) == 3
    assert single_ids[0] == 0 and single_ids[-1] == 2 and single_ids.count(2) == 1
    # labels by position in task.labels: contradiction is the third (2), entailment the first (0)
    assert [f["label"] for f in features] == [2, 0]
    assert [f["example_index"] for f in features] == [0, 1]
    assert [f["length"] for f in features] == [len(pair_ids), len(single_ids)]


def test_featurize_truncates_pair_to_max_length(tokenizer):
    task = make_task()
    long_text = " ".join(["kalo"] * 30)
    examples = [{"id": "p", "text": long_text, "text_pair": "the cat", "label": "neutral"}]
    (feature,) = FAMILY.featurize(task, examples, tokenizer, max_length=12)
    assert len(feature["input_ids"]) == 12
    expected = tokenizer(long_text, "the cat", truncation="longest_first", max_length=12)["input_ids"]
    assert feature["input_ids"] == expected
    # By hand: 12 - 4 special tokens leave 8; longest_first trims the longer side one token at a time, so
    # once the long text is down to the pair's length both shrink in turn and each keeps 4 of its pieces.
    long_pieces = tokenizer(long_text, add_special_tokens=False)["input_ids"]
    the_cat = tokenizer("the cat", add_special_tokens=False)["input_ids"]
    assert len(the_cat) > 4
    assert feature["input_ids"] == [0, *long_pieces[:4], 2, 2, *the_cat[:4], 2]


def test_collate_pads_to_batch_longest_not_max_length():
    features = [
        {"input_ids": [0, 7, 8, 9, 2], "example_index": 0, "length": 5, "label": 1},
        {"input_ids": [0, 7, 2], "example_index": 1, "length": 3, "label": 0},
    ]
    batch = FAMILY.collate(features, pad_token_id=1)
    assert batch["input_ids"].tolist() == [[0, 7, 8, 9, 2], [0, 7, 2, 1, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch["labels"].tolist() == [1, 0]


def test_collate_keeps_token_type_ids_when_the_tokenizer_gives_them():
    """BERT-style tokenizers mark the pair's second text with type 1; padding takes type 0."""
    features = [
        {
            "input_ids": [2, 5, 3, 6, 3],
            "token_type_ids": [0, 0, 0, 1, 1],
            "example_index": 0,
            "length": 5,
            "label": 0,
        },
        {"input_ids": [2, 5, 3], "token_type_ids": [0, 0, 0], "example_index": 1, "length": 3, "label": 1},
    ]
    batch = FAMILY.collate(features, pad_token_id=0)
    assert batch["token_type_ids"].tolist() == [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]


def test_collate_of_featurized_batch_is_not_max_length(tokenizer):
    examples = [{"id": str(i), "text": "kalo " * (i + 1), "label": "neutral"} for i in range(3)]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=128)
    batch = FAMILY.collate(features, tokenizer.pad_token_id)
    assert batch["input_ids"].shape == (3, max(f["length"] for f in features))
    assert batch["input_ids"].shape[1] < 128


# ----------------------------------------------------------------------------- model


def test_head_uses_encoder_hidden_dropout(tokenizer):
    encoder = tiny_encoder(tokenizer, hidden_dropout_prob=0.3)
    head = FAMILY.build_head(make_task(), encoder.config)
    dropouts = [m.p for m in head.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts and all(p == 0.3 for p in dropouts)
    assert head.out_proj.out_features == 3


def test_forward_loss_backward(tokenizer):
    task = make_task()
    examples = [
        {"id": "a", "text": "the cat", "text_pair": "sat", "label": "neutral"},
        {"id": "b", "text": "good", "label": "contradiction"},
    ]
    encoder = tiny_encoder(tokenizer)
    head = FAMILY.build_head(task, encoder.config)
    batch = FAMILY.collate(FAMILY.featurize(task, examples, tokenizer, 32), tokenizer.pad_token_id)
    logits = FAMILY.forward(encoder, head, batch)
    assert logits.shape == (2, 3)
    loss = FAMILY.loss(logits, batch)
    # cross-entropy from its definition: mean of -log softmax at the gold index (1 and 2)
    expected = -(torch.log_softmax(logits, -1)[0, 1] + torch.log_softmax(logits, -1)[1, 2]) / 2
    assert torch.isclose(loss, expected)
    loss.backward()
    assert head.out_proj.weight.grad.abs().sum() > 0
    assert encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_head_reads_first_token(tokenizer):
    """Changing only a later token still changes the logits (attention), but the head input is position 0."""
    task = make_task()
    encoder = tiny_encoder(tokenizer).eval()
    head = FAMILY.build_head(task, encoder.config).eval()
    batch = FAMILY.collate(
        FAMILY.featurize(task, [{"id": "a", "text": "the cat", "label": "neutral"}], tokenizer, 32),
        tokenizer.pad_token_id,
    )
    with torch.no_grad():
        hidden = encoder(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state
        assert torch.allclose(FAMILY.forward(encoder, head, batch), head(hidden[:, 0]))


def test_predict_returns_cpu_logits_in_batch_order():
    outputs = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    raw = FAMILY.predict(outputs, {})
    assert len(raw) == 2 and isinstance(raw[0], np.ndarray)
    assert raw[1].tolist() == [3.0, 0.0, 0.0]


# ----------------------------------------------------------------------------- results


def test_postprocess_with_shuffled_features():
    task = make_task()
    examples = [{"id": str(i), "text": "x", "label": "neutral"} for i in range(3)]
    # features arrive in the order 2, 0, 1 (e.g. sorted by length)
    features = [{"example_index": 2}, {"example_index": 0}, {"example_index": 1}]
    raw = [np.array([0.0, 0.0, 5.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 9.0, 1.0])]
    # example 0 -> argmax 0 (entailment), 1 -> argmax 1 (neutral), 2 -> argmax 2 (contradiction)
    assert FAMILY.postprocess(task, examples, features, raw) == ["entailment", "neutral", "contradiction"]


def test_postprocess_reports_a_missing_example():
    task = make_task()
    examples = [{"id": "a", "text": "x", "label": "neutral"}, {"id": "b", "text": "x", "label": "neutral"}]
    with pytest.raises(ValueError, match="no output for 1 examples"):
        FAMILY.postprocess(task, examples, [{"example_index": 0}], [np.array([1.0, 0.0, 0.0])])


def test_score_accuracy_by_hand():
    task = make_task(labels=("a", "b"))
    examples = [{"label": label} for label in ["a", "b", "b", "a"]]
    # 3 of 4 equal -> 75
    assert FAMILY.score(task, examples, ["a", "b", "a", "a"]) == {"accuracy": 75.0}


def test_unknown_metric_is_a_user_error():
    task = make_task(metrics=("f1",))
    with pytest.raises(XstiltsError, match="does not compute the metric 'f1'; it computes accuracy, ndcg"):
        FAMILY.score(task, [{"label": "neutral"}], ["neutral"])


def test_chance_is_uniform_over_labels():
    assert FAMILY.chance(make_task(), []) == {"accuracy": 100.0 / 3}
    assert FAMILY.chance(make_task(labels=("a", "b")), []) == {"accuracy": 50.0}


# ----------------------------------------------------------------------------- it learns


def test_it_learns_a_keyword_rule(tokenizer):
    """Label = which keyword (good/bad) the text holds, among random filler words."""
    rng = random.Random(1)
    task = make_task(labels=("pos", "neg"))
    fillers = WORDS[:100]
    examples = []
    for i in range(64):
        words = [rng.choice(fillers) for _ in range(4)]
        label = "pos" if i % 2 == 0 else "neg"
        words.insert(rng.randrange(5), "good" if label == "pos" else "bad")
        examples.append({"id": str(i), "text": " ".join(words), "label": label})
    scores, loss = fit_and_score(FAMILY, task, tokenizer, examples, steps=50, batch_size=16)
    accuracy = scores["accuracy"]
    chance = FAMILY.chance(task, examples)["accuracy"]
    assert not math.isnan(loss)
    assert accuracy >= chance + 30, accuracy
