"""Scores of the retrieval tasks on plain arrays: Tatoeba accuracy, LAReQA mAP@20, Mewsli-X MRR@20.

Inputs are embeddings (one row per sentence) and ids, so any reader (and any encoder) plugs in. All scores
are 0-100, computed per language by the caller and averaged as the official aggregation does. mAP@20 and
MRR@20 are means over queries: their ``*_units`` give each query's AP or RR (0-1) over 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from xstilts.errors import XstiltsError
from xstilts.evaluation.retrieval import DEFAULT_CHUNK_SIZE, DEFAULT_MARGIN_K, l2_normalize, nearest, top_k
from xstilts.evaluation.units import Counts, ratio

TOP_K = 20  # LAReQA and Mewsli-X are scored on the 20 best candidates (XTREME-R)


def tatoeba_predictions(
    english: np.ndarray,
    other: np.ndarray,
    similarity: str = "cosine",
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> np.ndarray:
    """For each English sentence (the query, as in XTREME), the row of its nearest non-English sentence."""
    if len(english) != len(other):
        raise XstiltsError(f"Tatoeba pairs are line-aligned, but there are {len(english)} English and "
                           f"{len(other)} other sentences")
    found, _ = nearest(english, other, similarity, k, chunk_size, **search)
    return found


def tatoeba_accuracy(english: np.ndarray, other: np.ndarray, similarity: str = "cosine", **options: Any) -> float:
    """Percentage of English sentences whose nearest other-language sentence is their own translation
    (line ``i`` of both files)."""
    found = tatoeba_predictions(english, other, similarity, **options)
    return 100.0 * float(np.mean(found == np.arange(len(found))))


def rank_candidates(queries: np.ndarray, candidates: np.ndarray, k: int = TOP_K, **search: Any) -> np.ndarray:
    """Rows of the ``k`` candidates of highest cosine per query, best first (exact, chunked)."""
    _, indices = top_k(l2_normalize(queries), l2_normalize(candidates), k, **search)
    return indices


def average_precision_at_k(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int = TOP_K) -> float:
    """AP@k of one ranking: the mean over the relevant items of precision at their rank, counting only ranks
    up to ``k``, normalised by ``min(len(relevant), k)`` (so that a perfect top-k scores 1)."""
    relevant = set(relevant)
    if not relevant:
        raise XstiltsError("a query has no relevant candidate: average precision is undefined")
    hits, total = 0, 0.0
    for rank, item in enumerate(list(ranked)[:k], start=1):
        if item in relevant:
            hits += 1
            total += hits / rank
    return total / min(len(relevant), k)


def average_precision_units(
    rankings: Sequence[Sequence[Hashable]], relevant: Sequence[Iterable[Hashable]], k: int = TOP_K
) -> Counts:
    """Per query: its AP@k over 1."""
    if len(rankings) != len(relevant) or not rankings:
        raise XstiltsError(f"{len(rankings)} rankings for {len(relevant)} queries: give one per query (at least one)")
    values = [average_precision_at_k(r, g, k) for r, g in zip(rankings, relevant, strict=True)]
    return values, [1.0] * len(values)


def mean_average_precision_at_k(
    rankings: Sequence[Sequence[Hashable]], relevant: Sequence[Iterable[Hashable]], k: int = TOP_K
) -> float:
    """mAP@k (0-100) over queries; LAReQA's metric with one pooled candidate set of all languages."""
    return ratio(*average_precision_units(rankings, relevant, k))


def reciprocal_rank_units(rankings: Sequence[Sequence[Hashable]], gold: Sequence[Hashable], k: int = TOP_K) -> Counts:
    """Per query: 1/rank of its gold within the top ``k`` (0 if absent) over 1."""
    if len(rankings) != len(gold) or not rankings:
        raise XstiltsError(f"{len(rankings)} rankings for {len(gold)} queries: give one per query (at least one)")
    values = []
    for ranked, answer in zip(rankings, gold, strict=True):
        top = list(ranked)[:k]
        values.append(1.0 / (top.index(answer) + 1) if answer in top else 0.0)
    return values, [1.0] * len(values)


def mean_reciprocal_rank_at_k(rankings: Sequence[Sequence[Hashable]], gold: Sequence[Hashable], k: int = TOP_K) -> float:
    """MRR@k (0-100): 1/rank of the gold item within the top ``k``, 0 if it is not there (Mewsli-X's
    "map@20"; a query without predictions scores 0)."""
    return ratio(*reciprocal_rank_units(rankings, gold, k))
