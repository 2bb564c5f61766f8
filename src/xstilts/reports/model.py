"""The report as data: every table the renderers (Markdown, LaTeX, HTML) and the plots draw from.

Scores, as in the paper and XTREME's evaluate.py:

- a **cell** is a target task's main metric, averaged over its test languages, per seed, then over seeds (mean
  and 95% t interval over seeds);
- the **benchmark average** uses the aggregation of the benchmark the study names (``benchmark`` column;
  :mod:`xstilts.tasks.benchmarks`; scoring/official/aggregate.py applies the same rule to submission files): per
  task the plain mean over the benchmark's languages of the task's score, which for XTREME's QA tasks is
  (EM + F1) / 2 and otherwise the main metric (LAReQA: pooled over the queries of all languages); then the
  plain mean over tasks. Without a benchmark, XTREME's rule over the languages evaluated. It is taken over the
  tasks that the baseline and every intermediate column share, so columns compare like with like; a task
  evaluated in only some of its benchmark's languages is *partial*: its row and the average say so, and the
  average is never labelled as the benchmark's score;
- **deltas** are against the baseline column (no intermediate stage) of the same model; significance comes from
  a paired bootstrap over test examples (when the run wrote example_scores.jsonl) and a paired t-test over seeds
  (with two seeds or more); see :mod:`xstilts.reports.stats`. Paired conditions (joint vs sequential, two
  stage orders, neighbouring values of a grid axis; :mod:`xstilts.reports.pairs`) are compared with each other
  by the same tests.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

import numpy as np

from xstilts.reports.columns import Column, assign_columns, baseline_of, numeric_axes, ordered, short_labels
from xstilts.reports.results import ExampleScores
from xstilts.reports.stats import (
    DEFAULT_RESAMPLES,
    BootstrapResult,
    MeanCI,
    SeedTest,
    bootstrap_result,
    mean_ci,
    paired_seed_test,
    resampled_ratios,
)
from xstilts.tasks.benchmarks import BENCHMARKS, Benchmark

SIGNIFICANCE = 0.05
EXAMPLES_MARK, SEEDS_MARK = "†", "‡"
# Degenerate cells: the score is at or below chance, or the model gave every example the same output.
CHANCE_MARK, CONSTANT_MARK = "!", "≡"


@dataclass
class Stat:
    """One cell: the score's mean over seeds and, outside the baseline, its delta and tests."""

    seeds: dict[Any, float]
    ci: MeanCI
    delta: float | None = None
    examples: BootstrapResult | None = None
    seed_test: SeedTest | None = None
    at_chance: bool = False  # the mean is at or below the task's chance level
    constant: bool = False  # some evaluation behind the cell predicted one output for every example

    @property
    def mean(self) -> float:
        return self.ci.mean

    @property
    def marks(self) -> str:
        marks = ""
        if self.examples is not None and self.examples.p_value < SIGNIFICANCE:
            marks += EXAMPLES_MARK
        if self.seed_test is not None and self.seed_test.p_value is not None and self.seed_test.p_value < SIGNIFICANCE:
            marks += SEEDS_MARK
        return marks

    @property
    def warnings(self) -> str:
        return (CHANCE_MARK if self.at_chance else "") + (CONSTANT_MARK if self.constant else "")


@dataclass
class ScoreTable:
    """Rows (targets, or one target's languages) x columns, plus the average row."""

    title: str
    model: str
    rows: list[str]
    columns: list[Column]
    cells: dict[tuple[str, Column], Stat]
    average: dict[Column, Stat]
    average_label: str
    target: str = ""  # per-language tables: the target task
    notes: list[str] = field(default_factory=list)
    # Tasks evaluated in only some of their benchmark's languages: task -> (languages scored, benchmark's).
    partial: dict[str, tuple[int, int]] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()  # languages left out of every average (the zero-shot table: English)
    averaged: list[str] = field(default_factory=list)  # the targets the average row is taken over

    def row_label(self, row: str, name: str) -> str:
        """A target's name, marked when its score covers only part of the benchmark's languages."""
        if row in self.partial:
            have, total = self.partial[row]
            return f"{name} (partial: {have} of {total} languages)"
        return name

    def cell(self, row: str, column: Column) -> Stat | None:
        return self.cells.get((row, column))


