"""Bad input to ``xstilts score``: label files are checked, files are read BOM-aware as UTF-8, misnamed folders
and values the official scorer would count are reported on stderr, and every bad input is exit 2 naming the
file and line (or JSON key path) with nothing written. Small hand-written files, expected values by hand."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from xstilts.cli import main
from xstilts.errors import DataError, XstiltsError
from xstilts.scoring.official import layout, xglue
from xstilts.scoring.official.aggregate import evaluate
from xstilts.scoring.official.scorers import SCORERS


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def pair(tmp_path: Path, task: str, language: str, prediction: str | bytes, label: str | bytes) -> tuple[Path, Path]:
    return (write(layout.task_file(tmp_path / "pred", task, language), prediction),
            write(layout.task_file(tmp_path / "gold", task, language), label))


def score(task: str, prediction: Path, label: Path, language: str = "en") -> tuple[dict[str, float], list[str]]:
    with layout.collecting_notes() as notes:
        result = SCORERS[task](prediction, label, language)
    return result, notes.lines()


def fails(task: str, prediction: Path, label: Path, language: str = "en") -> DataError:
    with pytest.raises(DataError) as caught:
        SCORERS[task](prediction, label, language)
    return caught.value


def squad(qas: list) -> str:
    return json.dumps({"data": [{"paragraphs": [{"context": "c", "qas": qas}]}]})


QA = {"id": "q1", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}]}


def cli(tmp_path: Path, *extra: str, benchmark: str = "xtreme") -> tuple[int, str, Path]:
    output = tmp_path / "report.json"
    argv = ["xstilts", "score", "--benchmark", benchmark, "--predictions", str(tmp_path / "pred"), "--labels",
            str(tmp_path / "gold"), "--output", str(output), *extra]
    saved, sys.argv = sys.argv, argv
    try:
        main()
        code = 0
    except SystemExit as exited:
        code = exited.code
    finally:
        sys.argv = saved
    return code, output


# ---------------------------------------------------------------- label files


@pytest.mark.parametrize(("task", "prediction", "label", "line", "message"), [
    ("panx", "B-PER\nO\n", "B-PER\nB-MISC\n", 2, "'B-MISC' is not a panx tag"),
    ("udpos", "NOUN\n\nVERB\n", "NOUN\n\nverb\n", 3, "'verb' is not a udpos tag"),
    ("xnli", "neutral\nneutral\n", "neutral\nneutrall\n", 2, "'neutrall' is not an xnli label"),
    ("pawsx", "1\n0\n", "1\n\n", 2, "blank line"),
    ("tatoeba", "1\n2\n", "1\n02\n", 2, "'02' is not a tatoeba label"),
    ("bucc2018", "de-1\ten-1\n", "de-1\ten-1\nde-2 en-2\n", 2, "expected 'src_id<TAB>en_id'"),
    ("xcopa", '{"label": 0}\n', '{"label": 2}\n', 1, "2 is not an XCOPA label"),
])
def test_a_gold_value_outside_the_label_set_is_an_error(tmp_path, task, prediction, label, line, message):
    # Before: a PAN-X gold tag such as B-MISC was scored as a label (the mock's F1 went from 80 to 33).
    p, g = pair(tmp_path, task, "et" if task == "xcopa" else "en", prediction, label)
    error = fails(task, p, g, "et" if task == "xcopa" else "en")
    assert error.path == str(g) and error.line == line and message in error.problem


@pytest.mark.parametrize(("task", "prediction", "empty", "message"), [
    ("xnli", "neutral\n", "", "the label file is empty"),
    ("tatoeba", "1\n", "\n", "blank line"),
    ("panx", "O\n", "\n\n", "the label file is empty"),
    ("bucc2018", "de-1\ten-1\n", "", "the label file is empty"),
    ("xcopa", '{"label": 0}\n', "", "the label file is empty"),
    ("xquad", '{"q1": "x"}', '{"data": []}', "data: the label file holds no questions"),
    ("mlqa", '{"q1": "x"}', "", "the file is empty"),
    ("mewslix", '{"e1": ["Q1"]}', "{}", "the top level: the label file holds no examples"),
    ("lareqa", '{"q1": ["c1"]}', '{"data": {}}', "data: the label file holds no questions"),
])
def test_an_empty_label_file_is_an_error(tmp_path, task, prediction, empty, message):
    # Before: an empty label file scored 0 with exit 0.
    language = "et" if task == "xcopa" else "en"
    p, g = pair(tmp_path, task, language, prediction, empty)
    error = fails(task, p, g, language)
    assert error.path == str(g) and error.problem.startswith(message), error


@pytest.mark.parametrize(("qas", "where", "message"), [
    ([{"id": "q1", "answers": [{"answer_start": 0}]}], "data[0].paragraphs[0].qas[0].answers[0]",
     "missing key 'text'"),
    ([{"id": "q1", "answers": [{"text": 3, "answer_start": 0}]}], "data[0].paragraphs[0].qas[0].answers[0].text",
     "expected the answer text, a string, got a number (3)"),
    ([{"id": "q1", "answers": [{"text": "a", "answer_start": "0"}]}],
     "data[0].paragraphs[0].qas[0].answers[0].answer_start", "expected a character offset (an integer)"),
    ([{"id": "q1", "answers": {"text": "a"}}], "data[0].paragraphs[0].qas[0].answers", "expected a list"),
    ([{"id": "q1", "answers": []}], "data[0].paragraphs[0].qas[0].answers", "has no gold answer"),
    ([{"id": 1, "answers": [{"text": "a"}]}], "data[0].paragraphs[0].qas[0].id", "expected the question id"),
    (["q1"], "data[0].paragraphs[0].qas[0]", "expected a question object"),
    ([], "data", "holds no questions"),
])
def test_qa_labels_are_checked_with_a_json_key_path(tmp_path, qas, where, message):
    # Before: KeyError 'text', AttributeError or TypeError tracebacks (exit 1).
    p, g = pair(tmp_path, "xquad", "en", '{"q1": "a"}', squad(qas))
    error = fails("xquad", p, g)
    assert error.path == str(g) and error.problem.startswith(f"{where}: ") and message in error.problem, error


def test_qa_label_structure_above_the_questions(tmp_path):
    for label, where in [('{"data": {"paragraphs": []}}', "data: expected a list of articles"),
                         ('{"data": [{"title": "t"}]}', "data[0]: missing key 'paragraphs'"),
                         ('{"data": [{"paragraphs": [{"context": "c"}]}]}', "data[0].paragraphs[0]: missing key 'qas'"),
                         ('[{"paragraphs": 3}]', "[0].paragraphs: expected a list of paragraphs")]:
        p, g = pair(tmp_path, "mlqa", "en", '{"q1": "a"}', label)
        assert fails("mlqa", p, g).problem.startswith(where)


def test_mewslix_labels_and_predictions_name_the_key(tmp_path):
    p, g = pair(tmp_path, "mewslix", "en", '{"e1": ["Q1"]}', '{"e1": ["Q1", "Q2"]}')
    assert fails("mewslix", p, g).problem.startswith('["e1"]: expected a one-element list')
    p, g = pair(tmp_path, "mewslix", "en", '{"data": {"e1": "Q1"}}', '{"e1": ["Q1"]}')
    error = fails("mewslix", p, g)
    assert error.path == str(p) and error.problem.startswith('data["e1"]: expected a list of ids')


def test_answer_start_may_be_absent_as_the_official_scripts_never_read_it(tmp_path):
    p, g = pair(tmp_path, "xquad", "en", '{"q1": "Paris"}', squad([{"id": "q1", "answers": [{"text": "Paris"}]}]))
    assert score("xquad", p, g) == ({"exact_match": 100.0, "f1": 100.0}, [])


# ---------------------------------------------------------------- reading: BOM, newlines, UTF-8


def test_a_byte_order_mark_is_skipped_with_a_note(tmp_path):
    # Before: the first label "\ufeffneutral" never equalled "neutral" (and a first BUCC pair never matched).
    p, g = pair(tmp_path, "xnli", "en", "neutral\nentailment\n", b"\xef\xbb\xbfneutral\r\nneutral\r\n")
    result, notes = score("xnli", p, g)
    assert result == {"accuracy": 50.0}  # line 1 right, line 2 wrong
    assert notes == [f"{g}: starts with a UTF-8 byte order mark; it is skipped (the official scorer would read it "
                     "as part of the first line, or fail on it in a JSON file)"]
    # BUCC: gold {(de-1, en-1), (de-2, en-2)}; predicted {(de-1, en-1), (de-2, en-9)}: P = R = F1 = 1/2.
    p, g = pair(tmp_path, "bucc2018", "de", b"\xef\xbb\xbfde-1\ten-1\nde-2\ten-9\n", "de-1\ten-1\nde-2\ten-2\n")
    assert score("bucc2018", p, g, "de")[0] == {"f1": 50.0, "precision": 50.0, "recall": 50.0}
    p, g = pair(tmp_path, "xquad", "en", b'\xef\xbb\xbf{"q1": "Paris"}', squad([QA]))
    assert score("xquad", p, g)[0] == {"exact_match": 100.0, "f1": 100.0}


def test_invalid_utf8_names_the_line_and_utf16_is_refused(tmp_path):
    p, g = pair(tmp_path, "xnli", "en", "neutral\nneutral\n", b"neutral\nneu\xfftral\n")
    error = fails("xnli", p, g)
    assert (error.path, error.line) == (str(g), 2)
    assert error.problem.startswith("not UTF-8 text: byte 0xff at column 4 is invalid")
    p, g = pair(tmp_path, "xnli", "en", "neutral\n".encode("utf-16"), "neutral\n")
    error = fails("xnli", p, g)
    assert error.path == str(p) and "UTF-16" in error.problem


def test_bad_json_names_line_and_says_truncated(tmp_path):
    p, g = pair(tmp_path, "xquad", "en", '{\n  "q1": "Paris",\n  "q2"', squad([QA]))
    error = fails("xquad", p, g)
    assert error.path == str(p) and error.line == 3 and "may be truncated" in error.problem
    p, g = pair(tmp_path, "xquad", "en", "[" * 100_000 + "]" * 100_000, squad([QA]))
    assert "not valid JSON" in fails("xquad", p, g).problem  # nesting too deep: no RecursionError
    p, g = pair(tmp_path, "xquad", "en", "", squad([QA]))
    assert fails("xquad", p, g).problem == "the file is empty: expected a JSON document"


# ---------------------------------------------------------------- predictions the official scorer would count


def test_predictions_outside_the_label_set_are_counted_with_a_note_unless_all_are(tmp_path):
    # xnli: 2 of 3 right; the third, "Neutral", is counted wrong as the official scorer counts it.
    p, g = pair(tmp_path, "xnli", "en", "neutral\nentailment\nNeutral\n", "neutral\nentailment\nneutral\n")
    result, notes = score("xnli", p, g)
    assert result == pytest.approx({"accuracy": 200 / 3}) and len(notes) == 1 and "line 3: 'Neutral'" in notes[0]
    # Class indices instead of names: no line is an xnli label -> an error, not 0.
    p, g = pair(tmp_path, "xnli", "en", "0\n1\n2\n", "neutral\nentailment\nneutral\n")
    error = fails("xnli", p, g)
    assert error.path == str(p) and error.line == 1 and "no label of the file is an xnli label" in error.problem
    # Tatoeba "01" is not "1" for the official string comparison: wrong, with a note.
    p, g = pair(tmp_path, "tatoeba", "de", "01\n2\n", "1\n2\n")
    result, notes = score("tatoeba", p, g, "de")
    assert result == {"accuracy": 50.0} and "line 1: '01'" in notes[0]
    # XCOPA: a label 2 counts as wrong, with a note.
    p, g = pair(tmp_path, "xcopa", "et", '{"label": 2}\n{"label": 1}\n', '{"label": 0}\n{"label": 1}\n')
    result, notes = score("xcopa", p, g, "et")
    assert result == {"accuracy": 50.0} and "line 1: 2" in notes[0]


def test_bucc_malformed_prediction_lines_count_as_predicted_pairs(tmp_path):
    # Official: every stripped line is a predicted tuple. gold {(de-1, en-1)}; predicted {(de-1, en-1),
    # ("de-2 en-2",)}: P = 1/2, R = 1, F1 = 2/3.
    p, g = pair(tmp_path, "bucc2018", "de", "de-1\ten-1\nde-2 en-2\n", "de-1\ten-1\n")
    result, notes = score("bucc2018", p, g, "de")
    assert result == pytest.approx({"f1": 200 / 3, "precision": 50.0, "recall": 100.0})
    assert len(notes) == 1 and "line 2: 'de-2 en-2'" in notes[0]
    # A file of another language (no shared id) and an empty file are errors.
    for wrong in ("fr-1\ten-7\n", ""):
        p, g = pair(tmp_path, "bucc2018", "de", wrong, "de-1\ten-1\n")
        error = fails("bucc2018", p, g, "de")
        assert error.path == str(p) and "none of its ids is an id of the label file" in error.problem


def test_tagging_tags_outside_the_set_score_as_seqeval_does(tmp_path):
    # gold (PER,0,1) (LOC,3,3); predicted (PER,0,1) (MISC,3,3): 1 of 2 either way.
    p, g = pair(tmp_path, "panx", "de", "B-PER\nI-PER\nO\nB-MISC\n", "B-PER\nI-PER\nO\nB-LOC\n")
    result, notes = score("panx", p, g, "de")
    assert result == {"f1": 50.0, "precision": 50.0, "recall": 50.0} and "line 4: 'B-MISC'" in notes[0]
    p, g = pair(tmp_path, "panx", "de", "Angela\tB-PER\n", "B-PER\n")
    assert "no tag of the file is a panx tag" in fails("panx", p, g, "de").problem


def test_questions_without_prediction_and_extra_ids_are_noted(tmp_path):
    label = squad([QA, {**QA, "id": "q2"}])
    p, g = pair(tmp_path, "xquad", "en", '{"q1": "Paris", "zz": "x"}', label)
    result, notes = score("xquad", p, g)
    assert result == {"exact_match": 50.0, "f1": 50.0}
    assert notes == [f"{p}: 1 of the 2 questions of {g} has no prediction, e.g. 'q2': each scores 0, as in the "
                     "official scorer",
                     f"{p}: 1 id is no question of {g}, e.g. 'zz': ignored, as in the official scorer"]


# ---------------------------------------------------------------- folders and the command


def _complete(tmp_path: Path) -> None:
    """Every XTREME task and language: predictions equal to the labels (each task 100) except xnli at 50."""
    for task, languages in layout.TASK_LANGUAGES["xtreme"].items():
        for language in languages:
            if task in layout.QA_TASKS:
                gold, pred = squad([QA]), '{"q1": "Paris"}'
            elif task in ("udpos", "panx"):
                gold = pred = "B-PER\n\nB-LOC\n" if task == "panx" else "NOUN\n\nVERB\n"
            elif task == "bucc2018":
                gold = pred = f"{language}-1\ten-1\n"
            else:
                gold = pred = {"xnli": "neutral\nentailment\n", "pawsx": "1\n0\n", "tatoeba": "1\n2\n"}[task]
            if task == "xnli":
                pred = "neutral\nneutral\n"
            pair(tmp_path, task, language, pred, gold)


def test_misnamed_and_missing_task_folders_are_named_on_stderr(tmp_path, capsys):
    # Before: a misnamed folder dropped the task and all_task without a word.
    _complete(tmp_path)
    (tmp_path / "pred" / "panx").rename(tmp_path / "pred" / "PANX")
    (tmp_path / "gold" / "udpos").rename(tmp_path / "gold" / "udpos_")
    (tmp_path / "pred" / "xcopa").mkdir()
    code, output = cli(tmp_path)
    err = capsys.readouterr().err
    assert code == 0
    report = json.loads(output.read_text())
    # pawsx 100, xnli 50, bucc 100, tatoeba 100, QA 100: no all_task, no tagging group.
    assert list(report) == ["classification", "qa", "retrieval", "pawsx", "xnli", "bucc2018", "tatoeba", "xquad",
                            "mlqa", "tydiqa"]
    assert report["classification"] == 75.0
    pred, gold = tmp_path / "pred", tmp_path / "gold"
    assert f"warning: {pred / 'PANX'}: ignored folder: not an xtreme task folder; did you mean 'panx'? The folder names are exactly those of the official table" in err
    assert f"warning: {gold / 'udpos_'}: ignored folder: not an xtreme task folder; did you mean 'udpos'?" in err
    assert f"warning: {pred / 'xcopa'}: ignored folder: xcopa is an xtreme-r task, not one of --benchmark xtreme" in err
    assert f"warning: {pred / 'panx'}: no such folder: task panx is not scored" in err
    assert f"warning: {gold / 'udpos'}: no such folder: task udpos is not scored" in err
    assert ("the report has no all_task score (it needs all 9 xtreme tasks; panx, udpos not scored) and no tagging "
            "group score") in err


def test_stray_and_misnamed_language_files(tmp_path, capsys):
    _complete(tmp_path)
    write(tmp_path / "pred" / "xnli" / "test-xx.tsv", "neutral\n")
    code, _ = cli(tmp_path)
    assert code == 0 and f"{tmp_path / 'pred' / 'xnli'}: ignored: test-xx.tsv" in capsys.readouterr().err
    (tmp_path / "pred" / "xnli" / "test-de.tsv").rename(tmp_path / "pred" / "xnli" / "test-de.txt")
    (tmp_path / "report.json").unlink()
    code, output = cli(tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and not output.exists()
    assert f"{tmp_path / 'pred' / 'xnli' / 'test-de.tsv'}: missing file" in err
    assert "the folder has test-de.txt: rename it to test-de.tsv" in err


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    _complete(tmp_path)
    write(tmp_path / "gold" / "tydiqa" / "test-sw.json", squad([{"id": "q1", "answers": [{"answer_start": 0}]}]))
    code, output = cli(tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and not output.exists() and "Traceback" not in err
    assert f"{tmp_path / 'gold' / 'tydiqa' / 'test-sw.json'}: data[0].paragraphs[0].qas[0].answers[0]: missing key " \
           "'text'" in err
    # An existing report is left as it was.
    write(output, "old\n")
    assert cli(tmp_path)[0] == 2 and output.read_text() == "old\n"
    capsys.readouterr()
    (tmp_path / "folder").mkdir()
    saved, sys.argv = sys.argv, ["xstilts", "score", "--benchmark", "xtreme", "--predictions",
                                 str(tmp_path / "pred"), "--labels", str(tmp_path / "gold"), "--output",
                                 str(tmp_path / "folder")]
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        sys.argv = saved
    assert exited.value.code == 2 and "is a folder" in capsys.readouterr().err


def test_partial_names_the_languages_left_out(tmp_path):
    pair(tmp_path, "pawsx", "de", "1\n", "1\n")
    notes: list[str] = []
    report = evaluate("xtreme", tmp_path / "pred", tmp_path / "gold", partial=True, notes=notes)
    assert report == {"pawsx": {"accuracy": {"de": 100.0}, "avg_accuracy": 100.0, "avg_metric": 100.0}}
    assert notes == [f"{tmp_path / 'pred' / 'pawsx'}: --partial: 1 of the 7 pawsx languages are scored; no "
                     "prediction file for en, es, fr, ja, ko, zh"]


# ---------------------------------------------------------------- XGLUE


def test_xglue_refuses_non_finite_ratings_and_names_ignored_folders(tmp_path):
    truth, pred = tmp_path / "xglue_full_dataset", tmp_path / "pred"
    for language in xglue.XGLUE_LANGUAGES["WPR"]:
        write(truth / "WPR" / f"xglue.wpr.{language}.test", "q1\td\t2\nq1\te\t0\n")
        write(pred / "WPR" / f"{language}.prediction", "0.9\n0.5\n")
    (pred / "wpr_old").mkdir()
    notes: list[str] = []
    report = xglue.evaluate(pred, truth, notes=notes)
    assert report["WPR"]["avg"] == 100.0  # ranked as the gains: nDCG 1
    assert notes == [f"{pred / 'wpr_old'}: ignored folder: not an XGLUE task folder; did you mean 'WPR'? The folder names are exactly those of the official table"]
    write(pred / "WPR" / "de.prediction", "nan\n0.5\n")
    with pytest.raises(DataError) as caught:
        xglue.evaluate(pred, truth, notes=[])
    assert caught.value.path == str(pred / "WPR" / "de.prediction") and caught.value.line == 1
    with pytest.raises(XstiltsError, match="choose test or dev"):
        xglue.evaluate(pred, truth, split="train")
    assert math.isfinite(report["WPR"]["de"])
