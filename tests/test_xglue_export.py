"""`xstilts export --benchmark xglue` then `xstilts score --benchmark xglue`: predictions of the declared
``xglue-*`` tasks on XGLUE's real-format sample (/work/shared/samples/xglue, see its SOURCES.md), written in
XGLUE's submission layout, score as computed by hand. The sample's NER test files hold one word tagged O (no
entity: seqeval F1 0 whatever the prediction) and its WPR files one document (no query to rank), so those two
tasks get hand-written test files in the same format. QG and NTG (generation): test_xglue_generation_scoring.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xstilts.cli import app
from xstilts.scoring.official.export import XGLUE_FOLDERS, Source, export
from xstilts.scoring.official.xglue import GENERATION
from xstilts.tasks import get_task

SAMPLE = Path("/work/shared/samples/xglue/hf_xglue/xglue_full_dataset")
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="XGLUE sample not available")

TASKS = {folder: f"xglue-{folder.lower()}" for folder in XGLUE_FOLDERS if folder not in GENERATION}


def wrong(task: str, prediction):
    """A prediction that is certainly wrong for the gold ``prediction``."""
    if task == "xglue-mlqa":
        return "\u2603"  # shares no token with any gold answer
    if isinstance(prediction, list):
        return ["X" if tag != "X" else "NOUN" for tag in prediction] if task == "xglue-pos" else \
            ["B-MISC" if tag != "B-MISC" else "O" for tag in prediction]
    labels = get_task(task).labels
    return next(label for label in labels if label != prediction)


def gold_predictions(data_root: Path, run: Path, spoil: dict[str, int]) -> dict[str, dict[str, int]]:
    """Write ``run/predictions/<task>/test-<lang>.jsonl`` with the gold answers, the first ``spoil[task]``
    examples of the English file made wrong; returns {task: {language: number of examples}}."""
    counts: dict[str, dict[str, int]] = {}
    for folder, name in TASKS.items():
        task = get_task(name)
        for language in XGLUE_FOLDERS[folder]:
            examples = task.load("test", language, data_root)
            lines = []
            for index, example in enumerate(examples):
                if task.family == "tagging":
                    prediction = example["tags"]
                elif task.family == "span_qa":
                    prediction = example["answers"][0]["text"]
                else:
                    prediction = example["label"]
                if language == "en" and index < spoil.get(name, 0):
                    prediction = wrong(name, prediction)
                lines.append(json.dumps({"id": example["id"], "prediction": prediction}, ensure_ascii=False))
            path = run / "predictions" / name / f"test-{language}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            counts.setdefault(name, {})[language] = len(examples)
    return counts


NER_TEST = "Angela B-PER\nMerkel I-PER\nbesucht O\nParis B-LOC\n\nDie O\nUNO B-ORG\n"
WPR_TEST = "q1\tt1\ts1\t2\nq1\tt2\ts2\t0\nq2\tt3\ts3\t1\nq2\tt4\ts4\t4\n"


def xglue_data(tmp_path: Path) -> tuple[Path, Path]:
    """(data root, its xglue_full_dataset): the sample, NER and WPR test files replaced (see above)."""
    truth = tmp_path / "data" / "xglue" / "xglue_full_dataset"
    shutil.copytree(SAMPLE, truth)
    for language in XGLUE_FOLDERS["NER"]:
        (truth / "NER" / f"{language}.test").write_text(NER_TEST, encoding="utf-8")
    for language in XGLUE_FOLDERS["WPR"]:
        (truth / "WPR" / f"xglue.wpr.{language}.test").write_text(WPR_TEST, encoding="utf-8")
    return tmp_path / "data", truth


def test_export_then_score_round_trip(tmp_path):
    data_root, truth = xglue_data(tmp_path)
    run = tmp_path / "run"
    spoil = {"xglue-nc": 1, "xglue-xnli": 2, "xglue-qam": 1, "xglue-mlqa": 1, "xglue-ner": 1}
    counts = gold_predictions(data_root, run, spoil)

    submission, report = tmp_path / "submission", tmp_path / "report.json"
    result = CliRunner().invoke(app, ["export", str(run), str(submission), "--benchmark", "xglue"])
    assert result.exit_code == 0, result.output
    assert (submission / "NER" / "de.prediction").is_file() and (submission / "MLQA" / "zh.prediction").is_file()
    result = CliRunner().invoke(app, ["score", "--benchmark", "xglue", "--predictions", str(submission),
                                      "--labels", str(truth), "--output", str(report)])
    assert result.exit_code == 0, result.output
    scores = json.loads(report.read_text())

    for folder, name in TASKS.items():
        n_languages = len(XGLUE_FOLDERS[folder])
        spoiled = spoil.get(name, 0)
        # English: accuracy (or F1, each wrong answer scoring 0) of n - k right examples out of n; every other
        # language is exact (100). The task's "avg" is the plain mean over its languages.
        english = 100.0 * (counts[name]["en"] - spoiled) / counts[name]["en"]
        if name == "xglue-ner":
            # First sentence predicted B-MISC x4 (4 wrong chunks), the second right (ORG): 5 predicted chunks,
            # 1 correct, 3 gold. P = 1/5, R = 1/3, F1 = 2 * (1/15) / (8/15) = 1/4.
            english = 25.0
        assert scores[folder]["en"] == pytest.approx(english), folder
        others = [lang for lang in XGLUE_FOLDERS[folder] if lang != "en"]
        assert others and all(scores[folder][lang] == pytest.approx(100.0) for lang in others), folder
        assert scores[folder]["avg"] == pytest.approx((english + 100.0 * (n_languages - 1)) / n_languages)


def test_export_of_one_task_scores_only_that_task(tmp_path):
    data_root, truth = xglue_data(tmp_path)
    run = tmp_path / "run"
    gold_predictions(data_root, run, {"xglue-ner": 1})
    lines = export([Source("xglue-ner", run / "predictions" / "xglue-ner")], tmp_path / "sub", "xglue", {})
    assert lines == ["xglue-ner -> NER: 4/4 languages"]
    # The NER file: one tag a line, a blank line after each sentence.
    assert (tmp_path / "sub" / "NER" / "de.prediction").read_text() == "B-PER\nI-PER\nO\nB-LOC\n\nO\nB-ORG\n\n"
    from xstilts.scoring.official.xglue import evaluate

    scores = evaluate(tmp_path / "sub", truth)
    assert set(scores) == {"NER"} and scores["NER"]["en"] == pytest.approx(25.0)
    assert scores["NER"]["avg"] == pytest.approx((25.0 + 300.0) / 4)


def test_xglue_map(tmp_path):
    from xstilts.errors import XstiltsError
    from xstilts.scoring.official.export import parse_mapping

    assert parse_mapping(["my-nc=NC", "my-qg=QG"], "xglue") == {"my-nc": "NC", "my-qg": "QG"}
    with pytest.raises(XstiltsError, match="xglue folders"):
        parse_mapping(["my-qg=qg"], "xglue")
    with pytest.raises(XstiltsError, match="xtreme folders"):
        parse_mapping(["my-nc=NC"], "xtreme")
