"""Shared helpers of the format readers: UTF-8 text lines with numbers, JSON documents, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line end). Line ends are read as Python's text mode does
    (``\\n``, ``\\r\\n`` or ``\\r``), as the official preprocessing scripts read them."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip("\n")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text (byte {error.start} of the undecodable chunk): {error.reason}") from None


def tab_fields(path: Path, number: int, line: str, expected: int, layout: str) -> list[str]:
    """A plain tab split (no CSV quoting: quote characters are text) that must give ``expected`` columns."""
    fields = line.split("\t")
    if len(fields) != expected:
        raise DataError(
            path, f"expected {expected} tab-separated columns ({layout}), found {len(fields)}", number
        )
    return fields


def load_json(path: Path) -> Any:
    """A whole JSON document; a truncated or malformed file is a DataError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text: {error.reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(
            path, f"not valid JSON ({error.msg} at column {error.colno}); is the file truncated?", error.lineno
        ) from None


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """One JSON object per non-blank line."""
    for number, line in text_lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(path, f"not valid JSON ({error.msg} at column {error.colno})", number) from None
        if not isinstance(value, dict):
            raise DataError(path, f"expected a JSON object, found {type(value).__name__}", number)
        yield number, value


def require(path: Path, container: Any, key: str, kind: type | tuple[type, ...], where: str, line: int | None = None) -> Any:
    """``container[key]`` checked for presence and type, with an error that says where in the file."""
    if not isinstance(container, dict) or key not in container:
        raise DataError(path, f"{where}: missing key {key!r}", line)
    value = container[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DataError(path, f"{where}: {key!r} must be {names}, found {type(value).__name__}", line)
    return value
