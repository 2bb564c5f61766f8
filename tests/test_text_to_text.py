"""Text-to-text variants of the encoder families (families/t2t_*.py): source templates cut longest first, label and
choice scoring by likelihood checked against the model's own loss, generated answers scored by the span_qa family's
official normalisation, the dispatch (run_as) in validate, the plan and a tiny study end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from helpers import empty_task
from xstilts.config.load import parse_study
from xstilts.errors import ConfigError, XstiltsError
from xstilts.families import get_family
from xstilts.families.common import IGNORE_INDEX
from xstilts.families.t2t_common import encode_sources, longest_first, special_tokens_around
from xstilts.families.text_to_text import VARIANTS, model_kind_problem, reported_family, run_as
from xstilts.models.tokenizer import train_tokenizer
from xstilts.tasks import get_task

CLASSIFICATION = get_family("t2t_classification")
SPAN_QA = get_family("t2t_span_qa")
MULTIPLE_CHOICE = get_family("t2t_multiple_choice")
NLI_LABELS = ("entailment", "neutral", "contradiction")
TEMPLATE_WORDS = ["nli", "squad", "copa", "sentence:", "sentence1:", "sentence2:", "question:", "context:",
                  "choice1:", "choice2:", *NLI_LABELS]


def word_tokenizer():
    """A word-level T5-style tokenizer (``$A </s>``): <pad>=0 </s>=1 <unk>=2, then the template words and the NLI
    labels, then a b c d e. Every word is one token, so a source's ids can be written down by hand."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tokens = ["<pad>", "</s>", "<unk>", *TEMPLATE_WORDS, "a", "b", "c", "d", "e"]
    backend = Tokenizer(models.WordLevel({token: i for i, token in enumerate(tokens)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def nli_task(**fields):
    return empty_task("t2t_classification", labels=NLI_LABELS, head="nli", **fields)


# ------------------------------------------------------------------------------------------------ templates


def cut_one_at_a_time(lengths: list[int], budget: int) -> list[int]:
    """The definition of "longest first": take a token off the longest text until they fit; on a tie, off the
    later one (the tokenizer cuts the pair before the first text)."""
    kept = list(lengths)
    while sum(kept) > max(budget, 0):
        longest = max(kept)
        index = max(i for i, length in enumerate(kept) if length == longest)
        kept[index] -= 1
    return kept


@pytest.mark.parametrize(("lengths", "budget", "expected"), [
    ([10, 3], 8, [5, 3]), ([6, 6], 9, [5, 4]), ([4, 9, 9], 10, [4, 3, 3]), ([2, 3], 9, [2, 3]), ([5, 1], 0, [0, 0])])
def test_longest_first_cuts_as_the_tokenizer_cuts_a_pair(lengths, budget, expected):
    assert longest_first(lengths, budget) == expected == cut_one_at_a_time(lengths, budget)


def test_longest_first_agrees_with_its_definition_everywhere():
    import random

    rng = random.Random(7)
    for _ in range(300):
        lengths = [rng.randint(0, 30) for _ in range(rng.randint(1, 4))]
        budget = rng.randint(0, 80)
        assert longest_first(lengths, budget) == cut_one_at_a_time(lengths, budget), (lengths, budget)


def test_classification_sources_follow_the_template_and_cut_longest_first():
    tokenizer = word_tokenizer()
    nli, s1, s2, single = (tokenizer.convert_tokens_to_ids(t) for t in ("nli", "sentence1:", "sentence2:",
                                                                        "sentence:"))
    a, b, c, d = (tokenizer.convert_tokens_to_ids(t) for t in "abcd")
    examples = [{"id": "p", "text": "a b c", "text_pair": "d", "label": "neutral"},
                {"id": "s", "text": "a b", "label": "entailment"}]
    features = CLASSIFICATION.featurize(nli_task(), examples, tokenizer, max_length=16)
    assert features[0]["input_ids"] == [nli, s1, a, b, c, s2, d, 1]
    assert features[1]["input_ids"] == [nli, single, a, b, 1]
    # 7 tokens: 3 fixed words + </s> leave 3 for the texts (3 + 1): the longer text loses one
    (cut,) = CLASSIFICATION.featurize(nli_task(), examples[:1], tokenizer, max_length=7)
    assert cut["input_ids"] == [nli, s1, a, b, s2, d, 1]
    # target: the label word and </s>; every label is a candidate, in the task's order
    labels = [[tokenizer.convert_tokens_to_ids(label), 1] for label in NLI_LABELS]
    assert features[0]["labels"] == labels[1] and features[1]["labels"] == labels[0]
    assert features[0]["candidates"] == features[1]["candidates"] == labels
    unknown = empty_task("t2t_classification", labels=("yes", "no"), head="nli")  # both <unk> here
    with pytest.raises(XstiltsError, match="labels 'yes' and 'no' tokenize to the same target ids"):
        CLASSIFICATION.featurize(unknown, [{**examples[1], "label": "no"}], tokenizer, max_length=16)


def test_qa_and_choice_sources_follow_their_templates():
    tokenizer = word_tokenizer()
    word = tokenizer.convert_tokens_to_ids
    qa = empty_task("t2t_span_qa", head="squad", metrics=("f1", "exact_match"))
    example = {"id": "q", "question": "  a b", "context": "c d e c d e", "answers": [{"text": "d e", "start": 2}]}
    (feature,) = SPAN_QA.featurize(qa, [example], tokenizer, max_length=9)
    # 9 = question: 2 + context: 6 + 3 fixed + </s> = 12 > 9: the context (the longest) loses 3
    assert feature["input_ids"] == [word("squad"), word("question:"), word("a"), word("b"), word("context:"),
                                    word("c"), word("d"), word("e"), 1]
    assert feature["labels"] == [word("d"), word("e"), 1]
    assert (feature["num_beams"], feature["max_new_tokens"]) == (1, 32)
    no_answer = empty_task("t2t_span_qa", head="squad", metrics=("f1",), settings={"with_negative": True})
    (empty,) = SPAN_QA.featurize(no_answer, [{**example, "answers": []}], tokenizer, max_length=16)
    assert empty["labels"] == [1]  # "no answer" is the end token alone

    choice = empty_task("t2t_multiple_choice", head="copa", settings={"num_choices": 2})
    example = {"id": "m", "context": "a b", "choices": ["c", "d e"], "label": 1}
    (feature,) = MULTIPLE_CHOICE.featurize(choice, [example], tokenizer, max_length=32)
    assert feature["input_ids"] == [word("copa"), word("context:"), word("a"), word("b"), word("choice1:"), word("c"),
                                    word("choice2:"), word("d"), word("e"), 1]
    assert feature["candidates"] == [[word("c"), 1], [word("d"), word("e"), 1]]
    assert feature["labels"] == feature["candidates"][1]


def test_a_template_that_leaves_no_room_says_so():
    with pytest.raises(XstiltsError, match="max_length 3 leaves no room .* raise the stage's"):
        encode_sources(word_tokenizer(), [[("nli sentence1:", False), ("a", True)]], 3, "x")


def test_special_tokens_are_the_tokenizers_own():
    assert special_tokens_around(word_tokenizer()) == ([], [1])
    project = train_tokenizer(["red blue green cat dog"] * 20, vocab_size=60)  # <s> A </s>
    assert special_tokens_around(project) == ([project.bos_token_id], [project.eos_token_id])


# ------------------------------------------------------------------------------------------------ scoring by likelihood


def tiny_t5(tokenizer, seed: int = 0):
    from xstilts.models.seq2seq import build_seq2seq, with_tokenizer

    torch.manual_seed(seed)
    settings = dict(architecture="t5", hidden_size=32, num_layers=2, num_heads=2, intermediate_size=48,
                    max_length=64, dropout=0.0)
    return with_tokenizer(build_seq2seq(settings, tokenizer), tokenizer).eval()


def log_likelihood(model, source: list[int], target: list[int]) -> float:
    """log P(target | source), computed apart from the family: one example alone (no padding, no batching),
    through the model's own loss (the mean cross-entropy of the target tokens) times their number."""
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([source]), labels=torch.tensor([target])).loss
    return -float(loss) * len(target)


def test_label_scoring_picks_the_label_of_highest_likelihood():
    tokenizer = train_tokenizer([" ".join(NLI_LABELS + ("red blue green cat dog sun moon",))] * 20, vocab_size=120)
    model = tiny_t5(tokenizer)
    examples = [{"id": "0", "text": "red cat sun", "text_pair": "blue dog", "label": "neutral"},
                {"id": "1", "text": "moon", "label": "entailment"},
                {"id": "2", "text": "green green dog cat", "text_pair": "sun moon", "label": "contradiction"}]
    task = nli_task()
    features = CLASSIFICATION.featurize(task, examples, tokenizer, max_length=64)
    assert len({len(f["input_ids"]) for f in features}) == 3  # padding in the batch must not matter
    batch = CLASSIFICATION.collate(features, tokenizer.pad_token_id)
    raw = CLASSIFICATION.predict(CLASSIFICATION.forward(model, None, batch), batch)
    predictions = CLASSIFICATION.postprocess(task, examples, features, raw)
    for feature, scores, predicted in zip(features, raw, predictions, strict=True):
        expected = [log_likelihood(model, feature["input_ids"], label) for label in feature["candidates"]]
        assert scores == pytest.approx(expected, abs=1e-4)
        assert predicted == NLI_LABELS[max(range(3), key=expected.__getitem__)]
    # scored by the classification family itself: accuracy over the examples, chance 1/3
    right = sum(p == e["label"] for p, e in zip(predictions, examples, strict=True))
    assert CLASSIFICATION.scored(task, examples, predictions).scores == {"accuracy": pytest.approx(100 * right / 3)}
    assert CLASSIFICATION.chance(task, examples) == {"accuracy": pytest.approx(100 / 3)}


def test_a_model_with_zero_weights_scores_labels_by_their_length():
    """Every weight zero: every hidden state and every logit is 0, so each next token has probability 1 / V and a
    label of n tokens (its </s> included) has log-likelihood -n log V. The shortest label wins."""
    import math

    tokenizer = word_tokenizer()
    model = tiny_t5(tokenizer)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    task = empty_task("t2t_classification", labels=("a b", "c", "d e b"), head="nli")
    examples = [{"id": "0", "text": "a", "text_pair": "b", "label": "a b"}, {"id": "1", "text": "c d", "label": "c"}]
    features = CLASSIFICATION.featurize(task, examples, tokenizer, max_length=16)
    batch = CLASSIFICATION.collate(features, tokenizer.pad_token_id)
    raw = CLASSIFICATION.predict(CLASSIFICATION.forward(model, None, batch), batch)
    log_v = math.log(len(tokenizer))
    for scores in raw:
        assert scores == pytest.approx([-3 * log_v, -2 * log_v, -4 * log_v], rel=1e-5)
    assert CLASSIFICATION.postprocess(task, examples, features, raw) == ["c", "c"]
    assert CLASSIFICATION.scored(task, examples, ["c", "c"]).scores == {"accuracy": 50.0}


def test_choice_scoring_handles_examples_with_different_numbers_of_choices():
    tokenizer = train_tokenizer(["red blue green cat dog sun moon star"] * 20, vocab_size=80)
    model = tiny_t5(tokenizer, seed=3)
    task = empty_task("t2t_multiple_choice")
    examples = [{"id": "0", "context": "red cat", "choices": ["sun", "blue moon", "dog"], "label": 0},
                {"id": "1", "context": "green star dog", "choices": ["cat cat", "moon"], "label": 1}]
    features = MULTIPLE_CHOICE.featurize(task, examples, tokenizer, max_length=64)
    batch = MULTIPLE_CHOICE.collate(features, tokenizer.pad_token_id)
    assert batch["candidate_mask"].tolist() == [[True, True, True], [True, True, False]]
    raw = MULTIPLE_CHOICE.predict(MULTIPLE_CHOICE.forward(model, None, batch), batch)
    assert [len(scores) for scores in raw] == [3, 2]
    for feature, scores in zip(features, raw, strict=True):
        expected = [log_likelihood(model, feature["input_ids"], choice) for choice in feature["candidates"]]
        assert scores == pytest.approx(expected, abs=1e-4)
    predictions = MULTIPLE_CHOICE.postprocess(task, examples, features, raw)
    assert predictions == [int(torch.tensor(scores).argmax()) for scores in raw]
    assert MULTIPLE_CHOICE.chance(task, examples) == {"accuracy": pytest.approx((100 / 3 + 100 / 2) / 2)}


def test_training_is_teacher_forced_on_the_gold_target():
    tokenizer = train_tokenizer([" ".join(NLI_LABELS + ("red blue cat",))] * 20, vocab_size=80)
    model = tiny_t5(tokenizer).train()
    examples = [{"id": "0", "text": "red cat", "label": "neutral"}, {"id": "1", "text": "blue", "label": "entailment"}]
    features = CLASSIFICATION.featurize(nli_task(), examples, tokenizer, max_length=64)
    batch = CLASSIFICATION.collate(features, tokenizer.pad_token_id)
    width = max(len(f["labels"]) for f in features)
    assert batch["labels"].tolist() == [f["labels"] + [IGNORE_INDEX] * (width - len(f["labels"])) for f in features]
    loss = CLASSIFICATION.loss(CLASSIFICATION.forward(model, None, batch), batch)
    reference = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
    assert torch.allclose(loss, reference, atol=1e-6)
    with pytest.raises(XstiltsError, match="run the model in eval mode"):
        CLASSIFICATION.predict(CLASSIFICATION.forward(model, None, batch), batch)


# ------------------------------------------------------------------------------------------------ QA scoring


def test_generated_answers_are_scored_with_the_official_normalisation():
    task = empty_task("t2t_span_qa", metrics=("mlqa_f1", "mlqa_exact_match"))
    examples = [
        {"id": "de", "language": "de", "question": "Wer?", "context": "Der Hund bellt.",
         "answers": [{"text": "Der Hund", "start": 0}]},
        {"id": "en", "language": "en", "question": "Who?", "context": "the hund barks",
         "answers": [{"text": "hund", "start": 4}]},
    ]
    raw = ["  Hund. ", "der hund"]
    features = [{"example_index": 0}, {"example_index": 1}]
    predictions = SPAN_QA.postprocess(task, examples, features, raw)
    assert predictions == ["Hund.", "der hund"]
    evaluation = SPAN_QA.scored(task, examples, predictions)
    # de drops "der" and the full stop: exact. en keeps "der": EM 0, F1 2 * (1/2 * 1) / (1/2 + 1) = 2/3.
    assert evaluation.scores == {"mlqa_f1": pytest.approx(100 * (1 + 2 / 3) / 2), "mlqa_exact_match": 50.0}
    assert evaluation.units["mlqa_exact_match"].num == [1.0, 0.0]
    squad = empty_task("t2t_span_qa", metrics=("exact_match", "f1"))
    assert SPAN_QA.scored(squad, examples[1:], ["The Hund!"]).scores == {"exact_match": 100.0, "f1": 100.0}
    # chance: the span_qa family's (uniform spans of the context), not restated
    span_qa = get_family("span_qa")
    assert SPAN_QA.chance(squad, examples) == span_qa.chance(empty_task("span_qa", metrics=("exact_match", "f1")),
                                                             examples)


def test_decoding_settings_reach_qa_features_but_not_the_encoder_scoring():
    task = empty_task("t2t_span_qa", metrics=("f1",), settings={"num_beams": 3, "doc_stride": 32})
    assert SPAN_QA.checked(task).num_beams == 3
    encoder_view = SPAN_QA.encoder_task(task)
    assert encoder_view.family == "span_qa" and dict(encoder_view.settings) == {"doc_stride": 32}
    example = {"id": "x", "question": "q", "context": "c", "answers": [{"text": "c", "start": 0}]}
    assert SPAN_QA.validate_example(task, example) is None


# ------------------------------------------------------------------------------------------------ dispatch


def test_run_as_swaps_the_family_on_encoder_decoders_only():
    xnli = get_task("xnli")
    on_mt5 = run_as(xnli, "encoder-decoder")
    assert (on_mt5.family, on_mt5.name, on_mt5.metrics, on_mt5.labels) == ("t2t_classification", "xnli",
                                                                          xnli.metrics, xnli.labels)
    assert run_as(xnli, "encoder") is xnli and run_as(xnli, None) is xnli
    assert run_as(get_task("udpos"), "encoder-decoder").family == "tagging"  # no variant
    assert run_as(get_task("xquad"), "encoder-decoder").family == "t2t_span_qa"
    assert run_as(get_task("xcopa"), "encoder-decoder").family == "t2t_multiple_choice"
    for family, variant in VARIANTS.items():
        assert reported_family(variant) == family
        spec = get_family(variant).spec
        # the same metrics as the encoder family, on the other kind of model
        assert spec.metrics == get_family(family).spec.metrics and spec.model_kind == "encoder-decoder"
        assert model_kind_problem(get_family(family).spec, "encoder-decoder") is None
    assert "no text-to-text version of tagging" in model_kind_problem(get_family("tagging").spec, "encoder-decoder")


def test_a_code_switched_source_is_switched_as_its_encoder_familys(tmp_path):
    from xstilts.data.code_switch import CodeSwitch

    switch = CodeSwitch({"de": {"cat": ("Katze",)}}, {"de": "x"}, ratio=1.0, seed=0)
    task = run_as(empty_task("classification", labels=NLI_LABELS), "encoder-decoder")
    example = {"id": "0", "text": "a cat", "text_pair": "the cat sleeps", "label": "neutral"}
    (switched,) = switch.apply(task, [example])
    assert (switched["text"], switched["text_pair"]) == ("a Katze", "the Katze sleeps")


def t2t_study(tmp_path: Path, tasks: list[str], steps: int, **extra) -> dict:
    short = {task: task.rsplit("-", 1)[-1] for task in tasks}
    study = {
        "name": "t2t",
        "model": {"build": {"architecture": "mt5", "hidden_size": 32, "num_layers": 1, "num_heads": 2,
                            "intermediate_size": 64, "max_length": 256, "dropout": 0.0},
                  "tokenizer": {"train": {"corpus": tasks, "vocab_size": 300}}},
        "stages": {short[task]: {"sources": [{"task": task}], "steps": steps, "batch_size": 8, "max_length": 160,
                                 "optimizer": {"lr": 1e-3}} for task in tasks},
        "pipelines": {short[task]: [short[task]] for task in tasks},
        "evaluate": {"max_examples": 12, "languages": ["en", "qaa"]},
        "store": str(tmp_path / "runs"),
        "runtime": {"progress": False, "threads": 1},
    }
    study.update(extra)
    return study


def test_validate_accepts_encoder_tasks_on_an_encoder_decoder_and_decoding_for_qa(tmp_path, architecture_folder):
    data = t2t_study(tmp_path, ["mock-nli", "mock-qa"], steps=2)
    parse_study(data)
    parse_study({**data, "evaluate": {"decoding_by_task": {"mock-qa": {"num_beams": 2}}}})
    with pytest.raises(ConfigError, match="task 'mock-nli' is a classification task; decoding settings apply"):
        parse_study({**data, "evaluate": {"decoding_by_task": {"mock-nli": {"num_beams": 2}}}})
    tagging = {**data, "stages": {"ner": {"sources": [{"task": "mock-ner"}], "steps": 2}}, "pipelines": {"m": ["ner"]}}
    with pytest.raises(ConfigError, match="task 'mock-ner': the tagging family .* no text-to-text version"):
        parse_study(tagging)


def test_the_plan_keys_qa_evaluations_by_their_decoding(tmp_path, xstilts_home):
    from xstilts.studies.context import make_context

    data = t2t_study(tmp_path, ["mock-qa"], steps=2)
    first = {e.language: e.key for e in make_context(parse_study(data)).plan.evaluations}
    beams = {e.language: e.key for e in make_context(parse_study(
        {**data, "evaluate": {**data["evaluate"], "decoding": {"num_beams": 2}}})).plan.evaluations}
    assert first.keys() == beams.keys() and not set(first.values()) & set(beams.values())
    stages = [{n.key for n in make_context(parse_study(d)).plan.stages}
              for d in (data, {**data, "evaluate": {**data["evaluate"], "decoding": {"num_beams": 2}}})]
    assert stages[0] == stages[1]  # decoding never retrains


def test_a_tiny_mt5_runs_classification_and_qa_text_to_text(tmp_path, xstilts_home):
    from xstilts.studies.runner import run_study

    tasks = ["micro-tiny-xnli", "micro-tiny-qa"]
    run_study(parse_study(t2t_study(tmp_path, tasks, steps=24)), tmp_path / "out")
    with open(tmp_path / "out" / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    for name in tasks:
        task = get_task(name)
        mine = [r for r in rows if r["task"] == name]
        # the same metric columns and family as an encoder's rows of the task, in both languages
        assert {(r["language"], r["metric"]) for r in mine} == {(lg, m) for lg in ("en", "qaa") for m in task.metrics}
        assert {r["family"] for r in mine} == {task.family}
        assert all(0.0 <= float(r["value"]) <= 100.0 and r["chance"] != "" for r in mine)
    recipes = {r["task"]: json.loads(r["recipe"]) for r in rows}
    assert recipes["micro-tiny-xnli"]["prediction"] == "label likelihood"
    assert recipes["micro-tiny-qa"]["prediction"] == "generated answer"
    predictions = [json.loads(line)["prediction"] for path in (tmp_path / "runs").rglob("*.jsonl")
                   if "micro-tiny-xnli" in str(path.parent)
                   for line in path.read_text().splitlines()]
    assert predictions and set(predictions) <= set(NLI_LABELS)


def test_the_plan_counts_the_decoder_of_text_to_text_stages_and_evaluations(tmp_path, xstilts_home):
    from xstilts.studies.context import make_context
    from xstilts.studies.estimate import CHOICE_TOKENS, LABEL_WORD_TOKENS, example_sequences
    from xstilts.studies.plan_summary import plan_summary

    data = t2t_study(tmp_path, ["mock-nli", "mock-qa", "mock-choice"], steps=3)
    context = make_context(parse_study(data))
    summary = plan_summary(context)
    (model,) = summary["models"].values()
    enc, dec = model["layer_parameters"], model["decoder_parameters"]
    stages = {node["stage"]: node for node in summary["nodes"]}
    # 3 steps x 8 examples of 160 source tokens; the decoder reads one label word, the answer (target_max_length
    # 32) or the right choice per example
    for name, target in (("nli", LABEL_WORD_TOKENS), ("qa", 32), ("choice", CHOICE_TOKENS)):
        assert stages[name]["tokens"] == 3 * 8 * (160 + target)
        assert stages[name]["flops"] == 6 * 3 * 8 * (160 * enc + target * dec)
    for evaluation in summary["evaluation_nodes"]:
        n = min(12, len(example_sequences(evaluation["task"], "test", evaluation["language"], context.data_root)))
        length = evaluation["max_length"]
        if evaluation["task"] == "mock-nli":  # every label scored: 3 label words
            assert evaluation["flops"] == 2 * n * (length * enc + 3 * LABEL_WORD_TOKENS * dec)
        elif evaluation["task"] == "mock-qa":  # greedy, 32 new tokens at most
            assert evaluation["flops"] == 2 * n * (length * enc + 32 * dec)
        else:  # every choice scored (the encoder counted per choice: an upper bound)
            choices = sum(example_sequences("mock-choice", "test", evaluation["language"], context.data_root)[:12])
            assert evaluation["flops"] == 2 * choices * (length * enc + CHOICE_TOKENS * dec)