@dataclass
class PlotEntry:
    name: str
    caption: str
    files: list[str] = field(default_factory=list)  # relative to the report folder; empty when skipped
    skipped: str = ""  # why the plot was not drawn


@dataclass
class Report:
    title: str
    description: str
    models: list[str]
    seeds: list[Any]
    short: dict[str, str]
    paper: list[ScoreTable]
    zero_shot: list[ScoreTable]
    languages: list[ScoreTable]
    chance: dict[str, tuple[str, float]]
    numeric_axes: list[str]
    n_resamples: int
    has_examples: bool
    notes: list[str] = field(default_factory=list)
    plots: list[PlotEntry] = field(default_factory=list)
    distances: dict[str, tuple[float, str]] = field(default_factory=dict)  # language -> (from English, source)
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)  # task -> the benchmark its rows name
    main_metric: dict[str, str] = field(default_factory=dict)  # task -> its main metric
    reference: str | None = None  # the published setup the study follows (``reference`` column)
    published: list[Any] = field(default_factory=list)  # reports.published.Comparison, ours beside published
    published_notes: list[str] = field(default_factory=list)
    pairs: list[Any] = field(default_factory=list)  # reports.pairs.PairedComparison: paired conditions, A - B
    palette: Any = None  # reports.palette.Palette: one colour per condition, for every plot and the explorer
    families: dict[str, str] = field(default_factory=dict)  # language -> its family (URIEL; micro: synthetic)
    provenance: Any = None  # reports.provenance.Provenance: toolkit, machine, date, hyperparameters, recipe
    explorer: str = ""  # the interactive explorer's file, beside report.html, when one was written

    def name(self, task_or_intermediate: str) -> str:
        return self.short.get(task_or_intermediate, task_or_intermediate)


