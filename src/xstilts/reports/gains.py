"""Per-language gains: for one model, the gain of each intermediate column over its baseline per target task and
test language (the per-language tables' deltas, with their paired tests), for the gains table, the heatmap
plot and the explorer."""

from __future__ import annotations

from dataclasses import dataclass, field

from xstilts.reports.columns import Column, ordered
from xstilts.reports.model import Report, Stat


@dataclass
class LanguageGains:
    model: str
    targets: list[str]
    languages: list[str]  # English first, then the others in code order
    columns: list[Column]  # intermediate columns (not the baseline, not the control) with a gain somewhere
    cells: dict[tuple[str, Column, str], Stat] = field(default_factory=dict)  # (target, column, language)

    def gain(self, target: str, column: Column, language: str) -> Stat | None:
        return self.cells.get((target, column, language))


def language_gains(report: Report) -> list[LanguageGains]:
    """One per model that has a per-language gain."""
    out = []
    for model in report.models:
        tables = [t for t in report.languages if t.model == model]
        cells = {(t.target, column, language): stat for t in tables for (language, column), stat in t.cells.items()
                 if stat.delta is not None and not column.control}
        if not cells:
            continue
        columns = sorted(ordered(c for _, c, _ in cells), key=Column.sort_key)
        languages = sorted(ordered(lg for _, _, lg in cells), key=lambda lg: (lg != "en", lg))
        targets = [t.target for t in tables if any(key[0] == t.target for key in cells)]
        out.append(LanguageGains(model, targets, languages, columns, cells))
    return out
