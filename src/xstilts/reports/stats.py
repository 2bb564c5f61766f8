"""Statistics for the report: means over seeds with t intervals, and paired significance against the baseline.

Two sources of variation are tested separately, because they answer different questions:

- **over test examples** (:func:`paired_bootstrap`): given the trained models, would the gain survive another
  draw of the test set? Both systems are scored on the same examples, so each resample draws one set of
  example indices per language and scores both systems (and every seed) on it. A metric is a ratio of sums
  over examples (accuracy: correct / 1; F1: 2TP / (2TP + FP + FN) per sentence), so a resampled score is
  ``100 * sum(num[idx]) / sum(den[idx])``: corpus-level metrics are resampled exactly, not approximated by a
  mean of per-example scores.
- **over seeds** (:func:`paired_seed_test`): would the gain survive another training run? Seeds are paired
  (the baseline and the system trained with the same seed) and tested with a paired t-test; a bootstrap over
  seeds is given beside it from 5 seeds on. Fewer than two paired seeds give no interval and no p-value
  (``None``).

Two-sided bootstrap p-value: twice the share of resamples whose delta does not have the sign of the observed
delta, with the usual +1 correction for the observed sample itself, ``min(1, 2 (k + 1) / (B + 1))``; an
observed delta of exactly 0 has p = 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from xstilts.reports import DEFAULT_RESAMPLES

CONFIDENCE = 0.95
# Below this many seeds a bootstrap over seeds has too few distinct resamples (2 seeds: 3) to mean anything.
MIN_SEEDS_FOR_BOOTSTRAP = 5


@dataclass(frozen=True)
class MeanCI:
    mean: float
    half_width: float | None  # None with fewer than two values
    n: int

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> MeanCI:
    """Mean and the half-width of its t interval: ``t(1 - a/2, n - 1) * s / sqrt(n)`` with the sample s.d."""
    from scipy import stats

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(data.mean())
    if data.size < 2:
        return MeanCI(mean, None, int(data.size))
    t = float(stats.t.ppf(0.5 + confidence / 2, data.size - 1))
    return MeanCI(mean, t * float(data.std(ddof=1)) / math.sqrt(data.size), int(data.size))


@dataclass(frozen=True)
class Units:
    """One language's test examples as metric units: ``num`` and ``den`` of shape (seeds, examples,
    components). A component is one metric (QA's official score averages two: EM and F1); the language's
    score is the mean over components of ``100 * sum(num) / sum(den)``."""

    num: np.ndarray
    den: np.ndarray

    def __post_init__(self) -> None:
        if self.num.shape != self.den.shape or self.num.ndim != 3:
            raise ValueError(f"num and den must share a (seeds, examples, components) shape: "
                             f"{self.num.shape} vs {self.den.shape}")

    @classmethod
    def of(cls, num: Sequence, den: Sequence | None = None) -> Units:
        """Units from per-example arrays: (examples,), (examples, components) or (seeds, examples, components);
        ``den`` defaults to ones (accuracy-like metrics)."""
        n = np.asarray(num, dtype=float)
        d = np.ones_like(n) if den is None else np.asarray(den, dtype=float)
        while n.ndim < 3:
            n, d = (n[:, None], d[:, None]) if n.ndim == 1 else (n[None], d[None])
        return cls(n, d)

    @property
    def examples(self) -> int:
        return self.num.shape[1]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # An empty denominator (e.g. no gold entity in a resample) scores 0, as seqeval does.
    return np.divide(100.0 * num, den, out=np.zeros_like(num, dtype=float), where=den != 0)


def _scores(units: Units, counts: np.ndarray) -> np.ndarray:
    """(resamples, seeds) scores of one language for example multiplicities ``counts`` (resamples, examples)."""
    seeds, examples, components = units.num.shape

    def summed(values: np.ndarray) -> np.ndarray:  # a matrix product: (b, e) @ (e, s*c)
        flat = values.transpose(1, 0, 2).reshape(examples, seeds * components)
        return (counts @ flat).reshape(-1, seeds, components)

    return _ratio(summed(units.num), summed(units.den)).mean(axis=2)


def _grouped_mean(per_language: list[np.ndarray], groups: Sequence[int] | None) -> np.ndarray:
    """Mean over languages, or with ``groups`` (a task index per language) the mean over tasks of the mean
    over each task's languages: the benchmark average."""
    if groups is None:
        return np.mean(per_language, axis=0)
    by_group: dict[int, list[np.ndarray]] = {}
    for group, values in zip(groups, per_language, strict=True):
        by_group.setdefault(group, []).append(values)
    return np.mean([np.mean(values, axis=0) for values in by_group.values()], axis=0)


def task_score(languages: Sequence[Units], groups: Sequence[int] | None = None) -> float:
    """The task score: the mean over languages of each language's mean over seeds (which is the mean over seeds
    of the per-seed task score); with ``groups``, the mean over tasks of that (see :func:`_grouped_mean`)."""
    per_language = [_scores(u, np.ones((1, u.examples))).mean(axis=1) for u in languages]
    return float(_grouped_mean(per_language, groups)[0])


@dataclass(frozen=True)
class BootstrapResult:
    delta: float  # observed: system - baseline
    low: float
    high: float
    p_value: float
    n_resamples: int


def resample_counts(examples: int, n_resamples: int, rng: np.random.Generator, block: int = 250):
    """Blocks of example multiplicities, each (resamples, examples): ``examples`` draws with replacement."""
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        # Uniform draws counted with one bincount: the multinomial's distribution, several times faster.
        picks = rng.integers(0, examples, size=(size, examples)) + examples * np.arange(size)[:, None]
        yield np.bincount(picks.ravel(), minlength=size * examples).reshape(size, examples).astype(float)


def resampled_ratios(num: np.ndarray, den: np.ndarray, n_resamples: int, rng: np.random.Generator,
                     block: int = 250) -> np.ndarray:
    """Columns of units that share their examples (num, den: (examples, k)), all resampled with the same draws:
    (resamples, k) values ``100 * sum(num) / sum(den)``. One draw serves every system, seed and metric of a
    language, which keeps them paired and costs one multinomial draw per language."""
    return np.concatenate([_ratio(counts @ num, counts @ den)
                           for counts in resample_counts(num.shape[0], n_resamples, rng, block)])


def bootstrap_result(observed: float, sample: np.ndarray, confidence: float = CONFIDENCE) -> BootstrapResult:
    """Percentile interval and two-sided p-value of a bootstrap sample of deltas."""
    alpha = 1 - confidence
    low, high = np.quantile(sample, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(float(observed), float(low), float(high), _two_sided_p(sample, observed), sample.size)


def paired_bootstrap(system: Sequence[Units], baseline: Sequence[Units], n_resamples: int = DEFAULT_RESAMPLES,
                     seed: int = 0, confidence: float = CONFIDENCE, groups: Sequence[int] | None = None,
                     block: int = 250) -> BootstrapResult:
    """Paired bootstrap over test examples of the task-score delta ``system - baseline``.

    ``system[i]`` and ``baseline[i]`` are language i, evaluated on the same examples in the same order and
    with the same seeds (paired by position). Each resample draws examples with replacement within every
    language (the same draw for both systems and all seeds) and recomputes the task score as
    :func:`task_score` does (``groups``: the benchmark average over several tasks, each task's test set
    resampled independently). ``block`` resamples are drawn at a time to bound memory.
    """
    if len(system) != len(baseline) or not system:
        raise ValueError("system and baseline need the same, non-empty list of languages")
    for ours, theirs in zip(system, baseline, strict=True):
        if ours.num.shape[:2] != theirs.num.shape[:2]:
            raise ValueError(f"paired languages differ in (seeds, examples): {ours.num.shape[:2]} vs "
                             f"{theirs.num.shape[:2]}")
    observed = task_score(system, groups) - task_score(baseline, groups)
    rng = np.random.default_rng(seed)
    deltas = []
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        per_language = []
        for ours, theirs in zip(system, baseline, strict=True):
            (counts,) = resample_counts(ours.examples, size, rng, block=size)
            per_language.append((_scores(ours, counts) - _scores(theirs, counts)).mean(axis=1))
        deltas.append(_grouped_mean(per_language, groups))
    return bootstrap_result(observed, np.concatenate(deltas), confidence)


def _two_sided_p(sample: np.ndarray, observed: float) -> float:
    if observed == 0:
        return 1.0
    against = int(np.sum(sample * np.sign(observed) <= 0))
    return min(1.0, 2 * (against + 1) / (sample.size + 1))


@dataclass(frozen=True)
class SeedTest:
    n: int  # paired seeds
    delta: float  # mean of the per-seed differences
    half_width: float | None  # t interval of the mean difference
    p_value: float | None  # paired t-test
    boot_low: float | None  # bootstrap over seeds
    boot_high: float | None
    boot_p: float | None


def paired_seed_test(system: Mapping[object, float], baseline: Mapping[object, float],
                     n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                     confidence: float = CONFIDENCE) -> SeedTest | None:
    """Per-seed scores paired by seed (the keys both have); None when no seed is shared."""
    from scipy import stats

    common = [s for s in system if s in baseline]
    if not common:
        return None
    diffs = np.array([system[s] - baseline[s] for s in common], dtype=float)
    ci = mean_ci(diffs, confidence)
    if diffs.size < 2:
        return SeedTest(1, ci.mean, None, None, None, None, None)
    if np.allclose(diffs, diffs[0]):
        # No spread: the t statistic is undefined; an exactly repeated gain is as certain as it gets.
        p_t = 1.0 if diffs[0] == 0 else 0.0
    else:
        p_t = float(stats.ttest_rel([system[s] for s in common], [baseline[s] for s in common]).pvalue)
    if diffs.size < MIN_SEEDS_FOR_BOOTSTRAP:
        return SeedTest(int(diffs.size), ci.mean, ci.half_width, p_t, None, None, None)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, diffs.size, size=(n_resamples, diffs.size))
    sample = diffs[picks].mean(axis=1)
    alpha = 1 - confidence
    low, high = np.quantile(sample, [alpha / 2, 1 - alpha / 2])
    return SeedTest(int(diffs.size), ci.mean, ci.half_width, p_t, float(low), float(high),
                    _two_sided_p(sample, ci.mean))
