"""Official-parity scoring: every expected number below is computed by hand from the official definitions
(google-research/xtreme evaluate.py, the SQuAD v1.1 and MLQA scripts, Mewsli-X and LAReQA code, seqeval
0.0.12's chunk rules), never copied from our output."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xstilts.cli import app, main
from xstilts.errors import DataError
from xstilts.scoring.official import layout, qa, xglue
from xstilts.scoring.official.aggregate import evaluate
from xstilts.scoring.official.scorers import SCORERS

MOCK = Path("/work/shared/samples/xtreme_mock_submission")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pair(tmp_path: Path, task: str, language: str, prediction: str, label: str) -> tuple[Path, Path]:
    return (write(layout.task_file(tmp_path / "pred", task, language), prediction),
            write(layout.task_file(tmp_path / "gold", task, language), label))


def squad_file(questions: list[tuple[str, list[str]]]) -> str:
    qas = [{"id": qid, "question": "?", "answers": [{"text": t, "answer_start": 0} for t in golds]}
           for qid, golds in questions]
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]})


# ---------------------------------------------------------------- per task, by hand


def test_xnli_accuracy_is_exact_line_equality(tmp_path):
    p, g = pair(tmp_path, "xnli", "en", "entailment\ncontradiction\ncontradiction\nneutral\n",
                "entailment\nneutral\ncontradiction\nneutral\n")
    assert SCORERS["xnli"](p, g, "en") == {"accuracy": 75.0}  # 3 of 4 lines equal


def test_udpos_is_seqeval_0012_chunks_of_raw_upos(tmp_path):
    # Gold  SCONJ SCONJ NOUN NOUN VERB | NOUN: 'S' prefix -> two singletons (SCONJ,0,0) (SCONJ,1,1); the NOUN
    # run merges into (NOUN,2,3); (VERB,4,4); the separator 'O' sits at 5, so the second sentence is (NOUN,6,6).
    # Pred  SCONJ NOUN NOUN NOUN VERB  | NOUN: (SCONJ,0,0) (NOUN,1,3) (VERB,4,4) (NOUN,6,6).
    # correct 3 of 4 predicted, 5 gold: P = 3/4, R = 3/5, F1 = 2PR/(P+R) = 0.9/1.35 = 2/3.
    # (Token accuracy would be 5/6: the official number is not a per-token score.)
    p, g = pair(tmp_path, "udpos", "en", "SCONJ\nNOUN\nNOUN\nNOUN\nVERB\n\nNOUN\n",
                "SCONJ\nSCONJ\nNOUN\nNOUN\nVERB\n\nNOUN\n")
    result = SCORERS["udpos"](p, g, "en")
    assert list(result) == ["f1", "precision", "recall"]
    assert result["precision"] == pytest.approx(75.0)
    assert result["recall"] == pytest.approx(60.0)
    assert result["f1"] == pytest.approx(200 / 3)


def test_panx_micro_chunk_prf(tmp_path):
    # gold (PER,0,1) (LOC,3,3); predicted (PER,0,1) (ORG,3,3): 1 of 2 either way.
    p, g = pair(tmp_path, "panx", "de", "B-PER\nI-PER\nO\nB-ORG\n", "B-PER\nI-PER\nO\nB-LOC\n")
    assert SCORERS["panx"](p, g, "de") == {"f1": 50.0, "precision": 50.0, "recall": 50.0}


def test_squad_v11_em_f1_max_over_golds_missing_ids_and_articles(tmp_path):
    label = squad_file([
        ("q1", ["The Eiffel Tower"]),              # pred "eiffel tower!" -> both "eiffel tower": EM 1, F1 1
        ("q2", ["Paris", "in Paris, France"]),     # pred "Paris France": EM 0; F1 vs "paris" = 2/3,
                                                   #   vs "in paris france" P 1 R 2/3 -> 0.8; max 0.8
        ("q3", ["Lyon"]),                          # no prediction: 0 and 0
        ("q4", ["the"]),                           # pred "a": both normalise to "" -> EM 1, v1.1 F1 0
    ])
    prediction = json.dumps({"q1": "eiffel tower!", "q2": "Paris France", "q4": "a", "extra": "ignored"})
    p, g = pair(tmp_path, "xquad", "en", prediction, label)
    with layout.collecting_notes() as notes:
        result = SCORERS["xquad"](p, g, "en")
    # As the official script, which prints "Unanswered question q3 will receive score 0.", we say so.
    assert notes.lines() == [f"{p}: 1 of the 4 questions of {g} has no prediction, e.g. 'q3': each scores 0, as "
                             "in the official scorer",
                             f"{p}: 1 id is no question of {g}, e.g. 'extra': ignored, as in the official scorer"]
    assert result["exact_match"] == pytest.approx(100 * 2 / 4)
    assert result["f1"] == pytest.approx(100 * 1.8 / 4)


def test_mlqa_normalisation_per_language():
    # Unicode punctuation goes (SQuAD's ASCII set would keep the inverted question mark).
    assert qa.mlqa_normalize("¿Dónde?", "es") == "dónde"
    assert qa.squad_normalize("¿Dónde?") == "¿dónde"
    assert qa.mlqa_normalize("El perro", "es") == "perro"
    assert qa.mlqa_normalize("Der Hund", "de") == "hund"
    # Arabic: every "ال" becomes a space, also inside a word ("مالك" -> "م ك").
    assert qa.mlqa_normalize("الكتاب الجديد", "ar") == "كتاب جديد"
    assert qa.mlqa_normalize("مالك", "ar") == "م ك"
    # Chinese: each CJK character is a token, Latin runs split on white space.
    assert qa.mlqa_normalize("abc 北京大学。", "zh") == "abc 北 京 大 学"
    with pytest.raises(ValueError, match="fr"):
        qa.mlqa_normalize("x", "fr")


def test_mlqa_scores_with_language_rules(tmp_path):
    label = squad_file([("z1", ["北京大学"]), ("z2", ["上海"])])
    # z1: pred tokens 北 京 vs gold 北 京 大 学: EM 0, P 1, R 1/2, F1 2/3. z2: exact -> 1, 1.
    p, g = pair(tmp_path, "mlqa", "zh", json.dumps({"z1": "北京", "z2": "上海。"}), label)
    result = SCORERS["mlqa"](p, g, "zh")
    assert result["exact_match"] == pytest.approx(50.0)
    assert result["f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)
    # Arabic: "ال" removal makes "الكتاب" and "كتاب" equal: EM 1.
    p, g = pair(tmp_path, "mlqa", "ar", json.dumps({"a1": "كتاب"}), squad_file([("a1", ["الكتاب"])]))
    assert SCORERS["mlqa"](p, g, "ar") == {"exact_match": 100.0, "f1": 100.0}
    with pytest.raises(DataError, match="fr"):
        qa.mlqa(json.loads(squad_file([("a", ["x"])]))["data"], {}, "fr", g, p)


def test_bucc_set_based_prf(tmp_path):
    # gold 3 pairs; predictions {(de-1,en-1), (de-2,en-9)} (the repeated line counts once): 1 correct.
    # P = 1/2, R = 1/3, F1 = 2 * 1/6 / (5/6) = 0.4.
    p, g = pair(tmp_path, "bucc2018", "de", "de-1\ten-1\nde-2\ten-9\nde-1\ten-1\n",
                "de-1\ten-1\nde-2\ten-2\nde-3\ten-3\n")
    result = SCORERS["bucc2018"](p, g, "de")
    assert result == pytest.approx({"f1": 40.0, "precision": 50.0, "recall": 100 / 3})


def test_tatoeba_and_xcopa_accuracy(tmp_path):
    p, g = pair(tmp_path, "tatoeba", "de", "3\n2\n2\n", "3\n1\n2\n")
    assert SCORERS["tatoeba"](p, g, "de") == pytest.approx({"accuracy": 200 / 3})
    p, g = pair(tmp_path, "xcopa", "et", '{"label": 0}\n{"label": 0}\n{"label": 1}\n',
                '{"idx": 0, "label": 0}\n{"idx": 1, "label": 1}\n{"idx": 2, "label": 1}\n')
    assert SCORERS["xcopa"](p, g, "et") == pytest.approx({"accuracy": 200 / 3})


def test_mewslix_mrr_at_20(tmp_path):
    ranked_late = [f"Q{i}" for i in range(100, 120)] + ["Q4"]  # gold at rank 21: outside the top 20 -> 0
    prediction = {"e1": ["Q1", "Q9"], "e2": ["Q7", "Q8", "Q2"], "e4": ranked_late}
    gold = {"e1": ["Q1"], "e2": ["Q2 "], "e3": ["Q3"], "e4": ["Q4"]}
    # reciprocal ranks 1, 1/3 (gold id stripped), 0 (missing), 0 -> mean 1/3.
    p, g = pair(tmp_path, "mewslix", "en", json.dumps(prediction), json.dumps(gold))
    with layout.collecting_notes():
        assert SCORERS["mewslix"](p, g, "en") == pytest.approx({"map@20": 100 / 3})


def test_lareqa_map_at_20(tmp_path):
    gold = {"q1": ["c1", "c2"], "q2": ["c5"], "q3": ["c7"]}
    prediction = {"q1": ["c1", "x", "c2"], "q2": ["x", "c5"]}
    # AP@20: q1 (1/1 + 2/3) / 2 = 5/6; q2 (1/2) / 1 = 1/2; q3 missing 0 -> mean 4/9.
    p, g = pair(tmp_path, "lareqa", "de", json.dumps(prediction), json.dumps(gold))
    with layout.collecting_notes():
        assert SCORERS["lareqa"](p, g, "de") == pytest.approx({"map@20": 400 / 9})


def test_lareqa_task_score_pools_the_questions_of_all_languages(tmp_path):
    # de: one question, AP@20 1. en: three questions, AP@20 0 (wrong), 1/2 (gold second), 0 (wrong).
    # Per language: de 100, en 100/6. The task score is LAReQA's mean_avg_prec_at_k over ONE list of all four
    # questions: (1 + 0 + 1/2 + 0) / 4 = 37.5 (the mean of the two language means would be 58.33).
    pair(tmp_path, "lareqa", "de", json.dumps({"q1": ["c1"]}), json.dumps({"q1": ["c1"]}))
    pair(tmp_path, "lareqa", "en", json.dumps({"q2": ["x"], "q3": ["x", "c3"], "q4": ["y"]}),
         json.dumps({"q2": ["c2"], "q3": ["c3"], "q4": ["c4"]}))
    report = evaluate("xtreme-r", tmp_path / "pred", tmp_path / "gold", partial=True, notes=[])
    assert report["lareqa"]["map@20"] == pytest.approx({"de": 100.0, "en": 100 / 6})
    assert report["lareqa"]["avg_map@20"] == pytest.approx(37.5)
    assert report["lareqa"]["avg_metric"] == pytest.approx(37.5)


def test_read_squad_unwraps_data_for_predictions_and_labels(tmp_path):
    # evaluate.py's read_squad returns dataset_json["data"] whenever the key is there, for QA and Mewsli-X
    # files alike: a wrapped prediction file scores as the bare one.
    label = squad_file([("q1", ["Paris"]), ("q2", ["Lyon"])])
    for task in ("xquad", "tydiqa", "mlqa"):
        p, g = pair(tmp_path, task, "en", json.dumps({"data": {"q1": "Paris", "q2": "Nice"}}), label)
        assert SCORERS[task](p, g, "en") == pytest.approx({"exact_match": 50.0, "f1": 50.0})
    # Mewsli-X: ranks 1 and 2 -> (1 + 1/2) / 2; LAReQA (ours, read the same way): AP 1 and 1/2.
    for task in ("mewslix", "lareqa"):
        p, g = pair(tmp_path, task, "en", json.dumps({"data": {"e1": ["Q1"], "e2": ["Q9", "Q2"]}}),
                    json.dumps({"data": {"e1": ["Q1"], "e2": ["Q2"]}}))
        assert SCORERS[task](p, g, "en") == pytest.approx({"map@20": 75.0})


@pytest.mark.parametrize("task", ["xquad", "mlqa", "tydiqa", "mewslix", "lareqa"])
def test_prediction_ids_sharing_nothing_with_the_labels_are_an_error(tmp_path, task):
    if task in layout.QA_TASKS:
        label = squad_file([("q1", ["Paris"]), ("q2", ["Lyon"])])
        wrong, empty = json.dumps({"0": "Paris"}), json.dumps({"data": {}})
    else:
        label = json.dumps({"q1": ["Q1"], "q2": ["Q2"]})
        wrong, empty = json.dumps({"0": ["Q1"]}), json.dumps({})
    p, g = pair(tmp_path, task, "en", wrong, label)
    with pytest.raises(DataError) as caught:
        SCORERS[task](p, g, "en")
    message = str(caught.value)
    assert caught.value.path == str(p)
    assert "it has 1 ids, e.g. '0'" in message and "the labels have 2, e.g. 'q1'" in message
    assert "The ids must be the label file's" in message
    p, g = pair(tmp_path, task, "en", empty, label)
    with pytest.raises(DataError, match="it has no ids; the labels have 2"):
        SCORERS[task](p, g, "en")


def test_score_command_stops_on_prediction_ids_of_another_file(tmp_path, monkeypatch, capsys):
    for language in layout.TASK_LANGUAGES["xtreme"]["tydiqa"]:
        pair(tmp_path, "tydiqa", language, json.dumps({"q1": "Paris"}), squad_file([("q1", ["Paris"])]))
    pair(tmp_path, "tydiqa", "fi", json.dumps({"other-q": "Paris"}), squad_file([("q1", ["Paris"])]))
    monkeypatch.setattr(sys, "argv", ["xstilts", "score", "--benchmark", "xtreme", "--predictions",
                                      str(tmp_path / "pred"), "--labels", str(tmp_path / "gold"), "--output",
                                      str(tmp_path / "r.json")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and "tydiqa/test-fi.json" in error and "none of its ids" in error


# ---------------------------------------------------------------- bad files


def test_bad_files_name_file_and_line(tmp_path):
    p, g = pair(tmp_path, "xnli", "en", "entailment\nneutral\n", "entailment\nneutral\nneutral\n")
    with pytest.raises(DataError) as caught:
        SCORERS["xnli"](p, g, "en")
    assert caught.value.path == str(p) and caught.value.line == 3 and "2 lines" in str(caught.value)
    # A prediction outside the label set is counted as the official scorer counts it (wrong), with a note.
    p, g = pair(tmp_path, "xnli", "en", "entailment\nentailmnet\n", "entailment\nneutral\n")
    with layout.collecting_notes() as notes:
        assert SCORERS["xnli"](p, g, "en") == {"accuracy": 50.0}
    assert notes.lines() == [f"{p}: 1 of 2 labels is not an xnli label, e.g. line 2: 'entailmnet' (expected "
                             "contradiction, entailment, neutral); the official scorer scores them as given, and so "
                             "does this one"]
    p, g = pair(tmp_path, "xquad", "en", '{"q1": "Paris", "q2": ', squad_file([("q1", ["Paris"])]))
    with pytest.raises(DataError) as caught:
        SCORERS["xquad"](p, g, "en")
    assert caught.value.path == str(p) and "truncated" in str(caught.value)
    p, g = pair(tmp_path, "udpos", "en", "NOUN\n\nNOUN\nVERB\nX\n", "NOUN\n\nNOUN\nVERB\n")
    with pytest.raises(DataError) as caught:
        SCORERS["udpos"](p, g, "en")
    assert caught.value.line == 3 and "sentence 2 has 3 tags" in str(caught.value)
    # UD-POS: gold (NOUN,0,0) (VERB,1,1); predicted (NOUN,0,0) (VERBB,1,1): P = R = F1 = 1/2, with a note.
    p, g = pair(tmp_path, "udpos", "en", "NOUN\nVERBB\n", "NOUN\nVERB\n")
    with layout.collecting_notes() as notes:
        assert SCORERS["udpos"](p, g, "en") == {"f1": 50.0, "precision": 50.0, "recall": 50.0}
    assert len(notes.lines()) == 1 and "line 2: 'VERBB'" in notes.lines()[0]
    p, g = pair(tmp_path, "xcopa", "et", '{"label": "1"}\n', '{"label": 1}\n')
    with pytest.raises(DataError) as caught:
        SCORERS["xcopa"](p, g, "et")
    assert caught.value.line == 1 and "integer" in str(caught.value)


def test_missing_language_file_is_named(tmp_path):
    pair(tmp_path, "pawsx", "de", "1\n", "1\n")
    with pytest.raises(DataError, match="pawsx/test-en.tsv"):
        evaluate("xtreme", tmp_path / "pred", tmp_path / "gold")


# ---------------------------------------------------------------- the official mock submission


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().split("\n")[:-1]]


def test_mock_submission_end_to_end(tmp_path):
    result = CliRunner().invoke(app, ["score", "--benchmark", "xtreme", "--predictions", str(MOCK / "predictions"),
                                      "--labels", str(MOCK / "labels"), "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    tasks = ["pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba", "xquad", "mlqa", "tydiqa"]
    assert list(report) == ["all_task", "classification", "tagging", "qa", "retrieval", *tasks]
    # Accuracy tasks, counted independently: matching lines over all lines, per language, then the mean.
    for task in ("pawsx", "xnli", "tatoeba"):
        for language in layout.TASK_LANGUAGES["xtreme"][task]:
            predicted = _lines(MOCK / "predictions" / task / f"test-{language}.tsv")
            gold = _lines(MOCK / "labels" / task / f"test-{language}.tsv")
            expected = 100 * sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)
            assert report[task]["accuracy"][language] == pytest.approx(expected)
        languages = layout.TASK_LANGUAGES["xtreme"][task]
        assert list(report[task]["accuracy"]) == list(languages)
        assert report[task]["avg_metric"] == pytest.approx(sum(report[task]["accuracy"].values()) / len(languages))
    # BUCC: set intersection of lines, counted directly.
    for language in ("de", "fr", "ru", "zh"):
        predicted = set(_lines(MOCK / "predictions" / "bucc2018" / f"test-{language}.tsv"))
        gold = set(_lines(MOCK / "labels" / "bucc2018" / f"test-{language}.tsv"))
        assert report["bucc2018"]["precision"][language] == pytest.approx(100 * len(predicted & gold) / len(predicted))
        assert report["bucc2018"]["recall"][language] == pytest.approx(100 * len(predicted & gold) / len(gold))
    # Shape and aggregation: QA's metric is (EM + F1) / 2, groups and the benchmark are plain means.
    for task in ("xquad", "mlqa", "tydiqa"):
        assert set(report[task]) == {"exact_match", "f1", "avg_exact_match", "avg_f1", "avg_metric"}
        assert report[task]["avg_metric"] == pytest.approx((report[task]["avg_exact_match"] + report[task]["avg_f1"]) / 2)
    assert list(report["panx"]) == ["f1", "precision", "recall", "avg_f1", "avg_precision", "avg_recall", "avg_metric"]
    assert report["qa"] == pytest.approx(sum(report[t]["avg_metric"] for t in ("xquad", "mlqa", "tydiqa")) / 3)
    assert report["all_task"] == pytest.approx(sum(report[t]["avg_metric"] for t in tasks) / 9)


def test_mock_submission_qa_spot_check(tmp_path):
    # One MLQA language recomputed from the label file with the definition: a question scores EM 1 when the
    # prediction equals a gold answer after MLQA normalisation; missing ids count in the denominator.
    labels = json.loads((MOCK / "labels" / "mlqa" / "test-de.json").read_text())["data"]
    predictions = json.loads((MOCK / "predictions" / "mlqa" / "test-de.json").read_text())
    questions = [q for a in labels for p in a["paragraphs"] for q in p["qas"]]
    hits = sum(any(qa.mlqa_normalize(predictions.get(q["id"], "\0"), "de") == qa.mlqa_normalize(g["text"], "de")
                   for g in q["answers"]) for q in questions if q["id"] in predictions)
    report = evaluate("xtreme", MOCK / "predictions", MOCK / "labels", notes=[])
    assert report["mlqa"]["exact_match"]["de"] == pytest.approx(100 * hits / len(questions))


# ---------------------------------------------------------------- XTREME-R aggregation


def _perfect_submission(root: Path, wrong_task: str) -> None:
    """Every XTREME-R task and language, predictions equal to labels except half of ``wrong_task``."""
    for task, languages in layout.TASK_LANGUAGES["xtreme-r"].items():
        for language in languages:
            if task in layout.QA_TASKS:
                gold, pred = squad_file([("a", ["x"]), ("b", ["y"])]), json.dumps({"a": "x", "b": "y"})
            elif task in ("mewslix", "lareqa"):
                gold, pred = json.dumps({"a": ["Q1"], "b": ["Q2"]}), json.dumps({"a": ["Q1"], "b": ["Q2"]})
            elif task == "xcopa":
                gold = pred = '{"label": 0}\n{"label": 1}\n'
            elif task in ("udpos", "panx"):
                gold = pred = "B-PER\n\nB-LOC\n" if task == "panx" else "NOUN\n\nVERB\n"
            else:
                gold = pred = "neutral\nentailment\n" if task == "xnli" else "1\n2\n"
            if task == wrong_task:
                pred = "neutral\nneutral\n"
            write(layout.task_file(root / "pred", task, language), pred)
            write(layout.task_file(root / "gold", task, language), gold)


def test_xtreme_r_report_has_all_task_and_lareqa(tmp_path):
    _perfect_submission(tmp_path, wrong_task="xnli")
    report = evaluate("xtreme-r", tmp_path / "pred", tmp_path / "gold")
    assert list(report)[:6] == ["all_task", "classification", "tagging", "qa", "retrieval", "multi_choice"]
    # xnli 50 in every language, the other 9 tasks 100: all_task = (50 + 9 * 100) / 10 = 95;
    # classification = (xnli + xcopa) / 2 = 75; LAReQA is in no group, as in the official table.
    assert report["all_task"] == pytest.approx(95.0)
    assert report["classification"] == pytest.approx(75.0)
    assert report["multi_choice"] == pytest.approx(100.0)
    assert report["lareqa"]["avg_metric"] == 100.0
    assert list(report["tatoeba"]["accuracy"])[-5:] == ["az", "lt", "pl", "uk", "ro"]


def test_xtreme_r_all_task_takes_lareqa_pooled_over_questions(tmp_path):
    _perfect_submission(tmp_path, wrong_task="none")
    # ar: four questions, only the first right (AP 1, 0, 0, 0); the 10 other languages: two right questions.
    pair(tmp_path, "lareqa", "ar", json.dumps({"a": ["Q1"], "b": ["x"], "c": ["x"], "d": ["x"]}),
         json.dumps({"a": ["Q1"], "b": ["Q2"], "c": ["Q3"], "d": ["Q4"]}))
    report = evaluate("xtreme-r", tmp_path / "pred", tmp_path / "gold")
    # Pooled: 21 of 24 questions right = 87.5 (the mean of language means would be (25 + 10 * 100) / 11).
    assert report["lareqa"]["map@20"]["ar"] == pytest.approx(25.0)
    assert report["lareqa"]["avg_metric"] == pytest.approx(87.5)
    # all_task: 9 tasks at 100 and LAReQA at 87.5.
    assert report["all_task"] == pytest.approx((9 * 100 + 87.5) / 10)


# ---------------------------------------------------------------- XGLUE


def test_xglue_ndcg_with_ties():
    # gains [2, 0, 1], scores [0.9, 0.5, 0.5]: rank 1 holds gain 2; ranks 2-3 are tied and share the mean gain
    # 0.5. DCG = 2 + 0.5 * (1/log2(3) + 1/log2(4)); ideal = 2 + 1/log2(3) + 0.
    dcg = 2 + 0.5 * (1 / math.log2(3) + 0.5)
    assert xglue.ndcg([2, 0, 1], [0.9, 0.5, 0.5]) == pytest.approx(dcg / (2 + 1 / math.log2(3)))
    assert xglue.ndcg([0, 0], [1, 2]) == 0.0


def test_xglue_tasks(tmp_path):
    truth, pred = tmp_path / "xglue_full_dataset", tmp_path / "pred"
    # POS: the "accuracy" is seqeval chunk precision. Gold NOUN NOUN VERB -> (NOUN,0,1) (VERB,2,2);
    # predicted NOUN ADJ (padded with O to 3 words) -> (NOUN,0,0) (ADJ,1,1): 0 correct -> 0.
    # Second language: predicted = gold -> 100. avg 50.
    for language in xglue.XGLUE_LANGUAGES["POS"]:
        write(truth / "POS" / f"{language}.test", "a NOUN\nb NOUN\nc VERB")
        write(pred / "POS" / f"{language}.prediction", "NOUN\nADJ\n" if language == "pl" else "NOUN\nNOUN\nVERB\n")
    # PAWS-X: header skipped, last column; 1 of 2 right.
    for language in xglue.XGLUE_LANGUAGES["PAWSX"]:
        write(truth / "PAWSX" / language / "test_2k.tsv", "id\ts1\ts2\tlabel\n1\ta\tb\t1\n2\tc\td\t0\n")
        write(pred / "PAWSX" / f"{language}.prediction", "1\n1\n")
    # WPR: query q1 as in test_xglue_ndcg_with_ties, query q2 one document (skipped).
    for language in xglue.XGLUE_LANGUAGES["WPR"]:
        write(truth / "WPR" / f"xglue.wpr.{language}.test", "q1\td\t2\nq1\te\t0\nq1\tf\t1\nq2\tg\t3\n")
        write(pred / "WPR" / f"{language}.prediction", "0.9\n0.5\n0.5\n1\n")
    report = xglue.evaluate(pred, truth)
    n = len(xglue.XGLUE_LANGUAGES["POS"])
    assert report["POS"]["pl"] == 0.0 and report["POS"]["en"] == 100.0
    assert report["POS"]["avg"] == pytest.approx(100 * (n - 1) / n)
    assert report["PAWSX"]["avg"] == pytest.approx(50.0)
    ideal = 2 + 1 / math.log2(3)
    assert report["WPR"]["en"] == pytest.approx(100 * (2 + 0.5 * (1 / math.log2(3) + 0.5)) / ideal)


def test_score_is_light_and_reports_bad_files_without_traceback(tmp_path):
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[1] / "src")
    code = (
        "import sys\n"
        "from xstilts.cli import main\n"
        "sys.argv = ['xstilts', *sys.argv[1:]]\n"
        "try:\n    main()\nfinally:\n"
        "    print('HEAVY', [m for m in ('torch', 'transformers', 'datasets', 'numpy') if m in sys.modules])\n"
    )
    args = ["score", "--benchmark", "xtreme", "--predictions", str(MOCK / "predictions"), "--labels",
            str(MOCK / "labels"), "--output", str(tmp_path / "r.json")]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and "HEAVY []" in result.stdout, result.stdout + result.stderr
    pair(tmp_path, "pawsx", "de", "1\n", "1\n0\n")
    args = ["score", "--benchmark", "xtreme", "--predictions", str(tmp_path / "pred"), "--labels",
            str(tmp_path / "gold"), "--output", str(tmp_path / "r.json")]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'pred' / 'pawsx' / 'test-de.tsv'}:2" in result.stderr
