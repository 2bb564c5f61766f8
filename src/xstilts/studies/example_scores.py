"""Gather the per-example score units of a study's evaluations from the store (the file formats are
:mod:`xstilts.scoring.example_scores`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xstilts.scoring.example_scores import read_units
from xstilts.studies.plan import EvalNode
from xstilts.studies.store import RunStore


def units_path(store: RunStore, evaluation: EvalNode) -> Path:
    return store.run(evaluation.stage.key).eval_units(evaluation.key)


def gather_example_scores(store: RunStore, evaluations: Iterable[EvalNode]) -> list[dict[str, Any]]:
    """One record per (eval_key, metric) of every evaluation that has a units file, in plan order."""
    records, seen = [], set()
    for evaluation in evaluations:
        path = units_path(store, evaluation)
        if evaluation.key in seen or not path.exists():
            continue
        seen.add(evaluation.key)
        for metric, units in read_units(path).items():
            records.append({
                "eval_key": evaluation.key, "stage_key": evaluation.stage.key, "task": evaluation.task,
                "language": evaluation.language, "split": evaluation.split, "metric": metric,
                "ids": units.ids, "num": units.num, "den": units.den,
            })
    return records
