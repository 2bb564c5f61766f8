"""XNLI: ``XNLI-1.0/xnli.{dev,test}.tsv`` (every language in one file) and its English training data, MNLI
as shipped in ``XNLI-MT-1.0/multinli/multinli.train.en.tsv``.

Read as the official XTREME preprocessing reads them: a plain tab split (no CSV quoting; quote characters
are text), the header skipped, fields stripped. XNLI-1.0 rows: column 0 is the language, 1 the gold label,
6 and 7 the two sentences. MNLI rows: premise, hypothesis, label, where MNLI's ``contradictory`` is XNLI's
``contradiction``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import at_least_one, rows_without_gaps, text_lines
from xstilts.formats.nli import NLI_LABELS

# MNLI's order (not XTREME's alphabetical one): XNLI is evaluated through the head MNLI trains, as jiant did, so
# output i must mean the same label for both. Predictions are exported as label strings, so no file depends on it.
LABELS = NLI_LABELS
# XNLI-MT's MNLI spells one label differently.
LABEL_ALIASES = {"contradictory": "contradiction"}
# The columns the rows are read from, by position as the official preprocessing reads them; the header must
# name them so, which tells a shuffled or foreign file from XNLI-1.0.
XNLI_COLUMNS = {0: "language", 1: "gold_label", 6: "sentence1", 7: "sentence2"}
MNLI_HEADER = ("premise", "hypo", "label")
# The 15 languages of XNLI-1.0: a row of any other language is damage (it would be silently left out).
XNLI_LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")


def _label(path: Path, number: int, raw: str) -> str:
    label = LABEL_ALIASES.get(raw.strip(), raw.strip())
    if label not in LABELS:
        raise DataError(path, f"unknown label {raw[:60]!r}: expected one of {', '.join(LABELS)} (or 'contradictory')",
                        number)
    return label


def read_xnli(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Examples of one language: ``{"id", "text", "text_pair", "label"}``. The file kind (XNLI-1.0 with a
    language column, or XNLI-MT's MNLI) is told by its header. Every row is checked (columns, language,
    label), also those of the other languages: a damaged file fails whichever language is read."""
    lines = text_lines(path)
    first = next(lines, None)
    if first is None:
        raise DataError(path, "the file is empty: expected a header line")
    header = tuple(field.strip() for field in first[1].split("\t"))
    if header[:2] == ("language", "gold_label"):
        misnamed = {i: name for i, name in XNLI_COLUMNS.items() if i >= len(header) or header[i] != name}
        if misnamed:
            raise DataError(path, "XNLI-1.0 header without "
                            + ", ".join(f"{name!r} as column {i + 1}" for i, name in misnamed.items()), 1)
        yield from _xnli_rows(path, lines, len(header), split, language)
    elif header == MNLI_HEADER:
        yield from _mnli_rows(path, lines, split, language)
    else:
        raise DataError(
            path,
            f"unknown header {first[1][:80]!r}: expected XNLI-1.0's 'language<TAB>gold_label<TAB>...' "
            "or XNLI-MT's 'premise<TAB>hypo<TAB>label'",
            1,
        )


def _xnli_rows(path: Path, lines: Iterator[tuple[int, str]], columns: int, split: str,
               language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    seen: set[str] = set()
    count = 0
    for number, line in at_least_one(path, rows_without_gaps(path, lines), "rows below the header"):
        fields = line.split("\t")
        if len(fields) != columns:
            raise DataError(
                path, f"expected {columns} tab-separated columns as in the header (language, gold_label, 4 parses, "
                f"sentence1, sentence2, ...), found {len(fields)}", number,
            )
        row_language = fields[0].strip()
        if row_language not in XNLI_LANGUAGES:
            raise DataError(path, f"unknown language {row_language[:20]!r} in the language column: XNLI-1.0 has "
                                  f"{', '.join(XNLI_LANGUAGES)}", number)
        seen.add(row_language)
        label = _label(path, number, fields[1])
        if row_language != language:
            continue
        count += 1
        yield number, {"id": f"{split}-{language}-{count}", "text": fields[6].strip(),
                       "text_pair": fields[7].strip(), "label": label}
    if count == 0:
        raise DataError(path, f"no rows for language {language!r}; the file has: {', '.join(sorted(seen))}")


def _mnli_rows(path: Path, lines: Iterator[tuple[int, str]], split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    count = 0
    for number, line in at_least_one(path, rows_without_gaps(path, lines), "rows below the header"):
        fields = line.split("\t")
        if len(fields) != 3:
            raise DataError(path, f"expected 3 tab-separated columns (premise, hypo, label), found {len(fields)}", number)
        count += 1
        yield number, {
            "id": f"{split}-{language}-{count}",
            "text": fields[0].strip(),
            "text_pair": fields[1].strip(),
            "label": _label(path, number, fields[2]),
        }
