"""English multiple-choice data for intermediate training: HellaSwag, CommonsenseQA, Cosmos QA, SocialIQA.

Each reader gives multiple_choice examples ``{"id", "context", "choices", "label"}`` (label: index of the
right choice). How each data set's fields become (context, choices):

- HellaSwag (``hellaswag_{train,val}.jsonl``): context ``ctx_a``, choice ``ctx_b + " " + ending`` (``ctx_b`` is
  the start of the sentence every ending continues; it is empty for some items), 4 choices, ``label`` int.
- CommonsenseQA (``{train,dev}_rand_split.jsonl``): context ``question.stem``, the 5 choice texts in file
  order, label = position of ``answerKey`` among the choice labels (A-E).
- Cosmos QA (``train.csv``/``valid.csv``, or jsonl with the same keys): context ``context + " " + question``,
  choices ``answer0..answer3``, ``label`` 0-3. The csv quotes fields (they hold commas and newlines), so it is
  read with the csv module; the number given is the line the record starts on.
- SocialIQA (``{train,dev}.jsonl`` + ``{train,dev}-labels.lst``): context ``context + " " + question``,
  choices ``answerA..answerC``; the labels file has one 1-based label per line, line-aligned with the jsonl.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import json_lines, require

Example = dict[str, Any]


def _field(path: Path, number: int, record: dict[str, Any], key: str, kind: Any = str) -> Any:
    return require(path, record, key, kind, line=number)


def _label(path: Path, number: int, value: Any, count: int, hint: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
        raise DataError(path, f"label {value!r} is not one of 0..{count - 1} ({hint})", number)
    return value


def read_hellaswag(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, Example]]:
    for number, record in json_lines(path):
        endings = _field(path, number, record, "endings", list)
        if not all(isinstance(e, str) for e in endings):
            raise DataError(path, "field 'endings' must be a list of strings", number)
        if "label" not in record:
            raise DataError(path, "no 'label': the test file of HellaSwag is unlabelled; use train or val", number)
        start = _field(path, number, record, "ctx_b")
        yield number, {
            "id": str(record.get("ind", number)),
            "context": _field(path, number, record, "ctx_a"),
            "choices": [f"{start} {ending}".strip() for ending in endings],
            "label": _label(path, number, record["label"], len(endings), "the index of the right ending"),
        }


def read_commonsenseqa(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, Example]]:
    for number, record in json_lines(path):
        question = _field(path, number, record, "question", dict)
        choices = _field(path, number, question, "choices", list)
        letters, texts = [], []
        for choice in choices:
            if not isinstance(choice, dict):
                raise DataError(path, "each of question.choices must be an object with label and text", number)
            letters.append(_field(path, number, choice, "label"))
            texts.append(_field(path, number, choice, "text"))
        if "answerKey" not in record:
            raise DataError(path, "no 'answerKey': the test file of CommonsenseQA is unlabelled", number)
        key = record["answerKey"]
        if key not in letters:
            raise DataError(path, f"answerKey {key!r} is not one of the choice labels {', '.join(letters)}", number)
        yield number, {
            "id": _field(path, number, record, "id"),
            "context": _field(path, number, question, "stem"),
            "choices": texts,
            "label": letters.index(key),
        }


COSMOS_COLUMNS = ("id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label")


def _cosmos_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix == ".jsonl":
        yield from json_lines(path)
        return
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        missing = [c for c in COSMOS_COLUMNS if c not in header]
        if missing:
            raise DataError(path, f"the header has no column {', '.join(missing)} (found: {', '.join(header)})", 1)
        start = reader.line_num + 1
        try:
            for row in reader:
                if len(row) != len(header):
                    raise DataError(path, f"expected {len(header)} columns as in the header, found {len(row)}", start)
                yield start, dict(zip(header, row, strict=True))
                start = reader.line_num + 1
        except csv.Error as error:
            raise DataError(path, f"bad CSV ({error})", start) from None


def read_cosmosqa(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, Example]]:
    for number, record in _cosmos_records(path):
        if "label" not in record:
            raise DataError(path, "no 'label': the test file of Cosmos QA is unlabelled; use train or valid", number)
        choices = [_field(path, number, record, f"answer{i}") for i in range(4)]
        yield number, {
            "id": str(_field(path, number, record, "id")),
            "context": f"{_field(path, number, record, 'context')} {_field(path, number, record, 'question')}",
            "choices": choices,
            "label": _label(path, number, record["label"], 4, "the index of the right answer"),
        }


def socialiqa_labels_file(path: Path) -> Path:
    """``train.jsonl`` -> ``train-labels.lst`` (the release's naming)."""
    return path.with_name(f"{path.stem}-labels.lst")


def read_socialiqa(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, Example]]:
    labels_path = socialiqa_labels_file(path)
    if not labels_path.exists():
        raise DataError(labels_path, f"missing: SocialIQA keeps the labels of {path.name} in this file")
    with open(labels_path, encoding="utf-8") as handle:
        labels = [(number, line.strip()) for number, line in enumerate(handle, start=1) if line.strip()]
    records = list(json_lines(path))
    if len(records) != len(labels):
        raise DataError(
            labels_path, f"has {len(labels)} labels but {path.name} has {len(records)} examples; they must be "
            "line-aligned",
        )
    for (number, record), (label_line, label) in zip(records, labels, strict=True):
        if label not in ("1", "2", "3"):
            raise DataError(labels_path, f"label {label!r} is not one of 1, 2, 3", label_line)
        yield number, {
            "id": f"{split or path.stem}-{number}",
            "context": f"{_field(path, number, record, 'context')} {_field(path, number, record, 'question')}",
            "choices": [_field(path, number, record, f"answer{letter}") for letter in "ABC"],
            "label": int(label) - 1,
        }
