"""The tagging family: first-subword labels, long-sentence splitting and re-joining, scores and chance."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from helpers import SYLLABLE_WORDS, empty_task, fit_and_score, syllable_tokenizer, tiny_encoder
from xstilts.errors import XstiltsError
from xstilts.families.tagging import CHANCE_DRAWS, FAMILY, special_tokens_around, word_runs
from xstilts.tasks.base import Task

NER = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
WORDS = SYLLABLE_WORDS + "the cat sat on a mat john lives in paris".split()
IGNORE = -100


def make_task(labels=NER, metrics=("f1", "precision", "recall", "accuracy")) -> Task:
    return empty_task("tagging", name="ner", labels=labels, metrics=metrics)


@pytest.fixture(scope="module")
def tokenizer():
    tok = syllable_tokenizer(WORDS)
    # The hand-computed expectations below rest on how this tokenizer splits these words; check it here so
    # a change of tokenizer fails loudly instead of silently testing something else.
    encoding = tok([["kalo", "ka", "mirentu", "dra", "sat", ""]], is_split_into_words=True)
    #                       <s>  kalo: 2 pieces  ka  mirentu: 3 pieces  dra sat  ("" gives nothing)  </s>
    assert encoding.word_ids(0) == [None, 0, 0, 1, 2, 2, 2, 3, 4, None]
    assert encoding["input_ids"][0][0] == 0 and encoding["input_ids"][0][-1] == 2
    return tok


def sentence(id_: str, tokens: list[str], tags: list[str]) -> dict:
    return {"id": id_, "tokens": tokens, "tags": tags}


# ----------------------------------------------------------------------------- validate_example


def test_validate_accepts_a_good_example():
    assert FAMILY.validate_example(make_task(), sentence("1", ["John", "lives"], ["B-PER", "O"])) is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (sentence("1", ["a", "b", "c", "d", "e"], ["O"] * 4), "'tokens' has 5 words but 'tags' has 4"),
        (
            sentence("1", ["John"], ["B-PERS"]),
            "tag 'B-PERS' of word 0 is not one of the task's labels: O, B-PER, I-PER, B-LOC, I-LOC",
        ),
        (sentence("1", "John lives", ["B-PER", "O"]), "'tokens' must be a list of strings, found str"),
        (sentence("1", ["John", 3], ["B-PER", "O"]), "'tokens' item 1 must be a string, found int 3"),
        ({"id": "1", "tokens": ["a"]}, "'tags' must be a list of strings, found null"),
        ({"id": None, "tokens": ["a"], "tags": ["O"]}, "'id' must be a string, found null"),
    ],
)
def test_validate_messages(bad, message):
    assert FAMILY.validate_example(make_task(), bad) == message


def test_validate_shortens_a_long_label_list():
    labels = tuple(f"T{i}" for i in range(30))
    problem = FAMILY.validate_example(make_task(labels=labels), sentence("1", ["a"], ["X"]))
    assert problem.endswith("T18, T19, ... (30 in all)")


# ----------------------------------------------------------------------------- featurize


def test_special_tokens_are_xlmr_style(tokenizer):
    assert special_tokens_around(tokenizer) == ([0], [2])


def test_first_subword_labelling(tokenizer):
    tokens = ["kalo", "ka", "mirentu", "dra"]
    tags = ["B-PER", "I-PER", "O", "B-LOC"]
    (feature,) = FAMILY.featurize(make_task(), [sentence("s", tokens, tags)], tokenizer, max_length=64)
    assert feature["input_ids"] == tokenizer([tokens], is_split_into_words=True)["input_ids"][0]
    # word_ids [None, 0, 0, 1, 2, 2, 2, 3, None] (checked in the fixture): the tag ids B-PER=1, I-PER=2,
    # O=0, B-LOC=3 sit on positions 1, 3, 4, 7; later subwords and <s>/</s> are -100.
    assert feature["labels"] == [IGNORE, 1, IGNORE, 2, 0, IGNORE, IGNORE, 3, IGNORE]
    assert feature["word_starts"] == [1, 3, 4, 7]
    assert feature["word_offset"] == 0
    assert feature["length"] == 9


def test_word_without_subwords_gets_the_fallback_tag(tokenizer):
    tokens, tags = ["ka", "", "dra"], ["B-PER", "O", "B-LOC"]
    (feature,) = FAMILY.featurize(make_task(), [sentence("s", tokens, tags)], tokenizer, max_length=64)
    # <s> ka dra </s>: the empty word has no position
    assert feature["word_starts"] == [1, -1, 2]
    assert feature["labels"] == [IGNORE, 1, 3, IGNORE]
    raw = [np.array([0, 3, 4, 0])]  # position 1 -> B-LOC, position 2 -> I-LOC
    examples = [sentence("s", tokens, tags)]
    assert FAMILY.postprocess(make_task(), examples, [feature], raw) == [["B-LOC", "O", "I-LOC"]]
    # without an "O" label the fallback is the first label
    pos = make_task(labels=("NOUN", "VERB", "PUNCT"))
    examples = [sentence("s", tokens, ["NOUN", "PUNCT", "VERB"])]
    (feature,) = FAMILY.featurize(pos, examples, tokenizer, max_length=64)
    assert FAMILY.postprocess(pos, examples, [feature], [np.array([0, 1, 1, 0])]) == [
        ["VERB", "NOUN", "VERB"]
    ]


def test_empty_sentence_has_no_feature_and_predicts_nothing(tokenizer):
    # PAN-X keeps the official empty sentences: valid, no feature (so nothing to train on), prediction [].
    task = make_task()
    empty = sentence("e", [], [])
    assert FAMILY.validate_example(task, empty) is None
    assert FAMILY.featurize(task, [empty], tokenizer, 64) == []
    examples = [sentence("a", ["ka", "dra"], ["B-PER", "O"]), empty, sentence("b", ["sat"], ["B-LOC"])]
    features = FAMILY.featurize(task, examples, tokenizer, 64)
    # The same features as without the empty sentence, only the later example's index moved by one.
    alone = FAMILY.featurize(task, [examples[0], examples[2]], tokenizer, 64)
    assert [f["example_index"] for f in features] == [0, 2]
    assert [{**f, "example_index": 0} for f in features] == [{**f, "example_index": 0} for f in alone]
    raw = [np.array([max(label, 0) for label in f["labels"]]) for f in features]  # the gold tag ids
    predictions = FAMILY.postprocess(task, examples, features, raw)
    assert predictions == [["B-PER", "O"], [], ["B-LOC"]]
    # Units of the empty sentence are (0, 0) for every metric: the scores are those of the other two.
    units = FAMILY.example_units(task, examples, predictions)
    assert all((u.num[1], u.den[1]) == (0.0, 0.0) for u in units.values())
    assert FAMILY.score(task, examples, [["O", "O"], [], ["B-LOC"]]) == pytest.approx(
        # gold chunks PER, LOC; predicted LOC: P 1/1, R 1/2, F1 2/3; words 2 of 3 right.
        {"f1": 200 / 3, "precision": 100.0, "recall": 50.0, "accuracy": 200 / 3})


def test_word_runs_by_hand():
    # subword counts 2, 3, 1, 1, 1, 2, 1 with room for 4 per feature:
    # [2] | [3, 1] | [1, 1, 2] | [1]
    pieces = [[9] * n for n in (2, 3, 1, 1, 1, 2, 1)]
    assert word_runs(pieces, 4) == [(0, 1), (1, 3), (3, 6), (6, 7)]
    assert word_runs([], 4) == [(0, 0)]
    # a word longer than the room sits alone (and is cut to the room)
    assert word_runs([[9], [9] * 7, [9]], 3) == [(0, 1), (1, 2), (2, 3)]


def test_long_sentence_is_split_at_word_boundaries_and_rejoined(tokenizer):
    task = make_task()
    # pieces per word: kalo 2, mirentu 3, ka 1, dra 1, sat 1, kalo 2, ka 1 (see the fixture)
    tokens = ["kalo", "mirentu", "ka", "dra", "sat", "kalo", "ka"]
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "B-PER"]
    examples = [sentence("long", tokens, tags), sentence("short", ["ka"], ["B-LOC"])]
    # max_length 6 leaves 4 subwords beside <s> and </s>: runs [kalo] [mirentu ka] [dra sat kalo] [ka]
    features = FAMILY.featurize(task, examples, tokenizer, max_length=6)
    long_features = [f for f in features if f["example_index"] == 0]
    assert [f["word_offset"] for f in long_features] == [0, 1, 3, 6]
    assert [len(f["word_starts"]) for f in long_features] == [1, 2, 3, 1]
    assert [f["length"] for f in long_features] == [4, 6, 6, 3]
    assert all(f["length"] <= 6 and f["input_ids"][0] == 0 and f["input_ids"][-1] == 2 for f in features)
    # every labelled position is a word start, and there is one per word
    assert sum(sum(label != IGNORE for label in f["labels"]) for f in long_features) == len(tokens)

    # An oracle that outputs the gold tag id at each labelled position must get every word back exactly once,
    # even with the features shuffled.
    raw = [np.array([max(label, 0) for label in f["labels"]]) for f in features]
    order = [3, 0, 4, 2, 1]
    shuffled_features, shuffled_raw = [features[i] for i in order], [raw[i] for i in order]
    predictions = FAMILY.postprocess(task, examples, shuffled_features, shuffled_raw)
    assert predictions == [tags, ["B-LOC"]]


def test_a_word_longer_than_max_length_is_cut_but_tagged(tokenizer):
    # max_length 4 leaves room for 2 subwords; mirentu has 3
    examples = [sentence("s", ["ka", "mirentu", "dra"], ["O", "B-PER", "O"])]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=4)
    assert [f["word_offset"] for f in features] == [0, 1, 2]
    assert features[1]["length"] == 4
    assert features[1]["labels"] == [IGNORE, 1, IGNORE, IGNORE]


def test_postprocess_with_hand_made_features():
    task = make_task()
    examples = [sentence("a", ["w0", "w1", "w2"], ["O"] * 3), sentence("b", ["v0"], ["O"])]
    features = [
        {"example_index": 0, "word_offset": 2, "word_starts": [1]},
        {"example_index": 1, "word_offset": 0, "word_starts": [1]},
        {"example_index": 0, "word_offset": 0, "word_starts": [1, 3]},
    ]
    raw = [np.array([0, 4, 0]), np.array([0, 2, 0]), np.array([0, 1, 0, 3, 0])]
    assert FAMILY.postprocess(task, examples, features, raw) == [["B-PER", "B-LOC", "I-LOC"], ["I-PER"]]
    with pytest.raises(ValueError, match="words no feature covers"):
        FAMILY.postprocess(task, examples, features[:2], raw[:2])


# ----------------------------------------------------------------------------- collate / model


def test_collate_pads_to_batch_longest():
    features = [
        {"input_ids": [0, 5, 6, 2], "labels": [IGNORE, 1, 0, IGNORE], "example_index": 0, "length": 4},
        {"input_ids": [0, 5, 2], "labels": [IGNORE, 3, IGNORE], "example_index": 1, "length": 3},
    ]
    batch = FAMILY.collate(features, pad_token_id=1)
    assert batch["input_ids"].tolist() == [[0, 5, 6, 2], [0, 5, 2, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 1, 0, IGNORE], [IGNORE, 3, IGNORE, IGNORE]]


def test_forward_loss_backward(tokenizer):
    task = make_task()
    examples = [
        sentence("a", ["kalo", "ka", "mirentu"], ["B-PER", "I-PER", "O"]),
        sentence("b", ["dra"], ["B-LOC"]),
    ]
    encoder = tiny_encoder(tokenizer)
    head = FAMILY.build_head(task, encoder.config)
    batch = FAMILY.collate(FAMILY.featurize(task, examples, tokenizer, 64), tokenizer.pad_token_id)
    logits = FAMILY.forward(encoder, head, batch)
    assert logits.shape == (*batch["input_ids"].shape, len(NER))
    loss = FAMILY.loss(logits, batch)
    # mean of -log softmax at the 4 labelled positions only: (0,1)->1, (0,3)->2, (0,4)->0, (1,1)->3
    log_probs = torch.log_softmax(logits, -1)
    expected = -(log_probs[0, 1, 1] + log_probs[0, 3, 2] + log_probs[0, 4, 0] + log_probs[1, 1, 3]) / 4
    assert torch.isclose(loss, expected)
    loss.backward()
    assert head.classifier.weight.grad.abs().sum() > 0
    assert encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0

    raw = FAMILY.predict(logits, batch)
    # trimmed to each feature's real length: 8 and 3
    assert [len(r) for r in raw] == [8, 3]
    assert raw[1].tolist() == logits[1, :3].argmax(-1).tolist()


def test_loss_of_a_batch_without_labels_is_zero_not_nan():
    outputs = torch.zeros(1, 3, 5, requires_grad=True)
    batch = {"labels": torch.full((1, 3), IGNORE)}
    loss = FAMILY.loss(outputs, batch)
    assert loss.item() == 0.0
    loss.backward()


# ----------------------------------------------------------------------------- scores and chance


def test_scores_by_hand():
    task = make_task()
    examples = [sentence("a", ["w"] * 4, ["B-PER", "I-PER", "O", "B-LOC"]), sentence("b", ["w"], ["O"])]
    predictions = [["B-PER", "I-PER", "O", "O"], ["B-LOC"]]
    # gold chunks: PER(0-1), LOC(3); predicted: PER(0-1), LOC (second sentence) -> 1 correct of 2 and of 2
    # precision 50, recall 50, F1 50; words: 3 of 5 right (B-PER, I-PER, O of sentence one) -> 60
    scores = FAMILY.score(task, examples, predictions)
    assert scores == pytest.approx({"f1": 50.0, "precision": 50.0, "recall": 50.0, "accuracy": 60.0})


def test_score_precision_differs_from_recall():
    task = make_task(metrics=("precision", "recall", "f1"))
    examples = [sentence("a", ["w"] * 4, ["B-PER", "I-PER", "O", "B-LOC"])]
    # predicted only PER(0-1): precision 1/1, recall 1/2, F1 2*1*0.5/1.5 = 66.67
    scores = FAMILY.score(task, examples, [["B-PER", "I-PER", "O", "O"]])
    assert scores == pytest.approx({"precision": 100.0, "recall": 50.0, "f1": 200 / 3})


def test_chance_accuracy_is_exact():
    assert FAMILY.chance(make_task(metrics=("accuracy",)), [sentence("a", ["w"], ["O"])]) == {
        "accuracy": 20.0
    }


def test_chance_chunk_scores_monte_carlo():
    # One label: a random predictor can only reproduce the gold -> 100 everywhere.
    one = make_task(labels=("B-X",))
    assert FAMILY.chance(one, [sentence("a", ["w", "w"], ["B-X", "B-X"])]) == pytest.approx(
        {"f1": 100.0, "precision": 100.0, "recall": 100.0, "accuracy": 100.0}
    )
    # 50 one-word sentences tagged B-X, labels O/B-X: every predicted chunk is right (precision 100) and each
    # gold chunk is found with probability 1/2 (recall about 50, std over 20 draws of 50 coins ~1.6).
    task = make_task(labels=("O", "B-X"))
    examples = [sentence(str(i), ["w"], ["B-X"]) for i in range(50)]
    chance = FAMILY.chance(task, examples)
    assert chance["precision"] == pytest.approx(100.0)
    assert abs(chance["recall"] - 50.0) < 6
    assert chance["accuracy"] == 50.0
    assert FAMILY.chance(task, examples) == chance  # seeded: the same estimate every time
    assert CHANCE_DRAWS == 20


def test_unknown_metric_is_a_user_error():
    with pytest.raises(XstiltsError, match="metric 'bleu'"):
        FAMILY.score(make_task(metrics=("bleu",)), [sentence("a", ["w"], ["O"])], [["O"]])


# ----------------------------------------------------------------------------- it learns


def test_it_learns_tags_that_follow_the_word(tokenizer):
    """NOUN for one half of the pseudo-words, VERB for the other: chance is 50 (2 labels)."""
    rng = random.Random(3)
    task = make_task(labels=("NOUN", "VERB"), metrics=("accuracy", "f1"))
    nouns, verbs = set(WORDS[:50]), WORDS[50:100]
    vocabulary = [*sorted(nouns), *verbs]
    examples = []
    for i in range(48):
        tokens = [rng.choice(vocabulary) for _ in range(6)]
        examples.append(sentence(str(i), tokens, ["NOUN" if t in nouns else "VERB" for t in tokens]))
    scores, loss = fit_and_score(FAMILY, task, tokenizer, examples, steps=50, batch_size=8)
    assert math.isfinite(loss)
    assert scores["accuracy"] >= FAMILY.chance(task, examples)["accuracy"] + 30, scores
