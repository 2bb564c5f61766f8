"""How well a ranking of candidate intermediate tasks matches the gains a grid measured.

All functions are pure: ``gains`` maps candidate -> measured gain (points of the target's main metric over its
baseline, any sign), ``ranking`` lists candidates best first, ``scores`` maps candidate -> predicted score
(higher = better).

- **NDCG@k**: a candidate's relevance is its gain minus the smallest gain among the candidates, so the worst
  candidate has relevance 0 and negative gains need no special case (NDCG wants relevances >= 0; shifting
  every gain by the same amount keeps their order and differences). DCG@k = sum_{i=1..k} rel(ranking[i]) /
  log2(i + 1); NDCG@k = DCG@k / the DCG@k of the ideal ranking, and 1.0 when the ideal DCG is 0 (every
  candidate gains the same: any ranking is as good as any other).
- **regret@k**: the best gain minus the best gain among the ranking's top k, in points (>= 0; 0 when the best
  candidate is in the top k).
- **Spearman**: rank correlation of scores and gains (``scipy.stats.spearmanr``, ties averaged); nan when either
  side is constant or fewer than two candidates are compared.
- **A uniformly random ranking** (the "random" baseline) is scored by its exact expectation, not by a draw:
  E[NDCG@k] = (sum_{i=1..k} mean(rel) / log2(i + 1)) / IDCG@k, because each position holds every candidate
  with the same probability; E[regret@k] = best - E[best gain of a random k-subset], where the best of a random
  k-subset is the j-th smallest of the n gains with probability C(j-1, k-1) / C(n, k); E[Spearman] = 0 (nan
  when the gains are constant).
- **Ties.** A validation scores a ranking given by scores (``METRICS``): candidates with equal scores are
  ordered uniformly at random, and NDCG@k and regret@k are their exact expectations over those orders (a
  position inside a block of tied candidates holds each of them with the same probability; the top k takes a
  random subset of the block that straddles position k). So "largest" with seven equally large candidates is not
  "largest, then alphabetical", and a ranking where every score ties is exactly the random baseline. Spearman
  averages tied ranks (scipy's rule).
- **The seed-noise ceiling**: how well one seed's measured ranking predicts another seed's gains: for every
  ordered pair of distinct seeds (s, s'), the metric of the ranking by s's gains (scores: s's gains) against
  s''s gains; summarised by the mean and the spread (standard deviation over the pairs, ddof=0) of the pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import permutations

import numpy as np

Gains = Mapping[str, float]
# (scores, gains) -> value; every metric of a validation has this shape
Metric = Callable[[Gains, Gains], float]


def _check(ranking: Sequence[str], gains: Gains, k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not gains:
        raise ValueError("no candidates: gains is empty")
    if sorted(ranking) != sorted(gains):
        raise ValueError(f"the ranking {list(ranking)} is not an order of the measured candidates {sorted(gains)}")


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def _relevance(gains: Gains) -> dict[str, float]:
    low = min(gains.values())
    return {candidate: gain - low for candidate, gain in gains.items()}


def _ndcg_parts(gains: Gains, k: int) -> tuple[int, dict[str, float], np.ndarray, float]:
    """(k capped at the candidates, relevance, discounts, ideal DCG@k): what every NDCG here starts from."""
    k = min(k, len(gains))
    relevance = _relevance(gains)
    discounts = _discounts(k)
    return k, relevance, discounts, float(np.dot(sorted(relevance.values(), reverse=True)[:k], discounts))


def ndcg_at_k(ranking: Sequence[str], gains: Gains, k: int) -> float:
    """NDCG@k of ``ranking`` against ``gains`` (relevance = gain - the smallest gain; see the module docstring)."""
    _check(ranking, gains, k)
    k, relevance, discounts, ideal = _ndcg_parts(gains, k)
    if ideal == 0.0:
        return 1.0
    return float(np.dot([relevance[c] for c in ranking[:k]], discounts)) / ideal


def regret_at_k(ranking: Sequence[str], gains: Gains, k: int) -> float:
    """Points lost by taking the best of the ranking's top k instead of the best candidate (>= 0)."""
    _check(ranking, gains, k)
    return max(gains.values()) - max(gains[c] for c in ranking[:k])


def spearman(scores: Gains, gains: Gains) -> float:
    """Spearman's rank correlation over the candidates both sides have; nan when one side is constant."""
    from scipy.stats import spearmanr

    common = sorted(set(scores) & set(gains))
    x = np.array([scores[c] for c in common], dtype=float)
    y = np.array([gains[c] for c in common], dtype=float)
    if len(common) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    return float(spearmanr(x, y).statistic)


def expected_ndcg_at_k(gains: Gains, k: int) -> float:
    """E[NDCG@k] of a uniformly random ranking (exact)."""
    _check(list(gains), gains, k)
    k, relevance, discounts, ideal = _ndcg_parts(gains, k)
    if ideal == 0.0:
        return 1.0
    return float(np.mean(list(relevance.values())) * discounts.sum()) / ideal


