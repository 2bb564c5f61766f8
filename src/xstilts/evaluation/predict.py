"""Batched inference for any family: longest features first, batches by a token budget, no gradients.

Features run longest first in batches of about ``tokens_per_batch`` padded tokens (:mod:`xstilts.evaluation.batches`:
from the free memory on CUDA, a fixed budget on a CPU, or ``evaluate.batch_tokens``), under the caller's autocast
(the run's precision: bf16 where the device computes it natively) and ``torch.inference_mode``; the raw outputs
come back in the order of the features. Features whose family gives a reuse key are encoded once per key and
per :class:`~xstilts.evaluation.reuse.OutputCache` (:mod:`xstilts.evaluation.reuse`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from xstilts.errors import XstiltsError
from xstilts.evaluation.batches import (
    feature_length,
    feature_rows,
    longest_first,
    next_batch,
    tokens_per_batch,
)
from xstilts.evaluation.reuse import OutputCache, plan_reuse
from xstilts.families.base import EvalSet, Evaluation, Family
from xstilts.tasks.base import Task

# torch >= 2.5 names it at the top level; CUDA's is the same class.
OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


def move(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def predict_raw(
    encoder: torch.nn.Module,
    head: torch.nn.Module | None,
    family: Family,
    features: list[dict[str, Any]],
    *,
    pad_token_id: int,
    batch_size: int | None = None,
    batch_tokens: int | None = None,
    device: torch.device | None = None,
    autocast: Any = None,
    cache: OutputCache | None = None,
) -> list[Any]:
    """Raw per-feature outputs in the order of ``features``.

    ``batch_tokens``: padded tokens per batch (None: measured from free CUDA memory, or the CPU default);
    ``batch_size``: at most this many features per batch (None: the token budget alone decides); ``cache``:
    outputs of this model state reused by key (None: reuse only within this call).
    """
    device = device or next(encoder.parameters()).device
    cache = cache if cache is not None else OutputCache()
    keys = [family.reuse_key(feature) for feature in features]
    todo, reused = plan_reuse(keys, cache)
    raw: list[Any] = [None] * len(features)
    if todo:
        selected = [features[i] for i in todo]
        for index, value in zip(todo, _run(encoder, head, family, selected, pad_token_id, batch_size, batch_tokens,
                                           device, autocast), strict=True):
            raw[index] = value
            if keys[index] is not None:
                cache.keep(keys[index], value)
    for index, key in reused.items():
        raw[index] = cache.outputs[key]
    cache.encoded += len(todo)
    cache.reused += len(reused)
    return raw


def _run(encoder: torch.nn.Module, head: torch.nn.Module | None, family: Family, features: list[dict[str, Any]],
         pad_token_id: int, batch_size: int | None, batch_tokens: int | None, device: torch.device,
         autocast: Any) -> list[Any]:
    """The outputs of every feature, longest first in token-budget batches, back in the order given."""
    was_training = encoder.training
    encoder.eval()
    if head is not None:
        head.eval()
    order = longest_first(features)
    budget = tokens_per_batch(batch_tokens, device, getattr(encoder, "config", None),
                              feature_length(features[order[0]]))
    raw: list[Any] = [None] * len(features)
    start = 0
    try:
        with torch.inference_mode():
            while start < len(order):
                chunk = next_batch(features, order, start, budget, batch_size)
                try:
                    values = _forward(family, encoder, head, [features[i] for i in chunk], pad_token_id, start,
                                      device, autocast)
                except OUT_OF_MEMORY:
                    budget = _smaller_budget(budget, features[chunk[0]], batch_tokens)
                    continue
                for index, value in zip(chunk, values, strict=True):
                    raw[index] = value
                start += len(chunk)
    finally:
        encoder.train(was_training)
        if head is not None:
            head.train(was_training)
    return raw


def _forward(family: Family, encoder: torch.nn.Module, head: torch.nn.Module | None, chunk: list[dict[str, Any]],
             pad_token_id: int, start: int, device: torch.device, autocast: Any) -> list[Any]:
    # A fixed generator makes evaluation-time randomness (MLM masking) repeatable.
    generator = torch.Generator().manual_seed(start)
    batch = move(family.collate(chunk, pad_token_id, generator=generator), device)
    with autocast() if autocast else contextlib.nullcontext():
        outputs = family.forward(encoder, head, batch)
    return family.predict(outputs, batch)


def _smaller_budget(budget: int, longest: dict[str, Any], setting: int | None) -> int:
    """Half the budget after running out of memory, while a batch of the longest feature alone still fits."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    alone = feature_length(longest) * feature_rows(longest)
    if budget <= alone:
        where = f"evaluate.batch_tokens: {setting}" if setting is not None else "a budget measured from free memory"
        raise XstiltsError(f"evaluation ran out of memory on one feature of {feature_length(longest)} tokens alone "
                           f"({where}): lower the evaluation's max_length (evaluate.max_length) or free the device's "
                           "memory (another process may hold it)")
    return max(alone, budget // 2)


def evaluate_features(
    encoder: torch.nn.Module,
    head: torch.nn.Module | None,
    family: Family,
    task: Task,
    examples: list[dict[str, Any]],
    features: list[dict[str, Any]],
    split: str = "test",
    references: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] | None = None,
    **kwargs: Any,
) -> Evaluation:
    """Per-example predictions, every metric of the task and the units of those that decompose.

    ``references``: split -> (examples, features) of the splits the family's scoring of ``split`` also needs
    (:meth:`Family.reference_splits`); the model runs on them as on the evaluated set (with ``cache``, once per
    model state: a reference split that is also evaluated is not encoded again).
    """
    evaluated = EvalSet(examples, features, predict_raw(encoder, head, family, features, **kwargs))
    outputs = {
        name: EvalSet(ref_examples, ref_features, predict_raw(encoder, head, family, ref_features, **kwargs))
        for name, (ref_examples, ref_features) in (references or {}).items()
    }
    return family.evaluate(task, split, evaluated, outputs)
