"""`xstilts score --benchmark xglue` on QG and NTG (BLEU as XGLUE's xglue_evaluate.py computes it, numbers
computed by hand from BLEU's definition), and `xstilts export` -> `xstilts score` on the real-format sample
(/work/shared/samples/xglue, see its SOURCES.md) through the declarations' reader."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xstilts.cli import app
from xstilts.errors import DataError
from xstilts.scoring.official import xglue
from xstilts.scoring.official.export import Source, export, one_line, parse_mapping
from xstilts.tasks.xglue import GENERATION_TASKS

SAMPLE = Path("/work/shared/samples/xglue/hf_xglue/xglue_full_dataset")
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="XGLUE sample not available")

QG_EN = ("when was francis scott key born", "what kind of antidepressant is paxil")
# BLEU of ["when was francis scott key born" (exact), "☃"] against QG_EN, by hand: the hypothesis has 7 tokens
# (6 + 1), the references 12; n-gram matches 6/7, 5/5, 4/4, 3/3 (the snowman is one token and matches nothing);
# brevity penalty exp(1 - 12/7). BLEU = 100 * exp(1 - 12/7) * (6/7)^(1/4).
QG_EN_SPOILED_BLEU = 100 * math.exp(1 - 12 / 7) * (6 / 7) ** 0.25
# "the cat sat on the mat today" against "the cat sat on the mat": matches 6/7, 5/6, 4/5, 3/4, no brevity
# penalty (7 >= 6): 100 * (6/7 * 5/6 * 4/5 * 3/4)^(1/4) = 100 * (3/7)^(1/4).
CAT_BLEU = 100 * (3 / 7) ** 0.25


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def qg_submission(tmp_path: Path, english_prediction: str, english_label: str | None = None) -> tuple[Path, Path]:
    """QG labels in every language (two questions each), predictions exact except English's."""
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for language in xglue.XGLUE_LANGUAGES["QG"]:
        label = f"wie weit ist es von hier bis {language}\nwas kostet ein neues auto heute\n"
        if language == "en":
            label = english_label if english_label is not None else "".join(f"{q}\n" for q in QG_EN)
        write(truth / "QG" / f"xglue.qg.{language}.tgt.test", label)
        write(pred / "QG" / f"{language}.prediction", english_prediction if language == "en" else label)
    return pred, truth


def test_qg_bleu_by_hand(tmp_path):
    # Upper case is ignored (lowercase=True), surrounding spaces are stripped, the reference is the last
    # tab-separated field of its label line.
    pred, truth = qg_submission(tmp_path, "  WHEN was Francis Scott Key born \n\u2603\n",
                                "query 1\twhen was francis scott key born\nquery 2\twhat kind of antidepressant is paxil\n")
    report = xglue.evaluate(pred, truth)
    assert set(report) == {"QG"}  # QG alone
    assert report["QG"]["en"] == pytest.approx(QG_EN_SPOILED_BLEU)
    others = [lang for lang in xglue.XGLUE_LANGUAGES["QG"] if lang != "en"]
    assert all(report["QG"][lang] == pytest.approx(100.0) for lang in others)  # identical corpus: every p_n = 1
    assert report["QG"]["avg"] == pytest.approx((QG_EN_SPOILED_BLEU + 100 * len(others)) / (len(others) + 1))


def test_ntg_with_the_other_tasks_and_on_the_dev_split(tmp_path):
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for language in xglue.XGLUE_LANGUAGES["NTG"]:
        write(truth / "NTG" / f"xglue.ntg.{language}.tgt.dev", "the cat sat on the mat\n")
        write(pred / "NTG" / f"{language}.prediction", "the cat sat on the mat today\n")
    for language in xglue.XGLUE_LANGUAGES["QAM"]:
        write(truth / "QAM" / f"xglue.qam.{language}.dev", "q\tp\t1\nq\tp\t0\n")
        write(pred / "QAM" / f"{language}.prediction", "1\n1\n")
    report = xglue.evaluate(pred, truth, split="dev")
    assert set(report) == {"NTG", "QAM"}
    assert report["NTG"]["avg"] == pytest.approx(CAT_BLEU) and report["NTG"]["ru"] == pytest.approx(CAT_BLEU)
    assert report["QAM"]["avg"] == pytest.approx(50.0)


