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
    """A whole JSON document; a truncated or malformed file is a DataError with the line and column the parser
    stopped at."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(
            path, f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); is the file "
            "complete (not truncated)?", error.lineno,
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


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {"str": "a string", "int": "an integer", "list": "a list", "dict": "an object", "float": "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k.__name__, k.__name__) for k in kinds)


def require(
    path: Path, container: Any, key: str, kind: type | tuple[type, ...], where: str = "", line: int | None = None,
    what: str = "",
) -> Any:
    """``container[key]`` checked for presence and type. Errors name the place as a JSON key path
    (``where`` is the path of ``container``, e.g. ``data[0].paragraphs[2]``; empty for a jsonl record, whose
    ``line`` the error gives) and say what was expected (``what``, else the type) and what was found."""
    place = f"{where}.{key}" if where else key
    expected = what or _kind_name(kind)
    if not isinstance(container, dict):
        raise DataError(path, f"{where or 'top level'}: expected an object with key {key!r}, found "
                              f"{type(container).__name__}", line)
    if key not in container:
        raise DataError(path, f"{where or 'the record'}: missing key {key!r} ({expected})", line)
    value = container[key]
    # bool is an int subclass; true/false is never a valid count, offset or id.
    if not isinstance(value, kind) or isinstance(value, bool):
        found = "null" if value is None else f"{type(value).__name__} {str(value)[:60]!r}"
        raise DataError(path, f"{place}: expected {expected}, found {found}", line)
    return value
