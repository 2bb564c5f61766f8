"""Blocked exact search, faiss parity, BUCC mining and threshold choice (by hand), Tatoeba and top-k ranking."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from xstilts.errors import XstiltsError
from xstilts.scoring.mining import (
    bucc_scores,
    candidate_pairs,
    choose_threshold,
    extract,
    mine,
    precision_recall_f1,
)
from xstilts.scoring.retrieval import l2_normalize, margin_neighbours, mutual_top_k, top_k
from xstilts.scoring.retrieval_metrics import rank_candidates, tatoeba_accuracy

has_faiss = importlib.util.find_spec("faiss") is not None


def brute_top_k(queries, keys, k):
    """Reference: the full matrix, a stable sort per row (score descending, then key index)."""
    sims = queries.astype(np.float64) @ keys.astype(np.float64).T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), order


# ---------------------------------------------------------------- search


def test_blocked_search_equals_the_full_matrix_with_ties_across_blocks():
    rng = np.random.default_rng(0)
    # small integers: many exactly equal dot products, so ties straddle block borders
    queries = rng.integers(-2, 3, size=(23, 4)).astype(np.float32)
    keys = rng.integers(-2, 3, size=(31, 4)).astype(np.float32)
    expected_scores, expected = brute_top_k(queries, keys, 5)
    for chunk_size, key_block in ((3, 5), (7, 1), (100, 100)):
        scores, indices = top_k(queries, keys, 5, chunk_size, key_block=key_block)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-5)
        f_scores, f_idx, b_scores, b_idx = mutual_top_k(queries, keys, 5, chunk_size, key_block=key_block)
        np.testing.assert_array_equal(f_idx, expected)
        np.testing.assert_array_equal(b_idx, brute_top_k(keys, queries, 5)[1])


def test_k_larger_than_the_set_is_capped():
    scores, indices = top_k(np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32), 9, key_block=1)
    assert indices.tolist() == [[0, 1], [1, 0]] and scores.shape == (2, 2)


@pytest.mark.skipif(not has_faiss, reason="faiss is optional")
def test_faiss_backend_gives_the_same_neighbours_and_mining():
    rng = np.random.default_rng(1)
    x = l2_normalize(rng.normal(size=(300, 16)))
    y = l2_normalize(rng.normal(size=(250, 16)))
    exact_scores, exact = top_k(x, y, 4, 64, key_block=100)
    faiss_scores, found = top_k(x, y, 4, backend="faiss")
    np.testing.assert_array_equal(found, exact)
    np.testing.assert_allclose(faiss_scores, exact_scores, atol=1e-5)
    a, b = mine(x, y, chunk_size=64, key_block=100), mine(x, y, backend="faiss")
    assert a.sources.tolist() == b.sources.tolist() and a.targets.tolist() == b.targets.tolist()


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(XstiltsError, match="unknown search backend 'annoy'"):
        top_k(np.eye(2), np.eye(2), 1, backend="annoy")


# ---------------------------------------------------------------- ratio margin and mining


def test_margin_by_hand():
    # s0=(1,0), s1=(0,1); t0=(.8,.6), t1=(.6,.8), t2=(-1,0). k=2.
    # cos: s0: t0 .8, t1 .6, t2 -1   -> 2 NN mean .7 ; s1: t1 .8, t0 .6, t2 0 -> mean .7
    # t0: s0 .8, s1 .6 -> .7 ; t1: s1 .8, s0 .6 -> .7 ; t2: s1 0, s0 -1 -> mean -.5
    # margin(s0,t0) = .8/((.7+.7)/2) = 8/7; margin(s0,t1) = .6/.7 = 6/7; margin(t2,s1) = 0/((-.5+.7)/2) = 0;
    # margin(t2,s0) = -1/((-.5+.7)/2) = -10.
    s = np.array([[1, 0], [0, 1]], dtype=np.float32)
    t = np.array([[0.8, 0.6], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    found = margin_neighbours(s, t, k=2)
    assert found.forward_indices.tolist() == [[0, 1], [1, 0]]
    np.testing.assert_allclose(found.forward_margins, [[8 / 7, 6 / 7], [8 / 7, 6 / 7]], rtol=1e-6)
    assert found.backward_indices[2].tolist() == [1, 0]
    np.testing.assert_allclose(found.backward_margins[2], [0.0, -10.0], atol=1e-5)
    mined = mine(s, t, k=2)
    # proposals: fwd (s0,t0) 8/7, (s1,t1) 8/7; bwd (s0,t0) 8/7, (s1,t1) 8/7, (s1,t2) 0. Greedy one-to-one keeps
    # the two pairs once each; (s1,t2) loses because s1 is taken.
    assert list(zip(mined.sources.tolist(), mined.targets.tolist(), strict=True)) == [(0, 0), (1, 1)]
    np.testing.assert_allclose(mined.scores, [8 / 7, 8 / 7], rtol=1e-6)


def test_a_greedy_pair_of_negative_margin_is_not_mined():
    # k=1, unit vectors by angle: s0 at 0 deg, s1 at 20 deg; t0 at 0 deg, t1 at 120 deg.
    # NN cosines: s0 -> t0 1; s1 -> t0 cos 20; t0 -> s0 1; t1 -> s1 cos 100 (< 0; s0 is at cos 120).
    # Proposals: s0-t0 and t0-s0 margin 1/((1+1)/2) = 1; s1-t0 cos20/((cos20+1)/2) = 0.9689;
    # t1-s1 cos100/((cos100+cos20)/2) = -0.4534. Greedy: s0-t0 kept, s1-t0 loses (t0 taken), t1-s1 would be
    # kept one-to-one but its margin is negative, so mine_bitext (threshold 0, strict) does not write it.
    def unit(degrees):
        return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]

    s = np.array([unit(0), unit(20)], dtype=np.float32)
    t = np.array([unit(0), unit(120)], dtype=np.float32)
    found = margin_neighbours(s, t, k=1)
    cos20, cos100 = math.cos(math.radians(20)), math.cos(math.radians(100))
    np.testing.assert_allclose(found.backward_margins[1], [cos100 / ((cos100 + cos20) / 2)], rtol=1e-5)
    assert found.backward_margins[1, 0] < 0
    mined = mine(s, t, k=1)
    assert list(zip(mined.sources.tolist(), mined.targets.tolist(), strict=True)) == [(0, 0)]
    np.testing.assert_allclose(mined.scores, [1.0], rtol=1e-6)


def reference_mine(x, y, k):
    """Independent brute-force "max" mining: full matrices, Python loops."""
    x, y = l2_normalize(x).astype(np.float64), l2_normalize(y).astype(np.float64)
    sims = x @ y.T
    kx, ky = min(k, len(y)), min(k, len(x))
    mean_x = np.sort(sims, axis=1)[:, ::-1][:, :kx].mean(axis=1)
    mean_y = np.sort(sims.T, axis=1)[:, ::-1][:, :ky].mean(axis=1)
    proposals = []
    for i in range(len(x)):
        cands = np.argsort(-sims[i], kind="stable")[:kx]
        scores = [sims[i, j] / ((mean_x[i] + mean_y[j]) / 2) for j in cands]
        proposals.append((max(scores), i, int(cands[int(np.argmax(scores))])))
    for j in range(len(y)):
        cands = np.argsort(-sims[:, j], kind="stable")[:ky]
        scores = [sims[i, j] / ((mean_y[j] + mean_x[i]) / 2) for i in cands]
        proposals.append((max(scores), int(cands[int(np.argmax(scores))]), j))
    taken_x, taken_y, kept = set(), set(), []
    for score, i, j in sorted(proposals, key=lambda p: -p[0]):
        if i not in taken_x and j not in taken_y:
            taken_x.add(i)
            taken_y.add(j)
            if score > 0:  # mine_bitext writes only margins above its threshold 0
                kept.append((i, j, score))
    return kept


def test_mining_matches_an_independent_brute_force():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 8))
    x = base[:30] + 0.3 * rng.normal(size=(30, 8))
    y = np.concatenate([base[5:35] + 0.3 * rng.normal(size=(30, 8)), rng.normal(size=(6, 8))])
    mined = mine(x, y, k=4, chunk_size=7, key_block=9)
    expected = reference_mine(x, y, 4)
    assert list(zip(mined.sources.tolist(), mined.targets.tolist(), strict=True)) == [(i, j) for i, j, _ in expected]
    np.testing.assert_allclose(mined.scores, [s for _, _, s in expected], rtol=1e-5)


def test_candidate_pairs_deduplicate_and_drop_ambiguous_sentences():
    # "Hallo" occurs under two ids: it is mined once, and its pair cannot be given an id (official sent2id).
    sources = [("de-1", "Hallo"), ("de-2", "Welt"), ("de-3", "Hallo")]
    targets = [("en-1", "hello"), ("en-2", "world")]
    s_vec = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    t_vec = np.array([[1, 0.1], [0.1, 1]], dtype=np.float32)
    pairs = candidate_pairs(sources, s_vec, targets, t_vec, k=2)
    assert set(pairs) == {("de-2", "en-2")}
    with pytest.raises(XstiltsError, match="ids must be unique.*de-1"):
        candidate_pairs([("de-1", "a"), ("de-1", "b")], s_vec[:2], targets, t_vec)
    with pytest.raises(XstiltsError, match="one embedding per sentence"):
        candidate_pairs(sources, s_vec[:2], targets, t_vec)


# ---------------------------------------------------------------- threshold, extraction, P/R/F1


def test_threshold_by_hand():
    candidates = {("a", "A"): 0.9, ("b", "B"): 0.8, ("c", "C"): 0.7, ("d", "D"): 0.6}
    gold = {("a", "A"), ("c", "C"), ("e", "E")}
    # prefix F1: 1 -> P 1, R 1/3: 0.5; 2 -> P .5, R 1/3: 0.4; 3 -> P 2/3, R 2/3: 0.667; 4 -> P .5, R 2/3: 0.571
    choice = choose_threshold(candidates, gold)
    assert choice.threshold == pytest.approx((0.7 + 0.6) / 2)
    assert choice.f1 == pytest.approx(200 / 3) and choice.precision == pytest.approx(200 / 3)
    assert extract(candidates, choice.threshold) == {("a", "A"), ("b", "B"), ("c", "C")}


def test_best_f1_at_the_last_candidate_keeps_every_candidate():
    # The released driver reads the score after the last candidate here and crashes.
    candidates = {("a", "A"): 0.9, ("b", "B"): 0.5}
    choice = choose_threshold(candidates, {("a", "A"), ("b", "B")})
    assert choice.threshold == 0.5 and choice.f1 == pytest.approx(100.0)
    assert extract(candidates, choice.threshold) == set(candidates)


def test_no_correct_candidate_official_rule_keeps_threshold_0_and_extracts_everything():
    # bucc_optimize starts from threshold 0 and never improves on F1 0: every candidate (margin > 0) is extracted
    choice = choose_threshold({("a", "A"): 0.9, ("b", "B"): 0.5}, {("x", "X")})
    assert choice.threshold == 0.0 and choice.f1 == 0.0
    assert extract({("a", "A"): 0.9, ("b", "B"): 0.5}, choice.threshold) == {("a", "A"), ("b", "B")}


def test_no_correct_candidate_change_points_rule_leaves_the_threshold_undefined_and_extracts_nothing():
    choice = choose_threshold({("a", "A"): 0.9, ("b", "B"): 0.5}, {("x", "X")}, rule="change-points")
    assert choice.threshold is None and choice.f1 == 0.0
    assert extract({("a", "A"): 0.9}, choice.threshold) == set()
    assert choose_threshold({}, {("x", "X")}, rule="change-points").threshold is None


TIED = {("a", "A"): 0.9, ("b", "B"): 0.8, ("c", "C"): 0.8, ("d", "D"): 0.1}
TIED_GOLD = {("a", "A"), ("b", "B")}


def test_official_rule_cuts_through_equal_scores_as_the_driver_does():
    # a .9 gold, b .8 gold, c .8 wrong, d .1 wrong, in this order. The driver's prefix after b has P 1, R 1:
    # F1 1.0, threshold (0.8 + 0.8) / 2 = 0.8, which extracts c too: the F1 it reports (100) is not the one
    # its threshold gives (80).
    choice = choose_threshold(TIED, TIED_GOLD)
    assert choice.threshold == pytest.approx(0.8) and choice.f1 == pytest.approx(100.0)
    assert precision_recall_f1(extract(TIED, choice.threshold), TIED_GOLD)["f1"] == pytest.approx(80.0)


def test_change_points_rule_never_cuts_through_equal_scores():
    # Realisable prefixes: {a} P1 R.5 F1 .667; {a,b,c} P 2/3 R1 F1 .8; all P.5 R1 F1 .667 -> {a,b,c}.
    choice = choose_threshold(TIED, TIED_GOLD, rule="change-points")
    assert choice.threshold == pytest.approx(0.45) and choice.f1 == pytest.approx(80.0)
    assert precision_recall_f1(extract(TIED, choice.threshold), TIED_GOLD)["f1"] == pytest.approx(80.0)
    with pytest.raises(XstiltsError, match="unknown threshold rule"):
        choose_threshold(TIED, TIED_GOLD, rule="best")


def test_empty_gold_is_an_error():
    with pytest.raises(XstiltsError, match="gold has no pairs"):
        choose_threshold({("a", "A"): 1.0}, set())


def test_bucc_scores_dev_threshold_applied_to_test():
    dev = {("a", "A"): 0.9, ("b", "B"): 0.8, ("c", "C"): 0.7, ("d", "D"): 0.6}
    dev_gold = {("a", "A"), ("c", "C"), ("e", "E")}  # threshold 0.65 (test_threshold_by_hand)
    test = {("x", "X"): 0.7, ("y", "Y"): 0.64, ("z", "Z"): 0.66}
    # extracted: x (.7 >= .65), z (.66); gold {x, y}: P 1/2, R 1/2, F1 1/2
    result = bucc_scores(dev, dev_gold, test, {("x", "X"), ("y", "Y")})
    assert result["predictions"] == [("x", "X"), ("z", "Z")]
    assert (result["precision"], result["recall"], result["f1"]) == pytest.approx((50.0, 50.0, 50.0))
    assert result["threshold"] == pytest.approx(0.65)


# ---------------------------------------------------------------- Tatoeba, LAReQA and Mewsli-X rankings


def test_tatoeba_accuracy_by_hand():
    english = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    other = np.array([[2, 0.1], [0.2, 1], [1, 0]], dtype=np.float32)
    # english 0 -> nearest other: row 0 (cos ~.999) vs row 2 (cos 1.0) -> row 2: wrong; english 1 -> row 1: right;
    # english 2 -> cos(row0)=.742, cos(row1)=.832, cos(row2)=.707 -> row 1: wrong. Accuracy 1/3.
    assert tatoeba_accuracy(english, other) == pytest.approx(100 / 3)


def test_rank_candidates_best_first():
    # AP@k and RR@k of these rankings: tests/test_ranking_metrics.py
    ranks = rank_candidates(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.1], [1.0, 0.0]]), k=2)
    assert ranks.tolist() == [[2, 1]]
