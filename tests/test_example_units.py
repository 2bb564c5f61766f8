"""Per-example score units: for every family and metric, 100 * sum(num) / sum(den) is the reported score, and
the units themselves are right (counts and per-example values by hand)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from helpers import empty_task
from xstilts.families import get_family
from xstilts.families.base import EvalSet
from xstilts.scoring import metrics
from xstilts.scoring.mining import pair_counts, precision_recall_f1
from xstilts.scoring.registry import METRICS
from xstilts.scoring.units import Units, ratio

# ---------------------------------------------------------------- cases: (family, task, examples, predictions)


def nli_case():
    task = empty_task("classification", labels=("a", "b", "c"), metrics=("accuracy",))
    examples = [{"id": f"x{i}", "text": "t", "label": label} for i, label in enumerate("abca")]
    return "classification", task, examples, ["a", "c", "c", "b"]


def wpr_case():
    task = empty_task("classification", labels=("0", "1", "2"), metrics=("ndcg", "accuracy"))
    rows = [("q1", "2", "2"), ("q1", "0", "0"), ("q1", "1", "1"), ("q2", "1", "0"), ("q2", "0", "1"),
            ("q3", "2", "0")]
    examples = [{"id": f"d{i}", "text": "q", "text_pair": "p", "label": gold, "group": group}
                for i, (group, gold, _) in enumerate(rows)]
    return "classification", task, examples, [pred for _, _, pred in rows]


def choice_case():
    task = empty_task("multiple_choice", metrics=("accuracy",))
    examples = [{"id": f"c{i}", "context": "c", "choices": ["x", "y", "z"], "label": label}
                for i, label in enumerate([0, 2, 1])]
    return "multiple_choice", task, examples, [0, 1, 1]


NER_LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
# Three sentences: (gold, predicted).
NER_ROWS = [
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "O"]),
    (["O", "B-ORG"], ["B-ORG", "B-ORG"]),
    (["O", "O"], ["B-LOC", "I-LOC"]),
]


def ner_case():
    task = empty_task("tagging", labels=NER_LABELS, metrics=("f1", "precision", "recall", "accuracy"))
    examples = [{"id": f"s{i}", "tokens": ["w"] * len(gold), "tags": gold} for i, (gold, _) in enumerate(NER_ROWS)]
    return "tagging", task, examples, [pred for _, pred in NER_ROWS]


def squad_case():
    task = empty_task("span_qa", metrics=("f1", "exact_match"), settings={"with_negative": True})
    examples = [
        {"id": "1", "question": "q", "context": "the big red box", "answers": [{"text": "big red box", "start": 4}]},
        {"id": "2", "question": "q", "context": "a cat", "answers": [{"text": "cat", "start": 2}]},
        {"id": "3", "question": "q", "context": "x y", "answers": []},
    ]
    return "span_qa", task, examples, ["red box", "The cat!", ""]


def mlqa_case():
    task = empty_task("span_qa", metrics=("mlqa_f1", "mlqa_exact_match"))
    rows = [("de", "der Rhein", "Rhein"), ("en", "the big box", "box"), ("de", "die Elbe", "Main")]
    examples = [{"id": f"m{i}", "question": "q", "context": gold, "language": language,
                 "answers": [{"text": gold, "start": 0}]} for i, (language, gold, _) in enumerate(rows)]
    return "span_qa", task, examples, [pred for _, _, pred in rows]


def tatoeba_case():
    task = empty_task("retrieval", metrics=("accuracy",))
    examples = [{"id": "a", "source": "s", "target": "t"}, {"id": "b", "source": "s", "target": "t"},
                {"id": "c", "source": "s", "target": "t"}, {"id": "z", "source": None, "target": "distractor"}]
    return "retrieval", task, examples, ["a", "z", "c", None]


def mining_task():
    return empty_task("retrieval", name="mine", splits={"dev": ("fr",), "test": ("fr",)},
                      metrics=("f1", "precision", "recall"),
                      settings={"protocol": "mining", "similarity": "margin", "margin_k": 1})


def bucc_case():
    examples = [{"id": f"s{i}", "source": f"s{i}", "target": None, "gold_targets": [f"u{i}"]} for i in (1, 2, 3)]
    examples += [{"id": "s4", "source": "s4", "target": None, "gold_targets": []}]
    examples += [{"id": f"u{i}", "source": None, "target": f"u{i}"} for i in (1, 2, 3, 4)]
    # s1 right, s2 wrong (u3), s3 nothing extracted, s4 (no gold) extracted with u4
    return "retrieval", mining_task(), examples, ["u1", "u3", None, "u4", None, None, None, None]


def ranking_case(metric):
    task = empty_task("retrieval", metrics=(metric,), settings={"protocol": "ranking"})
    golds = {"q1": ["c2"], "q2": ["c1"]} if metric == "mrr@20" else {"q1": ["c2", "c3"], "q2": ["c1"]}
    examples = [{"id": q, "source": q, "target": None, "gold_targets": gold} for q, gold in golds.items()]
    examples += [{"id": c, "source": None, "target": c} for c in ("c1", "c2", "c3")]
    return "retrieval", task, examples, [["c1", "c2", "c3"], ["c3", "c2", "c1"], None, None, None]


def mlm_case():
    task = empty_task("mlm", metrics=("accuracy", "perplexity"))
    examples = [{"id": "p", "text": "x"}, {"id": "q", "text": "y"}]
    return "mlm", task, examples, [{"masked": 3, "correct": 1, "loss": 3.0}, {"masked": 1, "correct": 1, "loss": 1.0}]


GERMAN = ["Der Hund läuft schnell über die grüne Wiese und bellt laut.",
          "Wir haben gestern Abend in der Küche zusammen gekocht und gegessen."]
ENGLISH = "The dog runs quickly across the green meadow and barks loudly."


def generation_case():
    # two outputs in German (the target language), one in English: off_target 1 of 3
    task = empty_task("generation", metrics=("bleu", "off_target"), settings={"target_language": "de"})
    examples = [{"id": f"g{i}", "source": "s", "target": text} for i, text in enumerate([*GERMAN, GERMAN[0]])]
    return "generation", task, examples, [*GERMAN, ENGLISH]


CASES = {
    "nli": nli_case, "wpr": wpr_case, "choice": choice_case, "ner": ner_case, "squad": squad_case,
    "mlqa": mlqa_case, "tatoeba": tatoeba_case, "bucc": bucc_case, "map": lambda: ranking_case("map@20"),
    "mrr": lambda: ranking_case("mrr@20"), "mlm": mlm_case, "generation": generation_case,
}


@pytest.mark.parametrize("name", CASES)
def test_units_add_up_to_the_reported_score(name):
    family_name, task, examples, predictions = CASES[name]()
    family = get_family(family_name)
    units = family.example_units(task, examples, predictions)
    scores = family.score(task, examples, predictions)
    scored = family.scored(task, examples, predictions)
    assert scored.scores == scores and scored.units == units and list(scored.scores) == list(task.metrics)
    for metric, unit in units.items():
        assert len(unit.ids) == len(unit.num) == len(unit.den) > 0, metric
        assert all(den >= 0 for den in unit.den) and all(0 <= num <= max(den, 1) for num, den in
                                                          zip(unit.num, unit.den, strict=True))
        by_definition = 100.0 * sum(unit.num) / sum(unit.den) if sum(unit.den) else 0.0
        assert scores[metric] == pytest.approx(by_definition, abs=1e-12)
    assert set(units) == {m for m in task.metrics if METRICS.get(m).decomposes}


def test_every_registered_metric_that_decomposes_has_units_in_some_case():
    covered = set()
    for make in CASES.values():
        family_name, task, examples, predictions = make()
        covered |= set(get_family(family_name).example_units(task, examples, predictions))
    assert covered == {name for name in METRICS.names() if METRICS.get(name).decomposes}
    # perplexity is the exp of a mean, BLEU a corpus statistic (brevity penalty and n-gram precisions of the set)
    assert sorted(name for name in METRICS.names() if not METRICS.get(name).decomposes) == ["bleu", "perplexity"]


# ---------------------------------------------------------------- units by hand


def units_of(name):
    family_name, task, examples, predictions = CASES[name]()
    return get_family(family_name).example_units(task, examples, predictions)


def test_classification_and_choice_units_by_hand():
    accuracy = units_of("nli")["accuracy"]
    assert accuracy == Units(["x0", "x1", "x2", "x3"], [1.0, 0.0, 1.0, 0.0], [1.0] * 4)
    assert units_of("choice")["accuracy"].num == [1.0, 0.0, 1.0]


def test_ndcg_units_are_per_query_group():
    units = units_of("wpr")
    # q1 ranked perfectly: nDCG 1. q2: the gold-1 item is predicted 0 and comes second: 1 / log2(3).
    # q3 has one item: no unit (XGLUE leaves such groups out).
    assert units["ndcg"].ids == ["q1", "q2"] and units["ndcg"].den == [1.0, 1.0]
    assert units["ndcg"].num == pytest.approx([1.0, 1 / math.log2(3)])
    assert units["accuracy"].ids == [f"d{i}" for i in range(6)] and units["accuracy"].value() == pytest.approx(50.0)


def test_tagging_units_by_hand():
    units = units_of("ner")
    # s1: gold PER(0-1) LOC(3), predicted PER(0-1): tp 1, pred 1, gold 2. s2: gold ORG(1), predicted ORG(0),
    # ORG(1): tp 1, pred 2, gold 1. s3: gold none, predicted LOC(0-1): tp 0, pred 1, gold 0.
    assert units["precision"].num == [1.0, 1.0, 0.0] and units["precision"].den == [1.0, 2.0, 1.0]
    assert units["recall"].num == [1.0, 1.0, 0.0] and units["recall"].den == [2.0, 1.0, 0.0]
    assert units["f1"].num == [2.0, 2.0, 0.0] and units["f1"].den == [3.0, 3.0, 1.0]
    # totals tp 2, pred 4, gold 3: P 50, R 66.67, F1 2*2/7
    assert units["precision"].value() == pytest.approx(50.0)
    assert units["recall"].value() == pytest.approx(200 / 3)
    assert units["f1"].value() == pytest.approx(400 / 7)
    # words right: 3 of 4, 1 of 2, 0 of 2
    assert units["accuracy"].num == [3.0, 1.0, 0.0] and units["accuracy"].den == [4.0, 2.0, 2.0]


def test_chunk_counts_match_each_sentence_scored_alone():
    # seqeval joins sentences with an 'O'; with IOB2 and UPOS tags no chunk crosses it, so the per-sentence
    # counts are the counts of each sentence on its own (an independent computation).
    rng = random.Random(3)
    for labels in (NER_LABELS, ("NOUN", "VERB", "ADJ", "PUNCT", "DET")):
        for _ in range(50):
            gold = [[rng.choice(labels) for _ in range(rng.randint(0, 6))] for _ in range(rng.randint(1, 5))]
            pred = [[rng.choice(labels) for _ in sentence] for sentence in gold]
            expected = []
            for p, g in zip(pred, gold, strict=True):
                p_chunks, g_chunks = metrics.chunks(p), metrics.chunks(g)
                expected.append((len(p_chunks & g_chunks), len(p_chunks), len(g_chunks)))
            assert metrics.chunk_counts(pred, gold) == expected
            totals = np.sum(expected, axis=0) if expected else (0, 0, 0)
            prf = metrics.chunk_prf(pred, gold)
            assert prf["f1"] == pytest.approx(ratio([2 * totals[0]], [totals[1] + totals[2]]))


def test_a_chunk_crossing_sentences_is_counted_once():
    # "X-O" has prefix X and type O, so neither the 'O' joining two sentences nor a following "X-O" ends its
    # chunk: seqeval reads one chunk O(1-3) from sentence one into sentence two (an official quirk kept as is).
    # It is counted once, in the sentence it starts in.
    pred = [["B-A", "X-O"], ["X-O", "B-Y"]]
    gold = [["B-A", "O"], ["O", "B-Y"]]
    assert metrics.chunks(["B-A", "X-O", "O", "X-O", "B-Y", "O"]) == {("A", 0, 0), ("O", 1, 3), ("Y", 4, 4)}
    # sentence one: A right, O(1-3) predicted only; sentence two: Y right
    assert metrics.chunk_counts(pred, gold) == [(1, 2, 1), (1, 1, 1)]
    assert metrics.chunk_prf(pred, gold) == pytest.approx({"precision": 200 / 3, "recall": 100.0, "f1": 80.0})


def test_qa_units_by_hand():
    units = units_of("squad")
    # "red box" vs "big red box": EM 0, F1 0.8; "The cat!" normalises to "cat": 1, 1; null question: 1, 1
    assert units["exact_match"].num == [0.0, 1.0, 1.0] and units["f1"].num == pytest.approx([0.8, 1.0, 1.0])
    assert units["f1"].ids == ["1", "2", "3"] and units["f1"].den == [1.0] * 3
    mlqa = units_of("mlqa")
    # in example order although scored per language: de "Rhein" vs "der Rhein" (article dropped) 1;
    # en "box" vs "the big box": F1 2 * (1 * 1/2) / 1.5 = 2/3; de "Main" vs "die Elbe": 0
    assert mlqa["mlqa_exact_match"].num == [1.0, 0.0, 0.0]
    assert mlqa["mlqa_f1"].num == pytest.approx([1.0, 2 / 3, 0.0]) and mlqa["mlqa_f1"].ids == ["m0", "m1", "m2"]


def test_retrieval_units_by_hand():
    accuracy = units_of("tatoeba")["accuracy"]
    assert accuracy == Units(["a", "b", "c"], [1.0, 0.0, 1.0], [1.0] * 3)  # the distractor is no query
    bucc = units_of("bucc")
    # (correct, extracted, gold) per query: s1 (1, 1, 1), s2 (0, 1, 1), s3 (0, 0, 1), s4 (0, 1, 0)
    assert bucc["precision"].ids == ["s1", "s2", "s3", "s4"]
    assert bucc["precision"].num == [1.0, 0.0, 0.0, 0.0] and bucc["precision"].den == [1.0, 1.0, 0.0, 1.0]
    assert bucc["recall"].den == [1.0, 1.0, 1.0, 0.0]
    assert bucc["f1"].num == [2.0, 0.0, 0.0, 0.0] and bucc["f1"].den == [2.0, 2.0, 1.0, 1.0]
    assert bucc["f1"].value() == pytest.approx(100 * 2 / 6)  # P 1/3, R 1/3
    ap = units_of("map")["map@20"]
    # q1 ranks c1, c2, c3 with golds c2, c3: (1/2 + 2/3) / 2; q2 ranks c3, c2, c1 with gold c1: 1/3
    assert ap.ids == ["q1", "q2"] and ap.num == pytest.approx([(1 / 2 + 2 / 3) / 2, 1 / 3])
    assert units_of("mrr")["mrr@20"].num == pytest.approx([1 / 2, 1 / 3])


def test_mlm_units_and_perplexity_without_units():
    family_name, task, examples, predictions = mlm_case()
    scored = get_family(family_name).scored(task, examples, predictions)
    assert scored.units["accuracy"] == Units(["p", "q"], [1.0, 1.0], [3.0, 1.0])
    assert "perplexity" not in scored.units and scored.scores["perplexity"] == pytest.approx(math.e)


def test_mined_pair_counts_and_the_set_scores():
    gold = {("a", "A"), ("b", "B"), ("c", "C")}
    predicted = {("a", "A"), ("b", "C"), ("d", "D")}
    assert pair_counts(["a", "b", "c", "d"], predicted, gold) == [(1, 1, 1), (0, 1, 1), (0, 0, 1), (0, 1, 0)]
    assert precision_recall_f1(predicted, gold) == pytest.approx({"precision": 100 / 3, "recall": 100 / 3,
                                                                  "f1": 100 / 3})
    with pytest.raises(Exception, match="not one of the scored sentences"):
        pair_counts(["a"], predicted, gold)


def test_mining_evaluate_returns_the_units_of_the_extracted_pairs():
    # Vectors in the plane (k = 1 margins): dev d1-e1, d2-e2 mutual, threshold between; test s1-u1, s2-u2
    # mutual (margin 1, extracted); s3's best u3 has margin 0.73, below the threshold: not extracted.
    def angle(degrees):
        return np.array([math.cos(math.radians(degrees)), math.sin(math.radians(degrees))], dtype=np.float32)

    def eval_set(queries, candidates):
        examples, features, raw = [], [], []
        for ident, degrees, gold in queries:
            features.append({"side": 0, "example_index": len(examples)})
            raw.append(angle(degrees))
            examples.append({"id": ident, "source": f"text {ident}", "target": None, "gold_targets": gold})
        for ident, degrees in candidates:
            features.append({"side": 1, "example_index": len(examples)})
            raw.append(angle(degrees))
            examples.append({"id": ident, "source": None, "target": f"text {ident}"})
        return EvalSet(examples, features, raw)

    dev = eval_set([("d1", 0, ["e1"]), ("d2", 90, ["e2"])], [("e1", 0), ("e2", 90), ("e3", 40)])
    test = eval_set([("s1", 0, ["u1"]), ("s2", 90, ["u2"]), ("s3", 180, ["u3"])],
                    [("u1", 0), ("u2", 90), ("u3", 120)])
    evaluation = get_family("retrieval").evaluate(mining_task(), "test", test, {"dev": dev})
    assert evaluation.predictions[:3] == ["u1", "u2", None]
    f1 = evaluation.units["f1"]
    assert f1.ids == ["s1", "s2", "s3"] and f1.num == [2.0, 2.0, 0.0] and f1.den == [2.0, 2.0, 1.0]
    assert evaluation.scores == pytest.approx({"f1": 80.0, "precision": 100.0, "recall": 200 / 3})
    assert evaluation.scores["f1"] == f1.value()


def test_units_round_trip_and_reject_ragged_lists():
    units = Units(["a", "b"], [1.0, 0.5], [1.0, 1.0])
    assert Units.from_json(units.as_json()) == units and units.value() == 75.0
    assert Units([], [], []).value() == 0.0
    with pytest.raises(ValueError, match="2 unit ids, 1 numerators"):
        Units(["a", "b"], [1.0], [1.0, 1.0])


def test_official_chunk_scores_keep_seqevals_arithmetic_to_the_last_bit():
    # chunk_prf (official-parity scorers) sums the per-sentence counts but keeps seqeval's F1 = 2PR / (P + R);
    # the family reports the units' ratio 2 tp / (pred + gold): equal up to float rounding.
    rng = random.Random(5)
    for _ in range(100):
        gold = [[rng.choice(NER_LABELS) for _ in range(rng.randint(1, 6))] for _ in range(rng.randint(1, 6))]
        pred = [[rng.choice(NER_LABELS) for _ in sentence] for sentence in gold]
        flat_pred = [tag for sentence in pred for tag in [*sentence, "O"]]
        flat_gold = [tag for sentence in gold for tag in [*sentence, "O"]]
        p_chunks, g_chunks = metrics.chunks(flat_pred), metrics.chunks(flat_gold)
        correct = len(p_chunks & g_chunks)
        p = correct / len(p_chunks) if p_chunks else 0.0
        r = correct / len(g_chunks) if g_chunks else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        assert metrics.chunk_prf(pred, gold) == {"precision": 100.0 * p, "recall": 100.0 * r, "f1": 100.0 * f1}
        task = empty_task("tagging", labels=NER_LABELS, metrics=("f1",))
        examples = [{"id": str(i), "tokens": ["w"] * len(g), "tags": g} for i, g in enumerate(gold)]
        assert get_family("tagging").score(task, examples, pred)["f1"] == pytest.approx(100.0 * f1, abs=1e-9)


def test_off_target_units_by_hand():
    family_name, task, examples, predictions = generation_case()
    units = get_family(family_name).example_units(task, examples, predictions)["off_target"]
    assert units.ids == ["g0", "g1", "g2"] and units.num == [0.0, 0.0, 1.0] and units.den == [1.0, 1.0, 1.0]
