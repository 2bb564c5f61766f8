"""PAN-X (WikiANN, Rahimi et al. split) as in XTREME's panx_dataset: per language the files ``train``,
``dev`` and ``test``, one ``<lang>:<token><TAB><IOB2 tag>`` line per word and a blank line between
sentences. zh and ja are tokenized into characters. Tags: B-/I- of PER, ORG, LOC, and O.

Sentences are those the official labels hold, one for one: XTREME's preprocessing (panx_preprocess) drops
the file's last line when it is blank and keeps every other blank line, and its scorer (evaluate.py's
read_tag) ends a sentence at each blank line. So a blank line right after another one, or at the very
start, is an EMPTY sentence (``tokens`` and ``tags`` both ``[]``), and predictions must hold it too, or the
official scorer finds one sentence too few. A last sentence without a blank line after it still counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import text_lines

LABELS = ("B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O")


def split_token(path: Path, number: int, field: str) -> str:
    """The word of ``<lang>:<word>``: everything after the first colon (so ``en::`` is the word ``:``)."""
    colon = field.find(":")
    if colon == -1:
        raise DataError(path, f"expected '<lang>:<token>' in the first column, found {field!r}", number)
    return field[colon + 1 :].strip()


def read_panx(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Sentences ``{"id", "tokens", "tags"}`` in the official sequence, empty ones included (see the module
    docstring); an empty sentence is numbered by the blank line that ends it."""
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    count = 0
    # The last blank line read is held back until another line follows: only then is it a sentence break
    # (the official preprocessing drops the file's final line when it is blank).
    held: int | None = None
    words = 0
    for number, line in text_lines(path):
        if held is not None:
            count += 1
            yield (start if tokens else held), {"id": f"{split}-{language}-{count}", "tokens": tokens, "tags": tags}
            tokens, tags, held = [], [], None
        if not line.strip():
            held = number
            continue
        fields = line.strip().split("\t")
        if len(fields) != 2:
            raise DataError(path, f"expected 2 tab-separated columns ('<lang>:<token>' and a tag), found {len(fields)}", number)
        tag = fields[1].strip()
        if tag not in LABELS:
            raise DataError(path, f"unknown tag {tag!r}: PAN-X tags are {', '.join(LABELS)}", number)
        if not tokens:
            start = number
        tokens.append(split_token(path, number, fields[0]))
        tags.append(tag)
        words += 1
    if not words:
        raise DataError(path, "holds no '<lang>:<token><TAB><tag>' lines: is the file empty or cut short?")
    if tokens:
        count += 1
        yield start, {"id": f"{split}-{language}-{count}", "tokens": tokens, "tags": tags}
