"""Shared helpers of the format readers: the ONE way a data file is read (UTF-8 text lines with numbers), JSON
documents and JSON lines parsed from those lines, ASCII integers, typed JSON keys, clear errors.

No reader opens a file itself: every byte of a data file goes through :func:`text_lines`, so every reader
treats a byte order mark, CRLF and CR line ends, undecodable bytes, a file cut inside a multi-byte character
and lone surrogates the same way, with the file and line in the error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from xstilts.errors import DataError

T = TypeVar("T")
BOM = "\ufeff"
_ASCII_INT = re.compile(r"-?[0-9]+")  # [0-9], not \d: int() would also take "²"-like digits, or reject them later
# A JSON \u escape of a UTF-16 surrogate (json.loads pairs a high with a following low one; a lone one stays).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


# ------------------------------------------------------------------------------------------ text lines


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line end) of a UTF-8 text file.

    - A byte order mark at the start of the file is dropped (it is an encoding mark, not text).
    - ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line, as Python's text mode (and so the official
      preprocessing scripts) reads them.
    - Bytes that are not UTF-8 (an encoded surrogate, a file cut inside a multi-byte character, ...) and NUL
      characters (a binary or zero-filled file) are a DataError with the line.
    """
    number = 0
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; binary: decoded here, with line numbers
    except IsADirectoryError:
        raise DataError(path, "is a folder, expected a file") from None
    except FileNotFoundError:
        raise DataError(path, "missing file") from None
    with handle:
        while block := handle.read(_BLOCK):
            block += handle.readline()  # blocks end at a line end, so no character is split between two
            text = _decode(path, number, block)
            if number == 0:
                text = text.removeprefix(BOM)
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if lines[-1] == "":
                lines.pop()  # after the block's last line end
            for line in lines:
                number += 1
                yield number, line


_BLOCK = 1 << 20
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


def _decode(path: Path, before: int, block: bytes) -> str:
    """A block of whole lines as text; ``before`` lines precede it (for the line number of an error)."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as error:
        ends = list(_LINE_ENDS.finditer(block, 0, error.start))
        line_start = ends[-1].end() if ends else 0
        bad = block[error.start : error.start + 3]
        if error.reason == "unexpected end of data":
            why = "the line ends inside a multi-byte character (is the file cut short?)"
        elif bad[:1] == b"\xed" and len(bad) > 1 and bad[1] >= 0xA0:
            why = f"bytes {bad.hex(' ')} encode a lone UTF-16 surrogate, which is not text"
        else:
            why = f"byte {block[error.start]:#04x} ({error.reason})"
        raise DataError(path, f"not UTF-8 text at byte {error.start - line_start + 1} of the line: {why}",
                        before + len(ends) + 1) from None
    nul = text.find("\x00")
    if nul != -1:
        line = before + len(_LINE_ENDS.findall(text[:nul].encode("utf-8"))) + 1
        raise DataError(path, "NUL character in the text: the file is binary or damaged (zero-filled?)", line)
    return text


def is_blank(line: str) -> bool:
    return not line.strip()


def rows_without_gaps(path: Path, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a one-record-per-line file. Blank lines at the end are ignored (files end with
    or without a newline, some with a blank line); a blank line BETWEEN records is an error: it is no record
    of these formats, and skipping it would move every later line number."""
    gap: int | None = None
    for number, line in lines:
        if is_blank(line):
            gap = number if gap is None else gap
            continue
        if gap is not None:
            raise DataError(path, f"blank line {gap} between records: these files have one record per line and no "
                                  "blank lines (was a line break inserted, or a record removed?)", gap)
        yield number, line


def at_least_one(path: Path, items: Iterable[T], what: str) -> Iterator[T]:
    """``items`` unchanged; none at all is a DataError naming the file (an empty or truncated file)."""
    count = 0
    for item in items:
        count += 1
        yield item
    if not count:
        raise DataError(path, f"holds no {what}: is the file empty or cut short?")


def tab_fields(path: Path, number: int, line: str, expected: int, layout: str) -> list[str]:
    """A plain tab split (no CSV quoting: quote characters are text) that must give ``expected`` columns."""
    fields = line.split("\t")
    if len(fields) != expected:
        raise DataError(
            path, f"expected {expected} tab-separated columns ({layout}), found {len(fields)}", number
        )
    return fields


# ------------------------------------------------------------------------------------------ integers


