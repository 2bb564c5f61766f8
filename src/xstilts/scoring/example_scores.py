"""Per-example score units of a study's evaluations, for paired tests over test examples (a paired bootstrap).

Each evaluation writes ``runs/<stage key>/eval/<eval key>.units.json`` before its ``<eval key>.json`` (which
marks it done)::

    {"key": eval key, "ids": [example ids, in order],
     "units": {metric: {"ids": [unit ids], "num": [...], "den": [...]}}}

A metric's value is ``100 * sum(num) / sum(den)`` (:mod:`xstilts.scoring.units`). A unit is an example,
except for metrics scored per query (retrieval: only the examples that are queries; nDCG: one unit per query
group, the group as id), hence the ids per metric. Metrics that do not decompose (MLM perplexity) are absent.

``example_scores.jsonl`` (next to ``results.csv``) gathers them, one line per (eval_key, metric)::

    {"eval_key", "stage_key", "task", "language", "split", "metric", "ids", "num", "den"}

results.csv rows join to it on (eval_key, metric). Evaluations done by a version of xstilts before units
existed have no units file: they are simply absent from it (never redone), and a report falls back to
seed-level statistics for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from xstilts.atomic import write_text_atomic
from xstilts.errors import DataError
from xstilts.scoring.units import Units

EXAMPLE_SCORES = "example_scores.jsonl"
RECORD_FIELDS = ("eval_key", "stage_key", "task", "language", "split", "metric", "ids", "num", "den")


def write_units(path: Path, key: str, example_ids: list[str], units: Mapping[str, Units]) -> None:
    """The units file of one evaluation (atomic; compact JSON: it holds several numbers per example)."""
    data = {"key": key, "ids": [str(i) for i in example_ids],
            "units": {metric: unit.as_json() for metric, unit in units.items()}}
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def read_units(path: Path) -> dict[str, Units]:
    try:
        data = json.loads(path.read_text())
        return {metric: Units.from_json(value) for metric, value in data["units"].items()}
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(path, f"not a units file ({error}); delete it and its .json to evaluate again") from None


def example_score_lines(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps({name: record[name] for name in RECORD_FIELDS}, ensure_ascii=False) + "\n"


def write_example_scores(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    write_text_atomic(path, "".join(example_score_lines(records)))


def read_example_scores(path: Path) -> list[dict[str, Any]]:
    """The records of an ``example_scores.jsonl``; a bad line is an error naming it."""
    return [record for _, record in iter_example_scores(path)]


def iter_example_scores(path: Path, required: tuple[str, ...] = RECORD_FIELDS) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each record of an ``example_scores.jsonl``, checked: JSON, the ``required``
    fields, ``ids``, ``num`` and ``den`` of one length. The one reader of the format (the report reads through
    it, requiring only what it uses)."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise DataError(path, f"not an example-score record (not JSON: {error})", line=number) from None
            missing = [name for name in required if not isinstance(record, dict) or name not in record]
            if missing:
                raise DataError(path, f"not an example-score record: it lacks {', '.join(missing)}", line=number)
            lengths = [len(record[name]) if isinstance(record[name], list) else None for name in ("ids", "num", "den")]
            if None in lengths or len(set(lengths)) != 1:
                raise DataError(path, f"ids, num and den must be lists of one length (got {lengths})", line=number)
            yield number, record
