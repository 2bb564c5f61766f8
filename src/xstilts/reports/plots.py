"""The report's plots (matplotlib, Agg backend), each saved as PNG and SVG under ``<report>/plots/``.

A plot whose data is absent (one model only, no numeric grid axis, no language with a known distance) is not
drawn; its :class:`PlotEntry` says why, and the report prints that line instead. SVG text is kept as text
(not paths), so the files are searchable and the tests can read their labels.

Every plot takes a condition's colour from the report's palette (:mod:`xstilts.reports.palette`), so the same
intermediate training has the same colour in every figure; models differ by hatch or line style, target tasks
by marker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from xstilts.reports.gain_maps import heatmap, language_heatmap
from xstilts.reports.model import PlotEntry, Report, ScoreTable, model_gains, scaling_points
from xstilts.reports.palette import MODEL_LINES
from xstilts.reports.plotting import ERRORS, grid, hide_unused, legend, pyplot, save, suffix


def language_bars(report: Report, folder: Path) -> list[PlotEntry]:
    plt = pyplot()
    by_model: dict[str, list[ScoreTable]] = defaultdict(list)
    for table in report.languages:
        by_model[table.model].append(table)
    if not by_model:
        return [PlotEntry("languages", "Score per language", skipped="no per-language scores")]
    entries = []
    for model, tables in by_model.items():
        rows, cols = grid(len(tables), 2)
        fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 2.6 * rows), squeeze=False)
        for ax, table in zip(axes.flat, tables, strict=False):
            width = 0.8 / max(1, len(table.columns))
            for k, column in enumerate(table.columns):
                xs = [i + (k - (len(table.columns) - 1) / 2) * width for i in range(len(table.rows))]
                stats = [table.cells.get((lg, column)) for lg in table.rows]
                heights = [s.mean if s else 0.0 for s in stats]
                errors = [(s.ci.half_width or 0.0) if s else 0.0 for s in stats]
                ax.bar(xs, heights, width, yerr=errors if any(errors) else None, error_kw=ERRORS,
                       color=report.palette.colour(column), label=column.label(report.short))
            ax.set_xticks(range(len(table.rows)), table.rows)
            ax.set_title(report.name(table.target))
            ax.set_ylabel(_metric(report, table.target))
            ax.set_ylim(0, 100)
            ax.grid(axis="y", alpha=0.3)
            if table.target in report.chance:
                ax.axhline(report.chance[table.target][1], color="0.2", lw=0.9, ls=":", label="chance level",
                           zorder=3)
        hide_unused(axes, len(tables))
        legend(fig, axes.flat)
        fig.set_layout_engine("constrained")
        name = "languages" + suffix(report, model)
        entries.append(PlotEntry(name, f"Score per test language and intermediate task ({model}); bars: mean over "
                                       "seeds, whiskers: 95% CI over seeds", save(fig, folder, name)))
    return entries


def _metric(report: Report, target: str) -> str:
    metric = report.chance.get(target, ("score", 0))[0]
    return f"{metric} (0-100)"


def scaling(report: Report, folder: Path) -> list[PlotEntry]:
    plt = pyplot()
    if not report.numeric_axes:
        return [PlotEntry("scaling", "Gain over the baseline as a function of a numeric grid axis",
                          skipped="no numeric grid axis, such as a data fraction, varies in these results")]
    entries = []
    for axis in report.numeric_axes:
        points = [p for p in scaling_points(report, axis) if p.baseline is not None]
        targets = list(dict.fromkeys(p.target for p in points))
        if not targets:
            entries.append(PlotEntry(f"scaling-{axis}", f"Gain over the baseline by {axis}",
                                     skipped=f"no baseline to compare the {axis} points against"))
            continue
        rows, cols = grid(len(targets))
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
        lines = list(dict.fromkeys((p.model, p.line) for p in points))
        several_models = len({m for m, _ in lines}) > 1
        for ax, target in zip(axes.flat, targets, strict=False):
            for k, (model, line) in enumerate(lines):
                chosen = [p for p in points if p.target == target and p.model == model and p.line == line]
                if not chosen:
                    continue
                label = line.label(report.short) + (f" ({model})" if several_models else "")
                # Lines side by side at each x (a small dodge), so their whiskers do not hide each other.
                span = (max(p.x for p in points) - min(p.x for p in points)) or 1.0
                dodge = (k - (len(lines) - 1) / 2) * 0.012 * span
                ax.errorbar([p.x + dodge for p in chosen], [p.score.mean - p.baseline for p in chosen],
                            yerr=[p.score.ci.half_width or 0.0 for p in chosen], marker="o", elinewidth=0.8,
                            color=report.palette.colour(line), ls=report.palette.line(model), label=label)
            ax.axhline(0, color="grey", lw=0.8, ls="--")
            ax.set_title(report.name(target))
            ax.set_xlabel(axis)
            ax.set_ylabel("gain over baseline")
            xs = sorted({p.x for p in points})
            if xs and xs[0] > 0 and xs[-1] / xs[0] >= 20:
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
        hide_unused(axes, len(targets))
        legend(fig, axes.flat)
        fig.set_layout_engine("constrained")
        name = f"scaling-{axis}"
        entries.append(PlotEntry(name, f"Gain over the baseline (same model) by {axis}, one line per intermediate "
                                       "task; whiskers: 95% CI over seeds", save(fig, folder, name)))
    return entries


def model_sizes(report: Report, folder: Path) -> list[PlotEntry]:
    plt = pyplot()
    if len(report.models) < 2:
        return [PlotEntry("models", "Gain over the baseline per model", skipped="one model only")]
    gains = model_gains(report)
    columns = list(dict.fromkeys(c for c, _ in gains))
    if not columns:
        return [PlotEntry("models", "Gain over the baseline per model",
                          skipped="no intermediate column is shared by two models")]
    rows, cols = grid(len(columns), 2)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.0 * rows), squeeze=False)
    for ax, column in zip(axes.flat, columns, strict=False):
        targets = [t for c, t in gains if c == column]
        width = 0.8 / len(report.models)
        for k, model in enumerate(report.models):
            stats = [gains[(column, t)].get(model) for t in targets]
            xs = [i + (k - (len(report.models) - 1) / 2) * width for i in range(len(targets))]
            errors = [(s.seed_test.half_width or 0.0) if s and s.seed_test else 0.0 for s in stats]
            ax.bar(xs, [s.delta if s else 0.0 for s in stats], width, color=report.palette.colour(column),
                   hatch=report.palette.hatch(model), edgecolor="white", label=model,
                   yerr=errors if any(errors) else None, error_kw=ERRORS)
        ax.axhline(0, color="grey", lw=0.8)
        names = [report.name(t) for t in targets]
        long = max(len(n) for n in names) > 8
        ax.set_xticks(range(len(targets)), names, rotation=20 if long else 0, ha="right" if long else "center")
        ax.set_title(f"intermediate: {column.label(report.short)}")
        ax.set_ylabel("gain over baseline")
        ax.grid(axis="y", alpha=0.3)
    hide_unused(axes, len(columns))
    from matplotlib.patches import Patch

    # Models by hatch on a neutral swatch: the bars' colour is the intermediate column's, the same in every plot.
    handles = [Patch(facecolor="0.7", edgecolor="white", hatch=report.palette.hatch(m), label=m) for m in report.models]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 5), frameon=False, title="model")
    fig.set_layout_engine("constrained")
    return [PlotEntry("models", "Gain over each model's own baseline, per target task and model (in the order "
                                "the results list them); whiskers: 95% CI over seeds", save(fig, folder, "models"))]


def typology(report: Report, folder: Path) -> list[PlotEntry]:
    plt = pyplot()
    caption = "Transfer versus typological distance from English"
    far = [lg for lg in report.distances if lg != "en"]
    if len(far) < 2:
        return [PlotEntry("typology", caption, skipped="fewer than two non-English languages with a known "
                                                       "typological distance")]
    entries = []
    for model in report.models:
        tables = [t for t in report.languages if t.model == model]
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
        for k, table in enumerate(tables):
            baseline = next((c for c in table.columns if c.is_baseline), None)
            if baseline is None:
                continue
            points = sorted((report.distances[lg][0], table.cells[(lg, baseline)].mean) for lg in table.rows
                            if lg in report.distances and (lg, baseline) in table.cells)
            if points:
                left.plot(*zip(*points, strict=True), marker=report.palette.marker(table.target),
                          color=report.palette.colour(baseline), ls=MODEL_LINES[k % len(MODEL_LINES)],
                          label=report.name(table.target))
        gains: dict = defaultdict(lambda: defaultdict(list))
        for table in tables:
            for (language, column), stat in table.cells.items():
                if stat.delta is not None and not column.control and language in report.distances:
                    gains[column][language].append(stat.delta)
        for column, per_language in gains.items():
            points = sorted((report.distances[lg][0], sum(v) / len(v)) for lg, v in per_language.items())
            right.plot(*zip(*points, strict=True), marker="o", color=report.palette.colour(column),
                       label=column.label(report.short))
        right.axhline(0, color="grey", lw=0.8, ls="--")
        source = ", ".join(sorted({s for _, s in report.distances.values()}))
        for ax, title, ylabel in ((left, "Baseline score per language", "main metric (0-100)"),
                                  (right, "Gain from intermediate training", "gain over baseline, mean over targets")):
            ax.set_xlabel(f"typological distance from English ({source})")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
            codes = sorted(report.distances.items(), key=lambda item: item[1][0])
            top = ax.secondary_xaxis("top")
            top.set_xticks([d for _, (d, _) in codes], [lg for lg, _ in codes], fontsize=7, color="0.35")
            top.tick_params(length=2)
        fig.set_layout_engine("constrained")
        name = "typology" + suffix(report, model)
        entries.append(PlotEntry(name, f"{caption} ({model}): left, the baseline's score per target task; right, "
                                       "the gain of each intermediate task averaged over target tasks",
                                 save(fig, folder, name)))
    return entries


PLOTS: list[Callable[[Report, Path], list[PlotEntry]]] = [heatmap, language_heatmap, language_bars, scaling, model_sizes, typology]


def draw_plots(report: Report, out_dir: Path) -> list[PlotEntry]:
    folder = Path(out_dir) / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    entries = [entry for plot in PLOTS for entry in plot(report, folder)]
    report.plots = entries
    return entries