def test_blank_lines_count_as_the_official_script_counts_them(tmp_path):
    # A blank prediction is an empty hypothesis (no n-gram, its reference still counts for the brevity penalty);
    # a blank reference an empty reference (a note). English: hypotheses "the cat sat on the mat today" and "",
    # references "the cat sat on the mat" and "a b c": hypothesis length 7, reference length 9; matches as in
    # CAT_BLEU; BLEU = 100 * exp(1 - 9/7) * (3/7)^(1/4).
    pred, truth = qg_submission(tmp_path, "the cat sat on the mat today\n\n", "the cat sat on the mat\na b c\n")
    assert xglue.evaluate(pred, truth)["QG"]["en"] == pytest.approx(100 * math.exp(1 - 9 / 7) * (3 / 7) ** 0.25)
    pred, truth = qg_submission(tmp_path / "b", "the cat sat on the mat today\nsomething\n", "the cat sat on the mat\n\n")
    notes: list[str] = []
    xglue.evaluate(pred, truth, notes=notes)
    assert any("1 of 2 references are blank (first at line 2)" in note for note in notes), notes


@pytest.mark.parametrize(("prediction", "label", "file", "line", "message"), [
    ("one line\n", "a b c d\ne f g h\n", "pred", 2, r"1 prediction lines for 2 reference lines in .*xglue\.qg\.en\.tgt"),
    ("one\ntwo\nthree\n", "a b c d\ne f g h\n", "pred", 3, "3 prediction lines for 2 reference lines"),
    ("one\n", "", "truth", None, "the label file is empty"),
    ("one\n", b"\xff\xfea\x00\n\x00", "truth", 1, "UTF-16"),
    (b"caf\xe9\n", "a b c d\n", "pred", 1, "not UTF-8"),
])
def test_bad_files_name_the_file_and_line(tmp_path, prediction, label, file, line, message):
    pred, truth = qg_submission(tmp_path, "x\n")
    write(pred / "QG" / "en.prediction", prediction)
    write(truth / "QG" / "xglue.qg.en.tgt.test", label)
    with pytest.raises(DataError, match=message) as caught:
        xglue.evaluate(pred, truth)
    expected = pred / "QG" / "en.prediction" if file == "pred" else truth / "QG" / "xglue.qg.en.tgt.test"
    assert caught.value.path == str(expected) and caught.value.line == line


def test_a_byte_order_mark_is_skipped_with_a_note(tmp_path):
    pred, truth = qg_submission(tmp_path, "\ufeff" + "".join(f"{q}\n" for q in QG_EN))
    notes: list[str] = []
    assert xglue.evaluate(pred, truth, notes=notes)["QG"]["en"] == pytest.approx(100.0)
    assert any("byte order mark" in note for note in notes)


def test_score_command_writes_the_report(tmp_path):
    pred, truth = qg_submission(tmp_path, "".join(f"{q}\n" for q in QG_EN))
    result = CliRunner().invoke(app, ["score", "--benchmark", "xglue", "--predictions", str(pred), "--labels",
                                      str(truth), "--output", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "report.json").read_text())["QG"]["avg"] == pytest.approx(100.0)
    assert "QG" in result.stdout and "100.00" in result.stdout


# ------------------------------------------------------------------------------------ export


def test_one_line_replaces_the_line_breaks_text_mode_reads():
    assert one_line(" a\nb\r\nc\rd \u2028e\t") == "a b c d \u2028e"
    assert parse_mapping(["my-qg=QG", "my-ntg=NTG"], "xglue") == {"my-qg": "QG", "my-ntg": "NTG"}


@needs_sample
def test_export_then_score_round_trip(tmp_path):
    """Gold targets as predictions, English made different: line breaks inside the text (one space each after
    export), upper case (ignored), and QG's second English question replaced by a snowman."""
    data_root = tmp_path / "data"
    truth = data_root / "xglue" / "xglue_full_dataset"
    shutil.copytree(SAMPLE, truth)
    run = tmp_path / "run"
    sources = []
    for task in GENERATION_TASKS:
        for language in task.splits["test"]:
            path = task.path("test", language, data_root)
            rows = []
            for index, (_, example) in enumerate(task.reader(path, "test", language)):
                prediction = example["target"]
                if language == "en":
                    words = prediction.split(" ")
                    prediction = "\n".join(words[:2]) + "\r\n" + " ".join(words[2:]).upper()
                    if task.name == "xglue-qg" and index == 1:
                        prediction = "\u2603"
                rows.append(json.dumps({"id": example["id"], "prediction": prediction}, ensure_ascii=False))
            write(run / "predictions" / task.name / f"test-{language}.jsonl", "".join(f"{row}\n" for row in rows))
        sources.append(Source(task.name, run / "predictions" / task.name))

    submission = tmp_path / "submission"
    result = CliRunner().invoke(app, ["export", str(run), str(submission), "--benchmark", "xglue"])
    assert result.exit_code == 0, result.output
    assert "xglue-qg -> QG: 6/6 languages" in result.output and "xglue-ntg -> NTG: 5/5 languages" in result.output
    # One line per example: the line breaks became spaces.
    assert (submission / "NTG" / "en.prediction").read_text(encoding="utf-8").splitlines()[1] == \
        "The doorbell COMPANY THAT'S SELLING FEAR"
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["score", "--benchmark", "xglue", "--predictions", str(submission),
                                      "--labels", str(truth), "--output", str(report)])
    assert result.exit_code == 0, result.output
    scores = json.loads(report.read_text())
    # The English QG test references are "comerica bank financial analyst salary" (5 tokens) and "how far is
    # indonesia from new york" (7): the first predicted exactly, the second as one unmatched token. Hypothesis
    # 6 tokens, references 12; matches 5/6, 4/4, 3/3, 2/2: 100 * exp(1 - 12/6) * (5/6)^(1/4).
    english_qg = 100 * math.exp(1 - 12 / 6) * (5 / 6) ** 0.25
    assert scores["QG"]["en"] == pytest.approx(english_qg)
    assert scores["QG"]["avg"] == pytest.approx((english_qg + 500) / 6)
    assert scores["NTG"] == pytest.approx({language: 100.0 for language in ("de", "en", "es", "fr", "ru", "avg")})
    # export() alone, one task: only its folder is written
    lines = export([sources[1]], tmp_path / "only-ntg", "xglue", {})
    assert lines == ["xglue-ntg -> NTG: 5/5 languages"] and [p.name for p in (tmp_path / "only-ntg").iterdir()] == ["NTG"]


