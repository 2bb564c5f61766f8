"""Sentence embeddings and nearest-neighbour search for retrieval tasks (Tatoeba, BUCC).

Two halves:

- *Embedding* (torch tensors in, torch tensors out): :func:`select_layer` picks one hidden state of the
  encoder and :func:`pool` turns its token vectors into one vector per sentence.
- *Search* (numpy in, numpy out): :func:`top_k`, :func:`mutual_top_k`, :func:`margin_neighbours`,
  :func:`nearest`. Exact search walks the similarity matrix in blocks of ``chunk_size`` queries x
  ``key_block`` keys and keeps only the best ``k`` per row (and per column, for both directions at once), so
  the full ``queries x keys`` matrix never exists: memory is one block, whatever the sizes (BUCC's test sets
  have about 400k sentences a side). The blocks are torch matrix products (on ``device``, CPU by default), and
  the selection costs about one comparison per entry (:mod:`xstilts.scoring.exact_search`);
  ``backend="faiss"`` uses a flat faiss index instead when that optional package is installed.

Nothing here imports torch at module level, so a scorer working on stored embeddings stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xstilts.errors import XstiltsError

if TYPE_CHECKING:
    import torch

POOLINGS = ("mean", "cls")
SIMILARITIES = ("cosine", "margin")
DEFAULT_CHUNK_SIZE = 1024
# Keys per similarity block: 1024 x 16384 float32 = 64 MiB, whatever the sizes of the two sets.
DEFAULT_KEY_BLOCK = 16384
BACKENDS = ("exact", "faiss")
# The exact backend's similarity blocks (xstilts.scoring.exact_search): bf16 candidates are re-scored in fp32.
SEARCH_PRECISIONS = ("fp32", "bf16")
# LASER and XTREME use 4 neighbours on each side for the ratio margin.
DEFAULT_MARGIN_K = 4


# ---------------------------------------------------------------- embedding


def parse_layer(layer: Any) -> tuple[int, int] | None:
    """``(index, 0)`` for an integer hidden-state index; ``(n, m)`` for ``"n/m"``, layer n of an m-layer encoder
    (see :func:`resolve_layer`); None when ``layer`` is neither."""
    if isinstance(layer, int) and not isinstance(layer, bool):
        return layer, 0
    if isinstance(layer, str):
        n, slash, m = layer.strip().partition("/")
        if slash and n.isdecimal() and m.isdecimal() and n.isascii() and m.isascii() and 0 < int(m) >= int(n):
            return int(n), int(m)
    return None


def resolve_layer(index: int, of: int, num_layers: int) -> int:
    """The hidden-state index to pool for an encoder of ``num_layers`` layers: ``index`` itself when ``of`` is 0,
    else layer ``index`` of an ``of``-layer encoder scaled to this depth, ``round(index * num_layers / of)`` with
    halves rounded up ("14/24", jiant's and XTREME's layer for XLM-R large: 14 of 24, 7 of 12, 4 of 6)."""
    if not of:
        return index
    return (2 * index * num_layers + of) // (2 * of)


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
    for name, vectors in (("query", queries), ("key", keys)):
        # A NaN compares false with every threshold: the search would leave its row without neighbours.
        bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
        if len(bad):
            raise XstiltsError(f"{len(bad)} {name} embedding(s) hold NaN or infinity (first: row {bad[0]}): the "
                               "encoder's outputs are not finite (a diverged stage, or fp16 overflow); retrain it "
                               "or evaluate in fp32/bf16")


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise XstiltsError(f"unknown search backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "faiss":
        try:
            import faiss  # noqa: F401
        except ImportError:
            raise XstiltsError(
                "search backend 'faiss' needs the faiss package: pip install 'xstilts[faiss]' (faiss-cpu), "
                "or use the default backend 'exact' (the same neighbours, computed with chunked matrix products)"
            ) from None


def _blocked_search(queries: np.ndarray, keys: np.ndarray, k: int, chunk_size: int, key_block: int, both: bool,
                    device: str | None, precision: str):
    """Top-k of queries against keys (and, if ``both``, of keys against queries) from one pass over the
    similarity blocks (:mod:`xstilts.scoring.exact_search`), as numpy arrays."""
    import torch

    from xstilts.scoring.exact_search import blocked_search

    target = torch.device(device or "cpu")
    forward, backward = blocked_search(torch.from_numpy(queries).to(target), torch.from_numpy(keys).to(target), k,
                                       chunk_size=chunk_size, key_block=key_block, both=both, precision=precision)
    arrays = [forward.scores, forward.indices] + ([backward.scores, backward.indices] if backward else [None, None])
    return tuple(None if a is None else a.cpu().numpy() for a in arrays)


def _faiss_search(queries: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(np.ascontiguousarray(keys))
    scores, indices = index.search(np.ascontiguousarray(queries), min(k, len(keys)))
    return scores.astype(np.float32), indices.astype(np.int64)


def top_k(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    key_block: int = DEFAULT_KEY_BLOCK,
    backend: str = "exact",
    device: str | None = None,
    precision: str = "fp32",
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` keys with the largest dot product per query (cosine when both sides are L2-normalised).

    Returns ``(scores, indices)``, each ``(len(queries), min(k, len(keys)))``, best first; with the default
    ``backend="exact"``, equal scores are ordered by key index. Memory is one ``chunk_size x key_block`` block
    of similarities, whatever the sizes. ``backend="faiss"`` (optional package) searches a flat inner-product
    index: the same neighbours up to float rounding and the order of ties. ``device`` (e.g. "cuda") runs the
    exact backend's blocks there; ``precision="bf16"`` computes them in bfloat16 and re-scores the candidates in
    float32 (the same neighbours; see :mod:`xstilts.scoring.exact_search`).
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    keys = np.ascontiguousarray(keys, dtype=np.float32)
    _check_search(queries, keys, k, chunk_size)
    _check_backend(backend)
    if backend == "faiss":
        return _faiss_search(queries, keys, k)
    scores, indices, _, _ = _blocked_search(queries, keys, k, chunk_size, key_block, both=False, device=device,
                                            precision=precision)
    return scores, indices


def mutual_top_k(
    sources: np.ndarray,
    targets: np.ndarray,
    k: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    key_block: int = DEFAULT_KEY_BLOCK,
    backend: str = "exact",
    device: str | None = None,
    precision: str = "fp32",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`top_k` in both directions: (source->target scores, indices, target->source scores, indices).

    The exact backend computes every similarity block once for both directions (half the work of two calls).
    """
    sources = np.ascontiguousarray(sources, dtype=np.float32)
    targets = np.ascontiguousarray(targets, dtype=np.float32)
    _check_search(sources, targets, k, chunk_size)
    _check_search(targets, sources, k, chunk_size)
    _check_backend(backend)
    if backend == "faiss":
        return (*_faiss_search(sources, targets, k), *_faiss_search(targets, sources, k))
    return _blocked_search(sources, targets, k, chunk_size, key_block, both=True, device=device, precision=precision)