class Scores:
    """Indexes the rows once; answers per-seed scores and example units for any (model, task, column)."""

    def __init__(self, rows: list[dict[str, Any]], examples: dict[tuple[str, str], ExampleScores],
                 n_resamples: int, seed: int = 0):
        self.rows = rows
        self.examples = examples
        self.n_resamples = n_resamples
        self.seed = seed
        self.value: dict[tuple, float] = {}
        self.eval_key: dict[tuple, str] = {}
        self.main: dict[str, str] = {}
        self.family: dict[str, str] = {}
        self.languages: dict[tuple, list[str]] = defaultdict(list)
        self.seeds: dict[tuple, list[Any]] = defaultdict(list)
        self._samples: dict[tuple, dict] = {}
        self.by_language: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        self.weight: dict[tuple, float] = {}
        named: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            named[row["task"]].add(row.get("benchmark") or "")
            if row.get("weight") is not None:
                self.weight[(row["model"], row["task"], row["column"], row["seed"], row["language"],
                             row["metric"])] = row["weight"]
            key = (row["model"], row["task"], row["column"], row["seed"], row["language"], row["metric"])
            self.value[key] = row["value"]
            self.eval_key[key] = row.get("eval_key", "")
            if row["main"]:
                self.main.setdefault(row["task"], row["metric"])
            self.family.setdefault(row["task"], row.get("family", ""))
            group = self.languages[(row["model"], row["task"], row["column"])]
            if row["language"] not in group:
                group.append(row["language"])
            self.by_language[(row["model"], row["task"], row["language"])].append(row)
            seeds = self.seeds[(row["model"], row["task"], row["column"])]
            if row["seed"] not in seeds:
                seeds.append(row["seed"])

        # A task's benchmark: the one its rows name (rows that disagree, from merged runs: none).
        self.benchmarks: dict[str, Benchmark] = {
            task: BENCHMARKS[name] for task, names in named.items()
            if len(names) == 1 and (name := next(iter(names))) in BENCHMARKS and task in BENCHMARKS[name].languages}

    def benchmark_languages(self, task: str, evaluated: list[str]) -> list[str]:
        """The languages a task's score averages over: its benchmark's that were evaluated (official order), or
        every evaluated language when the task has no benchmark."""
        bench = self.benchmarks.get(task)
        if bench is None:
            return evaluated
        return [language for language in bench.languages[task] if language in evaluated]

    def missing_languages(self, task: str, evaluated: list[str], excluded: set[str]) -> tuple[int, int] | None:
        """(scored, official) when the task's benchmark has languages that were not evaluated; else None."""
        bench = self.benchmarks.get(task)
        if bench is None:
            return None
        official = [lg for lg in bench.languages[task] if lg not in excluded]
        have = [lg for lg in official if lg in evaluated]
        return (len(have), len(official)) if len(have) < len(official) else None

    def official(self, task: str) -> list[str]:
        """The metrics whose mean is the task's benchmark score: (EM, F1) for QA (XTREME's rule, also used
        without a benchmark), else the main metric (XGLUE: the main metric for every task)."""
        main = self.main[task]
        bench = self.benchmarks.get(task)
        qa = task in bench.em_f1_tasks if bench is not None else self.family.get(task) == "span_qa"
        if qa and main.endswith("f1"):
            exact = main[: -len("f1")] + "exact_match"
            if any(key[1] == task and key[5] == exact for key in self.value):
                return [exact, main]
        return [main]

    def seeds_of(self, model: str, task: str, column: Column) -> list[Any]:
        return self.seeds.get((model, task, column), [])

    def chance_of(self, task: str, languages: list[str]) -> float | None:
        """The task's chance level for its main metric, averaged over ``languages`` (None if not recorded)."""
        values = [row["chance"] for row in self.rows if row["task"] == task and row["metric"] == self.main[task]
                  and row["language"] in languages and row["chance"] is not None]
        return mean(values) if values else None

    def constant_in(self, model: str, task: str, column: Column, languages: list[str]) -> bool:
        return any(row.get("constant") for language in languages for row in self.by_language[(model, task, language)]
                   if row["column"] == column and row["main"])

    def pooled(self, task: str) -> bool:
        bench = self.benchmarks.get(task)
        return bench is not None and task in bench.pooled_tasks

    def per_seed(self, model: str, task: str, column: Column, languages: list[str],
                 metrics: list[str]) -> dict[Any, float]:
        """Per seed: the mean over ``languages`` (those scored) of the mean over ``metrics``; for a task its
        benchmark pools (LAReQA), the mean over the units of all languages (each language's value weighted by
        its ``weight``, the number of queries), where every weight is known."""
        out = {}
        for seed in self.seeds_of(model, task, column):
            values, weights = [], []
            for language in languages:
                keys = [(model, task, column, seed, language, m) for m in metrics]
                scores = [self.value.get(key) for key in keys]
                if all(s is not None for s in scores):
                    values.append(mean(scores))
                    weights.append(self.weight.get(keys[0]))
            if not values:
                continue
            if self.pooled(task) and all(w is not None and w > 0 for w in weights):
                out[seed] = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
            else:
                out[seed] = mean(values)
        return out

    def samples(self, model: str, task: str, language: str) -> dict[tuple[Column, Any, str], tuple]:
        """(column, seed, metric) -> (observed value, its bootstrap sample, the sorted example ids) for one
        language of one task.

        Every evaluation of the language whose examples are the same (compared as sorted ids, so listing order
        never matters) is resampled with one draw, so any two of them are paired. The draws come from a
        generator seeded with the bootstrap seed and the language's key, not from the order cells are asked
        for. Evaluations on other examples than the rest get their own draw and are never paired with them."""
        key = (model, task, language)
        if key not in self._samples:
            self._samples[key] = self._resample(model, task, language)
        return self._samples[key]

    def _resample(self, model: str, task: str, language: str) -> dict:
        by_ids: dict[str, list[tuple[tuple[Column, Any, str], np.ndarray, np.ndarray]]] = defaultdict(list)
        for row in self.by_language.get((model, task, language), []):
            scores = self.examples.get((row.get("eval_key", ""), row["metric"]))
            if scores is None or not scores.ids or len(set(scores.ids)) != len(scores.ids):
                continue
            ids = np.asarray(scores.ids)
            order = np.argsort(ids, kind="stable")  # a canonical order: results never depend on listing order
            name = hashlib.sha1("\n".join(ids[order]).encode()).hexdigest()
            by_ids[name].append(((row["column"], row["seed"], row["metric"]), np.asarray(scores.num)[order],
                                 np.asarray(scores.den)[order]))
        out = {}
        for ids, entries in by_ids.items():
            num = np.stack([e[1] for e in entries], axis=1)
            den = np.stack([e[2] for e in entries], axis=1)
            rng = np.random.default_rng([self.seed, zlib.crc32("\t".join((model, task, language, ids)).encode())])
            sample = resampled_ratios(num, den, self.n_resamples, rng)
            observed = 100.0 * num.sum(axis=0) / np.where(den.sum(axis=0) == 0, np.inf, den.sum(axis=0))
            for k, (entry, _, _) in enumerate(entries):
                out[entry] = (float(observed[k]), sample[:, k], ids)
        return out

    def _language_delta(self, model: str, task: str, language: str, column: Column, baseline: Column,
                        seeds: list[Any], metrics: list[str]) -> tuple[float, np.ndarray] | None:
        """Observed delta and its paired bootstrap sample for one language (per system the mean over metrics and
        over the paired seeds); None when some units are missing or the two were not scored on the same
        examples (then they do not share a draw and cannot be paired)."""
        samples = self.samples(model, task, language)
        sides = []
        for side in (column, baseline):
            entries = [samples.get((side, seed, metric)) for seed in seeds for metric in metrics]
            if any(e is None for e in entries):
                return None
            sides.append(entries)
        ours, theirs = sides
        if any(a[2] != b[2] for a, b in zip(ours, theirs, strict=True)):
            return None
        observed = mean(e[0] for e in ours) - mean(e[0] for e in theirs)
        return observed, np.mean([e[1] for e in ours], axis=0) - np.mean([e[1] for e in theirs], axis=0)

    def compare(self, model: str, tasks: list[str], column: Column, baseline: Column,
                languages: dict[str, list[str]], metrics: dict[str, list[str]],
                system_seeds: dict[Any, float], baseline_seeds: dict[Any, float]) -> Stat:
        """A non-baseline cell over one or more tasks (several: the benchmark average)."""
        stat = Stat(system_seeds, mean_ci(list(system_seeds.values())))
        if not baseline_seeds:
            return stat
        stat.delta = stat.mean - mean(baseline_seeds.values())
        stat.seed_test = paired_seed_test(system_seeds, baseline_seeds, self.n_resamples, self.seed)
        if not self.examples or self.n_resamples <= 0:
            return stat
        per_task = []
        for task in tasks:
            seeds = [s for s in self.seeds_of(model, task, column) if s in self.seeds_of(model, task, baseline)]
            per_language = []
            for language in languages[task]:
                delta = self._language_delta(model, task, language, column, baseline, seeds, metrics[task])
                if delta is None:
                    return stat
                per_language.append(delta)
            if not per_language:
                return stat
            per_task.append((mean(d[0] for d in per_language), np.mean([d[1] for d in per_language], axis=0)))
        observed = mean(t[0] for t in per_task)
        stat.examples = bootstrap_result(observed, np.mean([t[1] for t in per_task], axis=0))
        return stat


