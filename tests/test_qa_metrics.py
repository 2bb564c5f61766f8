"""QA metrics inside studies: the span_qa family scores MLQA tasks with MLQA's per-language normalisation
(``mlqa_f1`` / ``mlqa_exact_match``) and XQuAD / TyDiQA / SQuAD with SQuAD v1.1's, through the same code as
the official scorers (scoring/official/qa.py). Expected values are computed by hand in the comments."""

from __future__ import annotations

import json

import pytest

from helpers import empty_task
from xstilts.errors import XstiltsError
from xstilts.families.span_qa import FAMILY, span_chance
from xstilts.scoring.metrics import answer_f1, mlqa_normalize, squad_em_f1
from xstilts.scoring.official import qa as official_qa
from xstilts.tasks import get_task


def example(id_: str, context: str, answer: str, language: str) -> dict:
    return {"id": id_, "question": "?", "context": context, "language": language,
            "answers": [{"text": answer, "start": context.index(answer)}]}


def mlqa_task(**settings):
    return empty_task("span_qa", name="qa", metrics=("mlqa_f1", "mlqa_exact_match", "f1", "exact_match"),
                      settings=settings)


# (language, context, gold, prediction, MLQA (EM, F1), SQuAD (EM, F1)) in percent.
CASES = [
    # ar: every "ال" becomes a space, also inside words: gold "الكتاب الجديد" -> [كتاب, جديد]; the prediction
    # [كتاب] shares 1 token: P = 1, R = 1/2, F1 = 2/3. SQuAD keeps "الكتاب" and "الجديد": nothing shared.
    ("ar", "قرأ الكتاب الجديد", "الكتاب الجديد", "كتاب", (0.0, 200 / 3), (0.0, 0.0)),
    # ar inside a word: "مالك" -> "م ك" ([م, ك]); the prediction "م ك" matches exactly under MLQA only.
    ("ar", "اسمه مالك", "مالك", "م ك", (100.0, 100.0), (0.0, 0.0)),
    # zh: one token per CJK character, "。" dropped: gold "北京大学" -> [北, 京, 大, 学], prediction "北京。"
    # -> [北, 京]: P = 1, R = 1/2, F1 = 2/3. SQuAD: "北京大学" vs "北京。" are single different tokens.
    ("zh", "他在北京大学读书", "北京大学", "北京。", (0.0, 200 / 3), (0.0, 0.0)),
    # es: articles el/la/los/las/un/una/unos/unas and "¿" (Unicode punctuation) go: both -> "río amazonas".
    # SQuAD: gold [el, río, amazonas] vs [¿río, amazonas]: 1 shared, P = 1/2, R = 1/3, F1 = 2/5.
    ("es", "Es el río Amazonas", "el río Amazonas", "¿Río Amazonas", (100.0, 100.0), (0.0, 40.0)),
    # de: "der" goes: both -> "rhein". SQuAD: [der, rhein] vs [rhein]: P = 1, R = 1/2, F1 = 2/3.
    ("de", "Das ist der Rhein", "der Rhein", "Rhein", (100.0, 100.0), (0.0, 200 / 3)),
]


@pytest.mark.parametrize("language, context, gold, prediction, mlqa, squad", CASES)
def test_mlqa_and_squad_metrics_by_hand(language, context, gold, prediction, mlqa, squad):
    scores = FAMILY.score(mlqa_task(), [example("q", context, gold, language)], [prediction])
    assert scores["mlqa_exact_match"] == pytest.approx(mlqa[0])
    assert scores["mlqa_f1"] == pytest.approx(mlqa[1])
    assert scores["exact_match"] == pytest.approx(squad[0])
    assert scores["f1"] == pytest.approx(squad[1])


def test_languages_are_scored_apart_and_weighted_by_size():
    # One call with 2 de questions and 1 zh question: de 1 exact ("der Rhein" vs "Rhein"), de 2 wrong
    # ("Main" vs "Elbe": 0), zh F1 2/3 (as above). EM = (1 + 0 + 0) / 3, F1 = (1 + 0 + 2/3) / 3 = 5/9.
    examples = [example("d1", "Das ist der Rhein", "der Rhein", "de"), example("d2", "die Elbe", "Elbe", "de"),
                example("z", "他在北京大学读书", "北京大学", "zh")]
    scores = FAMILY.score(mlqa_task(), examples, ["Rhein", "Main", "北京"])
    assert scores["mlqa_exact_match"] == pytest.approx(100 / 3)
    assert scores["mlqa_f1"] == pytest.approx(500 / 9)


