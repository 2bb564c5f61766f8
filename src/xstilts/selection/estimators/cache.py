"""Estimates kept as JSON under ``<home>/selection/<estimator>-<key>.json``, the key a stable hash of
everything that decides them (the encoders' lineage keys, the tasks' descriptions, the settings, a version), so
an unchanged question is answered from the file and a changed one computes afresh. Written atomically."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from xstilts.atomic import write_json_atomic
from xstilts.selection.estimate import Cost, Estimate
from xstilts.studies.context import Context
from xstilts.tasks.base import stable_hash

# Raise when what an estimator computes changes: old files then stop matching.
VERSION = 1


def cache_path(context: Context, estimator: str, decided_by: dict[str, Any]) -> Path:
    key = stable_hash({"v": VERSION, "estimator": estimator, **decided_by})
    return context.home / "selection" / f"{estimator}-{key}.json"


def load(path: Path) -> Estimate | None:
    """The estimate stored at ``path`` (its cost as recorded when it was computed), or None when there is none
    or it cannot be read (then it is computed again and rewritten)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        scores = {(row["target"], row["language"]): dict(row["scores"]) for row in data["scores"]}
        estimate = Estimate(data["estimator"], scores, Cost(**data["cost"]), list(data["notes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    estimate.notes.append(f"cached: computed earlier ({path}); its seconds are those recorded then")
    return estimate


def store(path: Path, estimate: Estimate) -> None:
    write_json_atomic(path, {
        "estimator": estimate.estimator,
        "scores": [{"target": target, "language": language, "scores": scores}
                   for (target, language), scores in sorted(estimate.scores.items())],
        "cost": asdict(estimate.cost),
        "notes": estimate.notes,
    })