def evaluated_languages(scores: Scores, model: str, target: str, column: Column, excluded: Iterable[str]) -> list[str]:
    """The languages a cell averages over: the target's benchmark languages (all evaluated ones without a
    benchmark) that were evaluated for the column, less ``excluded``."""
    return scores.benchmark_languages(target, [lg for lg in scores.languages[(model, target, column)]
                                               if lg not in excluded])


def _score_table(scores: Scores, model: str, title: str, excluded: set[str], short: dict[str, str]) -> ScoreTable:
    rows = [r for r in scores.rows if r["model"] == model and r["language"] not in excluded]
    targets = sorted(ordered(r["task"] for r in rows))
    columns = sorted(ordered(r["column"] for r in rows), key=Column.sort_key)
    langs = {(t, c): evaluated_languages(scores, model, t, c, excluded) for t in targets for c in columns}
    cells: dict[tuple[str, Column], Stat] = {}
    for target in targets:
        main = [scores.main[target]]
        for column in columns:
            seeds = scores.per_seed(model, target, column, langs[(target, column)], main)
            if not seeds:
                continue
            baseline = baseline_of(column, columns)
            base_seeds = scores.per_seed(model, target, baseline, langs[(target, baseline)], main) if baseline else {}
            if not base_seeds:
                cells[(target, column)] = Stat(seeds, mean_ci(list(seeds.values())))
                continue
            shared = [lg for lg in langs[(target, column)] if lg in langs[(target, baseline)]]
            cells[(target, column)] = scores.compare(model, [target], column, baseline, {target: shared},
                                                     {target: main}, seeds, base_seeds)
    for (target, column), stat in cells.items():
        chance = scores.chance_of(target, langs[(target, column)])
        stat.at_chance = chance is not None and stat.mean <= chance + 1e-9
        stat.constant = scores.constant_in(model, target, column, langs[(target, column)])
    table = ScoreTable(title, model, targets, columns, cells, {}, "average", excluded=tuple(sorted(excluded)))
    for target in targets:
        evaluated = ordered(lg for c in columns for lg in langs[(target, c)])
        missing = scores.missing_languages(target, evaluated, excluded)
        if missing is not None:
            table.partial[target] = missing
    _average_row(scores, table, langs, short)
    return table