def expected_regret_at_k(gains: Gains, k: int) -> float:
    """E[regret@k] of a uniformly random ranking (exact, from the order statistics of a random k-subset)."""
    _check(list(gains), gains, k)
    ordered = sorted(gains.values())
    n = len(ordered)
    k = min(k, n)
    expected_best = sum(math.comb(j - 1, k - 1) * ordered[j - 1] for j in range(k, n + 1)) / math.comb(n, k)
    return max(0.0, ordered[-1] - expected_best)  # max: float rounding must not make a regret negative


def expected_spearman(gains: Gains) -> float:
    """E[Spearman] of a uniformly random ranking: 0 by symmetry (nan when the gains are constant)."""
    values = list(gains.values())
    return math.nan if len(values) < 2 or all(v == values[0] for v in values) else 0.0


def ranking_of(scores: Gains) -> list[str]:
    """Candidates by score, best first, ties broken by name (as ``Estimate.ranking`` breaks them)."""
    return sorted(scores, key=lambda c: (-scores[c], c))


def tied_blocks(scores: Gains) -> list[list[str]]:
    """Candidates grouped by equal score, best block first (each block by name)."""
    blocks: list[list[str]] = []
    for candidate in ranking_of(scores):
        if blocks and scores[blocks[-1][0]] == scores[candidate]:
            blocks[-1].append(candidate)
        else:
            blocks.append([candidate])
    return blocks


def ndcg_over_ties(scores: Gains, gains: Gains, k: int) -> float:
    """E[NDCG@k] of the ranking by ``scores`` over uniformly random orders of its tied candidates (exact)."""
    _check(list(scores), gains, k)
    k, relevance, discounts, ideal = _ndcg_parts(gains, k)
    if ideal == 0.0:
        return 1.0
    dcg, position = 0.0, 0
    for block in tied_blocks(scores):
        if position >= k:
            break
        mean_relevance = float(np.mean([relevance[c] for c in block]))
        dcg += mean_relevance * float(discounts[position:min(position + len(block), k)].sum())
        position += len(block)
    return dcg / ideal


def regret_over_ties(scores: Gains, gains: Gains, k: int) -> float:
    """E[regret@k] of the ranking by ``scores`` over uniformly random orders of its tied candidates (exact)."""
    _check(list(scores), gains, k)
    best, taken, position = max(gains.values()), -math.inf, 0
    for block in tied_blocks(scores):
        room = k - position
        if room <= 0:
            break
        if len(block) <= room:
            taken = max(taken, max(gains[c] for c in block))
            position += len(block)
            continue
        # a random `room`-subset of the block: its best is the j-th smallest of the block w.p. C(j-1, r-1)/C(m, r)
        ordered = sorted(gains[c] for c in block)
        m = len(ordered)
        expected = sum(math.comb(j - 1, room - 1) * max(taken, ordered[j - 1])
                       for j in range(room, m + 1)) / math.comb(m, room)
        return max(0.0, best - expected)
    return best - taken


# The metrics a validation reports, by name; each takes (scores, gains), ties as the module docstring says.
METRICS: dict[str, Metric] = {
    "ndcg@3": lambda scores, gains: ndcg_over_ties(scores, gains, 3),
    "regret@1": lambda scores, gains: regret_over_ties(scores, gains, 1),
    "regret@3": lambda scores, gains: regret_over_ties(scores, gains, 3),
    "spearman": spearman,
}
# The same metrics' exact expectations for a uniformly random ranking.
RANDOM_EXPECTATIONS: dict[str, Callable[[Gains], float]] = {
    "ndcg@3": lambda gains: expected_ndcg_at_k(gains, 3),
    "regret@1": lambda gains: expected_regret_at_k(gains, 1),
    "regret@3": lambda gains: expected_regret_at_k(gains, 3),
    "spearman": expected_spearman,
}
HIGHER_IS_BETTER = {"ndcg@3": True, "regret@1": False, "regret@3": False, "spearman": True}


@dataclass
class Summary:
    """A metric over several comparisons (seeds, or seed pairs): mean and spread (std, ddof=0), nan-free values
    only; ``values`` keeps every comparison's value (nan included) for the JSON."""

    mean: float
    spread: float
    values: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        finite = [v for v in values if not math.isnan(v)]
        if not finite:
            return cls(math.nan, math.nan, list(values))
        return cls(float(np.mean(finite)), float(np.std(finite)), list(values))


def noise_ceiling(per_seed: Mapping[object, Gains], metric: Metric) -> Summary | None:
    """The metric of seed s's measured ranking against seed s''s gains, over all ordered pairs of distinct seeds;
    None with fewer than two seeds. Every seed must have measured the same candidates."""
    seeds = list(per_seed)
    if len(seeds) < 2:
        return None
    candidates = sorted(per_seed[seeds[0]])
    for seed in seeds[1:]:
        if sorted(per_seed[seed]) != candidates:
            raise ValueError(f"seed {seed} measured {sorted(per_seed[seed])}, seed {seeds[0]} {candidates}")
    values = [metric(per_seed[s], per_seed[t]) for s, t in permutations(seeds, 2)]
    return Summary.of(values)
