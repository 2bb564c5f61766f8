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
from xstilts.formats.common import json_lines

QUESTIONS = ("cause", "effect")
# Both releases name the dev split "val"; only COPA has a (labelled) train split.
SPLIT_FILES = {"train": "train", "dev": "val", "test": "test"}


def read_xcopa(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Examples ``{"id", "context", "choices": [choice1, choice2], "label"}``."""
    for number, row in json_lines(path):
        for key in ("premise", "choice1", "choice2", "question"):
            if not isinstance(row.get(key), str):
                raise DataError(path, f"{key!r} must be a string, found {row.get(key)!r}", number)
        if row["question"] not in QUESTIONS:
            raise DataError(path, f"question must be 'cause' or 'effect', found {row['question']!r}", number)
        label = row.get("label")
        if label not in (0, 1) or isinstance(label, bool):
            raise DataError(path, f"label must be 0 or 1 (the index of the right choice), found {label!r}", number)
        yield number, {
            "id": f"{split}-{language}-{row.get('idx', number - 1)}",
            "context": f"{row['premise']} What was the {row['question']}?",
            "choices": [row["choice1"], row["choice2"]],
            "label": label,
        }
