"""The paper's table from result rows: target tasks x intermediate tasks, deltas vs the baseline.

A cell is the task's main score averaged over its test languages (the official per-task aggregation),
then over seeds. The baseline column is the intermediate label ``none`` (no intermediate stage) with the
study's pretraining; a ``control`` column shows a randomly initialised encoder (pretraining ``none``).
Pure Python: it reads rows (dicts as in results.csv), never live objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

CONTROL = "control (no MLM)"


@dataclass
class PaperTable:
    targets: list[str]
    columns: list[str]  # baseline first, then intermediate labels, then the control if any
    cells: dict[tuple[str, str], float]  # (target, column) -> score
    baseline: str = "none"
    languages: dict[str, list[str]] = field(default_factory=dict)

    def delta(self, target: str, column: str) -> float | None:
        if (target, column) not in self.cells or (target, self.baseline) not in self.cells:
            return None
        return self.cells[(target, column)] - self.cells[(target, self.baseline)]

    def cell_text(self, target: str, column: str) -> str:
        """'75.0 (+4.0)': the score and, outside the baseline column, its delta."""
        if (target, column) not in self.cells:
            return ""
        text = f"{self.cells[(target, column)]:.1f}"
        delta = self.delta(target, column)
        return text + (f" ({delta:+.1f})" if column != self.baseline and delta is not None else "")

    def average_text(self, column: str) -> str:
        value, base = self.average(column), self.average(self.baseline)
        if value is None:
            return ""
        return f"{value:.1f}" + (f" ({value - base:+.1f})" if base is not None and column != self.baseline else "")

    def common_targets(self) -> list[str]:
        """Targets with a score in every column: averages over them compare like with like."""
        return [t for t in self.targets if all((t, c) in self.cells for c in self.columns)]

    def average(self, column: str) -> float | None:
        if column not in self.columns:
            return None
        targets = self.common_targets()
        values = [self.cells[(t, column)] for t in targets]
        return mean(values) if values else None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def paper_table(rows: Iterable[dict[str, Any]], exclude_languages: Iterable[str] = ()) -> PaperTable:
    """Main-score rows -> the table. ``exclude_languages`` (e.g. ["en"]) gives a zero-shot-only average."""
    excluded = set(exclude_languages)
    per: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    languages: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if not _truthy(row["main"]) or row["language"] in excluded:
            continue
        column = CONTROL if row.get("pretraining") == "none" else row.get("intermediate", "none")
        per[(row["task"], column, str(row["seed"]))][row["language"]].append(float(row["value"]))
        languages[row["task"]].add(row["language"])
    cells_by_seed: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (task, column, _seed), by_language in per.items():
        cells_by_seed[(task, column)].append(mean(mean(v) for v in by_language.values()))
    cells = {key: mean(values) for key, values in cells_by_seed.items()}
    targets = sorted({task for task, _ in cells})
    others = sorted({c for _, c in cells} - {"none", CONTROL})
    columns = (["none"] if any(c == "none" for _, c in cells) else []) + others
    columns += [CONTROL] if any(c == CONTROL for _, c in cells) else []
    return PaperTable(targets, columns, cells, languages={t: sorted(v) for t, v in languages.items()})


def short_names(names: Iterable[str]) -> dict[str, str]:
    """Drop the prefix every task name shares (``micro-tiny-xnli`` -> ``xnli``) so tables stay narrow."""
    names = [n for n in names if n not in ("none", CONTROL)]
    parts = [n.split("+") for n in names]
    flat = [p for group in parts for p in group]
    prefix = ""
    if len(flat) > 1:
        import os

        common = os.path.commonprefix(flat)
        prefix = common[: common.rfind("-") + 1]
    return {n: "+".join(p[len(prefix):] for p in n.split("+")) for n in names} | {"none": "none", CONTROL: CONTROL}


def to_markdown(table: PaperTable, title: str = "") -> str:
    short = short_names([*table.targets, *table.columns])
    header = ["target \\ intermediate", *("baseline (none)" if c == "none" else short[c] for c in table.columns)]
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * len(table.columns)) + "|")
    for target in table.targets:
        lines.append("| " + " | ".join([short[target], *(table.cell_text(target, c) for c in table.columns)]) + " |")
    averages = [table.average_text(column) for column in table.columns]
    common = table.common_targets()
    label = "**average**" if len(common) == len(table.targets) else f"**average** ({len(common)} tasks in every column)"
    lines.append(f"| {label} | " + " | ".join(averages) + " |")
    return "\n".join(lines) + "\n"


def per_language_markdown(rows: Iterable[dict[str, Any]], column: str = "none") -> str:
    """Main score per (target task, language) for one intermediate column (default: the baseline)."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        if _truthy(row["main"]) and row.get("intermediate") == column and row.get("pretraining") != "none":
            values[(row["task"], row["language"])].append(float(row["value"]))
    if not values:
        return ""
    tasks = sorted({t for t, _ in values})
    languages = sorted({lang for _, lang in values}, key=lambda lang: (lang != "en", lang))
    lines = ["| task | " + " | ".join(languages) + " |", "|---|" + "---:|" * len(languages)]
    for task in tasks:
        cells = [f"{mean(values[(task, lang)]):.1f}" if (task, lang) in values else "" for lang in languages]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
