"""XGLUE's BLEU (scoring/generation.py) against hand-computed BLEU-4."""

import math

import pytest

from xstilts.scoring.generation import corpus_bleu


def test_identical_lines_score_100():
    assert corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)


def test_case_and_surrounding_space_are_ignored():
    # hypothesis "the cat sat on the mat" vs reference "the cat sat on a mat" (6 words each, so no brevity
    # penalty): clipped n-gram precisions 5/6, 3/5, 2/4, 1/3; BLEU = (5/6 * 3/5 * 2/4 * 1/3) ** (1/4).
    expected = 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert corpus_bleu(["  The Cat sat on the mat\n"], ["the cat sat on a MAT "]) == pytest.approx(expected)


def test_corpus_level_sums_counts_before_the_mean():
    # Two sentences: counts add over the corpus (not a mean of sentence scores). Sentence 1 as above
    # (5/6, 3/5, 2/4, 1/3), sentence 2 identical 5 words (5/5, 4/4, 3/3, 2/2): totals 10/11, 7/9, 5/7, 3/5.
    expected = 100 * (10 / 11 * 7 / 9 * 5 / 7 * 3 / 5) ** 0.25
    score = corpus_bleu(["the cat sat on the mat", "a b c d e"], ["the cat sat on a mat", "a b c d e"])
    assert score == pytest.approx(expected)


def test_brevity_penalty_for_short_hypotheses():
    # hypothesis 4 words, reference 6: precisions 1, 1, 1, 1 (all n-grams match), BP = exp(1 - 6/4).
    score = corpus_bleu(["the cat sat on"], ["the cat sat on a mat"])
    assert score == pytest.approx(100 * math.exp(1 - 6 / 4))


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        corpus_bleu(["a", "b"], ["a"])
