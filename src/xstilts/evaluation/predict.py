"""Batched inference for any family: features sorted by length (little padding), no gradients."""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from xstilts.families.base import EvalSet, Evaluation, Family
from xstilts.tasks.base import Task


def move(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


@torch.no_grad()
def predict_raw(
    encoder: torch.nn.Module,
    head: torch.nn.Module | None,
    family: Family,
    features: list[dict[str, Any]],
    *,
    pad_token_id: int,
    batch_size: int = 64,
    device: torch.device | None = None,
    autocast: Any = None,
) -> list[Any]:
    """Raw per-feature outputs in the order of ``features``."""
    device = device or next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    if head is not None:
        head.eval()
    order = sorted(range(len(features)), key=lambda i: features[i]["length"])
    raw: list[Any] = [None] * len(features)
    try:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            # A fixed generator makes evaluation-time randomness (MLM masking) repeatable.
            generator = torch.Generator().manual_seed(start)
            batch = move(family.collate([features[i] for i in chunk], pad_token_id, generator=generator), device)
            with autocast() if autocast else contextlib.nullcontext():
                outputs = family.forward(encoder, head, batch)
            for index, value in zip(chunk, family.predict(outputs, batch), strict=True):
                raw[index] = value
    finally:
        encoder.train(was_training)
        if head is not None:
            head.train(was_training)
    return raw


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
    (:meth:`Family.reference_splits`); the model runs on them as on the evaluated set.
    """
    evaluated = EvalSet(examples, features, predict_raw(encoder, head, family, features, **kwargs))
    outputs = {
        name: EvalSet(ref_examples, ref_features, predict_raw(encoder, head, family, ref_features, **kwargs))
        for name, (ref_examples, ref_features) in (references or {}).items()
    }
    return family.evaluate(task, split, evaluated, outputs)
