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
from xstilts.formats.common import text_lines
from xstilts.formats.nli import NLI_LABELS

# MNLI's order (not XTREME's alphabetical one): XNLI is evaluated through the head MNLI trains, as jiant did, so
# output i must mean the same label for both. Predictions are exported as label strings, so no file depends on it.
LABELS = NLI_LABELS
# XNLI-MT's MNLI spells one label differently.
LABEL_ALIASES = {"contradictory": "contradiction"}
XNLI_HEADER_START = ("language", "gold_label")
MNLI_HEADER = ("premise", "hypo", "label")


def _label(path: Path, number: int, raw: str) -> str:
    label = LABEL_ALIASES.get(raw.strip(), raw.strip())
    if label not in LABELS:
        raise DataError(path, f"unknown label {raw!r}: expected one of {', '.join(LABELS)} (or 'contradictory')", number)
    return label


def read_xnli(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Examples of one language: ``{"id", "text", "text_pair", "label"}``. The file kind (XNLI-1.0 with a
    language column, or XNLI-MT's MNLI) is told by its header."""
    lines = text_lines(path)
    first = next(lines, None)
    if first is None:
        raise DataError(path, "the file is empty: expected a header line")
    header = tuple(field.strip() for field in first[1].split("\t"))
    if header[:2] == XNLI_HEADER_START:
        yield from _xnli_rows(path, lines, split, language)
    elif header == MNLI_HEADER:
        yield from _mnli_rows(path, lines, split, language)
    else:
        raise DataError(
            path,
            f"unknown header {first[1][:80]!r}: expected XNLI-1.0's 'language<TAB>gold_label<TAB>...' "
            "or XNLI-MT's 'premise<TAB>hypo<TAB>label'",
            1,
        )


def _xnli_rows(path: Path, lines: Iterator[tuple[int, str]], split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    seen: set[str] = set()
    count = 0
    for number, line in lines:
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 8:
            raise DataError(
                path, f"expected at least 8 tab-separated columns (language, gold_label, 4 parses, sentence1, "
                f"sentence2, ...), found {len(fields)}", number,
            )
        row_language = fields[0].strip()
        seen.add(row_language)
        if row_language != language:
            continue
        count += 1
        yield number, {
            "id": f"{split}-{language}-{count}",
            "text": fields[6].strip(),
            "text_pair": fields[7].strip(),
            "label": _label(path, number, fields[1]),
        }
    if count == 0:
        raise DataError(path, f"no rows for language {language!r}; the file has: {', '.join(sorted(seen)) or 'no rows'}")


def _mnli_rows(path: Path, lines: Iterator[tuple[int, str]], split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    count = 0
    for number, line in lines:
        if not line.strip():
            continue
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
