"""Reading a run's result files: ``results.csv`` (one row per evaluation and metric) and, when the run wrote
it, ``example_scores.jsonl`` (per-example metric units, for the bootstrap over test examples).

Rows are normalised to typed dicts (value float, main bool, seed int where possible, axes a dict, weight a
float or None), whatever wrote them: the CSV, or the runner's in-memory rows. Older results without the
``axes``, ``benchmark``, ``weight`` or ``recipe`` columns or without example scores still load; what they cannot
support is left out of the report with a note.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.errors import DataError, XstiltsError

REQUIRED = ("task", "language", "metric", "value", "main", "seed")


@dataclass
class ExampleScores:
    """The units of one (evaluation, metric): ``100 * sum(num) / sum(den)`` is the metric's value."""

    ids: list[str]
    num: np.ndarray
    den: np.ndarray


@dataclass
class Results:
    rows: list[dict[str, Any]]
    examples: dict[tuple[str, str], ExampleScores] = field(default_factory=dict)  # (eval_key, metric) -> units
    folder: Path | None = None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _seed(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _axes(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value in (None, ""):
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise XstiltsError(f"{where}: the `axes` column is not JSON ({error.msg}): {value!r}") from None
    if not isinstance(parsed, dict):
        raise XstiltsError(f"{where}: the `axes` column must be a JSON object, got {value!r}")
    return parsed


def normalise_row(row: dict[str, Any], where: str = "result row") -> dict[str, Any]:
    missing = [key for key in REQUIRED if key not in row]
    if missing:
        raise XstiltsError(f"{where}: missing column(s) {', '.join(missing)}; results.csv is written by "
                           "`xstilts run` with the columns of xstilts.studies.runner.RESULT_COLUMNS")
    out = dict(row)
    try:
        out["value"] = float(row["value"])
    except (TypeError, ValueError):
        raise XstiltsError(f"{where}: value {row['value']!r} is not a number") from None
    chance = row.get("chance")
    out["chance"] = None if chance in (None, "") else float(chance)
    out["main"] = _truthy(row["main"])
    out["zero_shot"] = _truthy(row.get("zero_shot", True))
    out["constant"] = _truthy(row.get("constant", False))
    out["seed"] = _seed(row["seed"])
    out["axes"] = _axes(row.get("axes"), where)
    for key in ("model", "intermediate", "pretraining", "family", "pipeline", "eval_key", "stage_key", "benchmark",
                "reference", "recipe", "precision"):
        out[key] = "" if row.get(key) is None else str(row.get(key))
    weight = row.get("weight")
    try:
        out["weight"] = None if weight in (None, "") else float(weight)
    except (TypeError, ValueError):
        raise XstiltsError(f"{where}: weight {weight!r} is not a number") from None
    out["intermediate"] = out["intermediate"] or "none"
    out["split"] = str(row.get("split") or "test")
    return out


def read_results_csv(path: Path) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return [normalise_row(row, f"{path}:{line}") for line, row in enumerate(reader, start=2)]


def read_example_scores(path: Path) -> dict[tuple[str, str], ExampleScores]:
    """The units of ``example_scores.jsonl`` by (eval_key, metric), as arrays for the bootstrap."""
    from xstilts.scoring.example_scores import iter_example_scores

    out: dict[tuple[str, str], ExampleScores] = {}
    for line_number, record in iter_example_scores(path, ("eval_key", "metric", "ids", "num", "den")):
        try:
            out[(str(record["eval_key"]), str(record["metric"]))] = ExampleScores(
                [str(i) for i in record["ids"]], np.asarray(record["num"], dtype=float),
                np.asarray(record["den"], dtype=float))
        except (TypeError, ValueError):
            raise DataError(path, "num and den must be lists of numbers", line_number) from None
    return out


def load_results(folder: Path) -> Results:
    """``folder/results.csv`` and, if present, ``folder/example_scores.jsonl``."""
    folder = Path(folder)
    csv_path = folder / "results.csv"
    if not csv_path.is_file():
        raise XstiltsError(
            f"no results.csv in {folder}: run the study first (`xstilts run STUDY`), or point --results at the "
            "folder the run wrote (its --out)"
        )
    rows = read_results_csv(csv_path)
    if not rows:
        raise XstiltsError(f"{csv_path} has no result rows: the run evaluated nothing yet")
    scores_path = folder / "example_scores.jsonl"
    examples = read_example_scores(scores_path) if scores_path.is_file() else {}
    return Results(rows, examples, folder)
