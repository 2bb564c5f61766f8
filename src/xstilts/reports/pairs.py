"""Direct comparisons of paired conditions: two intermediate columns of one model that differ in one thing only,
compared with each other (A - B) by the same paired tests as each against the baseline (a bootstrap over test
examples and a t-test over seeds; :meth:`xstilts.reports.model.Scores.compare`).

Two columns pair when neither is the baseline or the control, they train the same intermediate sources (the
same multiset of tasks, whatever their order and whether they share a stage with the target), and they differ
in exactly one of:

- one variant grid axis that both have (a data fraction, a stage order axis, ...); a numeric axis pairs
  neighbouring values only (0.1 with 0.3, 0.3 with 1: the steps of a scaling curve), and the labels may differ
  with it (an order axis reorders the label's sources);
- without any axis between them, the order of their sources (``nli+nli~cs`` vs ``nli~cs+nli``), which sources
  are trained jointly with the target (``nli (joint)`` vs ``nli``: joint vs sequential), or how the sources
  were trained (``nli~lora`` vs ``nli``: a PEFT adapter vs the whole encoder; the same sources otherwise).

Different intermediate tasks never pair: each is compared with the baseline, and the paper table sets them side
by side. In a pair, B is the column listed first in the paper table (the lower value of a numeric axis, the
sequential before the joint variant) and A the other, so the difference reads "A - B".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from xstilts.config.schema import PEFT_METHODS
from xstilts.reports.columns import Column
from xstilts.reports.model import Scores, ScoreTable, Stat, average_seeds, evaluated_languages

JOINT = " (joint)"
# How a source's stage trained, when not the whole encoder (``studies/results.describe_lineage``): ``nli~lora``.
TRAINING_MARKS = tuple(f"~{method}" for method in PEFT_METHODS)


@dataclass(frozen=True)
class Pair:
    a: Column
    b: Column
    differs: str  # what tells them apart: an axis name, "joint vs sequential" or "source order"


@dataclass
class PairedComparison:
    model: str
    target: str  # a target task; "" for the average row
    label: str  # the row's label: the target, or the table's average label
    pair: Pair
    a: Stat  # A's cell (its own score over seeds)
    b: Stat
    difference: Stat  # delta = A - B, with its paired tests


def _sources(column: Column) -> list[tuple[str, bool]]:
    """(task label, trained jointly with the target) for each intermediate source, in order; the label without
    its training mark (``~lora``): full and PEFT training of one task are the same source."""
    return [(_unmarked(part.removesuffix(JOINT)), part.endswith(JOINT)) for part in column.intermediate.split("+")]


def _unmarked(label: str) -> str:
    return next((label.removesuffix(mark) for mark in TRAINING_MARKS if label.endswith(mark)), label)


def _marks(column: Column) -> list[str]:
    """The training mark of each source, in order ("" for full training)."""
    return [part.removesuffix(JOINT)[len(_unmarked(part.removesuffix(JOINT))):]
            for part in column.intermediate.split("+")]


def _tasks(column: Column) -> Counter:
    """The multiset of a column's intermediate sources, whatever their order and stage."""
    return Counter(name for name, _ in _sources(column))


def _number(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _difference(first: Column, second: Column) -> str | None:
    """What alone tells two columns with the same sources apart, or None (nothing, or more than one thing)."""
    axes = list(dict.fromkeys(k for k, _ in (*first.variant, *second.variant)))
    if any(first.value(axis) is None or second.value(axis) is None for axis in axes):
        return None  # an axis only one of them has: a different design, not one changed setting
    differing = [axis for axis in axes if first.value(axis) != second.value(axis)]
    if len(differing) == 1:
        return differing[0]
    if differing:
        return None
    ours, theirs = _sources(first), _sources(second)
    order = [name for name, _ in ours] != [name for name, _ in theirs]
    joint = sorted(n for n, j in ours if j) != sorted(n for n, j in theirs if j)
    training = not order and _marks(first) != _marks(second)
    if order and not joint:
        return "source order"
    if joint and not order and not training:
        return "joint vs sequential"
    if training and not joint:
        return "PEFT vs full training"
    return None


def _between(axis: str, low: float, high: float, pair: tuple[Column, Column], columns: list[Column]) -> bool:
    """Whether another column like the pair's (same sources and other axes) has a value of ``axis`` strictly
    between theirs: then the pair is not neighbouring."""
    first = pair[0]
    for column in columns:
        value = _number(column.value(axis))
        if value is None or not low < value < high or _tasks(column) != _tasks(first):
            continue
        if all(column.value(k) == v for k, v in first.variant if k != axis):
            return True
    return False


def condition_pairs(columns: list[Column]) -> list[Pair]:
    """The paired conditions among a table's columns (see the module docstring), in the table's order."""
    candidates = sorted((c for c in columns if not c.is_baseline and not c.control), key=Column.sort_key)
    pairs = []
    for b, a in combinations(candidates, 2):
        if _tasks(a) != _tasks(b):
            continue
        differs = _difference(a, b)
        if differs is None:
            continue
        low, high = _number(b.value(differs)), _number(a.value(differs))
        if low is not None and high is not None:
            low, high = min(low, high), max(low, high)
            if _between(differs, low, high, (a, b), candidates):
                continue
        pairs.append(Pair(a, b, differs))
    return pairs


def paired_comparisons(scores: Scores, tables: list[ScoreTable]) -> list[PairedComparison]:
    """Every pair of every table (per model), per target and for the average row, A - B with paired tests."""
    out = []
    for table in tables:
        for pair in condition_pairs(table.columns):
            for target in table.rows:
                stats = (table.cell(target, pair.a), table.cell(target, pair.b))
                if None in stats:
                    continue
                main = [scores.main[target]]
                langs = [evaluated_languages(scores, table.model, target, c, table.excluded) for c in (pair.a, pair.b)]
                shared = [lg for lg in langs[0] if lg in langs[1]]
                difference = scores.compare(table.model, [target], pair.a, pair.b, {target: shared},
                                            {target: main}, stats[0].seeds, stats[1].seeds)
                out.append(PairedComparison(table.model, target, target, pair, stats[0], stats[1], difference))
            average = _average(scores, table, pair)
            if average is not None:
                out.append(average)
    return out


def _average(scores: Scores, table: ScoreTable, pair: Pair) -> PairedComparison | None:
    """The pair's difference in the average row, over the targets that row averages."""
    stats = (table.average.get(pair.a), table.average.get(pair.b))
    if None in stats or not table.averaged:
        return None
    tasks = table.averaged
    langs = {(t, c): evaluated_languages(scores, table.model, t, c, table.excluded) for t in tasks
             for c in (pair.a, pair.b)}
    official = {t: scores.official(t) for t in tasks}
    seeds = [average_seeds(scores, table.model, tasks, c, langs, official) for c in (pair.a, pair.b)]
    shared = {t: [lg for lg in langs[(t, pair.a)] if lg in langs[(t, pair.b)]] for t in tasks}
    difference = scores.compare(table.model, tasks, pair.a, pair.b, shared, official, seeds[0], seeds[1])
    return PairedComparison(table.model, "", table.average_label, pair, stats[0], stats[1], difference)
