"""The span_qa family: schema checks, windows over long contexts, training targets, span decoding, the null
answer, scores, the exact chance level, and a tiny model that learns."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch

from helpers import SYLLABLE_WORDS, empty_task, predict_all, syllable_tokenizer, tiny_encoder, train_briefly
from xstilts.errors import XstiltsError
from xstilts.families.span_qa import FAMILY, span_chance
from xstilts.scoring.metrics import squad_exact, squad_f1
from xstilts.tasks.base import Task

EXTRA = "what is the cat dog box red blue gold where who color ? . , 0 1 2 3 4 5 6 7 8 9".split()


def make_task(metrics=("f1", "exact_match"), **settings) -> Task:
    return empty_task("span_qa", name="qa", metrics=metrics, settings=settings)


def qa(id_, question, context, *answers):
    """An example whose answers are given as texts; starts are found in the context (first occurrence)."""
    return {
        "id": id_,
        "question": question,
        "context": context,
        "answers": [{"text": text, "start": context.index(text)} for text in answers],
    }


@pytest.fixture(scope="module")
def tokenizer():
    return syllable_tokenizer(SYLLABLE_WORDS + EXTRA, lines=600, words_per_line=10)


def no_dropout_encoder(tokenizer):
    return tiny_encoder(tokenizer, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def context_offsets(feature) -> list[list[int]]:
    return [span for span in feature["offsets"] if span[0] >= 0]


def answer_tokens(tokenizer, feature) -> str:
    start, end = feature["start_position"], feature["end_position"]
    return tokenizer.decode(feature["input_ids"][start : end + 1]).strip()


# ----------------------------------------------------------------------------- validate_example


def test_validate_accepts_good_examples():
    task = make_task()
    assert FAMILY.validate_example(task, qa("1", "what is red ?", "the box is red .", "red")) is None
    assert FAMILY.validate_example(task, qa("1", "what ?", "the box is red .", "red", "box is red")) is None
    null = {"id": "2", "question": "what ?", "context": "the box .", "answers": []}
    assert FAMILY.validate_example(make_task(with_negative=True), null) is None


def test_validate_names_an_offset_mismatch():
    example = qa("q7", "what ?", "the box is red .", "red")
    example["answers"][0]["start"] = 4  # context[4:7] is "box"
    message = FAMILY.validate_example(make_task(), example)
    assert "'q7'" in message and "'red'" in message
    assert "context[4:7] is 'box'" in message
    assert "first occurs at offset 11" in message  # "the box is " has 11 characters

    example["answers"][0]["text"] = "green"
    assert "does not occur in the context" in FAMILY.validate_example(make_task(), example)


def test_validate_rejects_null_answers_without_with_negative():
    null = {"id": "2", "question": "what ?", "context": "the box .", "answers": []}
    message = FAMILY.validate_example(make_task(), null)
    assert "no answers" in message and "with_negative" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": 3}, "id must be a string"),
        ({"question": "  "}, "question must be a non-empty string"),
        ({"context": None}, "context must be a non-empty string"),
        ({"answers": "red"}, "answers must be a list"),
        ({"answers": [{"text": "red"}]}, "must be an object with text and start"),
        ({"answers": [{"text": "red", "start": "11"}]}, "start must be an integer character offset"),
        ({"answers": [{"text": "", "start": 0}]}, "text must be a non-empty string"),
        ({"answers": [{"text": "red", "start": -5}]}, "does not match the context at start -5"),
    ],
)
def test_validate_messages(change, expected):
    example = {**qa("1", "what ?", "the box is red .", "red"), **change}
    message = FAMILY.validate_example(make_task(), example)
    assert message is not None and expected in message


def test_validate_missing_fields():
    message = FAMILY.validate_example(make_task(), {"id": "1", "question": "q"})
    assert "context, answers" in message


def test_bad_settings_raise():
    with pytest.raises(XstiltsError, match="max_answer_length must be an integer >= 1"):
        FAMILY.validate_example(make_task(max_answer_length=0), qa("1", "q", "a b", "b"))
    with pytest.raises(XstiltsError, match="with_negative must be true or false, got 'yes'"):
        FAMILY.chance(make_task(with_negative="yes"), [qa("1", "q", "a b", "b")])


# ----------------------------------------------------------------------------- featurize


def test_short_context_gives_one_window_with_targets_on_the_answer(tokenizer):
    examples = [
        qa("1", "what color is the box ?", "the box is kamilo blue and the dog is red .", "kamilo blue"),
        qa("2", "who sat ?", "the cat sat on the box .", "the cat"),
        # A one-character word: its lone "▁" token shares the digit's offsets and must not be the end.
        qa("3", "what is it ?", "renmi nitu is 7 dradra .", "7"),
    ]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=64)
    assert [f["example_index"] for f in features] == [0, 1, 2]
    for feature, example in zip(features, examples, strict=True):
        assert feature["length"] == len(feature["input_ids"]) == len(feature["offsets"])
        # Decoding the target tokens gives the answer back, and their offsets cut it out of the context.
        text = example["answers"][0]["text"]
        assert answer_tokens(tokenizer, feature) == text
        start, end = feature["start_position"], feature["end_position"]
        assert example["context"][feature["offsets"][start][0] : feature["offsets"][end][1]] == text
        # <s> and the question tokens are no context tokens.
        assert feature["offsets"][0] == [-1, -1] and feature["offsets"][1] == [-1, -1]
        assert context_offsets(feature) == [
            list(span)
            for span in tokenizer(example["context"], return_offsets_mapping=True, add_special_tokens=False)[
                "offset_mapping"
            ]
        ]


def long_example(tokenizer):
    rng = random.Random(1)
    words = [rng.choice(SYLLABLE_WORDS) for _ in range(40)]
    context = " ".join(words) + " the box is gold ."
    return qa("long", "what is the box ?", context, "gold")


def test_long_context_is_split_into_overlapping_windows(tokenizer):
    example = long_example(tokenizer)
    max_length, stride = 48, 8
    features = FAMILY.featurize(make_task(doc_stride=stride), [example], tokenizer, max_length=max_length)

    question = len(tokenizer("what is the box ?", add_special_tokens=False)["input_ids"])
    context = [
        list(s)
        for s in tokenizer(example["context"], add_special_tokens=False, return_offsets_mapping=True)[
            "offset_mapping"
        ]
    ]
    # <s> question </s></s> context </s>: 4 special tokens. Each window after the first adds room - stride
    # new context tokens, so n windows hold room + (n - 1) * (room - stride) >= len(context) tokens.
    room = max_length - question - 4
    expected_windows = 1 + math.ceil((len(context) - room) / (room - stride))
    assert expected_windows >= 3  # the test means something only with several windows
    assert len(features) == expected_windows
    assert all(f["example_index"] == 0 and f["length"] <= max_length for f in features)

    windows = [context_offsets(f) for f in features]
    assert all(len(w) == room for w in windows[:-1])
    for before, after in zip(windows, windows[1:], strict=False):
        assert before[-stride:] == after[:stride]  # overlap = stride
    # Dropping each overlap again gives every context token exactly once, in order.
    assert windows[0] + [span for w in windows[1:] for span in w[stride:]] == context


def test_answer_outside_a_window_targets_cls(tokenizer):
    example = long_example(tokenizer)
    features = FAMILY.featurize(make_task(doc_stride=8), [example], tokenizer, max_length=48)
    # The answer is the context's second-to-last word: the first window cannot hold it, the last one does.
    assert (features[0]["start_position"], features[0]["end_position"]) == (0, 0)
    assert answer_tokens(tokenizer, features[-1]) == "gold"
    assert features[-1]["start_position"] > 0


def test_answer_cut_by_a_window_border_targets_cls(tokenizer):
    # Find a filler long enough that the first window ends inside the answer "kamilo renpo": its first
    # window holds room = 40 - question - 4 context tokens.
    question = len(tokenizer("what ?", add_special_tokens=False)["input_ids"])
    room = 40 - question - 4

    def count(text):
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    filler = next(
        " ".join(["kalo"] * n)
        for n in range(1, 40)
        if count(" ".join(["kalo"] * n)) < room < count(" ".join(["kalo"] * n) + " kamilo renpo")
    )
    example = qa("1", "what ?", filler + " kamilo renpo and the rest is here .", "kamilo renpo")
    features = FAMILY.featurize(make_task(doc_stride=8), [example], tokenizer, max_length=40)
    assert len(features) >= 2
    assert context_offsets(features[0])[-1][1] < len(filler) + len(" kamilo renpo")  # really cut
    assert (features[0]["start_position"], features[0]["end_position"]) == (0, 0)
    assert answer_tokens(tokenizer, features[1]) == "kamilo renpo"


def test_null_question_targets_cls_in_every_window(tokenizer):
    example = {**long_example(tokenizer), "answers": []}
    features = FAMILY.featurize(
        make_task(doc_stride=8, with_negative=True), [example], tokenizer, max_length=48
    )
    assert len(features) > 1
    assert all((f["start_position"], f["end_position"]) == (0, 0) for f in features)


def test_first_answer_is_the_target(tokenizer):
    example = qa("1", "what ?", "the box is red and the dog is blue .", "blue", "red")
    (feature,) = FAMILY.featurize(make_task(), [example], tokenizer, max_length=64)
    assert answer_tokens(tokenizer, feature) == "blue"


def test_too_large_stride_shrinks_but_windows_advance(tokenizer):
    example = long_example(tokenizer)
    max_length = 48
    features = FAMILY.featurize(make_task(doc_stride=128), [example], tokenizer, max_length=max_length)
    question = len(tokenizer("what is the box ?", add_special_tokens=False)["input_ids"])
    room = max_length - question - 4
    windows = [context_offsets(f) for f in features]
    overlap = room // 2  # the documented fallback: half of the room
    assert len(windows) > 1
    for before, after in zip(windows, windows[1:], strict=False):
        assert before[-overlap:] == after[:overlap]
        assert after[overlap] not in before  # each window moves on


def test_too_long_question_is_truncated_not_fatal(tokenizer):
    long_question = " ".join(["what is the box"] * 30)
    examples = [
        qa("1", long_question, "the box is red .", "red"),
        qa("2", "what ?", "the box is blue .", "blue"),
    ]
    features = FAMILY.featurize(make_task(), examples, tokenizer, max_length=32)
    assert {f["example_index"] for f in features} == {0, 1}
    for feature in features:
        assert feature["length"] <= 32
        question_tokens = feature["offsets"].index(context_offsets(feature)[0]) - 3  # <s> ... </s></s>
        assert question_tokens <= (32 - 4) // 2
        assert context_offsets(feature)  # every window keeps room for context
    # The truncated question still lets the answer fit (possibly over several windows).
    assert any(answer_tokens(tokenizer, f) == "red" for f in features if f["example_index"] == 0)


def test_features_are_plain_values(tokenizer):
    # Features are cached as Arrow: only ints and (nested) lists of ints, no numpy and no None.
    features = FAMILY.featurize(make_task(doc_stride=8), [long_example(tokenizer)], tokenizer, max_length=48)
    assert json.loads(json.dumps(features)) == features
    assert FAMILY.featurize(make_task(), [], tokenizer, max_length=48) == []
    assert set(features[0]) == {
        "input_ids",
        "example_index",
        "length",
        "offsets",
        "start_position",
        "end_position",
    }


def test_token_type_ids_are_kept_for_tokenizers_that_make_them(tokenizer, monkeypatch):
    # BERT-style tokenizers (mBERT) return segment ids; the family must carry them to the encoder.
    monkeypatch.setattr(tokenizer, "model_input_names", ["input_ids", "token_type_ids", "attention_mask"])
    examples = [qa("1", "what ?", "the box is red .", "red"), long_example(tokenizer)]
    features = FAMILY.featurize(make_task(doc_stride=8), examples, tokenizer, max_length=48)
    assert all(len(f["token_type_ids"]) == f["length"] for f in features)
    batch = FAMILY.collate(features, tokenizer.pad_token_id)
    assert batch["token_type_ids"].shape == batch["input_ids"].shape


def test_max_length_too_short_is_a_user_error(tokenizer):
    with pytest.raises(XstiltsError, match="max_length 5 is too short"):
        FAMILY.featurize(make_task(), [qa("1", "q", "a b", "b")], tokenizer, max_length=5)


# ----------------------------------------------------------------------------- decoding


# A window of one example: <s> q </s> </s> alpha beta gamma delta </s>; context words at tokens 4..7.
CONTEXT = "alpha beta gamma delta"
OFFSETS = [[-1, -1]] * 4 + [[0, 5], [6, 10], [11, 16], [17, 22]] + [[-1, -1]]


def window(example_index=0, offsets=OFFSETS):
    return {
        "input_ids": [0] * len(offsets),
        "example_index": example_index,
        "length": len(offsets),
        "offsets": offsets,
    }


def logits(start, end):
    return np.array([start, end], dtype=np.float32)


def test_best_valid_span_is_chosen():
    example = {"id": "1", "question": "q", "context": CONTEXT, "answers": []}
    # Scores (start + end): question token 1 with itself = 18 (not context); delta start + gamma end = 9.5
    # (end before start); alpha..gamma = 3 + 4.5 = 7.5; delta..delta = 5 + 2 = 7; beta..gamma = 5.5.
    start = [0, 9, 0, 0, 3, 1, 0, 5, 0]
    end = [0, 9, 0, 0, 0, 1, 4.5, 2, 0]
    raw = [logits(start, end)]
    assert FAMILY.postprocess(make_task(), [example], [window()], raw) == ["alpha beta gamma"]
    # At most 2 tokens: alpha..gamma (3 tokens) is out, delta..delta (7) beats beta..gamma (5.5).
    assert FAMILY.postprocess(make_task(max_answer_length=2), [example], [window()], raw) == ["delta"]
    # n_best 1 keeps only the question token as start and end candidate: no valid span, empty answer.
    assert FAMILY.postprocess(make_task(n_best=1), [example], [window()], raw) == [""]


def test_span_on_padding_beyond_the_offsets_is_never_chosen():
    example = {"id": "1", "question": "q", "context": CONTEXT, "answers": []}
    start = [0, 0, 0, 0, 0, 1, 0, 0, 0]
    end = [0, 0, 0, 0, 0, 0, 0, 0, 9]  # the final </s> is not context
    assert FAMILY.postprocess(make_task(), [example], [window()], [logits(start, end)]) == ["beta"]


def test_answer_chosen_across_windows_and_examples():
    context = "one two three four five"
    # Window A holds "one two three" (tokens 4..6), window B "three four five" (tokens 4..6).
    a = [[-1, -1]] * 4 + [[0, 3], [4, 7], [8, 13]] + [[-1, -1]]
    b = [[-1, -1]] * 4 + [[8, 13], [14, 18], [19, 23]] + [[-1, -1]]
    examples = [
        {"id": "x", "question": "q", "context": context, "answers": []},
        {"id": "y", "question": "q", "context": "alpha beta gamma delta", "answers": []},
    ]
    # Features arrive in any order (batches are sorted by length): y's window first.
    features = [window(1), window(0, a), window(0, b)]
    raw = [
        logits([0, 0, 0, 0, 0, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0, 3, 0, 0]),  # y: gamma, 6
        logits([0, 0, 0, 0, 4, 0, 0, 0], [0, 0, 0, 0, 0, 3, 0, 0]),  # x in A: "one two", 7
        logits([0, 0, 0, 0, 0, 4, 0, 0], [0, 0, 0, 0, 0, 0, 4, 0]),  # x in B: "four five", 8
    ]
    assert FAMILY.postprocess(make_task(), examples, features, raw) == ["four five", "gamma"]


def test_null_answer_against_the_threshold():
    example = {"id": "1", "question": "q", "context": CONTEXT, "answers": []}
    # Window 1: CLS 3 + 3 = 6; window 2: CLS 2 + 2 = 4. The null score is the lower one, 4.
    # Best span: beta..beta in window 2 = 1.5 + 1.5 = 3 (window 1 has all context logits at -1).
    raw = [
        logits([3, 0, 0, 0, -1, -1, -1, -1, 0], [3, 0, 0, 0, -1, -1, -1, -1, 0]),
        logits([2, 0, 0, 0, 0, 1.5, 0, 0, 0], [2, 0, 0, 0, 0, 1.5, 0, 0, 0]),
    ]
    features = [window(), window()]

    def decide(threshold, with_negative=True):
        task = make_task(with_negative=with_negative, null_score_diff_threshold=threshold)
        return FAMILY.postprocess(task, [example], features, raw)[0]

    # null - best = 4 - 3 = 1.
    assert decide(0.0) == ""
    assert decide(1.0) == "beta"  # "" only when the difference is strictly above the threshold
    assert decide(1.5) == "beta"
    assert decide(-5.0) == ""
    # With the max over windows (6) instead of the min, 6 - 3 = 3 > 2.5 would give "".
    assert decide(2.5) == "beta"
    # SQuAD 1.1 tasks never answer "".
    assert decide(0.0, with_negative=False) == "beta"


# ----------------------------------------------------------------------------- scores and chance


def test_score_uses_the_squad_rules():
    examples = [
        qa("1", "q", "the big red box", "big red box"),
        qa("2", "q", "a cat", "cat"),
        {"id": "3", "question": "q", "context": "x y", "answers": []},
    ]
    # 1: "red box" vs "big red box": EM 0, F1 = 2 * (2/2 * 2/3) / (2/2 + 2/3) = 0.8.
    # 2: "The cat!" normalises to "cat": EM 1, F1 1.  3 (null): "" is right: EM 1, F1 1.
    scores = FAMILY.score(make_task(), examples, ["red box", "The cat!", ""])
    assert scores == pytest.approx({"f1": 100 * 2.8 / 3, "exact_match": 100 * 2 / 3})
    assert list(scores) == ["f1", "exact_match"]  # the task's order, main metric first
    with pytest.raises(XstiltsError, match="does not compute the metric 'accuracy'; it computes f1, exact_match"):
        FAMILY.score(make_task(metrics=("accuracy",)), examples, ["", "", ""])


def test_chance_by_hand():
    # "The cat sat." with spans of 1..2 words: The | cat | sat. | The cat | cat sat.
    # normalised:                                   ""  | cat | sat  | cat     | cat sat
    # gold "cat": EM 0 1 0 1 0 -> 2/5; F1 0 1 0 1 2/3 -> (8/3)/5.
    answered = qa("1", "q", "The cat sat.", "cat")
    assert FAMILY.chance(make_task(max_answer_length=2), [answered]) == pytest.approx(
        {"f1": 100 * 8 / 15, "exact_match": 40.0}
    )
    # SQuAD 2.0 adds the candidate "". A null question is right only with an empty normalised answer:
    # "The" and "" -> EM = F1 = 2/6. The answered question: EM 2/6, F1 (8/3)/6.
    null = {"id": "2", "question": "q", "context": "The cat sat.", "answers": []}
    task = make_task(max_answer_length=2, with_negative=True)
    assert FAMILY.chance(task, [null]) == pytest.approx({"f1": 100 / 3, "exact_match": 100 / 3})
    assert FAMILY.chance(task, [answered, null]) == pytest.approx(
        {"f1": 100 * (4 / 9 + 1 / 3) / 2, "exact_match": 100 / 3}
    )


def brute_force_chance(context, golds, max_words, with_null):
    words = context.split()
    candidates = [
        " ".join(words[i : i + n]) for n in range(1, max_words + 1) for i in range(len(words) - n + 1)
    ]
    if with_null:
        candidates.append("")
    golds = golds or [""]
    em = sum(max(squad_exact(c, g) for g in golds) for c in candidates) / len(candidates)
    f1 = sum(max(squad_f1(c, g) for g in golds) for c in candidates) / len(candidates)
    return em, f1


def test_chance_matches_enumeration_by_the_definition():
    rng = random.Random(3)
    vocabulary = ["the", "The", "a", "an", "cat", "Cat,", "sat", "(on)", "mat.", "x-y", "--", "red", "box"]
    for _ in range(40):
        context = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 14)))
        words = context.split()
        golds = []
        for _ in range(rng.randint(0, 3)):
            i = rng.randrange(len(words))
            golds.append(" ".join(words[i : i + rng.randint(1, 3)]))
        max_words, with_null = rng.randint(1, 5), rng.random() < 0.5
        expected = brute_force_chance(context, golds, max_words, with_null)
        assert span_chance(context, golds, max_words, with_null) == pytest.approx(expected), (context, golds)


def test_chance_on_long_contexts():
    # Its speed (the point of computing it with prefix counts) is measured by benchmarks/speed.py span-qa-chance.
    rng = random.Random(4)
    examples = []
    for i in range(200):
        words = [rng.choice(SYLLABLE_WORDS) for _ in range(300)]
        context = " ".join(words)
        examples.append(qa(str(i), "q", context, " ".join(words[100:103]), words[7]))
    values = FAMILY.chance(make_task(), examples)
    first = examples[0]
    em, f1 = brute_force_chance(first["context"], [a["text"] for a in first["answers"]], 30, False)
    assert FAMILY.chance(make_task(), [first]) == pytest.approx({"f1": 100 * f1, "exact_match": 100 * em})
    assert 0 < values["exact_match"] < values["f1"] < 20


# ----------------------------------------------------------------------------- model


def test_forward_loss_backward_predict(tokenizer):
    examples = [qa("1", "what is the box ?", "the box is red .", "red"), long_example(tokenizer)]
    task = make_task(doc_stride=8)
    features = FAMILY.featurize(task, examples, tokenizer, max_length=48)
    encoder = tiny_encoder(tokenizer)
    head = FAMILY.build_head(task, encoder.config)
    batch = FAMILY.collate(features, tokenizer.pad_token_id)
    longest = max(f["length"] for f in features)
    assert batch["input_ids"].shape == (len(features), longest)
    assert batch["attention_mask"].sum().item() == sum(f["length"] for f in features)

    outputs = FAMILY.forward(encoder, head, batch)
    assert outputs["start_logits"].shape == outputs["end_logits"].shape == (len(features), longest)
    loss = FAMILY.loss(outputs, batch)
    # A fresh head gives near-uniform logits: the loss is close to log(number of real positions).
    assert 0.5 * math.log(8) < loss.item() < 2 * math.log(longest)
    loss.backward()
    assert head.weight.grad is not None and head.weight.grad.abs().sum() > 0
    assert encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0

    raw = FAMILY.predict(outputs, batch)
    assert [r.shape for r in raw] == [(2, f["length"]) for f in features]
    assert all(np.isfinite(r).all() for r in raw)
    predictions = FAMILY.postprocess(task, examples, features, raw)
    assert len(predictions) == 2 and all(isinstance(p, str) for p in predictions)


def test_padding_does_not_change_the_loss(tokenizer):
    features = FAMILY.featurize(
        make_task(), [qa("1", "what ?", "the box is red .", "red"), long_example(tokenizer)], tokenizer, 64
    )
    assert features[0]["length"] < features[1]["length"]
    encoder = no_dropout_encoder(tokenizer).eval()
    head = FAMILY.build_head(make_task(), encoder.config)

    def loss_of(chosen):
        batch = FAMILY.collate(chosen, tokenizer.pad_token_id)
        return FAMILY.loss(FAMILY.forward(encoder, head, batch), batch).item()

    with torch.no_grad():
        together = loss_of(features[:2])
        alone = (loss_of(features[:1]) + loss_of(features[1:2])) / 2
    assert together == pytest.approx(alone, rel=1e-5)


def learning_examples(rng, count):
    """The answer is always the word after "is": a digit, the only one in the context."""
    examples = []
    for i in range(count):
        words = [rng.choice(SYLLABLE_WORDS) for _ in range(rng.randint(4, 9))]
        digit = str(rng.randrange(10))
        words.insert(rng.randint(0, len(words)), f"is {digit}")
        context = " ".join(words) + " ."
        examples.append(
            {
                "id": str(i),
                "question": "what is it ?",
                "context": context,
                "answers": [{"text": digit, "start": context.index(f"is {digit}") + 3}],
            }
        )
    return examples


def test_tiny_model_learns_to_extract(tokenizer):
    rng = random.Random(5)
    task = make_task()
    train, test = learning_examples(rng, 320), learning_examples(rng, 60)
    train_features = FAMILY.featurize(task, train, tokenizer, max_length=64)
    test_features = FAMILY.featurize(task, test, tokenizer, max_length=64)
    encoder = no_dropout_encoder(tokenizer)
    # Every feature in turn, 16 a batch (wrapping around).
    batches = ([(step * 16 + i) % len(train_features) for i in range(16)] for step in range(60))
    head, _ = train_briefly(FAMILY, task, encoder, train_features, tokenizer.pad_token_id, batches)
    predictions = predict_all(FAMILY, task, encoder, head, test, test_features, tokenizer.pad_token_id)
    scores = FAMILY.score(task, test, predictions)
    chance = FAMILY.chance(task, test)
    assert chance["f1"] < 25
    assert scores["f1"] > chance["f1"] + 50, (scores, chance, predictions[:5])
