"""The multiple-choice family: schema checks, pair encoding per choice, one forward pass, choice masking."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from helpers import SYLLABLE_WORDS, empty_task, fit_and_score, syllable_tokenizer, tiny_encoder
from xstilts.errors import XstiltsError
from xstilts.families.multiple_choice import FAMILY
from xstilts.tasks.base import Task

WORDS = SYLLABLE_WORDS + "the cat sat on a mat right wrong".split()


def make_task(num_choices: int | None = None, metrics=("accuracy",)) -> Task:
    settings = {"num_choices": num_choices} if num_choices is not None else {}
    return empty_task("multiple_choice", name="copa", metrics=metrics, settings=settings)


@pytest.fixture(scope="module")
def tokenizer():
    return syllable_tokenizer(WORDS, algorithm="bpe")


class CountingEncoder(torch.nn.Module):
    """Delegates to an encoder and records the input shape of every call."""

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder
        self.shapes: list[tuple[int, ...]] = []

    def forward(self, **kwargs):
        self.shapes.append(tuple(kwargs["input_ids"].shape))
        return self.encoder(**kwargs)


def example(id_: str, context: str, choices: list[str], label: int) -> dict:
    return {"id": id_, "context": context, "choices": choices, "label": label}


# ----------------------------------------------------------------------------- validate_example


def test_validate_accepts_a_good_example():
    assert FAMILY.validate_example(make_task(), example("1", "c", ["a", "b", "c"], 2)) is None
    assert FAMILY.validate_example(make_task(num_choices=2), example("1", "c", ["a", "b"], 0)) is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (example("1", "c", ["a"], 0), "'choices' has 1 choice: at least 2 are needed"),
        (example("1", "c", ["a", "b"], 2), "label 2 is out of range: 2 choices allow 0 to 1"),
        (example("1", "c", ["a", "b"], -1), "label -1 is out of range: 2 choices allow 0 to 1"),
        (
            example("1", "c", ["a", "b"], True),
            "'label' must be an integer index into 'choices', found bool True",
        ),
        (
            example("1", "c", ["a", "b"], "0"),
            "'label' must be an integer index into 'choices', found str '0'",
        ),
        (example("1", "c", ["a", 5], 0), "choice 1 must be a string, found int"),
        (example("1", "c", "a b", 0), "'choices' must be a list of strings, found str"),
        ({"id": "1", "choices": ["a", "b"], "label": 0}, "'context' must be a string, found null"),
    ],
)
def test_validate_messages(bad, message):
    assert FAMILY.validate_example(make_task(), bad) == message


def test_validate_num_choices_setting():
    problem = FAMILY.validate_example(make_task(num_choices=2), example("1", "c", ["a", "b", "c"], 0))
    assert problem == "'choices' has 3 choices but task 'copa' expects 2"


# ----------------------------------------------------------------------------- featurize / collate


def test_featurize_encodes_each_choice_as_a_pair(tokenizer):
    examples = [
        example("a", "the cat sat", ["on a mat", "kalo"], 1),
        example("b", "good", ["the", "kalo mire", "sat"], 0),
    ]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=64)
    for feature, ex in zip(features, examples, strict=True):
        expected = [tokenizer(ex["context"], choice)["input_ids"] for choice in ex["choices"]]
        assert feature["input_ids"] == expected
        assert feature["length"] == max(len(ids) for ids in expected)
    assert [f["label"] for f in features] == [1, 0]
    assert [f["example_index"] for f in features] == [0, 1]
    # pair layout: <s>=0 context </s></s> choice </s>
    first = features[0]["input_ids"][0]
    assert first[0] == 0 and first[-1] == 2 and first.count(2) == 3


def test_collate_pads_choices_and_lengths():
    features = [
        {"input_ids": [[0, 5, 2], [0, 5, 6, 7, 2]], "example_index": 0, "length": 5, "label": 1},
        {"input_ids": [[0, 8, 2], [0, 9, 2], [0, 9, 9, 2]], "example_index": 1, "length": 4, "label": 2},
    ]
    batch = FAMILY.collate(features, pad_token_id=1)
    # [examples=2, widest=3 choices, longest=5 tokens]
    assert batch["input_ids"].shape == (2, 3, 5)
    assert batch["input_ids"][0].tolist() == [[0, 5, 2, 1, 1], [0, 5, 6, 7, 2], [1, 1, 1, 1, 1]]
    assert batch["attention_mask"][0].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]]
    assert batch["attention_mask"][1].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0]]
    assert batch["choice_mask"].tolist() == [[True, True, False], [True, True, True]]
    assert batch["labels"].tolist() == [1, 2]


def test_collate_pads_token_type_ids_per_choice():
    features = [
        {"input_ids": [[2, 5, 3, 6, 3]], "token_type_ids": [[0, 0, 0, 1, 1]], "example_index": 0, "label": 0},
        {
            "input_ids": [[2, 5, 3], [2, 7, 3]],
            "token_type_ids": [[0, 0, 1], [0, 0, 1]],
            "example_index": 1,
            "label": 1,
        },
    ]
    batch = FAMILY.collate(features, pad_token_id=0)
    assert batch["token_type_ids"].tolist() == [
        [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]],
        [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0]],
    ]


# ----------------------------------------------------------------------------- model


def mixed_batch(tokenizer):
    examples = [
        example("a", "the cat", ["sat", "kalo"], 0),  # 2 choices: padded to 3
        example("b", "a mat", ["the", "good cat", "mire"], 2),
    ]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=32)
    return examples, features, FAMILY.collate(features, tokenizer.pad_token_id)


def test_one_encoder_call_per_batch_and_padded_choices_masked(tokenizer):
    _, _, batch = mixed_batch(tokenizer)
    encoder = CountingEncoder(tiny_encoder(tokenizer))
    head = FAMILY.build_head(make_task(), encoder.encoder.config)
    scores = FAMILY.forward(encoder, head, batch)
    # one call, holding the 2 + 3 real choices as rows of the longest length
    assert encoder.shapes == [(5, batch["input_ids"].shape[2])]
    assert scores.shape == (2, 3)
    assert scores[0, 2].item() == float("-inf")
    assert torch.isfinite(scores[0, :2]).all() and torch.isfinite(scores[1]).all()
    loss = FAMILY.loss(scores, batch)
    assert math.isfinite(loss.item())
    # cross-entropy by definition, the padded choice taking no softmax mass: labels 0 and 2
    first = -torch.log_softmax(scores[0, :2], -1)[0]
    second = -torch.log_softmax(scores[1], -1)[2]
    assert torch.isclose(loss, (first + second) / 2)
    loss.backward()
    with_grad = [p for p in [*encoder.parameters(), *head.parameters()] if p.grad is not None]
    assert any(p.grad is not None for p in encoder.parameters())  # the encoder is reached, not only the head
    for parameter in with_grad:
        assert torch.isfinite(parameter.grad).all()
    assert head.out_proj.weight.grad.abs().sum() > 0


def test_choice_scores_do_not_depend_on_padding(tokenizer):
    """Each choice scored alone gives the same score as inside the padded batch."""
    examples, features, batch = mixed_batch(tokenizer)
    encoder = tiny_encoder(tokenizer).eval()
    head = FAMILY.build_head(make_task(), encoder.config).eval()
    with torch.no_grad():
        scores = FAMILY.forward(encoder, head, batch)
        for b, ex in enumerate(examples):
            for c, choice in enumerate(ex["choices"]):
                ids = torch.tensor([tokenizer(ex["context"], choice)["input_ids"]])
                hidden = encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
                assert torch.isclose(scores[b, c], head(hidden[:, 0])[0, 0], atol=1e-5)


def test_predict_drops_padded_choices():
    scores = torch.tensor([[0.5, 1.5, float("-inf")], [0.1, 0.2, 0.3]])
    batch = {"choice_mask": torch.tensor([[True, True, False], [True, True, True]])}
    raw = FAMILY.predict(scores, batch)
    assert [r.tolist() for r in raw] == [[0.5, 1.5], pytest.approx([0.1, 0.2, 0.3])]


# ----------------------------------------------------------------------------- results


def test_postprocess_with_shuffled_features():
    examples = [example(str(i), "c", ["a", "b", "c"], 0) for i in range(3)]
    features = [{"example_index": 1}, {"example_index": 2}, {"example_index": 0}]
    raw = [np.array([0.0, 3.0, 1.0]), np.array([0.0, 1.0, 4.0]), np.array([2.0, 1.0, 0.0])]
    # example 0 <- third raw (argmax 0), 1 <- first (argmax 1), 2 <- second (argmax 2)
    predictions = FAMILY.postprocess(make_task(), examples, features, raw)
    assert predictions == [0, 1, 2]
    assert all(type(p) is int for p in predictions)


def test_score_accuracy_by_hand():
    examples = [example(str(i), "c", ["a", "b"], label) for i, label in enumerate([0, 1, 1, 0, 1])]
    # 2 of 5 right -> 40
    assert FAMILY.score(make_task(), examples, [0, 0, 0, 1, 1]) == {"accuracy": 40.0}


def test_chance_is_mean_of_one_over_choices():
    examples = [
        example("a", "c", ["x"] * 2, 0),
        example("b", "c", ["x"] * 3, 0),
        example("c", "c", ["x"] * 4, 0),
    ]
    # (100/2 + 100/3 + 100/4) / 3 = (50 + 33.33.. + 25) / 3 = 36.11..
    assert FAMILY.chance(make_task(), examples)["accuracy"] == pytest.approx((50 + 100 / 3 + 25) / 3)


def test_unknown_metric_is_a_user_error():
    with pytest.raises(XstiltsError, match="metric 'f1'"):
        FAMILY.chance(make_task(metrics=("f1",)), [example("a", "c", ["x", "y"], 0)])


# ----------------------------------------------------------------------------- it learns


def test_it_learns_to_pick_the_marked_choice(tokenizer):
    """The right choice holds the word 'right', the others 'wrong'; 3 choices, so chance is 33.3."""
    rng = random.Random(2)
    task = make_task(num_choices=3)
    examples = []
    for i in range(48):
        label = rng.randrange(3)
        choices = [f"{rng.choice(WORDS[:100])} {'right' if c == label else 'wrong'}" for c in range(3)]
        examples.append(example(str(i), " ".join(rng.choice(WORDS[:100]) for _ in range(3)), choices, label))
    scores, _ = fit_and_score(FAMILY, task, tokenizer, examples, steps=40, batch_size=8)
    accuracy = scores["accuracy"]
    assert accuracy >= FAMILY.chance(task, examples)["accuracy"] + 40, accuracy
