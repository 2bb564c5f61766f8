"""A seeded mutator of data files for the reader fuzz suite (tests/test_fuzz_readers.py).

Each mutation of a subject's files (the real-format samples, see reader_subjects.py) is CLASSIFIED when it is
made, from what the file's format promises (its :class:`FileSpec`), never from what the reader does:

- ``same``: a meaning-preserving variant (a BOM, CRLF or CR line ends, trailing blank lines where the format
  ignores them, JSON re-serialised): the reader must give exactly the original (line, example) pairs;
- ``edit``: another valid input (a cut exactly at a record boundary, whole records dropped, duplicated or
  swapped, a text field cut short, two text columns swapped, ...): the reader must give the original examples
  edited the same way (:class:`Edit`, applied by the suite to the original parse); when that leaves nothing,
  a DataError naming the file;
- ``breaking``: the reader must raise a DataError naming the file and, where the mutation knows it, the line.

A position whose class the mutator cannot tell for sure (e.g. a label cut to a shorter valid label) is
declined and another one drawn, so no mutation is checked against a guess.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOM = b"\xef\xbb\xbf"
_BREAKS = re.compile(rb"\r\n|\r|\n")
GARBAGE = "zz garbage line zz"


# ------------------------------------------------------------------------------------------ specs


@dataclass(frozen=True)
class Col:
    """A column's role: ``label`` (values in ``allowed``), ``text`` (free text read into example field
    ``field``), ``unused`` (not read), ``key`` (read, structural: an id, a head)."""

    role: str
    allowed: tuple[str, ...] = ()
    field: str = ""
    strip: bool = False  # the reader strips the text


LABEL = "label"
TEXT = "text"
UNUSED = "unused"
KEY = "key"


@dataclass(frozen=True)
class FileSpec:
    """What a file's format promises, as the mutator needs it.

    kind: ``rows`` (one record per line, ``sep``-separated columns), ``lines`` (one value per line, every line
    a record: Tatoeba, label lists, generation pairs), ``blocks`` (token lines, sentences separated by blank
    lines), ``conllu``, ``ccg`` (header + derivation line pairs), ``jsonl``, ``csv``, ``json``."""

    kind: str
    header: bool = False
    sep: str = "\t"
    columns: tuple[Col, ...] = ()
    strip_line: bool = False  # the reader strips the whole line before splitting it (PAWS-X, PAN-X)
    unique: bool = False  # a duplicated record is an error (ids must be unique)
    trailing_blank: str = "ignored"  # "ignored", "breaking" (every line counts) or "empty-sentences" (PAN-X)
    # json/jsonl: (key path pattern, allowed types) the reader requires; "*" matches every list index.
    required: tuple[tuple[str, tuple[type, ...]], ...] = ()
    optional: tuple[tuple[str, tuple[type, ...]], ...] = ()  # json/jsonl: keys that may be absent, typed if not
    labels: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # json/jsonl: (key path pattern, allowed values)
    offsets: tuple[str, ...] = ()  # json/jsonl: key patterns of character offsets into a text
    record_path: str = ""  # json: pattern of the records that may be swapped (e.g. data[*].paragraphs[*].qas)
    swappable: bool = True  # whole records may be swapped (False: their position is meaning, e.g. blocks' last)
    droppable: bool = True  # whole records may be dropped


# ------------------------------------------------------------------------------------------ mutations


@dataclass
class Edit:
    """How the original parse changes (the suite applies it to the original examples of ``file``'s records):
    their new order (original record indices; one may repeat or go), fields taken from other records'
    examples or set to a value, tokens rearranged, or the examples unchanged (only their lines move)."""

    file: str
    order: list[int] | None = None
    take: dict[int, dict[str, tuple[int, str]]] | None = None  # record -> {field: (source record, field)}
    set: dict[int, dict[str, Any]] | None = None  # record -> {field: new value}
    tokens: dict[int, list[tuple[int, int]]] | None = None  # record -> [(source record, token position)]
    same_examples: bool = False
    extra_empty: int = 0  # PAN-X: empty sentences added at the end
    swap_ids: tuple[str, str] | None = None  # JSON: the examples with these ids trade places
    drop_ids: tuple[str, ...] = ()  # JSON: the examples with these ids go
    copies: int = 0  # JSON: the examples repeated this many times, the k-th copy's ids suffixed "~k"


@dataclass
class Mutation:
    op: str
    kind: str  # "same", "edit", "breaking"
    files: dict[str, bytes]  # the mutated files (relative path -> new content)
    file: str = ""  # breaking: the file the error must name ("" = any file of the subject)
    lines: tuple[int | None, ...] | None = None  # breaking: the acceptable error lines (None: not checked)
    edit: Edit | None = None
    expected: list[dict[str, Any]] | None = None  # edit: the expected examples, where a subject computes them
    note: str = ""  # what was changed (a JSON key path), for failure reports


class Declined(Exception):
    """The mutator cannot tell this draw's class for sure (or the op does not apply): draw another."""


# ------------------------------------------------------------------------------------------ lines


def line_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(start, end of text, end with the line break) of each line, numbered as the readers number them
    (``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line)."""
    spans, start = [], 0
    for match in _BREAKS.finditer(data):
        spans.append((start, match.start(), match.end()))
        start = match.end()
    if start < len(data):
        spans.append((start, len(data), len(data)))
    return spans


def line_of(data: bytes, position: int) -> int:
    """The 1-based line that holds byte ``position`` (a position at the end of the data: its last line, or the
    line after a final line break)."""
    return len(_BREAKS.findall(data, 0, position)) + 1


def decoded(data: bytes) -> list[str]:
    data = data.removeprefix(BOM)
    return [data[s:e].decode("utf-8") for s, e, _ in line_spans(data)]


def is_blank(text: str) -> bool:
    return not text.strip()


@dataclass
class Record:
    """A record of a file: its lines (1-based, inclusive) and byte span (with its line breaks)."""

    first: int
    last: int
    start: int
    end: int  # end of its last line's text
    stop: int  # end with the terminating line break(s) that belong to it


def records_of(spec: FileSpec, data: bytes) -> list[Record]:
    """The records of a file of a line-based kind (all but ``json``)."""
    spans = line_spans(data)
    text = [data[s:e].decode("utf-8", "replace") for s, e, _ in spans]
    records: list[Record] = []
    if spec.kind in ("rows", "lines", "jsonl", "csv_lines"):
        first = 2 if spec.header else 1
        for number in range(first, len(spans) + 1):
            if spec.kind != "lines" and is_blank(text[number - 1]):
                continue
            s, e, stop = spans[number - 1]
            records.append(Record(number, number, s, e, stop))
    elif spec.kind in ("blocks", "conllu"):
        number = 1
        while number <= len(spans):
            if is_blank(text[number - 1]):
                number += 1
                continue
            first = number
            while number <= len(spans) and not is_blank(text[number - 1]):
                number += 1
            last = number - 1
            stop = spans[number - 1][2] if number <= len(spans) else spans[last - 1][2]  # with its blank line
            records.append(Record(first, last, spans[first - 1][0], spans[last - 1][1], stop))
    elif spec.kind == "ccg":
        numbers = [n for n in range(1, len(spans) + 1) if not is_blank(text[n - 1])]
        for header, tree in zip(numbers[::2], numbers[1::2], strict=False):
            records.append(Record(header, tree, spans[header - 1][0], spans[tree - 1][1], spans[tree - 1][2]))
    else:
        raise ValueError(f"no records for kind {spec.kind}")
    return records


def csv_records(data: bytes, header: bool = True) -> list[Record]:
    """CSV records (a quoted field may span lines), found with the csv module on the original text."""
    import csv

    spans = line_spans(data)
    lines = [data[s:e].decode("utf-8") + "\n" for s, e, _ in spans]
    reader = csv.reader(lines, strict=True)
    records, previous = [], 0
    for row in reader:
        first, last = previous + 1, reader.line_num
        previous = last
        if header and first == 1 or not row:
            continue
        records.append(Record(first, last, spans[first - 1][0], spans[last - 1][1], spans[last - 1][2]))
    return records


# ------------------------------------------------------------------------------------------ JSON paths


def json_paths(value: Any, pattern: str) -> list[tuple[Any, ...]]:
    """Concrete paths (tuples of keys and indices) that match ``pattern`` (``a[*].b``) in ``value``."""
    steps = [step for step in re.split(r"\.|(?=\[)", pattern) if step]
    found: list[tuple[Any, ...]] = [()]
    for step in steps:
        nxt = []
        for path in found:
            node = get_path(value, path)
            if step == "[*]":
                if isinstance(node, list):
                    nxt.extend(path + (i,) for i in range(len(node)))
            elif isinstance(node, dict) and step in node:
                nxt.append(path + (step,))
        found = nxt
    return found


def get_path(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def set_path(value: Any, path: tuple[Any, ...], new: Any) -> None:
    get_path(value, path[:-1])[path[-1]] = new


def dumps(value: Any, rng: random.Random | None = None) -> str:
    """JSON text; with ``rng`` a random but equivalent layout (indent, separators, escapes, key order)."""
    if rng is None:
        return json.dumps(value, ensure_ascii=False)
    shuffled = _shuffle_keys(value, rng)
    indent = rng.choice([None, None, 0, 1, 2, "\t"])
    separators = rng.choice([(",", ":"), (", ", ": "), (" ,", " : ")]) if indent is None else None
    return json.dumps(shuffled, ensure_ascii=rng.random() < 0.5, indent=indent, separators=separators)


def _shuffle_keys(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffle_keys(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_shuffle_keys(item, rng) for item in value]
    return value


WRONG_VALUES: tuple[Any, ...] = (0, 1.5, "x", [], {}, None, True)


def wrong_value(allowed: tuple[type, ...], rng: random.Random) -> Any:
    """A value of none of the ``allowed`` types (bool counts as no int: the readers reject true/false)."""
    def fits(value: Any) -> bool:
        return isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)

    return rng.choice([value for value in WRONG_VALUES if not fits(value)])


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# ------------------------------------------------------------------------------------------ helpers


def to_crlf(data: bytes) -> bytes:
    return _BREAKS.sub(b"\r\n", data)


def to_cr(data: bytes) -> bytes:
    return _BREAKS.sub(b"\r", data)


def ends_with_break(data: bytes) -> bool:
    return data.endswith((b"\n", b"\r"))


def utf8_boundaries(data: bytes) -> list[int]:
    """Byte positions strictly inside a multi-byte UTF-8 character."""
    return [i for i in range(1, len(data)) if 0x80 <= data[i] < 0xC0]


def safe_positions(data: bytes) -> list[int]:
    """Positions where inserted bytes stay on one line (not between a CR and its LF)."""
    return [i for i in range(len(data) + 1) if not (i > 0 and data[i - 1:i] == b"\r" and data[i:i + 1] == b"\n")]


@dataclass
class Context:
    """What the mutator knows of one subject: its files, their specs and records."""

    files: dict[str, bytes]
    specs: dict[str, FileSpec]
    records: dict[str, list[Record]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, spec in self.specs.items():
            if spec.kind == "csv":
                self.records[name] = csv_records(self.files[name], spec.header)
            elif spec.kind != "json":
                self.records[name] = records_of(spec, self.files[name])


OpFunction = Callable[[Context, str, random.Random], Mutation]
