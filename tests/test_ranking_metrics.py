"""AP@k and RR@k (LAReQA's and Mewsli-X's official definitions), by hand; the engine and `xstilts score` agree."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from xstilts.scoring.metrics import (
    average_precision_at_k,
    average_precision_units,
    mean_average_precision_at_k,
    mean_reciprocal_rank_at_k,
    reciprocal_rank_at_k,
    reciprocal_rank_units,
)
from xstilts.scoring.official.scorers import SCORERS, lareqa_question_scores

# ---------------------------------------------------------------- AP@k


def test_average_precision_by_hand():
    # relevant {a, c}: hits at ranks 1 and 3 -> (1/1 + 2/3) / min(2, 20) = 5/6
    assert average_precision_at_k({"a", "c"}, ["a", "b", "c", "d"], k=20) == pytest.approx(5 / 6)
    # all relevant first: 1
    assert average_precision_at_k(["c", "a"], ["a", "c", "b"], k=20) == pytest.approx(1.0)
    # nothing ranked: 0
    assert average_precision_at_k({"a"}, [], k=20) == 0.0


def test_average_precision_counts_a_repeated_candidate_once():
    # relevant {a, b}, ranking a, a, b: rank 1 is a hit (1/1); rank 2 repeats a and is no hit, but takes its
    # rank; rank 3 is the 2nd hit (2/3) -> (1 + 2/3) / 2 = 5/6. Counting the repeat would give
    # (1/1 + 2/2 + 3/3) / 2 = 1.5, above the maximum of 1.
    assert average_precision_at_k({"a", "b"}, ["a", "a", "b"], k=20) == pytest.approx(5 / 6)
    # relevant {a}, ranking a, a: 1/1 over 1 -> 1 (not 2)
    assert average_precision_at_k({"a"}, ["a", "a"], k=20) == pytest.approx(1.0)
    # a ranking that only repeats the one relevant candidate can never exceed a perfect one
    assert average_precision_at_k({"a", "b"}, ["a"] * 30, k=20) == pytest.approx(0.5)


def test_average_precision_cut_off():
    # k = 2: only rank 1 (a) counts; normalised by min(2, 2) = 2 -> 1/2
    assert average_precision_at_k({"a", "c"}, ["a", "b", "c"], k=2) == pytest.approx(0.5)
    # no relevant candidate within the top k -> 0, though it is at rank 3
    assert average_precision_at_k({"c"}, ["a", "b", "c"], k=2) == 0.0


def test_average_precision_with_more_relevant_candidates_than_k():
    # 4 relevant, k = 2: divisor min(4, 2) = 2, so a perfect top 2 scores 1
    assert average_precision_at_k({"a", "b", "c", "d"}, ["a", "b", "x"], k=2) == pytest.approx(1.0)
    # x, a: one hit at rank 2 (1/2) over 2 -> 1/4
    assert average_precision_at_k({"a", "b", "c", "d"}, ["x", "a"], k=2) == pytest.approx(0.25)


def test_average_precision_refuses_what_is_undefined():
    with pytest.raises(ValueError, match="no relevant candidate"):
        average_precision_at_k(set(), ["a"], k=20)
    for k in (0, -1, None, 2.0, True):
        with pytest.raises(ValueError, match="cut-off"):
            average_precision_at_k({"a"}, ["a"], k=k)


def test_mean_average_precision_and_units():
    relevant, rankings = [{"a", "c"}, {"a"}], [["a", "b", "c"], ["b", "a"]]
    # 5/6 (hits at 1 and 3) and 1/2 (hit at 2), each over 1
    assert average_precision_units(relevant, rankings, k=20) == (pytest.approx([5 / 6, 1 / 2]), [1.0, 1.0])
    assert mean_average_precision_at_k(relevant, rankings, k=20) == pytest.approx(100 * (5 / 6 + 1 / 2) / 2)
    with pytest.raises(ValueError, match="one ranking per query"):
        average_precision_units(relevant, rankings[:1], k=20)
    with pytest.raises(ValueError, match="one ranking per query"):
        average_precision_units([], [], k=20)


# ---------------------------------------------------------------- RR@k


def test_reciprocal_rank_by_hand():
    assert reciprocal_rank_at_k("g", ["x", "g"], k=20) == pytest.approx(1 / 2)
    assert reciprocal_rank_at_k("g", ["g"], k=20) == 1.0
    assert reciprocal_rank_at_k("g", ["x"], k=20) == 0.0
    assert reciprocal_rank_at_k("g", [], k=20) == 0.0
    # the first occurrence counts; repeats before it take their ranks
    assert reciprocal_rank_at_k("g", ["g", "g"], k=20) == 1.0
    assert reciprocal_rank_at_k("g", ["x", "x", "g"], k=20) == pytest.approx(1 / 3)
    # cut-off: rank 3 is outside the top 2
    assert reciprocal_rank_at_k("g", ["x", "x", "g"], k=2) == 0.0
    with pytest.raises(ValueError, match="cut-off"):
        reciprocal_rank_at_k("g", ["g"], k=0)


def test_mean_reciprocal_rank_and_units():
    # gold at rank 2, at rank 1, absent -> (1/2 + 1 + 0) / 3
    rankings = [["x", "g"], ["g"], ["x"]]
    assert reciprocal_rank_units(["g"] * 3, rankings, k=20) == (pytest.approx([0.5, 1.0, 0.0]), [1.0] * 3)
    assert mean_reciprocal_rank_at_k(["g"] * 3, rankings, k=20) == pytest.approx(50.0)
    assert mean_reciprocal_rank_at_k(["g"], [[]], k=20) == 0.0
    with pytest.raises(ValueError, match="one ranking per query"):
        reciprocal_rank_units(["g"], [], k=20)


# ---------------------------------------------------------------- the engine and the official scorer agree

# (ranking, relevant) per query: a repeat, a cut-off at 20, no hit, more relevant candidates than k...
LAREQA = {
    "q1": (["a", "a", "b"], ["a", "b"]),  # 5/6
    "q2": ([f"x{i}" for i in range(20)] + ["a"], ["a"]),  # relevant at rank 21: 0
    "q3": (["b", "a"], ["a"]),  # 1/2
    "q4": ([f"r{i}" for i in range(20)], [f"r{i}" for i in range(25)]),  # perfect top 20 of 25: 1
    "q5": ([], ["a"]),  # nothing ranked: 0
}
MEWSLIX = {
    "m1": (["x", "g", "g"], "g"),  # 1/2
    "m2": (["g", "g"], "g"),  # 1
    "m3": ([f"x{i}" for i in range(20)] + ["g"], "g"),  # gold at rank 21: 0
    "m4": (["x", "x", "y", "g"], "g"),  # 1/4
}


def _engine_units(queries: list[tuple[list[str], list[str]]], metrics: list[str]) -> dict:
    from xstilts.families.retrieval import _ranking_units

    return _ranking_units(SimpleNamespace(name="t", metrics=metrics), queries)


def _files(tmp_path: Path, task: str, cases: dict, gold_of) -> tuple[Path, Path]:
    prediction, label = tmp_path / f"{task}-pred.json", tmp_path / f"{task}-gold.json"
    prediction.write_text(json.dumps({key: ranking for key, (ranking, _) in cases.items()}))
    label.write_text(json.dumps({key: gold_of(gold) for key, (_, gold) in cases.items()}))
    return prediction, label


def test_engine_and_scorer_agree_on_lareqa_rankings(tmp_path):
    expected = [5 / 6, 0.0, 1 / 2, 1.0, 0.0]
    num, den = _engine_units(list(LAREQA.values()), ["map@20"])["map@20"]
    assert num == pytest.approx(expected) and den == [1.0] * 5
    prediction, label = _files(tmp_path, "lareqa", LAREQA, list)
    assert lareqa_question_scores(prediction, label) == pytest.approx(expected)
    assert SCORERS["lareqa"](prediction, label, "de") == pytest.approx({"map@20": 100 * sum(expected) / 5})


def test_engine_and_scorer_agree_on_mewslix_rankings(tmp_path):
    expected = [1 / 2, 1.0, 0.0, 1 / 4]
    units = _engine_units([(ranking, [gold]) for ranking, gold in MEWSLIX.values()], ["map@20", "mrr@20"])
    assert units["mrr@20"][0] == pytest.approx(expected)
    # with one gold per query AP@k is RR@k: the task's map@20 and mrr@20 agree on every query
    assert units["map@20"][0] == pytest.approx(expected)
    prediction, label = _files(tmp_path, "mewslix", MEWSLIX, lambda gold: [gold])
    assert SCORERS["mewslix"](prediction, label, "en") == pytest.approx({"map@20": 100 * sum(expected) / 4})
