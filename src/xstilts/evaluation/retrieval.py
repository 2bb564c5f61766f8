"""Sentence embeddings and nearest-neighbour search for retrieval tasks (Tatoeba, BUCC).

Two halves:

- *Embedding* (torch tensors in, torch tensors out): :func:`select_layer` picks one hidden state of the
  encoder and :func:`pool` turns its token vectors into one vector per sentence.
- *Search* (numpy in, numpy out): :func:`top_k`, :func:`nearest_cosine` and :func:`nearest_margin`. Every
  search walks the queries in chunks of ``chunk_size`` rows and keeps only the best ``k`` per row, so the
  full ``queries x keys`` similarity matrix never exists; memory is ``chunk_size x len(keys)`` floats.

Nothing here imports torch at module level, so a scorer working on stored embeddings stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from xstilts.errors import XstiltsError

if TYPE_CHECKING:
    import torch

POOLINGS = ("mean", "cls")
SIMILARITIES = ("cosine", "margin")
DEFAULT_CHUNK_SIZE = 1024
# LASER and XTREME use 4 neighbours on each side for the ratio margin.
DEFAULT_MARGIN_K = 4


# ---------------------------------------------------------------- embedding


def select_layer(hidden_states: Sequence[torch.Tensor], layer: int) -> torch.Tensor:
    """``hidden_states[layer]``, with a clear error for an index the encoder does not have.

    Hugging Face encoders return ``num_layers + 1`` hidden states: index 0 is the embedding output and index
    ``i`` the output of layer ``i``; negative indices count from the end (-1 = last layer).
    """
    count = len(hidden_states)
    if isinstance(layer, bool) or not isinstance(layer, int) or not -count <= layer < count:
        raise XstiltsError(
            f"retrieval setting layer={layer!r} does not exist: this encoder returns {count} hidden states, "
            f"so use an index from 0 (the embeddings) to {count - 1} (the last layer), "
            f"or from -1 (the last layer) to -{count} (the embeddings)"
        )
    return hidden_states[layer]


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per sequence from ``hidden`` (batch, length, dim), in float32.

    ``"mean"`` averages every position where ``attention_mask`` is 1 - special tokens (``<s>``, ``</s>``)
    included, padding excluded. That is the convention of XTREME's retrieval code and of jiant, whose numbers
    the original study reports. ``"cls"`` takes the first position.
    """
    hidden = hidden.float()
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        # clamp: an all-padding row (never made by the families) gives zeros instead of NaN.
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    raise XstiltsError(f"unknown pooling {pooling!r}: choose one of {', '.join(POOLINGS)}")


# ---------------------------------------------------------------- search


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


def _check_search(queries: np.ndarray, keys: np.ndarray, k: int, chunk_size: int) -> None:
    if queries.ndim != 2 or keys.ndim != 2 or queries.shape[1] != keys.shape[1]:
        raise ValueError(f"queries {queries.shape} and keys {keys.shape} must be 2-d with the same width")
    if len(keys) == 0:
        raise ValueError("there are no keys to search")
    if k < 1 or chunk_size < 1:
        raise ValueError(f"k ({k}) and chunk_size ({chunk_size}) must be at least 1")


def top_k(
    queries: np.ndarray, keys: np.ndarray, k: int, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` keys with the largest dot product per query (cosine when both sides are L2-normalised).

    Returns ``(scores, indices)``, each ``(len(queries), min(k, len(keys)))``, best first; equal scores are
    ordered by key index. Works through the queries ``chunk_size`` rows at a time.
    """
    queries = np.asarray(queries, dtype=np.float32)
    keys = np.asarray(keys, dtype=np.float32)
    _check_search(queries, keys, k, chunk_size)
    k = min(k, len(keys))
    scores = np.empty((len(queries), k), dtype=np.float32)
    indices = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk_size):
        stop = start + chunk_size
        sims = queries[start:stop] @ keys.T
        if k == 1:
            # argmax is exact and breaks ties by the lowest index.
            best = sims.argmax(axis=1)[:, None]
        else:
            best = (
                np.argpartition(-sims, k - 1, axis=1)[:, :k]
                if k < sims.shape[1]
                else np.argsort(-sims, axis=1)
            )
            best_scores = np.take_along_axis(sims, best, axis=1)
            # lexsort's last key is the primary one: score descending, then index ascending.
            order = np.lexsort((best, -best_scores), axis=1)
            best = np.take_along_axis(best, order, axis=1)
        indices[start:stop] = best
        scores[start:stop] = np.take_along_axis(sims, best, axis=1)
    return scores, indices


def nearest_cosine(
    sources: np.ndarray, targets: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """For each source, the index of the target with the highest cosine, and that cosine."""
    scores, indices = top_k(l2_normalize(sources), l2_normalize(targets), 1, chunk_size)
    return indices[:, 0], scores[:, 0]


def margin_candidates(
    sources: np.ndarray, targets: np.ndarray, k: int = DEFAULT_MARGIN_K, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-margin scores of each source's ``k`` cosine-nearest targets (LASER, Artetxe & Schwenk 2019).

    ``score(x, y) = cos(x, y) / (mean cos of x to its k NN targets / 2 + mean cos of y to its k NN sources / 2)``
    which is ``cos / (sum_x / 2k + sum_y / 2k)``; each side's k is capped at the size of the set it searches.
    As in LASER's and XTREME's mining code, only the k cosine neighbours of a source are candidates.
    Returns ``(candidate indices, margin scores)``, each ``(len(sources), k)``, in cosine order.
    """
    sources, targets = l2_normalize(sources), l2_normalize(targets)
    forward_cos, forward_idx = top_k(sources, targets, k, chunk_size)
    backward_cos, _ = top_k(targets, sources, k, chunk_size)
    source_mean = forward_cos.mean(axis=1)
    target_mean = backward_cos.mean(axis=1)
    denominator = (source_mean[:, None] + target_mean[forward_idx]) / 2
    return forward_idx, forward_cos / denominator


def nearest_margin(
    sources: np.ndarray, targets: np.ndarray, k: int = DEFAULT_MARGIN_K, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """For each source, the index of the candidate target with the highest ratio margin, and that margin."""
    candidates, margins = margin_candidates(sources, targets, k, chunk_size)
    best = margins.argmax(axis=1)
    rows = np.arange(len(candidates))
    return candidates[rows, best], margins[rows, best]


def nearest(
    sources: np.ndarray,
    targets: np.ndarray,
    similarity: str = "cosine",
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest target per source under ``similarity`` ("cosine" or "margin"; ``k`` is the margin's)."""
    if similarity == "cosine":
        return nearest_cosine(sources, targets, chunk_size)
    if similarity == "margin":
        return nearest_margin(sources, targets, k, chunk_size)
    raise XstiltsError(f"unknown similarity {similarity!r}: choose one of {', '.join(SIMILARITIES)}")
