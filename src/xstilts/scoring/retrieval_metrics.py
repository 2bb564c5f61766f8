"""Retrieval on plain arrays: Tatoeba accuracy and the top-k rankings that LAReQA and Mewsli-X are scored on.

Inputs are embeddings (one row per sentence) and ids, so any reader (and any encoder) plugs in. The rankings
are scored by :mod:`xstilts.scoring.metrics` (AP@k, RR@k), the same code that ``xstilts score`` uses on
submission files; it is pure Python, this module needs numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xstilts.errors import XstiltsError
from xstilts.scoring.retrieval import DEFAULT_CHUNK_SIZE, DEFAULT_MARGIN_K, l2_normalize, nearest, top_k

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
