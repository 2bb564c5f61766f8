"""Generic readers for the toolkit's own file formats (JSON lines). Benchmark-specific readers live beside
their task declarations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError


def read_jsonl(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """One JSON object per line; blank lines are allowed. Errors name the file and line. The file holds one
    split and language, so ``split`` and ``language`` are not needed (they are part of the reader contract)."""
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as error:
                raise DataError(path, f"not valid JSON ({error.msg} at column {error.colno})", number) from None
            if not isinstance(value, dict):
                raise DataError(path, f"expected a JSON object, found {type(value).__name__}", number)
            yield number, value