def ascii_int(path: Path, line: int | None, value: str, what: str, minimum: int | None = None) -> int:
    """``value`` as an integer written in ASCII digits (an optional minus sign, nothing else: no spaces, ``+``,
    ``_`` or other scripts' digits, which ``int()`` would take or ``str.isdigit()`` would let through)."""
    if not _ASCII_INT.fullmatch(value):
        raise DataError(path, f"{what} must be an integer in ASCII digits, found {value[:40]!r}", line)
    number = int(value)
    if minimum is not None and number < minimum:
        raise DataError(path, f"{what} must be at least {minimum}, found {number}", line)
    return number


def is_ascii_int(value: str) -> bool:
    return bool(_ASCII_INT.fullmatch(value))


# ------------------------------------------------------------------------------------------ JSON


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise _DuplicateKey(f"an object has the key {twice!r} twice (which value is meant?)")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(path: Path, text: str, line: int | None = None) -> Any:
    """One JSON value from ``text`` (a whole file, or the ``line``-th line of a JSON-lines file). Errors name the
    place: a syntax error its line and column, deep nesting, NaN/Infinity, duplicate keys and lone surrogate
    escapes (``"\\ud83d"``: not text) a plain message."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise DataError(path, f"not valid JSON ({error.msg} at column {error.colno}); is the file complete (not "
                              "truncated)?", line if line is not None else error.lineno) from None
    except RecursionError:
        raise DataError(path, "JSON nested too deeply to read (thousands of levels): not a data file of this "
                              "format", line) from None
    except ValueError as error:  # duplicate keys, NaN/Infinity, integers of thousands of digits
        raise DataError(path, f"not valid JSON data: {error}", line) from None
    if _SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(path, text, value, line)
    return value


def _reject_lone_surrogates(path: Path, text: str, value: Any, line: int | None) -> None:
    """A ``\\uD83D`` escape without its pair decodes to a lone surrogate: not a character, and a tokenizer fails
    on it much later. Named by its JSON key path (and line)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:  # iterative: the value may be deep
        where, item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                found = _SURROGATE.search(item)
                assert found is not None
                if line is None:
                    line = _line_of_lone_escape(text)
                raise DataError(path, f"{where or 'the value'}: a lone UTF-16 surrogate escape "
                                      f"(\\u{ord(found.group()):04x}) without its pair is not text", line)
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    stack.append((f"{where} (a key)", key))
                stack.append((f"{where}.{key}" if where else key, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in enumerate(item))


def _line_of_lone_escape(text: str) -> int | None:
    escapes = list(_SURROGATE_ESCAPE.finditer(text))
    for i, match in enumerate(escapes):
        high = match.group()[2].lower() == "d" and match.group()[3].lower() in "89ab"
        paired_after = i + 1 < len(escapes) and escapes[i + 1].start() == match.end()
        paired_before = i > 0 and escapes[i - 1].end() == match.start()
        if (high and not paired_after) or (not high and not paired_before):
            return text.count("\n", 0, match.start()) + 1
    return None


def load_json(path: Path) -> Any:
    """A whole JSON document, read through :func:`text_lines` (a truncated or malformed file is a DataError
    with the line and column where parsing stopped)."""
    text = "\n".join(line for _, line in text_lines(path))
    if not text.strip():
        raise DataError(path, "the file is empty: expected a JSON document")
    return parse_json(path, text)


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """One JSON object per non-blank line."""
    for number, line in text_lines(path):
        if is_blank(line):
            continue
        value = parse_json(path, line, number)
        if not isinstance(value, dict):
            raise DataError(path, f"expected a JSON object, found {_json_type(value)}", number)
        yield number, value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
             bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


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
                              f"{_json_type(container)}", line)
    if key not in container:
        raise DataError(path, f"{where or 'the record'}: missing key {key!r} ({expected})", line)
    value = container[key]
    # bool is an int subclass; true/false is never a valid count, offset or id.
    if not isinstance(value, kind) or isinstance(value, bool):
        found = "null" if value is None else f"{_json_type(value)} {_short(value)}"
        raise DataError(path, f"{place}: expected {expected}, found {found}", line)
    return value


def require_list_of(path: Path, container: Any, key: str, kind: type, where: str = "", line: int | None = None,
                    what: str = "") -> list[Any]:
    """A list whose every item is of ``kind`` (``where[i]`` named in the error)."""
    items = require(path, container, key, list, where, line, what)
    place = f"{where}.{key}" if where else key
    for i, item in enumerate(items):
        if not isinstance(item, kind) or isinstance(item, bool):
            raise DataError(path, f"{place}[{i}]: expected {_kind_name(kind)}, found {_json_type(item)} "
                                  f"{_short(item)}", line)
    return items


def _short(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"of {len(value)} item{'s' if len(value) != 1 else ''}"
    return repr(str(value)[:60])