def nearest_cosine(
    sources: np.ndarray, targets: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE, **search: Any
) -> tuple[np.ndarray, np.ndarray]:
    """For each source, the index of the target with the highest cosine, and that cosine.

    ``search``: ``key_block``, ``backend``, ``device`` of :func:`top_k`.
    """
    scores, indices = top_k(l2_normalize(sources), l2_normalize(targets), 1, chunk_size, **search)
    return indices[:, 0], scores[:, 0]


@dataclass(frozen=True)
class MarginNeighbours:
    """Each side's ``k`` cosine neighbours in the other set, scored with the ratio margin (best cosine first)."""

    forward_indices: np.ndarray  # (sources, k): target indices
    forward_margins: np.ndarray
    backward_indices: np.ndarray  # (targets, k): source indices
    backward_margins: np.ndarray


def margin_neighbours(
    sources: np.ndarray,
    targets: np.ndarray,
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> MarginNeighbours:
    """Ratio-margin scores of the ``k`` cosine neighbours, in both directions (LASER, Artetxe & Schwenk 2019).

    ``margin(x, y) = cos(x, y) / ((mean cos of x to its k NN targets + mean cos of y to its k NN sources) / 2)``;
    each side's k is capped at the size of the set it searches. As in LASER's and XTREME's mining code, only
    the k cosine neighbours of a sentence are its candidates. Inputs are L2-normalised here.
    """
    sources, targets = l2_normalize(sources), l2_normalize(targets)
    forward_cos, forward_idx, backward_cos, backward_idx = mutual_top_k(sources, targets, k, chunk_size, **search)
    source_mean = forward_cos.mean(axis=1)
    target_mean = backward_cos.mean(axis=1)
    return MarginNeighbours(
        forward_idx,
        forward_cos / ((source_mean[:, None] + target_mean[forward_idx]) / 2),
        backward_idx,
        backward_cos / ((target_mean[:, None] + source_mean[backward_idx]) / 2),
    )


def margin_candidates(
    sources: np.ndarray,
    targets: np.ndarray,
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Each source's ``k`` cosine-nearest targets and their ratio margins (see :func:`margin_neighbours`).

    Returns ``(candidate indices, margin scores)``, each ``(len(sources), k)``, in cosine order.
    """
    found = margin_neighbours(sources, targets, k, chunk_size, **search)
    return found.forward_indices, found.forward_margins


def nearest_margin(
    sources: np.ndarray,
    targets: np.ndarray,
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """For each source, the index of the candidate target with the highest ratio margin, and that margin."""
    candidates, margins = margin_candidates(sources, targets, k, chunk_size, **search)
    best = margins.argmax(axis=1)
    rows = np.arange(len(candidates))
    return candidates[rows, best], margins[rows, best]


def nearest(
    sources: np.ndarray,
    targets: np.ndarray,
    similarity: str = "cosine",
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest target per source under ``similarity`` ("cosine" or "margin"; ``k`` is the margin's)."""
    if similarity == "cosine":
        return nearest_cosine(sources, targets, chunk_size, **search)
    if similarity == "margin":
        return nearest_margin(sources, targets, k, chunk_size, **search)
    raise XstiltsError(f"unknown similarity {similarity!r}: choose one of {', '.join(SIMILARITIES)}")
