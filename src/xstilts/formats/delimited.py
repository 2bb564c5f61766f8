"""Tab-separated lines, read the way the official scorers read them: one example per line, a plain split on
tabs (no CSV quoting), a fixed number of columns. Helpers shared by the XGLUE and GLUE readers; lines come
from :func:`~xstilts.formats.common.text_lines` (line ends and undecodable bytes handled as everywhere)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from xstilts.errors import DataError
from xstilts.formats.common import at_least_one, rows_without_gaps, text_lines


def tab_rows(
    path: Path, columns: Sequence[int], header: Sequence[str] | None = None, what: str = "columns"
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each row, whose number of tab-separated fields must be one of ``columns``.
    With ``header`` the first line must be that header (checked, then skipped).

    Only the line break is stripped: a field's own leading or trailing spaces are data. Blank lines at the end
    are ignored (the files of the releases end with or without a newline, some with a blank last line); one
    between rows is an error, and so is a file without rows."""
    lines = text_lines(path)
    if header is not None:
        number, line = next(lines, (1, ""))
        if line.split("\t") != list(header):
            raise DataError(
                path, f"expected the header {chr(9).join(header)!r}, found {line[:200]!r}: is this the right file?",
                number,
            )
    allowed = " or ".join(str(c) for c in columns)
    for number, line in at_least_one(path, rows_without_gaps(path, lines), "rows"):
        fields = line.split("\t")
        if len(fields) not in columns:
            raise DataError(path, f"expected {allowed} tab-separated {what}, found {len(fields)}: {line[:200]!r}",
                            number)
        yield number, fields


def map_label(path: Path, line: int, value: str, allowed: Mapping[str, str] | Sequence[str]) -> str:
    """The label ``value`` as the task spells it; an unknown one is an error naming file and line. Spaces
    around the label are ignored, as the official scorers strip them."""
    value = value.strip()
    if isinstance(allowed, Mapping):
        if value in allowed:
            return allowed[value]
        known = list(allowed)
    else:
        if value in allowed:
            return value
        known = list(allowed)
    raise DataError(path, f"unknown label {value[:60]!r}; the file's labels are: {', '.join(known)}", line)


def header_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: field}) of a tab-separated file whose first line names its columns (GLUE's
    files). Columns are found by name, so files of one task with different extra columns (MNLI's train and
    dev) read alike; every line must have as many fields as the header."""
    lines = text_lines(path)
    _, first = next(lines, (1, ""))
    header = first.split("\t")
    missing = [name for name in required if name not in header]
    if missing:
        raise DataError(
            path,
            f"the header has no column {', '.join(repr(m) for m in missing)} (found: {', '.join(header)[:200]}); "
            "is this the right file? (test files of GLUE have no label column)",
            1,
        )
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise DataError(path, f"the header names the column(s) {', '.join(twice)} twice: which one is meant?", 1)
    for number, line in at_least_one(path, rows_without_gaps(path, lines), "rows below the header"):
        fields = line.split("\t")
        if len(fields) != len(header):
            raise DataError(
                path,
                f"expected {len(header)} tab-separated columns as in the header, found {len(fields)}: "
                f"{line[:200]!r}",
                number,
            )
        yield number, dict(zip(header, fields, strict=True))