def test_mlqa_metrics_need_each_examples_language():
    bad = example("q", "der Rhein", "Rhein", "")
    with pytest.raises(XstiltsError, match=r"task 'qa': the MLQA metrics .* example 'q' has language ''"):
        FAMILY.score(mlqa_task(), [bad], ["Rhein"])
    with pytest.raises(XstiltsError, match="language 'fr'"):
        FAMILY.score(mlqa_task(), [example("q", "le Rhin", "Rhin", "fr")], ["Rhin"])


def test_declared_tasks_pick_their_official_normalisation():
    assert get_task("mlqa").metrics == ("mlqa_f1", "mlqa_exact_match")
    assert get_task("xglue-mlqa").metrics == ("mlqa_f1", "mlqa_exact_match")
    for name in ("xquad", "tydiqa", "squad"):
        assert get_task(name).metrics == ("f1", "exact_match")


def test_study_scores_equal_the_official_scorer(tmp_path):
    # The same predictions scored by the family (per example) and by the official MLQA / v1.1 scripts (per
    # label file) must agree, including an answer that normalises to nothing: gold "the" -> "" under SQuAD
    # v1.1 (and "ال" under MLQA ar); the v1.1 / MLQA F1 of an empty prediction is 0 there, its EM 1.
    cases = [("de", "mlqa_", [("Das ist der Rhein", "der Rhein", "Rhein"), ("die Elbe", "Elbe", "Main")]),
             ("ar", "mlqa_", [("قرأ الكتاب", "الكتاب", "كتاب"), ("ال ولد", "ال", "")]),
             ("en", "", [("the big box", "the", "a"), ("the big box", "big box", "box")])]
    for language, prefix, rows in cases:
        examples = [example(f"q{i}", c, g, language) for i, (c, g, _) in enumerate(rows)]
        predictions = [p for _, _, p in rows]
        metrics = ("mlqa_f1", "mlqa_exact_match") if prefix else ("f1", "exact_match")
        task = empty_task("span_qa", name="qa", metrics=metrics)
        ours = FAMILY.score(task, examples, predictions)
        articles = [{"paragraphs": [{"context": ex["context"], "qas": [
            {"id": ex["id"], "answers": [{"text": ex["answers"][0]["text"]}]}]} for ex in examples]}]
        answers = {ex["id"]: p for ex, p in zip(examples, predictions, strict=True)}
        label, prediction = tmp_path / "label.json", tmp_path / "prediction.json"
        label.write_text(json.dumps({"data": articles}))
        prediction.write_text(json.dumps(answers))
        official = (official_qa.mlqa(articles, answers, language, label, prediction) if prefix
                    else official_qa.squad_v11(articles, answers, label, prediction))
        assert ours == pytest.approx({prefix + "f1": official["f1"], prefix + "exact_match": official["exact_match"]})
    # The en case by hand: q0 gold "the" and prediction "a" both normalise to "": EM 1, F1 0 (v1.1 rule);
    # q1 "box" vs "big box": EM 0, F1 2 * (1 * 1/2) / (3/2) = 2/3. Means: EM 50, F1 100/3.
    assert ours == pytest.approx({"f1": 100 / 3, "exact_match": 50.0})


def test_null_rules():
    # SQuAD 2.0 scores "" against a gold that normalises to "" as F1 1; v1.1 and MLQA as 0.
    assert answer_f1("", "the") == 1.0 and answer_f1("", "the", null_match=False) == 0.0
    # A question with no gold answer (unanswerable) is right only with "", whatever the rule.
    assert squad_em_f1(["", "x"], [[], []], null_match=False) == {"exact_match": 50.0, "f1": 50.0}
    assert mlqa_normalize("ال", "ar") == ""


def test_chance_with_mlqa_normalisation():
    # Context "الكتاب جديد" (2 words), gold "كتاب", spans of 1..30 words: "الكتاب" -> [كتاب] (EM 1, F1 1),
    # "جديد" (0, 0), "الكتاب جديد" -> [كتاب, جديد] (EM 0, F1 2 * (1/2 * 1) / (3/2) = 2/3).
    # MLQA: EM 1/3, F1 (1 + 2/3) / 3 = 5/9. SQuAD: "الكتاب" never equals "كتاب": 0 and 0.
    ex = {"id": "q", "question": "?", "context": "الكتاب جديد", "language": "ar",
          "answers": [{"text": "كتاب", "start": 2}]}
    chance = FAMILY.chance(mlqa_task(), [ex])
    assert chance == pytest.approx({"mlqa_f1": 500 / 9, "mlqa_exact_match": 100 / 3, "f1": 0.0, "exact_match": 0.0})
    assert span_chance("الكتاب جديد", ["كتاب"], 30, False) == (0.0, 0.0)
