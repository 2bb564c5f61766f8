"""English NLI data for intermediate training: ANLI (rounds 1-3), MNLI (GLUE tsv or the MultiNLI jsonl) and
SNLI (jsonl). Every reader gives classification examples with the labels ``entailment``, ``neutral``,
``contradiction``, in that order everywhere, so that ANLI+ (ANLI + MNLI + SNLI) can share one head.

Examples whose gold label is ``-`` (SNLI and MultiNLI's jsonl: the annotators reached no majority) have no
label by design of those data sets; they are left out, as everyone who trains on them does. Any other
unknown label is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.formats.common import at_least_one, json_lines, require
from xstilts.formats.delimited import header_rows, map_label

NLI_LABELS = ("entailment", "neutral", "contradiction")
NO_CONSENSUS = "-"
_ANLI_LABELS = {"e": "entailment", "n": "neutral", "c": "contradiction"}


def _text(path: Path, number: int, record: dict[str, Any], key: str) -> str:
    return require(path, record, key, str, line=number)


def read_anli(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """ANLI ``R<n>/{train,dev,test}.jsonl``: ``uid``, ``context`` (premise), ``hypothesis``, ``label`` e/n/c."""
    for number, record in at_least_one(path, json_lines(path), "examples"):
        yield number, {
            "id": _text(path, number, record, "uid"),
            "text": _text(path, number, record, "context"),
            "text_pair": _text(path, number, record, "hypothesis"),
            "label": map_label(path, number, _text(path, number, record, "label"), _ANLI_LABELS),
        }


def read_snli_style_jsonl(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """SNLI and MultiNLI jsonl: ``pairID``, ``sentence1``, ``sentence2``, ``gold_label`` (``-`` dropped)."""
    return at_least_one(path, _snli_style_rows(path), "labelled examples")


def _snli_style_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, record in json_lines(path):
        # Every record is checked, also those left out below: a damaged one is an error wherever it is.
        example = {
            "id": _text(path, number, record, "pairID"),
            "text": _text(path, number, record, "sentence1"),
            "text_pair": _text(path, number, record, "sentence2"),
        }
        gold = _text(path, number, record, "gold_label")
        if gold == NO_CONSENSUS:
            continue
        yield number, {**example, "label": map_label(path, number, gold, NLI_LABELS)}


def read_mnli(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """MNLI from GLUE's ``MNLI/*.tsv`` (columns found by name: ``pairID``, ``sentence1``, ``sentence2``,
    ``gold_label``) or from MultiNLI's ``multinli_1.0_*.jsonl``, chosen by the file's suffix."""
    if path.suffix == ".jsonl":
        yield from read_snli_style_jsonl(path, split, language)
        return
    rows = header_rows(path, ("pairID", "sentence1", "sentence2", "gold_label"))
    for number, row in at_least_one(path, _labelled(rows), "labelled examples"):
        yield number, {
            "id": row["pairID"],
            "text": row["sentence1"],
            "text_pair": row["sentence2"],
            "label": map_label(path, number, row["gold_label"], NLI_LABELS),
        }


def _labelled(rows: Iterator[tuple[int, dict[str, str]]]) -> Iterator[tuple[int, dict[str, str]]]:
    return ((number, row) for number, row in rows if row["gold_label"] != NO_CONSENSUS)


read_snli = read_snli_style_jsonl
