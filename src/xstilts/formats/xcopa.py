"""XCOPA (cambridgeltl/xcopa ``data/<lang>/{val,test}.<lang>.jsonl``) and English COPA (SuperGLUE v2
``COPA.zip``: ``COPA/{train,val,test}.jsonl``): the same JSON lines, with ``premise``, ``choice1``,
``choice2``, ``question`` (``cause`` or ``effect``), ``label`` (0 or 1) and ``idx`` (XCOPA adds ``changed``;
SuperGLUE's test file has no labels, so it is not read).

The context is built as XTREME-R's run_xcopa.py builds it for both: ``"<premise> What was the <question>?"``,
in English for every language.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import at_least_one, json_lines

QUESTIONS = ("cause", "effect")
# Both releases name the dev split "val"; only COPA has a (labelled) train split.
SPLIT_FILES = {"train": "train", "dev": "val", "test": "test"}


def read_xcopa(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Examples ``{"id", "context", "choices": [choice1, choice2], "label"}``."""
    for number, row in at_least_one(path, json_lines(path), "examples"):
        for key in ("premise", "choice1", "choice2", "question"):
            if not isinstance(row.get(key), str):
                raise DataError(path, f"{key!r} must be a string, found {row.get(key)!r:.60}", number)
        if row["question"] not in QUESTIONS:
            raise DataError(path, f"question must be 'cause' or 'effect', found {row['question']!r:.60}", number)
        label = row.get("label")
        if isinstance(label, bool) or not isinstance(label, int) or label not in (0, 1):  # 1.0 == 1: not a label
            raise DataError(path, f"label must be 0 or 1 (the index of the right choice), found {label!r:.60}", number)
        idx = row.get("idx")
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise DataError(path, f"idx must be an integer (the item's number in both releases), found {idx!r:.40}",
                            number)
        yield number, {
            "id": f"{split}-{language}-{idx}",
            "context": f"{row['premise']} What was the {row['question']}?",
            "choices": [row["choice1"], row["choice2"]],
            "label": label,
        }
