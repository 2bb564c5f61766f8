"""Evaluation batches by a token budget: features longest first, each batch as many as fit in the budget.

A fixed number of examples per batch is either too small for short sentences (a GPU idles on 64 Tatoeba
sentences of 15 tokens) or too large for long ones (64 QA windows of 384 tokens). A budget of *padded* tokens
(rows x the longest row of the batch) keeps the work per batch, and so the memory, about constant. Features go
longest first: the batch that needs the most memory runs first, so a budget that is too large fails at once
rather than after an hour, and since each batch is padded to its first row, padding stays small (a batch also
closes before padding would pass :data:`MAX_PADDING` of it).

The budget: ``evaluate.batch_tokens`` when the study sets it; on CUDA otherwise a share of the free memory
divided by what one token of the encoder holds at once (:func:`memory_token_budget`); on a CPU
:data:`DEFAULT_CPU_BATCH_TOKENS` (large batches gain little there and the memory is shared with everything
else). On CUDA a batch that still runs out of memory halves the budget and is tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xstilts.errors import XstiltsError

# Tokens per batch on a CPU, whose memory the batch shares with everything else: the size of the former fixed
# batch of 64 examples at 128 tokens, and at most about 1.5 GB of activations for an XLM-R large forward that
# keeps every hidden state (retrieval, 512-token sentences: bytes_per_token ~184 kB).
DEFAULT_CPU_BATCH_TOKENS = 8192
# The share of the free GPU memory the activations of one batch may take (the rest: the allocator's
# fragmentation, the head's outputs, what other processes allocate meanwhile).
MEMORY_SHARE = 0.5
# A batch closes before padding would exceed this share of its tokens: in a large set the neighbours of a sorted
# feature have about its length and batches fill up to the budget; where lengths thin out (the long tail, a small
# set) a full budget would be mostly padding, which costs the same compute as real tokens.
MAX_PADDING = 0.25
# A GPU budget is never larger than this: beyond it batches are no faster, only the first failure slower.
MAX_GPU_BATCH_TOKENS = 1 << 19


def feature_rows(feature: dict[str, Any]) -> int:
    """Sequences a feature puts into the encoder: one, or one per choice (multiple choice holds a list of
    token lists)."""
    ids = feature["input_ids"]
    return len(ids) if ids and isinstance(ids[0], (list, tuple)) else 1


def feature_length(feature: dict[str, Any]) -> int:
    """The longest sequence of a feature (its ``length``, which every family's featurize records)."""
    return int(feature["length"])


def longest_first(features: Sequence[dict[str, Any]]) -> list[int]:
    """Indices of ``features`` from the longest to the shortest; equal lengths keep their order (stable)."""
    return sorted(range(len(features)), key=lambda i: -feature_length(features[i]))


def next_batch(features: Sequence[dict[str, Any]], order: Sequence[int], start: int, tokens_per_batch: int,
               max_rows: int | None = None, max_padding: float = MAX_PADDING) -> list[int]:
    """The batch that starts at ``order[start]``: the following features while rows x the first (longest)
    length stays within ``tokens_per_batch``, the features within ``max_rows`` and the padding within
    ``max_padding`` of the batch's tokens. A feature longer than the budget is a batch of its own."""
    width = feature_length(features[order[start]])
    batch, rows = [order[start]], feature_rows(features[order[start]])
    real = rows * width
    for index in order[start + 1:]:
        more = feature_rows(features[index])
        padded = (rows + more) * width
        if padded > tokens_per_batch or (max_rows is not None and len(batch) >= max_rows):
            break
        added = more * feature_length(features[index])
        if padded - (real + added) > max_padding * padded:
            break
        batch.append(index)
        rows, real = rows + more, real + added
    return batch


def plan_batches(features: Sequence[dict[str, Any]], tokens_per_batch: int, max_rows: int | None = None,
                 max_padding: float = MAX_PADDING) -> list[list[int]]:
    """Every batch of a pass at a fixed budget (the pass itself plans one batch at a time, so that it can
    shrink the budget after running out of memory)."""
    order, batches, start = longest_first(features), [], 0
    while start < len(order):
        batches.append(next_batch(features, order, start, tokens_per_batch, max_rows, max_padding))
        start += len(batches[-1])
    return batches


def padded_tokens(features: Sequence[dict[str, Any]], batches: Sequence[Sequence[int]]) -> int:
    """Tokens the encoder computes for these batches: rows x the longest feature of each batch."""
    return sum(max(feature_length(features[i]) for i in batch) * sum(feature_rows(features[i]) for i in batch)
               for batch in batches)


def bytes_per_token(config: Any, longest: int, value_bytes: int = 4) -> int:
    """What one token of a batch holds at once in an encoder forward without gradients, in bytes: every hidden
    state (a retrieval pass keeps them all), and the largest transient of a layer (queries, keys, values and
    output; the feed-forward's inner activation before and after its nonlinearity; one row of attention scores
    per head). Counted in ``value_bytes`` (4: fp32; bf16 halves most of it, so 4 also bounds a bf16 pass)."""
    hidden = _dimension(config, "hidden_size", "d_model")
    layers = _dimension(config, "num_hidden_layers", "num_layers")
    inner = _dimension(config, "intermediate_size", "d_ff", default=4 * hidden)
    heads = _dimension(config, "num_attention_heads", "num_heads", default=1)
    values = (layers + 1) * hidden + 4 * hidden + 2 * inner + heads * longest
    return values * value_bytes


def memory_token_budget(free_bytes: int, config: Any, longest: int) -> int:
    """Padded tokens per batch that fit in :data:`MEMORY_SHARE` of ``free_bytes`` (at least one sequence of
    ``longest`` tokens, at most :data:`MAX_GPU_BATCH_TOKENS`)."""
    fits = int(free_bytes * MEMORY_SHARE) // bytes_per_token(config, longest)
    return max(longest, min(fits, MAX_GPU_BATCH_TOKENS))


def tokens_per_batch(setting: int | None, device: Any, config: Any, longest: int) -> int:
    """The budget of a pass: the setting when given, else measured from free CUDA memory, else the CPU default."""
    if setting is not None:
        return setting
    if getattr(device, "type", device) == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(device)
        return memory_token_budget(free, config, longest)
    return DEFAULT_CPU_BATCH_TOKENS


def _dimension(config: Any, *names: str, default: int | None = None) -> int:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    if default is not None:
        return default
    raise XstiltsError(f"the encoder's config has none of {', '.join(names)}, so the evaluation batch cannot be "
                       "sized from memory: set evaluate.batch_tokens (padded tokens per batch) in the study")
