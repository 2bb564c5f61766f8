"""A study's result rows as files: CSV (as results.csv), JSON (a list of typed row objects) or Parquet.

The column types are fixed here, so every format reads back the same: numbers as numbers, booleans as
booleans, a missing chance level as null. Non-finite values (an MLM perplexity of inf) are null in JSON,
which has no way to write them, and stay inf/nan in CSV and Parquet.
"""

from __future__ import annotations

import json
import math
from typing import Any

from xstilts.studies.runner import RESULT_COLUMNS, results_csv_text

# Column -> type of its values (Parquet: string, int64, float64, bool).
RESULT_TYPES: dict[str, str] = {
    **dict.fromkeys(RESULT_COLUMNS, "string"),
    "seed": "int64", "n_examples": "int64", "value": "float64", "chance": "float64",
    "weight": "float64",
    "zero_shot": "bool", "main": "bool",
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
