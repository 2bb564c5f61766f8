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
from xstilts.formats.common import (
    at_least_one,
    is_ascii_int,
    json_lines,
    require,
    rows_without_gaps,
    text_lines,
)

Example = dict[str, Any]


def _field(path: Path, number: int, record: dict[str, Any], key: str, kind: Any = str) -> Any:
    return require(path, record, key, kind, line=number)


def _label(path: Path, number: int, value: Any, count: int, hint: str) -> int:
    # ASCII digits only: str.isdigit() also takes digits such as "²", which int() then rejects.
    if isinstance(value, str) and is_ascii_int(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
        raise DataError(path, f"label {value!r} is not one of 0..{count - 1} ({hint})", number)
    return value


def read_hellaswag(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, Example]]:
    for number, record in at_least_one(path, json_lines(path), "examples"):
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
    for number, record in at_least_one(path, json_lines(path), "examples"):
        question = _field(path, number, record, "question", dict)
        choices = _field(path, number, question, "choices", list)
        letters, texts = [], []
        for choice in choices:
            if not isinstance(choice, dict):
                raise DataError(path, "each of question.choices must be an object with label and text", number)
            letters.append(_field(path, number, choice, "label"))
            texts.append(_field(path, number, choice, "text"))
        if len(set(letters)) != len(letters):
            raise DataError(path, f"the choice labels {', '.join(letters)} are not distinct", number)
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
    # Quoted fields hold commas and line breaks: the csv module reads records from the shared text lines (line
    # ends given back as "\n"); strict, so an unterminated quote (a cut file) is an error, not a short field.
    reader = csv.reader((line + "\n" for _, line in text_lines(path)), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(path, f"the file is empty: expected the header {','.join(COSMOS_COLUMNS)}", 1)
        missing = [c for c in COSMOS_COLUMNS if c not in header]
        if missing:
            raise DataError(path, f"the header has no column {', '.join(missing)} (found: {', '.join(header)[:200]})", 1)
        if len(set(header)) != len(header):
            raise DataError(path, "the header names a column twice", 1)
        start = reader.line_num + 1
        gap: int | None = None
        for row in reader:
            if not row:  # a blank line: allowed at the end only
                gap = start if gap is None else gap
            elif gap is not None:
                raise DataError(path, "a blank line between records", gap)
            elif len(row) != len(header):
                raise DataError(path, f"expected {len(header)} columns as in the header, found {len(row)}", start)
            else:
                yield start, dict(zip(header, row, strict=True))
            start = reader.line_num + 1
    except csv.Error as error:
        raise DataError(path, f"bad CSV ({error}); is the file cut short?", reader.line_num) from None


def read_cosmosqa(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, Example]]:
    for number, record in at_least_one(path, _cosmos_records(path), "examples"):
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
    labels = [(number, line.strip()) for number, line in rows_without_gaps(labels_path, text_lines(labels_path))]
    records = list(json_lines(path))
    if not records:
        raise DataError(path, "holds no examples: is the file empty or cut short?")
    if len(records) != len(labels):
        extra = (labels_path, labels[len(records)][0]) if len(labels) > len(records) else (path, records[len(labels)][0])
        raise DataError(
            labels_path, f"has {len(labels)} labels but {path.name} has {len(records)} examples; they must be "
            f"line-aligned (first without a partner: {extra[0].name} line {extra[1]})",
        )
    for (number, record), (label_line, label) in zip(records, labels, strict=True):
        if label not in ("1", "2", "3"):
            raise DataError(labels_path, f"label {label[:20]!r} is not one of 1, 2, 3", label_line)
        yield number, {
            "id": f"{split or path.stem}-{number}",
            "context": f"{_field(path, number, record, 'context')} {_field(path, number, record, 'question')}",
            "choices": [_field(path, number, record, f"answer{letter}") for letter in "ABC"],
            "label": int(label) - 1,
        }
