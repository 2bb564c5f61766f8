"""PAN-X files with consecutive blank lines, end to end: the reader's sentences, the tagging family's
predictions, the exported file and our official scorer must give the sentence sequence of the official
labels (panx_preprocess, then evaluate.py's read_tag), empty sentences included. Labels and expected
numbers are written by hand from those rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import SYLLABLE_WORDS, syllable_tokenizer
from xstilts.data.xtreme_export import panx_tsv
from xstilts.families.tagging import FAMILY
from xstilts.formats import panx
from xstilts.scoring.official import layout
from xstilts.scoring.official.aggregate import evaluate
from xstilts.scoring.official.export import Source, export
from xstilts.tasks import get_task

# line 1: blank at the start       -> an empty sentence
# lines 2-4: John Smith lives       -> sentence 2, closed by line 5
# line 6: a second blank in a row   -> an empty sentence
# lines 7-8: in Paris               -> sentence 4, closed by line 9
# line 10: Rome                     -> sentence 5: line 11 is the file's last line and blank, which the
#                                      preprocessing drops, so the end of the file closes it
RAW = ("\n"
       "en:John\tB-PER\nen:Smith\tI-PER\nen:lives\tO\n"
       "\n"
       "\n"
       "en:in\tO\nen:Paris\tB-LOC\n"
       "\n"
       "en:Rome\tB-LOC\n"
       "\n")
# panx_preprocess keeps lines 1-10 (one tag or one blank line each); the labels are their tag column.
LABELS = "\nB-PER\nI-PER\nO\n\n\nO\nB-LOC\n\nB-LOC\n"


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "panx" / "en" / "test"
    path.parent.mkdir(parents=True)
    path.write_text(RAW, encoding="utf-8")
    return tmp_path / "data"


def test_reader_gives_the_official_sentences(data_root):
    rows = list(panx.read_panx(data_root / "panx/en/test", "test", "en"))
    assert [(line, row["tokens"], row["tags"]) for line, row in rows] == [
        (1, [], []),
        (2, ["John", "Smith", "lives"], ["B-PER", "I-PER", "O"]),
        (6, [], []),
        (7, ["in", "Paris"], ["O", "B-LOC"]),
        (10, ["Rome"], ["B-LOC"]),
    ]
    assert [row["id"] for _, row in rows] == [f"test-en-{n}" for n in range(1, 6)]
    # The official scorer's grouping of the labels: the same five sentences.
    labels = data_root / "labels.tsv"
    labels.write_text(LABELS)
    assert [tags for _, tags in layout.read_sentences(labels)] == [row["tags"] for _, row in rows]


def test_processed_files_keep_every_blank_line_but_the_last(data_root):
    # panx_preprocess: the final blank line dropped, every other line one output line.
    raw = data_root / "panx/en/test"
    assert panx_tsv(raw, with_tags=True) == (
        b"\nJohn\tB-PER\nSmith\tI-PER\nlives\tO\n\n\nin\tO\nParis\tB-LOC\n\nRome\tB-LOC\n")
    assert panx_tsv(raw, with_tags=False) == b"\nJohn\nSmith\nlives\n\n\nin\nParis\n\nRome\n"


def test_predictions_export_and_score_keep_the_empty_sentences(data_root, tmp_path):
    task = get_task("panx")
    examples = task.load("test", "en", data_root)
    assert len(examples) == 5
    tokenizer = syllable_tokenizer(SYLLABLE_WORDS + ["John", "Smith", "lives", "in", "Paris", "Rome"])
    features = FAMILY.featurize(task, examples, tokenizer, 64)
    assert sorted({f["example_index"] for f in features}) == [1, 3, 4]  # the empty sentences have none
    # A model that tags Paris as an organisation and everything else right.
    wanted = {1: ["B-PER", "I-PER", "O"], 3: ["O", "B-ORG"], 4: ["B-LOC"]}
    raw = []
    for feature in features:
        row = np.zeros(feature["length"], dtype=np.int64)
        for offset, position in enumerate(feature["word_starts"]):
            row[position] = task.labels.index(wanted[feature["example_index"]][feature["word_offset"] + offset])
        raw.append(row)
    predictions = FAMILY.postprocess(task, examples, features, raw)
    assert predictions == [[], wanted[1], [], wanted[3], wanted[4]]

    # The run's predictions file, then `xstilts export` and `xstilts score` on it.
    folder = tmp_path / "run" / "predictions" / "panx"
    folder.mkdir(parents=True)
    (folder / "test-en.jsonl").write_text("".join(
        json.dumps({"id": example["id"], "prediction": prediction}) + "\n"
        for example, prediction in zip(examples, predictions, strict=True)))
    export([Source("panx", folder)], tmp_path / "submission", "xtreme", {})
    exported = layout.task_file(tmp_path / "submission", "panx", "en")
    # Each sentence's tags and a blank line; an empty sentence is the blank line alone.
    assert exported.read_text() == "\nB-PER\nI-PER\nO\n\n\nO\nB-ORG\n\nB-LOC\n\n"
    labels = layout.task_file(tmp_path / "labels", "panx", "en")
    labels.parent.mkdir(parents=True)
    labels.write_text(LABELS)
    report = evaluate("xtreme", tmp_path / "submission", tmp_path / "labels", partial=True, notes=[])
    # Gold chunks PER (John Smith), LOC (Paris), LOC (Rome); predicted PER, ORG (Paris), LOC: 2 of 3 right
    # either way, so P = R = F1 = 2/3.
    assert report["panx"]["f1"]["en"] == pytest.approx(200 / 3)
    assert report["panx"]["precision"]["en"] == pytest.approx(200 / 3)
    assert report["panx"]["recall"]["en"] == pytest.approx(200 / 3)
