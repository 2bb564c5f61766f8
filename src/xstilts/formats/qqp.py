"""Quora Question Pairs as GLUE ships it: ``QQP/{train,dev}.tsv`` with the header
``id qid1 qid2 question1 question2 is_duplicate``; labels 0 (not duplicates) and 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.formats.delimited import header_rows, map_label

QQP_LABELS = ("0", "1")


def read_qqp(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    for number, row in header_rows(path, ("id", "question1", "question2", "is_duplicate")):
        yield number, {
            "id": row["id"],
            "text": row["question1"],
            "text_pair": row["question2"],
            "label": map_label(path, number, row["is_duplicate"], QQP_LABELS),
        }
