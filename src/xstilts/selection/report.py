"""The validation written out: ``selection.md`` (tables and verdicts), ``selection.png`` (+ ``.svg``: NDCG@3 and
regret@3 per target, the noise ceiling marked) and ``selection.json`` (everything as data). Atomic writes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from xstilts.atomic import write_json_atomic, write_text_atomic
from xstilts.selection.estimate import ALL
from xstilts.selection.metrics import METRICS, Summary
from xstilts.selection.validate import CEILING, Validation

NAMES = {"ndcg@3": "NDCG@3", "regret@1": "regret@1", "regret@3": "regret@3", "spearman": "Spearman"}
RULE = ("An estimator is **useful** for a target only where, on the target as a whole and against single seeds, "
        "it beats every naive baseline (largest, same family, random) on both NDCG@3 (strictly higher) and "
        "regret@3 (strictly lower), and its NDCG@3 is at least the seed-noise ceiling's NDCG@3 minus the "
        "ceiling's spread over seed pairs. With one seed there is no ceiling and no verdict (n/a).")
DEFINITIONS = (
    "Gain: main-metric points over the target's baseline (no intermediate stage), per seed. "
    "NDCG@3: relevance = gain minus the smallest gain among the candidates; DCG@3 = sum of rel / log2(rank + 1) "
    "over the top 3; divided by the ideal DCG (1 when every candidate gains the same). "
    "regret@k: best gain minus the best gain in the ranking's top k (points). Spearman: rank correlation of the "
    "scores with the gains. *Against single seeds*: scored against each seed's gains, mean ± spread (std) over "
    "the seeds; *seed mean*: against the gains averaged over the seeds. Seed-noise ceiling: one seed's measured "
    "ranking scored against another seed's gains, mean ± spread over the ordered seed pairs. Random: the exact "
    "expectation over uniformly random rankings.")


def _number(value: float, metric: str) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.3f}" if metric == "ndcg@3" else f"{value:.2f}"


def _summary(summary: Summary | None, metric: str) -> str:
    if summary is None or math.isnan(summary.mean):
        return "n/a"
    if len(summary.values) < 2:
        return _number(summary.mean, metric)
    return f"{_number(summary.mean, metric)} ± {_number(summary.spread, metric)}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows), ""]


def _verdict_text(validation: Validation, estimator: str, target: str) -> str:
    verdict = next((v for v in validation.verdicts if v.estimator == estimator and v.target == target), None)
    if verdict is None:
        return ""
    word = {True: "**useful**", False: "not useful", None: "n/a"}[verdict.useful]
    return word if verdict.useful else f"{word}: {'; '.join(verdict.reasons)}"


def _top_text(blocks: list[list[str]]) -> str:
    """``a > b = c``: equally scored candidates joined by "=", a long tie counted."""
    if not blocks:
        return "(expectation)"
    return " > ".join(" = ".join(b) if len(b) <= 3 else f"{len(b)} tied ({', '.join(b[:2])}, ...)" for b in blocks)


def _target_section(validation: Validation, target: str) -> list[str]:
    cell = validation.cells.get((target, ALL))
    lines = [f"### {target}", ""]
    if cell is None:
        return lines + ["Not validated: its languages were not all measured (see the notes).", ""]
    best = sorted(cell.mean_gains, key=lambda c: (-cell.mean_gains[c], c))
    seeds = (f"seed {cell.seeds[0]}" if len(cell.seeds) == 1 else
             "mean over seeds " + ", ".join(map(str, cell.seeds)))
    lines += [f"Measured gains ({seeds}; {len(cell.candidates)} candidates): " +
              ", ".join(f"{c} {cell.mean_gains[c]:+.2f}" for c in best), ""]
    header = ["ranking", "top 3", *(NAMES[m] for m in METRICS), *(f"{NAMES[m]} (seed mean)" for m in METRICS)]
    rows = []
    for name in validation.ranked:
        scored = validation.scored.get((name, target, ALL))
        if scored is None:
            continue
        rows.append([name, _top_text(scored.top),
                     *(_summary(scored.per_seed[m], m) for m in METRICS),
                     *(_number(scored.seed_mean[m], m) for m in METRICS)])
    ceiling = validation.ceiling.get((target, ALL))
    rows.append([CEILING, "(another seed)", *(_summary(ceiling[m] if ceiling else None, m) for m in METRICS),
                 *("—" for _ in METRICS)])
    return lines + _table(header, rows)


def _per_language(validation: Validation, metric: str) -> list[str]:
    header = ["target", "language", "distance", *validation.ranked, CEILING]
    rows = []
    for (target, language), _cell in validation.cells.items():
        if language == ALL:
            continue
        distance = validation.distances.get(language)
        ceiling = validation.ceiling.get((target, language))
        rows.append([target, language, "unknown" if distance is None else f"{distance:.2f}",
                     *(_number(getattr(validation.scored.get((n, target, language)), "per_seed", {}).get(
                         metric, Summary(math.nan, math.nan)).mean, metric) for n in validation.ranked),
                     _summary(ceiling[metric] if ceiling else None, metric)])
    return _table(header, rows) if rows else ["No language was validated.", ""]


def _per_distance(validation: Validation, metric: str) -> list[str]:
    header = ["distance", "languages", *validation.ranked, CEILING]
    rows = []
    for group, languages in validation.groups().items():
        values = [validation.by_distance.get((n, group), {}).get(metric, math.nan)
                  for n in [*validation.ranked, CEILING]]
        rows.append([group, ", ".join(languages), *(_number(v, metric) for v in values)])
    return _table(header, rows) if rows else ["No language was validated.", ""]


def _costs(validation: Validation) -> list[str]:
    header = ["ranking", "seconds", "FLOPs", "grid FLOPs", "grid seconds", "share of the grid's FLOPs"]
    rows = []
    for name in validation.ranked:
        cost = validation.costs[name]
        share = f"{cost.flops / cost.grid_flops:.2%}" if cost.grid_flops else "n/a"
        rows.append([name, f"{cost.seconds:.1f}", f"{cost.flops:.3g}", f"{cost.grid_flops:.3g}" if cost.grid_flops
                     else "n/a", f"{cost.grid_seconds:.0f}" if cost.grid_seconds else "n/a", share])
    grid = max((c for c in validation.costs.values()), key=lambda c: c.grid_flops, default=None)
    lines = _table(header, rows)
    if grid is not None and grid.grid_flops:
        lines += [f"The grid these rankings replace: {grid.grid_flops:.3g} FLOPs"
                  + (f", {grid.grid_seconds:.0f} s as the plan estimates it." if grid.grid_seconds else "."), ""]
    return lines


def selection_markdown(validation: Validation) -> str:
    seeds = ", ".join(map(str, validation.seeds))
    lines = [f"# Selection validated: {validation.study} ({validation.model})", "",
             f"Candidates: {', '.join(validation.candidates)}. Seeds: {seeds}. Targets: "
             f"{', '.join(validation.targets)}.", "", "## Verdicts", "", RULE, ""]
    if validation.estimators:
        lines += _table(["target", *validation.estimators],
                        [[t, *(_verdict_text(validation, e, t) for e in validation.estimators)]
                         for t in validation.targets])
        useful = {e: sum(v.useful is True for v in validation.verdicts if v.estimator == e)
                  for e in validation.estimators}
        lines += ["Useful for: " + "; ".join(f"{e} {n} of {len(validation.targets)} targets"
                                             for e, n in useful.items()), ""]
    else:
        lines += ["No estimator was given: only the baselines and the ceiling are shown.", ""]
    lines += ["## Per target (all its languages)", "", DEFINITIONS, ""]
    for target in validation.targets:
        lines += _target_section(validation, target)
    for metric in ("ndcg@3", "regret@3"):
        lines += [f"## Per language: {NAMES[metric]} against single seeds", ""] + _per_language(validation, metric)
    for metric in ("ndcg@3", "regret@3"):
        lines += [f"## Per typological distance from English: {NAMES[metric]}", "",
                  "Mean over the (target, language) cells of each distance group.", ""]
        lines += _per_distance(validation, metric)
    lines += ["## Cost", "", "What each ranking cost against the grid it replaces (from each estimate's cost).",
              ""] + _costs(validation)
    if validation.notes:
        lines += ["## Notes", "", *(f"- {note}" for note in validation.notes), ""]
    return "\n".join(lines)


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def _summary_data(summary: Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {"mean": _finite(summary.mean), "spread": _finite(summary.spread),
            "values": [_finite(v) for v in summary.values]}


def selection_data(validation: Validation) -> dict[str, Any]:
    """The validation as plain JSON data (nan as null)."""
    return {
        "study": validation.study, "model": validation.model, "seeds": validation.seeds,
        "candidates": validation.candidates, "targets": validation.targets, "estimators": validation.estimators,
        "baselines": validation.baselines, "rule": RULE,
        "cells": [{"target": t, "language": lg, "candidates": c.candidates, "seeds": c.seeds,
                   "mean_gains": c.mean_gains} for (t, lg), c in validation.cells.items()],
        "scores": [{"ranking": n, "target": t, "language": lg, "top": s.top,
                    "per_seed": {m: _summary_data(v) for m, v in s.per_seed.items()},
                    "seed_mean": {m: _finite(v) for m, v in s.seed_mean.items()}}
                   for (n, t, lg), s in validation.scored.items()],
        "ceiling": [{"target": t, "language": lg, **{m: _summary_data(v) for m, v in metrics.items()}}
                    for (t, lg), metrics in validation.ceiling.items()],
        "verdicts": [{"estimator": v.estimator, "target": v.target, "useful": v.useful, "reasons": v.reasons}
                     for v in validation.verdicts],
        "distances": validation.distances,
        "by_distance": [{"ranking": n, "group": g, **{m: _finite(v) for m, v in values.items()}}
                        for (n, g), values in validation.by_distance.items()],
        "costs": {n: vars(c) for n, c in validation.costs.items()},
        "notes": validation.notes,
    }


def _plot(validation: Validation, folder: Path) -> list[Path]:
    """NDCG@3 (top) and regret@3 (bottom) per target, bars per ranking with the spread over seeds; the noise
    ceiling as a black line over each target's bars, its spread shaded."""
    import numpy as np

    from xstilts.reports.palette import BASELINE_GREYS, COLOURS
    from xstilts.reports.plotting import ERRORS, pyplot, save

    plt = pyplot()
    targets = [t for t in validation.targets if (t, ALL) in validation.cells]
    names = validation.ranked
    colours = {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(validation.estimators)}
    colours.update({n: BASELINE_GREYS[i % len(BASELINE_GREYS)] for i, n in enumerate(validation.baselines)})
    width = 0.8 / max(len(names), 1)
    fig, axes = plt.subplots(2, 1, figsize=(max(7.5, 1.2 * len(targets) + 2), 6.0), layout="constrained",
                             sharex=True)
    x = np.arange(len(targets))
    for ax, metric in zip(axes, ("ndcg@3", "regret@3"), strict=True):
        for i, name in enumerate(names):
            summaries = [validation.scored.get((name, t, ALL)) for t in targets]
            means = [s.per_seed[metric].mean if s else np.nan for s in summaries]
            spreads = [s.per_seed[metric].spread if s else np.nan for s in summaries]
            ax.bar(x - 0.4 + width * (i + 0.5), means, width, yerr=spreads, color=colours[name], label=name,
                   error_kw=ERRORS)
        label = f"{CEILING} (± spread)"
        for j, target in enumerate(targets):
            ceiling = validation.ceiling.get((target, ALL))
            if ceiling is None:
                continue
            mean, spread = ceiling[metric].mean, ceiling[metric].spread
            low, high = max(mean - spread, 0.0), mean + spread if metric != "ndcg@3" else min(mean + spread, 1.0)
            ax.fill_between([j - 0.45, j + 0.45], low, high, color="0.2", alpha=0.15, lw=0, zorder=0)
            ax.plot([j - 0.45, j + 0.45], [mean, mean], color="black", lw=1.2, label=label, zorder=3)
            label = None  # one legend entry
        ax.set_ylabel(f"{NAMES[metric]} ({'higher' if metric == 'ndcg@3' else 'lower'} is better)")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title(f"{validation.study}: each ranking against single seeds (mean ± spread)", fontsize=9)
    axes[1].set_xticks(x, targets, rotation=20, ha="right")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 4), frameon=False)
    save(fig, folder, "selection")
    return [folder / "selection.png", folder / "selection.svg"]


def write_validation(validation: Validation, folder: Path) -> list[Path]:
    """Write selection.md, selection.json and selection.png (+ .svg) into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "selection.md", selection_markdown(validation))
    write_json_atomic(folder / "selection.json", selection_data(validation))
    return [folder / "selection.md", folder / "selection.json", *_plot(validation, folder)]
