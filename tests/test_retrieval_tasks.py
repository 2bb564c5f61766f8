"""The retrieval tasks as XTREME / XTREME-R define them: BUCC mining with the dev threshold, Tatoeba in the
sorted-English order of the official labels, LAReQA's pooled ranking and Mewsli-X's MRR@20, on constructed
embeddings (numbers by hand) and on the real-format samples."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import empty_task
from xstilts.errors import DataError, XstiltsError
from xstilts.families.base import EvalSet
from xstilts.families.retrieval import FAMILY
from xstilts.formats import lareqa, mewslix, tatoeba
from xstilts.scoring.official.export import render
from xstilts.scoring.official.scorers import SCORERS
from xstilts.tasks import get_task

SAMPLES = Path("/work/shared/samples")


def angle(degrees: float) -> np.ndarray:
    return np.array([math.cos(math.radians(degrees)), math.sin(math.radians(degrees))], dtype=np.float32)


def eval_set(queries: list[tuple[str, float, list[str]]], candidates: list[tuple[str, float]]) -> EvalSet:
    """Queries (id, angle, gold ids) and candidates (id, angle) as unit vectors in the plane, so every cosine
    is the cosine of an angle difference."""
    examples, features, raw = [], [], []
    for ident, degrees, gold in queries:
        features.append({"side": 0, "example_index": len(examples)})
        raw.append(angle(degrees))
        examples.append({"id": ident, "source": f"text of {ident}", "target": None, "gold_targets": gold})
    for ident, degrees in candidates:
        features.append({"side": 1, "example_index": len(examples)})
        raw.append(angle(degrees))
        examples.append({"id": ident, "source": None, "target": f"text of {ident}"})
    return EvalSet(examples, features, raw)


def mining_task(**settings):
    return empty_task("retrieval", name="mine", splits={"dev": ("fr",), "test": ("fr",)},
                      metrics=("f1", "precision", "recall"),
                      settings={"protocol": "mining", "similarity": "margin", "margin_k": 1, **settings})


# ---------------------------------------------------------------- BUCC: mining, threshold from dev


def test_mining_takes_the_threshold_from_dev():
    # k = 1: margin(x, y) = cos(x, y) / ((cos(x, NN(x)) + cos(y, NN(y))) / 2), so a mutual nearest pair scores
    # exactly 1. Dev: d1-e1 and d2-e2 are mutual (margin 1); e3 at 40 deg proposes d1 (cos 40 / ((cos 40 + 1)
    # / 2) = 0.868) but d1 is taken. Candidates {(d1,e1): 1, (d2,e2): 1}, both gold: threshold = 1.0.
    dev = eval_set([("d1", 0, ["e1"]), ("d2", 90, ["e2"])], [("e1", 0), ("e2", 90), ("e3", 40)])
    # Test: s1-u1, s2-u2 mutual (1.0); s3 (180 deg) has NN u3 (120 deg, cos 60 = 0.5) whose NN is s2 (cos 30):
    # margin(s3, u3) = 0.5 / ((0.5 + 0.866) / 2) = 0.732 < 1.0, not extracted. P = 2/2, R = 2/3, F1 = 0.8.
    test = eval_set([("s1", 0, ["u1"]), ("s2", 90, ["u2"]), ("s3", 180, ["u3"])],
                    [("u1", 0), ("u2", 90), ("u3", 120)])
    task = mining_task()
    assert FAMILY.reference_splits(task, "test") == ("dev",)
    assert FAMILY.reference_splits(task, "dev") == ()
    evaluation = FAMILY.evaluate(task, "test", test, {"dev": dev})
    predictions, scores = evaluation.predictions, evaluation.scores
    assert predictions == ["u1", "u2", None, None, None, None]
    assert scores == pytest.approx({"f1": 80.0, "precision": 100.0, "recall": 200 / 3})
    # Scored on its own gold, the test set would choose the threshold 0.732 and extract all three: F1 100.
    own_evaluation = FAMILY.evaluate(task, "dev", test, {})
    alone, own = own_evaluation.predictions, own_evaluation.scores
    assert alone[:3] == ["u1", "u2", "u3"] and own["f1"] == pytest.approx(100.0)
    with pytest.raises(XstiltsError, match="needs the model's outputs on 'dev'"):
        FAMILY.evaluate(task, "test", test, {})
    # The exported lines are the official 'src_id<TAB>en_id' pairs, and the official scorer agrees.
    rows = [(i + 1, ex["id"], p) for i, (ex, p) in enumerate(zip(test.examples, predictions, strict=True))]
    assert render("bucc2018", Path("p.jsonl"), rows) == "s1\tu1\ns2\tu2\n"


def test_mining_chance_and_settings():
    # Each of 2 queries paired with one of 3 candidates at random: E[correct] = 2 * 1/3; P = (2/3) / 2,
    # R = (2/3) / 2, F1 = 2 (2/3) / (2 + 2).
    dev = eval_set([("d1", 0, ["e1"]), ("d2", 90, ["e2"])], [("e1", 0), ("e2", 90), ("e3", 40)])
    assert FAMILY.chance(mining_task(), dev.examples) == pytest.approx(
        {"precision": 100 / 3, "recall": 100 / 3, "f1": 100 / 3})
    with pytest.raises(XstiltsError, match="set similarity: margin"):
        FAMILY.reference_splits(mining_task(similarity="cosine"), "test")
    bad = empty_task("retrieval", name="b", splits={}, metrics=("accuracy",), settings={"protocol": "mining",
                                                                                          "similarity": "margin"})
    with pytest.raises(XstiltsError, match="the mining protocol of the retrieval family does not compute the metric 'accuracy'"):
        FAMILY.score(bad, dev.examples, [None] * 5)


def test_bucc_declaration():
    task = get_task("bucc2018")
    assert task.main_metric == "f1" and FAMILY.reference_splits(task, "test") == ("dev",)


# ---------------------------------------------------------------- LAReQA / Mewsli-X: ranking


def ranking_task(metric: str):
    return empty_task("retrieval", name="rank", splits={"test": ("en",)}, metrics=(metric,),
                      settings={"protocol": "ranking"})


def test_ranking_scores_by_hand():
    # q1 (0 deg) ranks c1 (cos 1), c2 (30 deg, 0.866), c3 (90 deg, 0); q2 (90 deg) ranks c3, c2, c1.
    candidates = [("c1", 0), ("c2", 30), ("c3", 90)]
    data = eval_set([("q1", 0, ["c2", "c3"]), ("q2", 90, ["c1"])], candidates)
    evaluation = FAMILY.evaluate(ranking_task("map@20"), "test", data, {})
    predictions, scores = evaluation.predictions, evaluation.scores
    assert predictions[:2] == [["c1", "c2", "c3"], ["c3", "c2", "c1"]]
    # AP(q1) = (1/2 + 2/3) / 2 = 0.5833; AP(q2) = (1/3) / 1; mAP = 45.83.
    assert scores == pytest.approx({"map@20": 100 * ((1 / 2 + 2 / 3) / 2 + 1 / 3) / 2})
    single = eval_set([("q1", 0, ["c2"]), ("q2", 90, ["c1"])], candidates)
    scores = FAMILY.evaluate(ranking_task("mrr@20"), "test", single, {}).scores
    assert scores == pytest.approx({"mrr@20": 100 * (1 / 2 + 1 / 3) / 2})
    with pytest.raises(XstiltsError, match="exactly one gold"):
        FAMILY.evaluate(ranking_task("mrr@20"), "test", data, {})
    # Export and the official scorers read the same rankings.
    rows = [(1, "q1", ["c1", "c2", "c3"]), (2, "q2", ["c3", "c2", "c1"]), (3, "c1", None)]
    assert json.loads(render("lareqa", Path("p.jsonl"), rows)) == {"q1": ["c1", "c2", "c3"], "q2": ["c3", "c2", "c1"]}


def test_ranking_chance_is_the_mean_over_all_orders():
    # 3 candidates: enumerate the 6 orders and average AP@20 (2 golds) and RR@20 (1 gold).
    def ap(order, gold):
        hits, total = 0, 0.0
        for rank, item in enumerate(order, 1):
            if item in gold:
                hits += 1
                total += hits / rank
        return total / len(gold)

    orders = list(itertools.permutations(["c1", "c2", "c3"]))
    expected_ap = sum(ap(o, {"c2", "c3"}) for o in orders) / len(orders)  # (0.583 + 0.833 + 1) / 3
    expected_rr = sum(1 / (o.index("c1") + 1) for o in orders) / len(orders)  # (1 + 1/2 + 1/3) / 3
    two = eval_set([("q1", 0, ["c2", "c3"])], [("c1", 0), ("c2", 30), ("c3", 90)])
    one = eval_set([("q1", 0, ["c1"])], [("c1", 0), ("c2", 30), ("c3", 90)])
    assert FAMILY.chance(ranking_task("map@20"), two.examples)["map@20"] == pytest.approx(100 * expected_ap)
    assert FAMILY.chance(ranking_task("mrr@20"), one.examples)["mrr@20"] == pytest.approx(100 * expected_rr)


def test_lareqa_pool_on_the_samples(tmp_path):
    pool = lareqa.read_pool(SAMPLES / "lareqa/hf_xquad_r", ("en", "zh"))
    # en: 104 sentences, zh: 102 (counted from sentence_breaks); 153 questions each.
    assert len(pool.candidates) == 104 + 102 and len(pool.questions["en"]) == len(pool.questions["zh"]) == 153
    # The first question ("308" points) starts at 34 in en (sentence [0, 165]) and 10 in zh (sentence [0, 61]):
    # its relevant candidates are the first sentence of the first paragraph in both languages.
    assert pool.relevant["56beb4343aeaaa14008c925b"] == ["en_1_0", "zh_1_0"]
    # A candidate is encoded as its sentence followed by its whole paragraph (no newline in this one).
    first = ("The Panthers defense gave up just 308 points, ranking sixth in the league, while also leading the "
             "NFL in interceptions with 24 and boasting four Pro Bowl selections.")
    paragraph = json.loads((SAMPLES / "lareqa/hf_xquad_r/en.json").read_text())["data"][0]["paragraphs"][0]["context"]
    assert paragraph.startswith(first) and "\n" not in paragraph
    assert pool.candidates[0] == ("en_1_0", first + paragraph)
    rows = [example for _, example in lareqa.pool_examples(pool, "zh")]
    assert rows[0]["id"] == "56beb4343aeaaa14008c925b" and rows[0]["gold_targets"] == ["en_1_0", "zh_1_0"]
    assert sum(r["source"] is None for r in rows) == 206  # the candidates of both languages
    # The declared task needs all 11 files (one pool).
    shutil.copy(SAMPLES / "lareqa/hf_xquad_r/en.json", tmp_path / "en.json")
    with pytest.raises(DataError, match="pools the candidates of all 11 languages"):
        list(lareqa.read_lareqa(tmp_path, "test", "en"))
    assert get_task("lareqa").main_metric == "map@20" and len(get_task("lareqa").languages("test")) == 11


def test_mewslix_on_the_sample(tmp_path):
    shutil.copy(SAMPLES / "mewslix/google-research_testdata/example_mentions.jsonl",
                tmp_path / "wikinews_mentions-test.jsonl")
    entities = [{"entity_id": "Q1757", "title": "Helsinki", "description": "Helsinki is the capital of Finland.",
                 "sentence_spans": [{"start": 0, "end": 35}]},
                {"entity_id": "Q90", "title": "Paris", "description": "Paris is the capital of France.",
                 "sentence_spans": [{"start": 0, "end": 31}]},
                # the gold entities of the sample's two ar mentions: every gold entity must be a candidate
                {"entity_id": "Q167217", "title": "Abu Musa", "description": "Abu Musa is an island.",
                 "sentence_spans": [{"start": 0, "end": 22}]},
                {"entity_id": "Q3447452", "title": "Lesser Tunb", "description": "Lesser Tunb is an island.",
                 "sentence_spans": [{"start": 0, "end": 25}]}]
    (tmp_path / mewslix.CANDIDATES_FILE).write_text("".join(json.dumps(e) + "\n" for e in entities))
    rows = [example for _, example in mewslix.read_mewslix(tmp_path / "wikinews_mentions-test.jsonl", "test", "en")]
    # The en mention "Helsinki" [50, 58) lies in sentence [47, 187), marked with braces (the exact strings are
    # checked in test_retrieval_texts.py).
    assert rows[0] == {"id": "c79595350cc2d5c7f2b095e2cb785212", "target": None, "gold_targets": ["Q1757"],
                       "source": "Helsinki: In { Helsinki } , the Finnish trade union for bus and truck drivers has "
                                 "gone on strike on Sunday evening, mainly over the use of part-time labor."}
    assert [r["id"] for r in rows[1:]] == ["Q1757", "Q90", "Q167217", "Q3447452"]
    ar = [example for _, example in mewslix.read_mewslix(tmp_path / "wikinews_mentions-test.jsonl", "test", "ar")]
    assert [r["gold_targets"] for r in ar[:2]] == [["Q167217"], ["Q3447452"]]
    with pytest.raises(DataError, match="no mention in language 'pl'"):
        list(mewslix.read_mewslix(tmp_path / "wikinews_mentions-test.jsonl", "test", "pl"))
    (tmp_path / mewslix.CANDIDATES_FILE).unlink()
    with pytest.raises(DataError, match="missing Mewsli-X candidate set"):
        list(mewslix.read_mewslix(tmp_path / "wikinews_mentions-test.jsonl", "test", "en"))
    # The official scorer's map@20 is the family's mrr@20: gold at rank 2 of the exported ranking.
    (tmp_path / "p.json").write_text(json.dumps({"c79595350cc2d5c7f2b095e2cb785212": ["Q90", "Q1757"]}))
    (tmp_path / "g.json").write_text(json.dumps({"c79595350cc2d5c7f2b095e2cb785212": ["Q1757"]}))
    assert SCORERS["mewslix"](tmp_path / "p.json", tmp_path / "g.json", "en") == {"map@20": 50.0}
    query = {"id": "q", "source": "x", "target": None, "gold_targets": ["Q1757"]}
    assert FAMILY.score(get_task("mewslix"), [query], [["Q90", "Q1757"]]) == {"mrr@20": 50.0}


# ---------------------------------------------------------------- Tatoeba: the sorted English file


@pytest.mark.parametrize("language", ["de", "zh", "ar", "ja"])
def test_tatoeba_ids_in_order_are_the_official_labels(language):
    # The official mock labels (xtreme mock_test_data) are the first 10 lines of the real labels: the
    # 0-based line, in the other language's file, of each English sentence in sorted order.
    path = SAMPLES / "tatoeba/laser_v1" / tatoeba.file_name(language)
    rows = [example for _, example in tatoeba.read_tatoeba(path, "test", language)]
    mock = (SAMPLES / f"xtreme_mock_submission/labels/tatoeba/test-{language}.tsv").read_text().split()
    assert [row["id"] for row in rows[:10]] == mock
    english = tatoeba.english_file(path).read_text(encoding="utf-8").splitlines()
    assert [row["source"] for row in rows] == sorted(line.strip() for line in english)


def test_tatoeba_prediction_lines_are_retrieved_indices():
    # Queries (English, sorted) and candidates share ids = lines in the other file; a retrieved id is the line.
    rows = [(1, "687", "687"), (2, "981", "504"), (3, "504", "981")]
    assert render("tatoeba", Path("p.jsonl"), rows) == "687\n504\n981\n"
    task = get_task("tatoeba")
    examples = [{"id": i, "source": "e", "target": "x"} for i in ("687", "981", "504")]
    assert FAMILY.score(task, examples, ["687", "504", "981"]) == pytest.approx({"accuracy": 100 / 3})