def test_a_prediction_that_is_not_text_is_refused(tmp_path):
    path = write(tmp_path / "run" / "predictions" / "xglue-qg" / "test-de.jsonl", '{"id": "a", "prediction": ["x"]}\n')
    with pytest.raises(DataError, match="needs the generated text") as caught:
        export([Source("xglue-qg", path.parent)], tmp_path / "sub", "xglue", {})
    assert caught.value.line == 1


# ------------------------------------------------------------------------------------ against the official code


def official_bleu(prediction: Path, label: Path) -> float:
    """xglue_evaluate.py's load_qg_ntg_data + its QG/NTG score, restated (lists instead of its numpy arrays,
    which sacreBLEU 2.x refuses; x100, this scorer's scale)."""
    import sacrebleu

    with open(prediction, encoding="utf8") as handle:
        predictions = [item.strip() for item in handle]
    with open(label, encoding="utf8") as handle:
        labels = [item.split("\t")[-1].strip() for item in handle]
    return sacrebleu.corpus_bleu(predictions, [labels], lowercase=True).score


WORDS = ["Wie", "weit", "ist", "es", "nach", "Köln", "¿cuánto", "cuesta?", "l'été", "arrivé", "новости", "дня",
         "the", "The", "cat", "sat", "on", "mat", "2019", "U.S.", "-", "(a)", "don't", "naïve", "e-mail", "日本"]


def random_text(rng) -> str:
    words = rng.choices(WORDS, k=rng.randint(0, 9))
    return rng.choice(["", " ", "  "]) + " ".join(words) + rng.choice(["", " ", "\t"])


@pytest.mark.parametrize("seed", range(12))
def test_agrees_with_the_official_formula_on_random_submissions(tmp_path, seed):
    """Random line-aligned files (mixed scripts, case, punctuation, blank lines, tabs and extra fields in the
    label lines, CRLF or CR line ends, a missing final newline): this scorer gives the official number."""
    import random

    rng = random.Random(seed)
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for language in xglue.XGLUE_LANGUAGES["NTG"]:
        n = rng.randint(1, 12)
        references = [random_text(rng) for _ in range(n)]
        labels = [(f"id{i}\t" * rng.randint(0, 2)) + ref for i, ref in enumerate(references)]
        hypotheses = [random_text(rng) if rng.random() < 0.6 else ref.upper() for ref in references]
        # An empty last line without a line end is no line at all (for both readers): keep the counts equal.
        labels[-1], hypotheses[-1] = labels[-1] or "x", hypotheses[-1] or "y"
        end = rng.choice(["\n", "\r\n", "\r"])
        final = rng.choice(["", end])
        write(truth / "NTG" / f"xglue.ntg.{language}.tgt.test", end.join(labels) + final)
        write(pred / "NTG" / f"{language}.prediction", end.join(hypotheses) + rng.choice(["", end]))
    report = xglue.evaluate(pred, truth, notes=[])
    for language in xglue.XGLUE_LANGUAGES["NTG"]:
        expected = official_bleu(pred / "NTG" / f"{language}.prediction",
                                 truth / "NTG" / f"xglue.ntg.{language}.tgt.test")
        assert report["NTG"][language] == pytest.approx(expected, abs=1e-9), language
    languages = xglue.XGLUE_LANGUAGES["NTG"]
    assert report["NTG"]["avg"] == pytest.approx(sum(report["NTG"][lang] for lang in languages) / len(languages))