def _average_row(scores: Scores, table: ScoreTable, langs: dict[tuple[str, Column], list[str]],
                 short: dict[str, str]) -> None:
    """The benchmark average with the official aggregation, over the tasks the baseline and every intermediate
    column share; a column without all of them (often the control) gets a note instead."""
    compared = [c for c in table.columns if not c.control] or table.columns
    common = [t for t in table.rows if all((t, c) in table.cells for c in compared)]
    if not common:
        return
    table.averaged = common
    official = {t: scores.official(t) for t in common}
    uses_qa_rule = [t for t in common if len(official[t]) > 1]
    table.average_label, note = _average_label(scores, table, common)
    if note:
        table.notes.append(note)
    for column in table.columns:
        baseline = baseline_of(column, table.columns)
        base_seeds = average_seeds(scores, table.model, common, baseline, langs, official) if baseline else {}
        if not all((t, column) in table.cells for t in common):
            have = [t for t in common if (t, column) in table.cells]
            if have and base_seeds:
                own = average_seeds(scores, table.model, have, column, langs, official)
                base = average_seeds(scores, table.model, have, baseline, langs, official)
                if own and base:
                    table.notes.append(f"{column.label(short)} lacks {len(common) - len(have)} of the averaged tasks; "
                                       f"over the {len(have)} it has: {mean(own.values()):.1f} (baseline on the "
                                       f"same tasks: {mean(base.values()):.1f}).")
            continue
        seeds = average_seeds(scores, table.model, common, column, langs, official)
        if not seeds:
            continue
        if not base_seeds:
            table.average[column] = Stat(seeds, mean_ci(list(seeds.values())))
            continue
        shared = {t: [lg for lg in langs[(t, column)] if lg in langs[(t, baseline)]] for t in common}
        table.average[column] = scores.compare(table.model, common, column, baseline, shared, official, seeds,
                                               base_seeds)
    benches = {scores.benchmarks.get(t) for t in common}
    bench = benches.pop() if len(benches) == 1 else None
    name = bench.title if bench is not None else "XTREME"
    if uses_qa_rule:
        qa = ", ".join(short.get(t, t) for t in uses_qa_rule)
        table.notes.append(f"The average follows {name}'s aggregation: QA tasks ({qa}) enter as (EM + F1) / 2, the "
                           "others with their main metric; then the plain mean over tasks.")
    pooled = [short.get(t, t) for t in common if scores.pooled(t)]
    if pooled:
        table.notes.append(f"{', '.join(pooled)}: the mean over the queries of all languages pooled, as XTREME-R "
                           "scores LAReQA (one candidate pool); its row and the average use it.")


