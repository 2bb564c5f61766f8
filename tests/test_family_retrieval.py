"""Retrieval family and the embedding/search helpers, with hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers import empty_task, tiny_encoder
from xstilts.errors import XstiltsError
from xstilts.families.retrieval import FAMILY
from xstilts.scoring.retrieval import (
    l2_normalize,
    margin_candidates,
    nearest,
    nearest_cosine,
    nearest_margin,
    pool,
    select_layer,
    top_k,
)
from xstilts.tasks.base import Task

SENTENCES = [
    "the red fox jumps over the lazy dog",
    "a small bird sings in the old tree",
    "my brother reads a long book every night",
    "the market opens early on sunday morning",
    "she paints the blue door of the house",
    "two cats sleep near the warm fire",
    "we walk to the river after dinner",
    "the teacher writes numbers on the board",
]


def make_task(**settings) -> Task:
    return empty_task("retrieval", name="retr", splits={"test": ("de",)}, settings=settings)


@pytest.fixture(scope="module")
def tokenizer():
    from xstilts.models.tokenizer import train_tokenizer

    return train_tokenizer(SENTENCES * 3, vocab_size=120)


@pytest.fixture(scope="module")
def encoder(tokenizer):
    return tiny_encoder(tokenizer, layers=2, seed=0).eval()


# ---------------------------------------------------------------- pooling and layers


def test_mean_pooling_ignores_padding_and_cls_takes_first_token():
    hidden = torch.tensor(
        [
            [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],  # last position is padding
            [[0.0, 0.0], [6.0, 8.0], [9.0, 9.0]],
        ]
    )
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    # row 0: ([1,2] + [3,4]) / 2 = [2, 3]; row 1: ([0,0] + [6,8] + [9,9]) / 3 = [5, 17/3]
    assert torch.allclose(pool(hidden, mask, "mean"), torch.tensor([[2.0, 3.0], [5.0, 17.0 / 3.0]]))
    assert torch.equal(pool(hidden, mask, "cls"), torch.tensor([[1.0, 2.0], [0.0, 0.0]]))
    with pytest.raises(XstiltsError, match="unknown pooling 'max'"):
        pool(hidden, mask, "max")


def test_select_layer_indices_and_error():
    states = tuple(torch.full((1, 1, 1), float(i)) for i in range(3))  # embeddings + 2 layers
    assert select_layer(states, -1) is states[2]
    assert select_layer(states, 0) is states[0]
    assert select_layer(states, -3) is states[0]
    with pytest.raises(XstiltsError, match=r"3 hidden states.*0 \(the embeddings\) to 2 \(the last layer\)"):
        select_layer(states, 3)
    with pytest.raises(XstiltsError, match="layer=-4"):
        select_layer(states, -4)


def test_family_forward_pools_the_chosen_layer(tokenizer, encoder):
    for layer, pooling in [(1, "mean"), (-1, "cls"), (0, "mean")]:
        task = make_task(layer=layer, pooling=pooling)
        examples = [{"id": "a", "source": SENTENCES[0], "target": SENTENCES[1]}]
        features = FAMILY.featurize(task, examples, tokenizer, max_length=64)
        batch = FAMILY.collate(features, tokenizer.pad_token_id)
        with torch.no_grad():
            pooled = FAMILY.forward(encoder, None, batch)
            states = encoder(
                input_ids=batch["input_ids"],
                attention_mask=batch["attention_mask"],
                output_hidden_states=True,
            ).hidden_states
        # The two sentences have different lengths, so the shorter row is padded: average its real tokens only.
        expected = []
        for row, feature in enumerate(features):
            real = len(feature["input_ids"])
            tokens = states[layer][row, :real]
            expected.append(tokens[0] if pooling == "cls" else tokens.sum(0) / real)
        assert torch.allclose(pooled, torch.stack(expected), atol=1e-6)


def test_forward_rejects_a_layer_the_encoder_lacks(tokenizer, encoder):
    task = make_task(layer=5)  # 2 layers: hidden states 0..2
    features = FAMILY.featurize(task, [{"id": "a", "source": "the dog", "target": None}], tokenizer, 32)
    with pytest.raises(XstiltsError, match="returns 3 hidden states"):
        FAMILY.forward(encoder, None, FAMILY.collate(features, tokenizer.pad_token_id))


# ---------------------------------------------------------------- search

# Targets y0 = e1, y1 = e2 (3-d); sources are unit vectors, so cosines are the first two coordinates:
#   x0 = (1, 0, 0)          cos to (y0, y1) = (1.0, 0.0)
#   x1 = (0.6, 0.48, 0.64)  cos = (0.6, 0.48)     (0.36 + 0.2304 + 0.4096 = 1)
#   x2 = (0.8, 0, 0.6)      cos = (0.8, 0.0)
SOURCES = np.array([[1.0, 0.0, 0.0], [0.6, 0.48, 0.64], [0.8, 0.0, 0.6]], dtype=np.float32)
TARGETS = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)


def test_cosine_nearest_neighbour_by_hand():
    # Scaling a vector leaves its cosines unchanged: the search must normalise.
    index, score = nearest_cosine(SOURCES * np.array([[2.0], [0.5], [3.0]], dtype=np.float32), TARGETS * 7)
    assert index.tolist() == [0, 0, 0]  # x1: 0.6 > 0.48
    assert np.allclose(score, [1.0, 0.6, 0.8], atol=1e-6)


def test_margin_scores_by_hand():
    # k = 2: every source sees both targets, every target its 2 best sources.
    #   mean of x's 2 NN targets: x0 (1 + 0)/2 = 0.5, x1 (0.6 + 0.48)/2 = 0.54, x2 (0.8 + 0)/2 = 0.4
    #   mean of y's 2 NN sources: y0 (1 + 0.8)/2 = 0.9, y1 (0.48 + 0)/2 = 0.24
    #   margin(x1, y0) = 0.6 / ((0.54 + 0.9)/2) = 0.6 / 0.72 = 0.8333
    #   margin(x1, y1) = 0.48 / ((0.54 + 0.24)/2) = 0.48 / 0.39 = 1.2308  -> the margin undoes y0's hubness
    #   margin(x0, y0) = 1 / ((0.5 + 0.9)/2) = 1 / 0.7;  margin(x2, y0) = 0.8 / ((0.4 + 0.9)/2) = 0.8 / 0.65
    candidates, margins = margin_candidates(SOURCES, TARGETS, k=2)
    assert candidates[1].tolist() == [0, 1]  # cosine order
    assert np.allclose(margins[1], [0.6 / 0.72, 0.48 / 0.39], atol=1e-5)
    index, score = nearest_margin(SOURCES, TARGETS, k=2)
    assert index.tolist() == [0, 1, 0]
    assert np.allclose(score, [1 / 0.7, 0.48 / 0.39, 0.8 / 0.65], atol=1e-5)


def test_margin_k_is_capped_per_side():
    # k = 4 with 2 targets and 3 sources: x averages over 2 targets, y over 3 sources.
    #   mean x1 = 0.54; mean y1 = (0.48 + 0 + 0)/3 = 0.16 -> margin(x1, y1) = 0.48 / ((0.54 + 0.16)/2) = 0.48 / 0.35
    #   mean y0 = (1 + 0.8 + 0.6)/3 = 0.8 -> margin(x1, y0) = 0.6 / ((0.54 + 0.8)/2) = 0.6 / 0.67
    _, margins = margin_candidates(SOURCES, TARGETS, k=4)
    assert np.allclose(margins[1], [0.6 / 0.67, 0.48 / 0.35], atol=1e-5)


def test_top_k_orders_best_first_with_ties_by_index():
    queries = np.array([[1.0, 0.0]], dtype=np.float32)
    keys = np.array([[0.5, 0.0], [2.0, 0.0], [0.5, 1.0], [-1.0, 0.0]], dtype=np.float32)
    # dot products: 0.5, 2.0, 0.5, -1.0 -> best three: key 1, then the tie 0 and 2 by index
    scores, indices = top_k(queries, keys, 3)
    assert indices.tolist() == [[1, 0, 2]]
    assert scores.tolist() == [[2.0, 0.5, 0.5]]
    assert top_k(queries, keys, 10)[1].shape == (1, 4)


def test_chunked_search_equals_unchunked_and_brute_force():
    rng = np.random.default_rng(0)
    sources = rng.normal(size=(50, 8)).astype(np.float32)
    targets = rng.normal(size=(37, 8)).astype(np.float32)
    # Brute force from the definition, on the full matrix.
    cos = l2_normalize(sources) @ l2_normalize(targets).T
    brute = cos.argmax(axis=1)
    for similarity in ("cosine", "margin"):
        small, small_scores = nearest(sources, targets, similarity, k=4, chunk_size=1)
        big, big_scores = nearest(sources, targets, similarity, k=4, chunk_size=1024)
        assert small.tolist() == big.tolist()
        assert np.allclose(small_scores, big_scores, atol=1e-6)
    assert nearest(sources, targets, "cosine", chunk_size=7)[0].tolist() == brute.tolist()
    # The margin, from its definition on the full matrix.
    x_mean = np.sort(cos, axis=1)[:, -4:].mean(axis=1)
    y_mean = np.sort(cos.T, axis=1)[:, -4:].mean(axis=1)
    full_margin = cos / ((x_mean[:, None] + y_mean[None, :]) / 2)
    candidates = np.argsort(-cos, axis=1)[:, :4]
    # LASER's candidates for a source are its 4 cosine-nearest targets.
    expected = [cands[np.argmax(full_margin[i, cands])] for i, cands in enumerate(candidates)]
    assert nearest(sources, targets, "margin", k=4, chunk_size=3)[0].tolist() == expected
    scores_1, idx_1 = top_k(sources, targets, 5, chunk_size=1)
    scores_big, idx_big = top_k(sources, targets, 5, chunk_size=100)
    assert idx_1.tolist() == idx_big.tolist() == np.argsort(-(sources @ targets.T), axis=1)[:, :5].tolist()
    assert np.allclose(scores_1, scores_big, atol=1e-6)


# ---------------------------------------------------------------- family: data, results


def test_validate_example():
    task = make_task()
    assert FAMILY.validate_example(task, {"id": "1", "source": "a", "target": "b"}) is None
    assert FAMILY.validate_example(task, {"id": "1", "source": None, "target": "b"}) is None
    assert FAMILY.validate_example(task, {"id": "1", "target": "b"}) is None
    assert "both are null" in FAMILY.validate_example(task, {"id": "1", "source": None, "target": None})
    assert "string 'id'" in FAMILY.validate_example(task, {"id": 3, "source": "a", "target": "b"})
    assert "empty" in FAMILY.validate_example(task, {"id": "1", "source": " ", "target": "b"})
    assert "string or null" in FAMILY.validate_example(task, {"id": "1", "source": ["a"], "target": "b"})


def test_featurize_one_feature_per_present_side(tokenizer):
    examples = [
        {"id": "p", "source": "the red fox", "target": "the lazy dog"},
        {"id": "d", "source": None, "target": "a small bird"},
        {"id": "s", "source": "two cats", "target": None},
    ]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=32)
    assert [(f["example_index"], f["side"]) for f in features] == [(0, 0), (0, 1), (1, 1), (2, 0)]
    for feature in features:
        assert feature["length"] == len(feature["input_ids"])
        assert (
            feature["input_ids"][0] == tokenizer.bos_token_id
            and feature["input_ids"][-1] == tokenizer.eos_token_id
        )
    truncated = FAMILY.featurize(
        make_task(), [{"id": "x", "source": SENTENCES[2], "target": None}], tokenizer, 5
    )
    assert len(truncated[0]["input_ids"]) == 5


def test_bad_settings_are_reported_together():
    bad = make_task(pooling="max", layr=3, chunk_size=0, similarity="dot", backend="annoy", prefix=3)
    with pytest.raises(XstiltsError) as error:
        FAMILY.postprocess(bad, [], [], [])
    message = str(error.value)
    for part in ("pooling 'max'", "'layr'", "did you mean 'layer'", "chunk_size must be", "similarity 'dot'",
                 "backend 'annoy'", "prefix must be a string"):
        assert part in message


def test_prefix_setting_is_put_before_every_sentence(tokenizer):
    example = [{"id": "x", "source": SENTENCES[0], "target": SENTENCES[1]}]
    plain = FAMILY.featurize(make_task(), example, tokenizer, 64)
    prefixed = FAMILY.featurize(make_task(prefix=SENTENCES[2] + " "), example, tokenizer, 64)
    expected = [tokenizer(SENTENCES[2] + " " + s)["input_ids"] for s in SENTENCES[:2]]
    assert [f["input_ids"] for f in prefixed] == expected
    assert [f["input_ids"] for f in plain] != expected


def test_postprocess_predicts_ids_and_distractors_win_when_nearest():
    examples = [
        {"id": "e0", "source": "s0", "target": "t0"},
        {"id": "e1", "source": "s1", "target": "t1"},
        {"id": "e2", "source": None, "target": "t2"},  # distractor
        {"id": "e3", "source": "s3", "target": None},  # no translation in the pool
    ]
    sides = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (3, 0)]
    features = [{"example_index": i, "side": s} for i, s in sides]
    vectors = {
        (0, 0): [1.0, 0.0, 0.0],  # closest to t0 (cos 1)
        (0, 1): [1.0, 0.1, 0.0],
        (1, 0): [0.0, 1.0, 0.0],  # cos to t1 = 0.6, to t2 = 0.8: the distractor wins
        (1, 1): [0.0, 0.6, 0.8],
        (2, 1): [0.0, 0.8, 0.6],
        (3, 0): [0.0, 0.0, 1.0],  # cos to t1 = 0.8, to t2 = 0.6 -> e1
    }
    raw = [np.array(vectors[key], dtype=np.float32) for key in sides]
    predictions = FAMILY.postprocess(make_task(), examples, features, raw)
    assert predictions == ["e0", "e2", None, "e1"]
    # Scored: e0 (right) and e1 (wrong); e3 has no gold target, e2 no source -> 1/2.
    assert FAMILY.score(make_task(), examples, predictions) == {"accuracy": 50.0}
    # Three targets in the pool (t0, t1, t2): chance = 100 / 3.
    assert math.isclose(FAMILY.chance(make_task(), examples)["accuracy"], 100.0 / 3)


def test_accuracy_with_distractors():
    examples = [
        {"id": "a", "source": "x", "target": "y"},
        {"id": "b", "source": "x", "target": "y"},
        {"id": "c", "source": "x", "target": "y"},
        {"id": "d", "source": None, "target": "y"},
        {"id": "e", "source": "x", "target": None},
    ]
    # a and c right, b picked the distractor; e is not scored (nothing to find) -> 2/3
    predictions = ["a", "d", "c", None, "a"]
    assert math.isclose(FAMILY.score(make_task(), examples, predictions)["accuracy"], 200.0 / 3)
    # Targets a, b, c, d: a uniform pick is right 1 time in 4.
    assert FAMILY.chance(make_task(), examples) == {"accuracy": 25.0}


def test_duplicate_ids_and_unknown_metrics_are_errors():
    examples = [{"id": "a", "source": "x", "target": "y"}, {"id": "a", "source": "x", "target": "y"}]
    with pytest.raises(XstiltsError, match="unique"):
        FAMILY.postprocess(make_task(), examples, [], [])
    task = empty_task("retrieval", name="r", splits={}, metrics=("f1",))
    with pytest.raises(XstiltsError, match="the nearest protocol of the retrieval family does not compute the metric 'f1'; it computes accuracy"):
        FAMILY.score(task, examples, ["a", "a"])


def test_not_trainable():
    assert FAMILY.trainable is False
    assert FAMILY.build_head(make_task(), None) is None
    with pytest.raises(XstiltsError, match="retrieval tasks are evaluated, never trained"):
        FAMILY.loss(torch.zeros(1), {})


# ---------------------------------------------------------------- end to end on the tiny encoder


@pytest.mark.parametrize(
    "settings", [{}, {"similarity": "margin", "layer": 1}, {"pooling": "cls", "chunk_size": 2}]
)
def test_end_to_end_identical_texts_are_all_found(tokenizer, encoder, settings):
    torch.set_num_threads(1)
    task = make_task(**settings)
    examples = [{"id": f"p{i}", "source": text, "target": text} for i, text in enumerate(SENTENCES[:6])]
    examples += [{"id": f"d{i}", "source": None, "target": text} for i, text in enumerate(SENTENCES[6:])]
    features = FAMILY.featurize(task, examples, tokenizer, max_length=32)
    raw = []
    with torch.no_grad():
        for start in range(0, len(features), 3):  # batches mix sides and lengths (padding)
            batch = FAMILY.collate(features[start : start + 3], tokenizer.pad_token_id)
            raw.extend(FAMILY.predict(FAMILY.forward(encoder, None, batch), batch))
    assert all(vector.dtype == np.float32 and vector.shape == (32,) for vector in raw)
    predictions = FAMILY.postprocess(task, examples, features, raw)
    assert predictions[6:] == [None, None]
    assert FAMILY.score(task, examples, predictions) == {"accuracy": 100.0}
    assert FAMILY.chance(task, examples) == {"accuracy": 100.0 / 8}
