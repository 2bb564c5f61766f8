"""Report statistics against hand-computed cases and known-effect simulations (fixed seeds, few resamples)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xstilts.reports.stats import Units, mean_ci, paired_bootstrap, paired_seed_test, task_score


def test_mean_ci_over_three_seeds_by_hand():
    ci = mean_ci([70, 72, 74])
    # s = 2, t(0.975, 2) = 4.302653, half-width = 4.302653 * 2 / sqrt(3)
    assert ci.mean == pytest.approx(72)
    assert ci.half_width == pytest.approx(4.302653 * 2 / math.sqrt(3), abs=1e-5)
    assert ci.half_width == pytest.approx(4.968, abs=1e-3)
    assert (ci.low, ci.high) == pytest.approx((72 - 4.96828, 72 + 4.96828), abs=1e-4)


def test_mean_ci_of_one_seed_has_no_interval():
    ci = mean_ci([71.5])
    assert ci.mean == 71.5 and ci.half_width is None and ci.low is None


def test_task_score_is_a_ratio_of_sums_averaged_over_languages():
    # language 1: F1-like units 2TP / (2TP + FP + FN): (2 + 0) / (3 + 1) = 50; language 2: accuracy 3/4 = 75
    first = Units.of([2, 0], [3, 1])
    second = Units.of([1, 1, 1, 0])
    assert task_score([first, second]) == pytest.approx((50 + 75) / 2)
    # two tasks (groups): the mean over tasks of each task's mean over languages
    third = Units.of([0, 0])
    assert task_score([first, second, third], groups=[0, 0, 1]) == pytest.approx((62.5 + 0) / 2)


def test_identical_systems_have_zero_delta_and_p_one():
    rng = np.random.default_rng(0)
    system = [Units.of(rng.random(30) < 0.6), Units.of(rng.random(25) < 0.4)]
    result = paired_bootstrap(system, system, n_resamples=200, seed=1)
    assert result.delta == 0 and result.low == 0 and result.high == 0 and result.p_value == 1


def test_a_system_better_on_every_example_is_significant():
    better = [Units.of(np.ones(40)), Units.of(np.ones(15))]
    worse = [Units.of(np.zeros(40)), Units.of(np.zeros(15))]
    result = paired_bootstrap(better, worse, n_resamples=300, seed=0)
    assert result.delta == pytest.approx(100)
    assert result.low > 0 and result.p_value < 0.01
    # no resample can go against the sign: p = 2 (0 + 1) / (300 + 1)
    assert result.p_value == pytest.approx(2 / 301)


def test_bootstrap_interval_of_a_one_example_difference():
    # 10 examples; the system wins exactly one (example 0): delta = 10 points. A resample's delta is
    # 10 * (times example 0 is drawn); P(not drawn) = 0.9^10 = 0.349, so about 35% of resamples are 0 and
    # the two-sided p-value is about 2 * 0.349 = 0.70; the 97.5% quantile is 30 (P(count >= 3) = 0.07).
    system = [Units.of([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])]
    baseline = [Units.of(np.zeros(10))]
    result = paired_bootstrap(system, baseline, n_resamples=4000, seed=3)
    assert result.delta == pytest.approx(10)
    assert result.p_value == pytest.approx(2 * 0.9 ** 10, abs=0.04)
    assert result.low == 0 and result.high == pytest.approx(30)


def test_bootstrap_is_reproducible_with_a_fixed_seed():
    rng = np.random.default_rng(5)
    a, b = [Units.of(rng.random(50) < 0.7)], [Units.of(rng.random(50) < 0.6)]
    assert paired_bootstrap(a, b, n_resamples=100, seed=9) == paired_bootstrap(a, b, n_resamples=100, seed=9)


def test_bootstrap_resamples_the_same_examples_for_both_systems():
    # Systems that are equal up to a constant shift on each example: the paired delta never varies, an
    # unpaired resampling would spread it widely.
    scores = np.linspace(0, 1, 40)
    system = [Units.of(np.minimum(scores + 0.1, 1.1), np.full(40, 1.0))]
    baseline = [Units.of(scores)]
    result = paired_bootstrap(system, baseline, n_resamples=200, seed=0)
    assert result.high - result.low == pytest.approx(0, abs=1e-9)


def test_known_effect_simulations():
    """Two systems with true accuracies 0.70 and 0.75 (paired: one draw per example): the 95% bootstrap
    interval covers the true 5-point difference in most simulations; with no true difference the p-value is
    rarely small."""
    rng = np.random.default_rng(2024)
    n, simulations = 400, 50
    covered, small = 0, 0
    for index in range(simulations):
        u = rng.random(n)
        better = Units.of(u < 0.75)
        worse = Units.of(u < 0.70)  # correct on a subset of the examples the better one gets right
        noise = Units.of(rng.random(n) < 0.75)
        result = paired_bootstrap([better], [Units.of(rng.random(n) < 0.70)], n_resamples=200, seed=index)
        covered += result.low <= 5 <= result.high
        null = paired_bootstrap([noise], [Units.of(rng.random(n) < 0.75)], n_resamples=200, seed=index)
        small += null.p_value < 0.05
        paired = paired_bootstrap([better], [worse], n_resamples=200, seed=index)
        assert paired.low > 0  # a strictly nested pair is always significant
    assert covered >= 0.85 * simulations, covered  # nominal 95%
    assert small <= 0.15 * simulations, small  # nominal 5%


def test_paired_seed_test_by_hand():
    from scipy import stats

    system, baseline = {0: 71.0, 1: 73.0, 2: 75.0}, {0: 70.0, 1: 70.0, 2: 71.0}
    result = paired_seed_test(system, baseline, n_resamples=200, seed=0)
    # differences 1, 3, 4: mean 8/3, s = sqrt(((1-8/3)^2 + (3-8/3)^2 + (4-8/3)^2) / 2) = 1.5275
    assert result.n == 3 and result.delta == pytest.approx(8 / 3)
    assert result.half_width == pytest.approx(4.302653 * 1.527525 / math.sqrt(3), abs=1e-4)
    t = (8 / 3) / (1.527525 / math.sqrt(3))
    assert result.p_value == pytest.approx(2 * stats.t.sf(t, 2), abs=1e-6)
    assert result.boot_low is None  # three seeds are too few for a bootstrap over seeds


def test_bootstrap_over_seeds_from_five_seeds():
    differences = [1.0, 2.0, 3.0, 4.0, 5.0]
    result = paired_seed_test({s: 70 + d for s, d in enumerate(differences)}, dict.fromkeys(range(5), 70.0),
                              n_resamples=500, seed=0)
    assert 1 <= result.boot_low < 3 < result.boot_high <= 5  # means of resampled differences stay in range
    assert result.boot_p == pytest.approx(2 / 501)  # every resampled mean is positive


def test_paired_seed_test_pairs_by_seed_and_says_na_with_one_seed():
    single = paired_seed_test({0: 75.0, 5: 80.0}, {0: 70.0, 1: 60.0})
    assert single.n == 1 and single.delta == 5 and single.p_value is None and single.half_width is None
    assert paired_seed_test({1: 70.0}, {2: 70.0}) is None