def _average_label(scores: Scores, table: ScoreTable, common: list[str]) -> tuple[str, str]:
    """The average row's label, and a note when it is not a benchmark's score: it says which benchmark's
    languages and aggregation it uses, and whether it covers every task in full."""
    benches = {scores.benchmarks.get(t) for t in table.rows}
    bench = benches.pop() if len(benches) == 1 else None
    partial = [t for t in common if t in table.partial]
    if bench is None:
        if any(scores.benchmarks.get(t) for t in table.rows):
            return "average (tasks of several benchmarks)", ("The average mixes tasks of different benchmarks (or "
                                                              "of none): it is no benchmark's score.")
        return "average (languages evaluated)", ""
    if table.excluded:
        return (f"average without {', '.join(table.excluded)} ({bench.title} languages)",
                f"Without {', '.join(table.excluded)}, this average is not the {bench.title} score.")
    if partial:
        return (f"average, partial ({len(partial)} of {len(common)} tasks not in all {bench.title} languages)",
                f"Partial: {', '.join(partial)} were not evaluated in every {bench.title} language, so this average "
                f"is not the {bench.title} score and is not comparable with published numbers.")
    missing = [t for t in bench.tasks if t not in common]
    if missing:
        return (f"average of {len(common)} of {len(bench.tasks)} {bench.title} tasks",
                f"The average covers {len(common)} of {bench.title}'s {len(bench.tasks)} tasks ({bench.title}'s "
                f"languages and aggregation); without {', '.join(missing)} it is not the {bench.title} score.")
    return f"{bench.title} score ({bench.title} languages)", ""


def average_seeds(scores: Scores, model: str, tasks: list[str], column: Column,
                   langs: dict[tuple[str, Column], list[str]], official: dict[str, list[str]]) -> dict[Any, float]:
    per_task = [scores.per_seed(model, t, column, langs[(t, column)], official[t]) for t in tasks]
    seeds = [s for s in per_task[0] if all(s in p for p in per_task)] if per_task else []
    return {s: mean(p[s] for p in per_task) for s in seeds}


def _language_tables(scores: Scores, paper: ScoreTable) -> list[ScoreTable]:
    out = []
    for target in paper.rows:
        columns = [c for c in paper.columns if (target, c) in paper.cells]
        languages = ordered(lg for c in columns for lg in scores.languages[(paper.model, target, c)])
        languages.sort(key=lambda lg: (lg != "en", lg))
        main = [scores.main[target]]
        cells = {}
        for language in languages:
            for column in columns:
                seeds = scores.per_seed(paper.model, target, column, [language], main)
                if not seeds:
                    continue
                baseline = baseline_of(column, columns)
                base = scores.per_seed(paper.model, target, baseline, [language], main) if baseline else {}
                if not base:
                    cells[(language, column)] = Stat(seeds, mean_ci(list(seeds.values())))
                else:
                    cells[(language, column)] = scores.compare(paper.model, [target], column, baseline,
                                                               {target: [language]}, {target: main}, seeds, base)
        average = {c: paper.cells[(target, c)] for c in columns}
        out.append(ScoreTable(f"{target}", paper.model, languages, columns, cells, average,
                              "mean over languages", target=target))
    return out


