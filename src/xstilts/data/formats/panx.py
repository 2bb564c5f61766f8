"""PAN-X (WikiANN, Rahimi et al. split) as in XTREME's panx_dataset: per language the files ``train``,
``dev`` and ``test``, one ``<lang>:<token><TAB><IOB2 tag>`` line per word and a blank line between
sentences. zh and ja are tokenized into characters. Tags: B-/I- of PER, ORG, LOC, and O.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.data.formats.common import text_lines
from xstilts.errors import DataError

LABELS = ("B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O")


def split_token(path: Path, number: int, field: str) -> str:
    """The word of ``<lang>:<word>``: everything after the first colon (so ``en::`` is the word ``:``)."""
    colon = field.find(":")
    if colon == -1:
        raise DataError(path, f"expected '<lang>:<token>' in the first column, found {field!r}", number)
    return field[colon + 1 :].strip()


def read_panx(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Sentences ``{"id", "tokens", "tags"}``; several blank lines in a row are one sentence break."""
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    count = 0
    for number, line in text_lines(path):
        if not line.strip():
            if tokens:
                count += 1
                yield start, {"id": f"{split}-{language}-{count}", "tokens": tokens, "tags": tags}
            tokens, tags = [], []
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
    if tokens:
        count += 1
        yield start, {"id": f"{split}-{language}-{count}", "tokens": tokens, "tags": tags}
