"""PAWS-X: ``x-final/<lang>/{train.tsv | translated_train.tsv, dev_2k.tsv, test_2k.tsv}``, a header
``id sentence1 sentence2 label`` and one pair per line.

Read with a plain tab split, as the official preprocessing does: quote characters are text, not CSV quoting.
(The official *processed* files are the ones written with CSV quoting and CRLF; see ``data/xtreme_export``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import at_least_one, rows_without_gaps, tab_fields, text_lines

LABELS = ("0", "1")
HEADER = ("id", "sentence1", "sentence2", "label")
LAYOUT = "id, sentence1, sentence2, label"


def pawsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, [id, sentence1, sentence2, label]) of every data row; the header is checked and skipped."""
    lines = text_lines(path)
    first = next(lines, None)
    if first is None:
        raise DataError(path, "the file is empty: expected the header 'id<TAB>sentence1<TAB>sentence2<TAB>label'")
    if tuple(field.strip() for field in first[1].split("\t")) != HEADER:
        raise DataError(path, f"expected the header 'id<TAB>sentence1<TAB>sentence2<TAB>label', found {first[1][:80]!r}", 1)
    # As the official preprocessing: the line stripped, then split on tabs.
    for number, line in at_least_one(path, rows_without_gaps(path, lines), "rows below the header"):
        yield number, tab_fields(path, number, line.strip(), 4, LAYOUT)


def read_pawsx(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Examples ``{"id", "text", "text_pair", "label"}`` with the label "0" or "1" as in the files."""
    count = 0
    for number, (_, first, second, label) in pawsx_rows(path):
        label = label.strip()
        if label not in LABELS:
            raise DataError(path, f"unknown label {label!r}: PAWS-X labels are 0 and 1", number)
        count += 1
        yield number, {
            "id": f"{split}-{language}-{count}",
            "text": first.strip(),
            "text_pair": second.strip(),
            "label": label,
        }
