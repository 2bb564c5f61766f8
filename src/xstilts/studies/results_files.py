"""A study's result rows as files: CSV (as results.csv), JSON (a list of typed row objects) or Parquet.

The column types are fixed here, so every format reads back the same: numbers as numbers, booleans as
booleans, a missing chance level as null. Non-finite values (an MLM perplexity of inf) are null in JSON,
which has no way to write them, and stay inf/nan in CSV and Parquet.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from xstilts.atomic import write_text_atomic

RESULT_COLUMNS = [
    "study", "pipeline", "model", "seed", "task", "family", "language", "split", "metric", "value", "chance",
    "zero_shot", "main", "intermediate", "pretraining", "n_examples", "stage_key", "eval_key", "axes",
    # The benchmark whose languages and aggregation apply and the published setup the study follows (empty:
    # none); the value's denominator (queries, questions, tokens: a mean pooled over languages weighs each by
    # it); the evaluation's settings (JSON).
    "benchmark", "reference", "weight", "recipe",
    # True when the model gave every example the same output (one class, one tag, one answer)
    "constant",
    # What the evaluated stage was trained in: fp32 or bf16, "bf16 (evaluated in fp32)" when the evaluation ran
    # on a machine that picked another (runtime.precision: auto); a runtime setting, in no lineage key
    "precision",
]


# Column -> type of its values (Parquet: string, int64, float64, bool).
RESULT_TYPES: dict[str, str] = {
    **dict.fromkeys(RESULT_COLUMNS, "string"),
    "seed": "int64", "n_examples": "int64", "value": "float64", "chance": "float64",
    "weight": "float64",
    "zero_shot": "bool", "main": "bool", "constant": "bool",
}

__all__ = ["RESULT_TYPES", "results_csv_text", "results_json_text", "results_parquet_bytes", "typed_row"]


def typed_row(row: dict[str, Any]) -> dict[str, Any]:
    """The RESULT_COLUMNS of a row, each of its column's type (None stays None)."""
    out: dict[str, Any] = {}
    for column in RESULT_COLUMNS:
        value = row.get(column)
        kind = RESULT_TYPES[column]
        if value is None:
            out[column] = None
        elif kind == "int64":
            out[column] = int(value)
        elif kind == "float64":
            out[column] = float(value)
        elif kind == "bool":
            out[column] = value if isinstance(value, bool) else str(value) == "True"
        else:
            out[column] = str(value)
    return out


def results_json_text(rows: list[dict[str, Any]]) -> str:
    def finite(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    objects = [{k: finite(v) for k, v in typed_row(row).items()} for row in rows]
    return json.dumps(objects, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def results_parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    schema = pa.schema([(column, arrow_types[RESULT_TYPES[column]]) for column in RESULT_COLUMNS])
    table = pa.Table.from_pylist([typed_row(row) for row in rows], schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def axes_text(axes: dict[str, Any]) -> str:
    """A pipeline's grid axis values as the ``axes`` column holds them: compact JSON, sorted keys."""
    return json.dumps(axes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def results_csv_text(rows: list[dict[str, Any]]) -> str:
    """The rows as results.csv holds them: RESULT_COLUMNS, floats with 4 decimals."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def write_results_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    write_text_atomic(path, results_csv_text(rows))
