"""Generic readers for the toolkit's own file formats (JSON lines; plain text lines for MLM corpora; source<TAB>target
lines for generation). Benchmark-specific readers live in ``xstilts.formats``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import json_lines, text_lines


def read_jsonl(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """One JSON object per line; blank lines are allowed. Errors name the file and line. The file holds one
    split and language, so ``split`` and ``language`` are not needed (they are part of the reader contract)."""
    return json_lines(path)


def read_text_lines(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """Plain text, one text per line (an MLM corpus): ``{"id": "<split>-<language>-<line>", "text"}``; empty
    lines are skipped, so paragraphs may be separated by blank lines."""
    for number, line in text_lines(path):
        text = line.strip()
        if text:
            yield number, {"id": f"{split}-{language}-{number}", "text": text}


def read_tsv_pairs(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """``source<TAB>target`` per line (a generation task): ``{"id": "<split>-<language>-<line>", "source",
    "target"}``. Empty lines are skipped; a line without exactly one tab, or with an empty source, is a DataError
    naming the line (a text that holds a tab needs the JSON-lines format)."""
    for number, line in text_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataError(path, f"expected source<TAB>target, found {len(fields) - 1} tabs (write texts that hold a "
                            "tab as JSON lines: {\"id\", \"source\", \"target\"})", number)
        source, target = (field.strip() for field in fields)
        if not source:
            raise DataError(path, "the source (before the tab) is empty", number)
        yield number, {"id": f"{split}-{language}-{number}", "source": source, "target": target}
