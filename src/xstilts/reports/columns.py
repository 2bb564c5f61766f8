"""What a result row is compared as: its model, target task and *column* (the intermediate training it had).

A column is the row's intermediate label (``none`` = the baseline without intermediate stage), or the control
(a randomly initialised encoder: pretraining ``none``), plus the grid axes that tell apart pipelines with the
same intermediate task (a data fraction, a stage order, ...). An axis is such a *variant* axis when its value
differs between rows of the same model, target and intermediate label; the target and model axes never do.
Results without axes that still have two evaluations for one cell (e.g. two stage orders) fall back to the
pipeline name, so nothing is silently averaged together.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

BASELINE = "none"
CONTROL = "control (no pretraining)"


@dataclass(frozen=True)
class Column:
    intermediate: str  # "none" for the baseline
    control: bool = False
    variant: tuple[tuple[str, str], ...] = ()  # (axis, value as text)

    @property
    def is_baseline(self) -> bool:
        return self.intermediate == BASELINE and not self.control

    def value(self, axis: str) -> str | None:
        return dict(self.variant).get(axis)

    def without(self, axis: str) -> Column:
        return Column(self.intermediate, self.control, tuple((k, v) for k, v in self.variant if k != axis))

    def label(self, short: dict[str, str] | None = None) -> str:
        if self.control:
            return CONTROL
        name = "baseline (none)" if self.is_baseline else (short or {}).get(self.intermediate, self.intermediate)
        return name + "".join(f" {k}={v}" for k, v in self.variant)

    def sort_key(self) -> tuple:
        def number_first(value: str) -> tuple:
            try:
                return (0, float(value), "")
            except ValueError:
                return (1, 0.0, value)

        rank = 0 if self.is_baseline else 2 if self.control else 1
        return rank, self.intermediate, tuple((k, number_first(v)) for k, v in self.variant)


def axis_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "none" if value is None else str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def dedupe(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (evaluation, metric): pipelines that share a stage (the baseline of every grid cell) list the
    same evaluation several times, and it must count once."""
    seen, out = set(), []
    for row in rows:
        key = (row.get("eval_key"), row["metric"]) if row.get("eval_key") else None
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        out.append(row)
    return out


def variant_axes(rows: list[dict[str, Any]], baseline: bool = False) -> list[str]:
    """Axes that tell apart evaluations of one (model, target, intermediate): among the intermediate columns,
    or (``baseline``) among the baseline's evaluations (e.g. a target learning rate; not a data fraction of the
    intermediate stage, which leaves the baseline's evaluation the same)."""
    values: dict[tuple, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        if row.get("pretraining") == "none" or (row["intermediate"] == BASELINE) != baseline:
            continue
        group = values[(row["model"], row["task"], row["intermediate"], row.get("pretraining"))]
        for axis, value in row["axes"].items():
            group[axis].add(axis_text(value))
    axes: list[str] = []
    for group in values.values():
        for axis, seen in group.items():
            if len(seen) > 1 and axis not in axes:
                axes.append(axis)
    return axes


def numeric_axes(rows: list[dict[str, Any]]) -> list[str]:
    """Variant axes whose values are all numbers: the x axes of scaling curves."""
    out = []
    for axis in variant_axes(rows):
        values = [row["axes"][axis] for row in rows if row["axes"].get(axis) is not None]
        if values and all(is_number(v) for v in values) and len({float(v) for v in values}) > 1:
            out.append(axis)
    return out


def assign_columns(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deduplicated copies of the rows with a ``column`` (:class:`Column`)."""
    rows = dedupe(rows)
    axes, baseline_axes = variant_axes(rows), variant_axes(rows, baseline=True)
    out = []
    for row in rows:
        if row.get("pretraining") == "none":
            column = Column(BASELINE, control=True)
        elif row["intermediate"] == BASELINE:
            column = Column(BASELINE, variant=tuple((a, axis_text(row["axes"][a])) for a in baseline_axes
                                                    if a in row["axes"]))
        else:
            variant = tuple((a, axis_text(row["axes"][a])) for a in axes if a in row["axes"])
            column = Column(row["intermediate"], variant=variant)
        out.append({**row, "column": column})
    evaluations: dict[tuple, set[str]] = defaultdict(set)
    for row in out:
        evaluations[_cell_key(row)].add(row.get("eval_key") or row.get("pipeline", ""))
    for row in out:
        if len(evaluations[_cell_key(row)]) > 1 and row.get("pipeline"):
            old = row["column"]
            row["column"] = Column(old.intermediate, old.control, (*old.variant, ("pipeline", row["pipeline"])))
    return out


def baseline_of(column: Column, columns: Iterable[Column]) -> Column | None:
    """The baseline a column is compared with: the baseline column whose axis values the column shares (the
    only one when the baseline has no variant axes); None for a baseline or when none or several fit."""
    if column.is_baseline:
        return None
    fits = [c for c in columns if c.is_baseline and all(column.value(k) == v for k, v in c.variant)]
    return fits[0] if len(fits) == 1 else None


def _cell_key(row: dict[str, Any]) -> tuple:
    return row["model"], row["task"], row["column"], row["seed"], row["language"], row["split"], row["metric"]


def ordered(values: Iterable[Any]) -> list[Any]:
    """Distinct values in the order of first appearance."""
    return list(dict.fromkeys(values))


def short_labels(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Task and intermediate names without the prefix they all share (``micro-tiny-xnli`` -> ``xnli``)."""
    names = ordered([r["task"] for r in rows] + [r["column"].intermediate for r in rows])
    return short_names(names)


def short_names(names: Iterable[str]) -> dict[str, str]:
    """Drop the prefix every task name shares (``micro-tiny-xnli`` -> ``xnli``) so tables stay narrow."""
    names = [n for n in names if n not in ("none", CONTROL)]
    parts = [n.split("+") for n in names]
    flat = [p for group in parts for p in group]
    prefix = ""
    if len(flat) > 1:
        common = os.path.commonprefix(flat)
        prefix = common[: common.rfind("-") + 1]
    return {n: "+".join(p[len(prefix):] for p in n.split("+")) for n in names} | {"none": "none", CONTROL: CONTROL}
