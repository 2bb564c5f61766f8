"""Selection metrics against hand computation: NDCG@k, regret@k, Spearman, the exact expectations of a random
ranking (checked against every permutation of four candidates) and the seed-noise ceiling."""

from __future__ import annotations

import itertools
import math
from itertools import permutations

import numpy as np
import pytest

from xstilts.selection.metrics import (
    METRICS,
    Summary,
    expected_ndcg_at_k,
    expected_regret_at_k,
    expected_spearman,
    ndcg_at_k,
    ndcg_over_ties,
    noise_ceiling,
    ranking_of,
    regret_at_k,
    regret_over_ties,
    spearman,
    tied_blocks,
)

# relevances (gain - smallest gain): a 4, b 2, c 1, d 0
GAINS = {"a": 3.0, "b": 1.0, "c": 0.0, "d": -1.0}
LOG3 = math.log2(3)


def test_ndcg_by_hand_with_negative_gains():
    dcg = 2 / 1 + 4 / LOG3 + 0 / 2
    ideal = 4 / 1 + 2 / LOG3 + 1 / 2
    assert ndcg_at_k(["b", "a", "d", "c"], GAINS, 3) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "b", "c", "d"], GAINS, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["d", "c", "b", "a"], GAINS, 1) == 0.0  # the worst candidate has relevance 0
    assert ndcg_at_k(["c", "a", "b", "d"], GAINS, 1) == pytest.approx(1 / 4)


def test_ndcg_is_unchanged_by_a_shift_of_every_gain():
    shifted = {c: g - 10.0 for c, g in GAINS.items()}
    assert ndcg_at_k(["b", "a", "d", "c"], shifted, 3) == pytest.approx(ndcg_at_k(["b", "a", "d", "c"], GAINS, 3))


def test_ndcg_with_ties_and_equal_gains():
    tied = {"a": 1.0, "b": 1.0, "c": 0.0}
    assert ndcg_at_k(["b", "c", "a"], tied, 1) == 1.0  # either tied best is ideal
    assert ndcg_at_k(["b", "c", "a"], tied, 2) == pytest.approx(1 / (1 + 1 / LOG3))
    assert ndcg_at_k(["c", "b", "a"], {"a": 2.0, "b": 2.0, "c": 2.0}, 3) == 1.0  # ideal DCG 0: any order is ideal
    assert ndcg_at_k(["a", "b", "c"], tied, 10) == 1.0  # k beyond the candidates: all of them


def test_regret_by_hand():
    assert regret_at_k(["b", "a", "d", "c"], GAINS, 1) == 2.0
    assert regret_at_k(["b", "a", "d", "c"], GAINS, 2) == 0.0
    assert regret_at_k(["d", "c", "b", "a"], GAINS, 1) == 4.0  # 3 - (-1)
    assert regret_at_k(["d", "c", "b", "a"], GAINS, 3) == 2.0
    assert regret_at_k(["b", "a", "c"], {"a": 2.0, "b": 2.0, "c": 0.0}, 1) == 0.0  # a tied best is the best


def test_a_ranking_must_order_the_measured_candidates():
    with pytest.raises(ValueError, match="not an order"):
        ndcg_at_k(["a", "b"], GAINS, 1)
    with pytest.raises(ValueError, match="k must be"):
        regret_at_k(list(GAINS), GAINS, 0)