def build_report(rows: list[dict[str, Any]], examples: dict[tuple[str, str], ExampleScores] | None = None, *,
                 title: str = "", description: str = "", n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 per_language: bool = True) -> Report:
    """The report from normalised result rows (see :func:`xstilts.reports.results.normalise_row`)."""
    split = _split(rows)
    rows = [r for r in rows if r["split"] == split]
    rows = assign_columns(rows)
    examples = examples or {}
    scores = Scores(rows, examples, n_resamples, seed)
    models = ordered(r["model"] for r in rows)
    short = short_labels(rows)
    several = len(models) > 1
    paper, zero_shot, languages = [], [], []
    for model in models:
        suffix = f" — {model}" if several else ""
        table = _score_table(scores, model, f"All test languages{suffix}", set(), short)
        paper.append(table)
        zero = _score_table(scores, model, f"Zero-shot languages only (English excluded){suffix}", {"en"}, short)
        if zero.rows:
            zero_shot.append(zero)
        if per_language:
            languages += _language_tables(scores, table)
    chance: dict[str, tuple[str, float]] = {}
    for row in rows:
        if row["main"] and row["chance"] is not None:
            chance.setdefault(row["task"], (row["metric"], row["chance"]))
    seeds = ordered(r["seed"] for r in rows)
    notes = []
    if split != "test":
        notes.append(f"Scores are on the {split!r} split (the results hold no test rows).")
    not_zero_shot = ordered(r.get("pipeline", "") for r in rows if not r["zero_shot"])
    if not_zero_shot:
        notes.append("Not zero-shot (selected or trained on non-English data): " + ", ".join(not_zero_shot) + ".")
    if not examples:
        notes.append("Significance over test examples: n/a (no example_scores.jsonl next to results.csv; runs of "
                     "older versions did not write it).")
    if len(seeds) < 2:
        notes.append("Intervals and tests over seeds: n/a (one seed).")
    references = {r.get("reference") or "" for r in rows} - {""}
    report = Report(title, description, models, seeds, short, paper, zero_shot, languages, chance,
                    numeric_axes(rows), n_resamples, bool(examples), notes, benchmarks=dict(scores.benchmarks),
                    main_metric=dict(scores.main), reference=references.pop() if len(references) == 1 else None)
    from xstilts.reports.pairs import paired_comparisons
    from xstilts.reports.palette import assign_palette
    from xstilts.reports.published import comparisons

    report.published, report.published_notes = comparisons(report, report.reference)
    report.pairs = paired_comparisons(scores, report.paper)
    report.palette = assign_palette(report)
    return report


def _split(rows: list[dict[str, Any]]) -> str:
    splits = ordered(r["split"] for r in rows)
    return "test" if "test" in splits or not splits else splits[0]


@dataclass(frozen=True)
class ScalingPoint:
    model: str
    target: str
    line: Column  # the column without the axis: one curve per (intermediate, target)
    x: float
    score: Stat
    baseline: float | None


def scaling_points(report: Report, axis: str) -> list[ScalingPoint]:
    """Every (model, target, column) with a numeric value on ``axis``, as a point of a scaling curve."""
    points = []
    for table in report.paper:
        for (target, column), stat in table.cells.items():
            value = column.value(axis)
            if value is None or column.is_baseline:
                continue
            baseline = baseline_of(column, table.columns)
            try:
                x = float(value)
            except ValueError:
                continue
            base = table.cells.get((target, baseline)) if baseline else None
            points.append(ScalingPoint(table.model, target, column.without(axis), x, stat,
                                       base.mean if base else None))
    return sorted(points, key=lambda p: (p.model, p.target, p.line.sort_key(), p.x))


def model_gains(report: Report) -> dict[tuple[Column, str], dict[str, Stat]]:
    """(column, target or "average") -> model -> the cell (its delta is the gain over that model's baseline);
    only columns that at least two models have."""
    out: dict[tuple[Column, str], dict[str, Stat]] = defaultdict(dict)
    for table in report.paper:
        for (target, column), stat in table.cells.items():
            if stat.delta is not None:
                out[(column, target)][table.model] = stat
        for column, stat in table.average.items():
            if stat.delta is not None:
                out[(column, "average")][table.model] = stat
    return {key: value for key, value in out.items() if len(value) > 1}
