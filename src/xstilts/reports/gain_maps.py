"""Heatmaps of gains over the baseline: per target and intermediate column (the paper table's deltas), and per
target and test language for each intermediate column (the per-language tables' deltas)."""

from __future__ import annotations

import math
from pathlib import Path

from xstilts.reports.gains import language_gains
from xstilts.reports.model import PlotEntry, Report
from xstilts.reports.plotting import grid, hide_unused, pyplot, report_marks, save, suffix

CMAP = "RdBu"  # red: a loss, blue: a gain, white: none
MISSING = "0.88"  # no score for the cell: grey, unlike a gain of 0 (white)


def _annotate(ax, data: list[list[float]], marks: list[list[str]], limit: float, fontsize: float) -> None:
    plt = pyplot()
    for i, row in enumerate(data):
        for j, value in enumerate(row):
            if math.isnan(value):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color=MISSING, lw=0))
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=fontsize - 1, color="0.45")
                continue
            ax.text(j, i, f"{value:+.1f}{marks[i][j]}", ha="center", va="center", fontsize=fontsize,
                    color="white" if abs(value) > 0.6 * limit else "black")


def _limit(data: list[list[list[float]]]) -> float:
    finite = [abs(v) for grid_ in data for row in grid_ for v in row if not math.isnan(v)]
    return max(finite) if finite and max(finite) > 0 else 1.0


def heatmap(report: Report, folder: Path) -> list[PlotEntry]:
    plt = pyplot()
    tables = [t for t in report.paper if any(s.delta is not None for s in t.cells.values())]
    if not tables:
        return [PlotEntry("heatmap", "Gain over the baseline, per target and intermediate task",
                          skipped="no intermediate column with a baseline to compare against")]
    entries = []
    for table in tables:
        columns = [c for c in table.columns if not c.is_baseline]
        stats = [[table.cells.get((t, c)) for c in columns] for t in table.rows]
        data = [[s.delta if s is not None and s.delta is not None else math.nan for s in row] for row in stats]
        marks = [[s.marks if s is not None else "" for s in row] for row in stats]
        limit = _limit([data])
        fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(columns), 0.9 + 0.45 * len(table.rows)))
        image = ax.imshow(data, cmap=CMAP, vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(len(columns)), [c.label(report.short) for c in columns], rotation=30, ha="right")
        ax.set_yticks(range(len(table.rows)), [report.name(t) for t in table.rows])
        _annotate(ax, data, marks, limit, 8)
        ax.set_xlabel("intermediate task")
        ax.set_ylabel("target task")
        ax.spines[:].set_visible(False)
        fig.colorbar(image, ax=ax, label="gain over baseline (points)", shrink=0.9)
        ax.set_title("Gain over the baseline" + (f" ({table.model})" if len(report.models) > 1 else ""))
        name = "heatmap" + suffix(report, table.model)
        entries.append(PlotEntry(name, f"Gain over the baseline (main metric, mean over languages and seeds) "
                                       f"for {table.model}; {report_marks()}", save(fig, folder, name)))
    return entries


def language_heatmap(report: Report, folder: Path) -> list[PlotEntry]:
    """Per model: one panel per intermediate column, target tasks x test languages, coloured by the gain over
    the baseline on one scale for all panels."""
    plt = pyplot()
    every = language_gains(report)
    if not every:
        return [PlotEntry("language-gains", "Gain over the baseline per target task and test language",
                          skipped="no per-language gain over a baseline")]
    entries = []
    for gains in every:
        panels = []
        for column in gains.columns:
            stats = [[gains.gain(t, column, lg) for lg in gains.languages] for t in gains.targets]
            panels.append(([[s.delta if s is not None else math.nan for s in row] for row in stats],
                           [[s.marks if s is not None else "" for s in row] for row in stats]))
        limit = _limit([data for data, _ in panels])
        rows, cols = grid(len(panels), 3 if len(gains.languages) <= 8 else 2)
        width = 0.9 + 0.55 * len(gains.languages)
        fig, axes = plt.subplots(rows, cols, figsize=(width * cols + 1.2, (0.8 + 0.4 * len(gains.targets)) * rows),
                                 squeeze=False)
        image = None
        for ax, column, (data, marks) in zip(axes.flat, gains.columns, panels, strict=False):
            image = ax.imshow(data, cmap=CMAP, vmin=-limit, vmax=limit, aspect="auto")
            ax.set_xticks(range(len(gains.languages)), gains.languages, fontsize=8)
            ax.set_yticks(range(len(gains.targets)), [report.name(t) for t in gains.targets], fontsize=8)
            if len(gains.languages) <= 12:
                _annotate(ax, data, marks, limit, 7)
            ax.set_title(column.label(report.short), fontsize=9, color=report.palette.colour(column))
            ax.spines[:].set_visible(False)
        hide_unused(axes, len(panels))
        fig.set_layout_engine("constrained")
        fig.colorbar(image, ax=axes, label="gain over baseline (points)", shrink=0.8)
        name = "language-gains" + suffix(report, gains.model)
        entries.append(PlotEntry(name, f"Gain over the baseline per target task (rows) and test language (columns), "
                                       f"one panel per intermediate training, {gains.model}; main metric, mean "
                                       f"over seeds; {report_marks()}", save(fig, folder, name)))
    return entries