def test_spearman_by_hand_and_constant_sides():
    # ranks a 3, b 2, c 1 against a 1, b 3, c 2: d = 2, -1, -1, rho = 1 - 6 * 6 / (3 * 8)
    assert spearman({"a": 3, "b": 2, "c": 1}, {"a": 1, "b": 3, "c": 2}) == pytest.approx(-0.5)
    assert spearman({"a": 3, "b": 2, "c": 1}, {"a": 30, "b": 20, "c": 10}) == pytest.approx(1.0)
    assert math.isnan(spearman({"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 3, "c": 2}))
    assert math.isnan(spearman({"a": 3, "b": 2, "c": 1}, {"a": 0, "b": 0, "c": 0}))


def test_random_expectations_by_hand():
    assert expected_regret_at_k(GAINS, 1) == pytest.approx(3 - 0.75)  # best - mean gain
    # best of a random 3-subset of 4: the 3rd smallest (1.0) with C(2,2)/C(4,3) = 1/4, the largest with 3/4
    assert expected_regret_at_k(GAINS, 3) == pytest.approx(3 - (1 / 4 * 1.0 + 3 / 4 * 3.0))
    assert expected_regret_at_k(GAINS, 4) == 0.0
    assert expected_ndcg_at_k(GAINS, 1) == pytest.approx((7 / 4) / 4)  # mean relevance / best relevance
    assert expected_spearman(GAINS) == 0.0
    assert math.isnan(expected_spearman({"a": 1.0, "b": 1.0}))


@pytest.mark.parametrize("gains", [GAINS, {"a": 2.0, "b": 2.0, "c": -1.0, "d": 0.5}, {"a": 0.0, "b": 0.0, "c": 0.0,
                                                                                       "d": 0.0}])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_random_expectations_equal_the_mean_over_every_permutation(gains, k):
    orders = list(permutations(gains))
    assert len(orders) == 24
    assert expected_ndcg_at_k(gains, k) == pytest.approx(np.mean([ndcg_at_k(o, gains, k) for o in orders]))
    assert expected_regret_at_k(gains, k) == pytest.approx(np.mean([regret_at_k(o, gains, k) for o in orders]))
    rhos = [spearman({c: -i for i, c in enumerate(o)}, gains) for o in orders]
    if len(set(gains.values())) == 1:
        assert math.isnan(expected_spearman(gains))
    else:
        assert expected_spearman(gains) == pytest.approx(np.mean(rhos), abs=1e-12)


def _tie_breaks(scores):
    """Every order of the candidates that sorts them by score (ties in any order)."""
    return [o for o in permutations(scores) if all(scores[a] >= scores[b] for a, b in itertools.pairwise(o))]


@pytest.mark.parametrize("scores", [{"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.0}, {"a": 2.0, "b": 1.0, "c": 1.0, "d": 1.0},
                                    {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0},
                                    {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_ties_are_scored_by_the_mean_over_their_orders(scores, k):
    orders = _tie_breaks(scores)
    for gains in (GAINS, {"a": -1.0, "b": 2.0, "c": 2.0, "d": 0.5}):
        assert ndcg_over_ties(scores, gains, k) == pytest.approx(np.mean([ndcg_at_k(o, gains, k) for o in orders]))
        assert regret_over_ties(scores, gains, k) == pytest.approx(np.mean([regret_at_k(o, gains, k) for o in orders]))


def test_ties_by_hand_and_the_random_ranking_as_a_full_tie():
    assert tied_blocks({"a": 2.0, "b": 1.0, "c": 1.0, "d": 0.0}) == [["a"], ["b", "c"], ["d"]]
    # d first (gain -1), then b (1) and c (0) tied: the top 2 holds d and b or d and c, each half the time
    scores = {"a": 0.0, "b": 1.0, "c": 1.0, "d": 2.0}
    assert regret_over_ties(scores, GAINS, 2) == pytest.approx(3 - (1 + 0) / 2)
    # NDCG@2: relevances d 0, then the mean of b's 2 and c's 1 at place 2; ideal a 4, b 2
    assert ndcg_over_ties(scores, GAINS, 2) == pytest.approx((0 + 1.5 / LOG3) / (4 + 2 / LOG3))
    flat = {c: 0.0 for c in GAINS}
    assert ndcg_over_ties(flat, GAINS, 3) == pytest.approx(expected_ndcg_at_k(GAINS, 3))
    assert regret_over_ties(flat, GAINS, 3) == pytest.approx(expected_regret_at_k(GAINS, 3))


# Three seeds, three candidates; seed 2 reverses seed 0.
SEEDS = {0: {"a": 2.0, "b": 1.0, "c": 0.0}, 1: {"a": 2.0, "b": 0.0, "c": 1.0}, 2: {"a": 0.0, "b": 1.0, "c": 2.0}}


def test_noise_ceiling_on_three_seeds_by_hand():
    # top of seed 0 and 1 is a, of seed 2 c; pairs (0,1) (0,2) (1,0) (1,2) (2,0) (2,1)
    regret = noise_ceiling(SEEDS, METRICS["regret@1"])
    assert regret.values == [0.0, 2.0, 0.0, 2.0, 2.0, 1.0]
    assert regret.mean == pytest.approx(7 / 6)
    assert regret.spread == pytest.approx(math.sqrt(np.mean([(v - 7 / 6) ** 2 for v in [0, 2, 0, 2, 2, 1]])))
    # rho(0,1) = 1 - 6*2/24, rho(0,2) = 1 - 6*8/24, rho(1,2) = 1 - 6*6/24; symmetric
    rho = noise_ceiling(SEEDS, METRICS["spearman"])
    assert rho.values == pytest.approx([0.5, -1.0, 0.5, -0.5, -1.0, -0.5])
    assert rho.mean == pytest.approx(-1 / 3)
    # NDCG@3 over three candidates: the whole order. (0,1): a b c against a 2 b 0 c 1 -> (2 + 0 + 1/2) / ideal
    ndcg = noise_ceiling(SEEDS, METRICS["ndcg@3"])
    assert ndcg.values[0] == pytest.approx((2 + 0 / LOG3 + 1 / 2) / (2 + 1 / LOG3))


def test_noise_ceiling_needs_two_seeds_and_the_same_candidates():
    assert noise_ceiling({0: SEEDS[0]}, METRICS["ndcg@3"]) is None
    with pytest.raises(ValueError, match="measured"):
        noise_ceiling({0: SEEDS[0], 1: {"a": 1.0, "b": 2.0}}, METRICS["ndcg@3"])


def test_ranking_breaks_ties_by_name_and_summary_skips_nan():
    assert ranking_of({"b": 1.0, "a": 1.0, "c": 2.0}) == ["c", "a", "b"]
    summary = Summary.of([1.0, math.nan, 3.0])
    assert (summary.mean, summary.spread) == (2.0, 1.0)
    assert math.isnan(Summary.of([math.nan]).mean)
