"""Exact k-nearest-neighbour search in both directions from one pass over the similarity matrix.

The matrix ``queries @ keys.T`` is walked in blocks (``chunk_size`` queries x ``key_block`` keys) and never held
whole: memory is one block whatever the sizes (BUCC's test sets have about 400k sentences a side). Each block
is computed once and read along both axes, so the k best keys of every query and the k best queries of every
key come from the same matrix products: half the arithmetic of two one-way searches (faiss's flat index, or
two calls of any one-way search, computes the matrix twice).

What makes it fast is the selection. A top-k over every block (``torch.topk`` on both axes) costs more than the
matrix product itself. Here every row and every column keeps its k best so far, and a block entry can only
enter where it beats that row's (or column's) current k-th score: one comparison per entry, after which the
few survivors (about ``k / blocks seen`` per row for unrelated vectors) are merged by a small sort. Only a
row's first block, when it holds fewer than k entries, needs a real top-k.

Ties are broken as a stable sort would: score descending, then index ascending. Blocks come in ascending index
order along both axes, so an entry equal to a row's current k-th score never displaces it (a strict ">" is
exact), and ties inside a block are ordered by the merge.

``precision="bf16"`` computes the blocks in bfloat16 (fast where the device has native bf16: CPUs with AMX or
AVX512-BF16, GPUs) and re-scores the survivors in float32. bf16 scores are off by at most
``BF16_ERROR * |q| * |k|`` (inputs rounded to 8 significant bits, products accumulated in float32, the output
rounded once more), so an entry is kept when its bf16 score is within that bound of the threshold: every true
neighbour survives, and the re-scored float32 values decide. The neighbours are those of the float32 search;
only the rounding of the final float32 scores may differ in the last bit (the re-score is a dot product of one
pair, not a block product), so ties that float32 itself could not separate may come out in another order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from xstilts.scoring.retrieval import SEARCH_PRECISIONS

# bf16 keeps 8 significant bits: rounding a value moves it by at most 2^-9 of itself. A dot product of rounded
# inputs is off by at most (2 * 2^-9 + 2^-18) |q| |k|, and the bf16 output adds 2^-9 |s| <= 2^-9 |q| |k|.
# 2^-7 leaves more than the sum (and float32 accumulation's dim * 2^-24) as slack.
BF16_ERROR = 2.0**-7
_NO_INDEX = torch.iinfo(torch.int64).max  # the index of an empty slot: sorts after every real one


@dataclass
class Neighbours:
    """The k best (score, index) of each row, best first: scores descending, then indices ascending."""

    scores: torch.Tensor  # (rows, k) float32; -inf in slots not filled yet
    indices: torch.Tensor  # (rows, k) int64

    @classmethod
    def empty(cls, rows: int, k: int, device: torch.device) -> Neighbours:
        return cls(torch.full((rows, k), -torch.inf, dtype=torch.float32, device=device),
                   torch.full((rows, k), _NO_INDEX, dtype=torch.int64, device=device))


def blocked_search(
    queries: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    *,
    chunk_size: int,
    key_block: int,
    both: bool,
    precision: str = "fp32",
) -> tuple[Neighbours, Neighbours | None]:
    """The ``k`` best keys of every query (and, if ``both``, the ``k`` best queries of every key) by dot product.

    ``queries`` (n, d) and ``keys`` (m, d) are float32 tensors on the device that computes (CPU or CUDA).
    Returns ``(forward, backward)``: forward (n, min(k, m)), backward (m, min(k, n)) or None.
    """
    if precision not in SEARCH_PRECISIONS:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(SEARCH_PRECISIONS)}")
    forward = Neighbours.empty(len(queries), min(k, len(keys)), queries.device)
    backward = Neighbours.empty(len(keys), min(k, len(queries)), queries.device) if both else None
    low = precision == "bf16"
    query_blocks = queries.to(torch.bfloat16) if low else queries
    key_blocks = keys.to(torch.bfloat16) if low else keys
    # bf16 scores are off by at most BF16_ERROR |q| |k|: per row, with the other side's largest norm in the block.
    query_norms = queries.norm(dim=1) if low else None
    key_norms = keys.norm(dim=1) if low else None
    with torch.no_grad():
        for q_start in range(0, len(queries), chunk_size):
            q_stop = min(q_start + chunk_size, len(queries))
            for k_start in range(0, len(keys), key_block):
                k_stop = min(k_start + key_block, len(keys))
                block = query_blocks[q_start:q_stop] @ key_blocks[k_start:k_stop].T
                if low:
                    block = block.float()
                    row_slack = BF16_ERROR * query_norms[q_start:q_stop] * key_norms[k_start:k_stop].max()
                    column_slack = BF16_ERROR * key_norms[k_start:k_stop] * query_norms[q_start:q_stop].max()
                    exact = (queries[q_start:q_stop], keys[k_start:k_stop])
                else:
                    row_slack = column_slack = exact = None
                _update(forward, q_start, block, k_start, row_slack, exact, across=False)
                if backward is not None:
                    _update(backward, k_start, block, q_start, column_slack, exact, across=True)
    return forward, backward


def _update(best: Neighbours, first_row: int, block: torch.Tensor, first_candidate: int,
            slack: torch.Tensor | None, exact: tuple[torch.Tensor, torch.Tensor] | None, *, across: bool) -> None:
    """Merge one block into the k best of ``best``'s rows ``first_row...``: the block's rows are those rows
    (``across=False``), or its columns are (``across=True``, the backward direction)."""
    rows = block.shape[1] if across else block.shape[0]
    kth = best.scores[first_row:first_row + rows, -1]  # each row's k-th best so far
    # ">=" rather than ">": an entry equal to the k-th has a larger index (blocks come in index order), so the
    # merge puts it after the k-th and drops it: the same result, and bf16 scores need the inclusive bar anyway.
    bar = kth if slack is None else kth - slack
    line = 0 if across else 1  # the axis along which one row's candidates lie
    filling = torch.isinf(kth)
    if bool(filling.any()):
        # Rows with fewer than k entries so far: the block's own k-th best (ties kept) is their bar.
        k = min(best.scores.shape[1], block.shape[line])
        local = torch.topk(block, k, dim=line, sorted=False).values.amin(dim=line)
        if slack is not None:
            local = local - 2 * slack  # bf16's k-th best may sit one bound above the true one, each score below
        bar = torch.where(filling, local, bar)
    keep = block >= bar.unsqueeze(line)
    # Flat positions: one index_select instead of a two-tensor gather. nonzero walks the block row-major, so a
    # row's candidates come in ascending index order in both directions, as the merge needs.
    flat = torch.nonzero(keep.view(-1)).squeeze(1)
    if flat.numel() == 0:
        return
    width = block.shape[1]
    query, key = flat // width, flat % width
    row, candidate = (key, query) if across else (query, key)
    if exact is None:
        values = block.view(-1).index_select(0, flat)
    else:
        values = _rescore(*exact, query, key)
    _merge(best, first_row, row, candidate + first_candidate, values)


def _rescore(queries: torch.Tensor, keys: torch.Tensor, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """float32 dot products of the candidate pairs, in slices that bound the memory of the gathered rows."""
    step = 1 << 15
    return torch.cat([(queries.index_select(0, query[i:i + step]) * keys.index_select(0, key[i:i + step])).sum(dim=1)
                      for i in range(0, len(query), step)])


def _merge(best: Neighbours, first_row: int, row: torch.Tensor, index: torch.Tensor, value: torch.Tensor) -> None:
    """Keep the k best of each touched row's current entries and its new candidates.

    One stable sort by (row, score descending): the current entries come first and hold smaller indices than
    any candidate, and each row's candidates arrive in ascending index order, so equal scores stay in index
    order without a third key."""
    k = best.scores.shape[1]
    touched = torch.unique(row) + first_row
    rows = torch.cat([touched.repeat_interleave(k), row + first_row])
    values = torch.cat([best.scores.index_select(0, touched).flatten(), value.float()])
    indices = torch.cat([best.indices.index_select(0, touched).flatten(), index])
    order = torch.argsort(rows * 2**32 + _descending_key(values), stable=True)
    rows, values, indices = rows[order], values[order], indices[order]
    rank = torch.arange(len(rows), device=rows.device) - torch.searchsorted(rows, rows)
    kept = rank < k
    best.scores[rows[kept], rank[kept]] = values[kept]
    best.indices[rows[kept], rank[kept]] = indices[kept]


def _descending_key(values: torch.Tensor) -> torch.Tensor:
    """int64 keys in [0, 2^32) that sort float32 values in descending order (-inf last): the float's bits read
    as a signed integer order non-negative floats, and flipping the magnitude bits of negative ones orders them."""
    bits = (values + 0.0).contiguous().view(torch.int32).to(torch.int64)  # + 0.0: -0.0 becomes 0.0, its equal
    ordered = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)  # monotonic in the float value
    return 2**31 - 1 - ordered
