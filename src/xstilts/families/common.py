"""Small helpers shared by the families (padding, encoder calls, label lookups, error messages, scores)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

# Label id of a position or example without a gold label (special tokens, later subwords, prediction-only
# data); cross-entropy skips it.
IGNORE_INDEX = -100

T = TypeVar("T")


def pad_sequences(sequences: Sequence[Sequence[int]], pad_value: int, length: int | None = None) -> torch.Tensor:
    """Right-pad integer sequences to ``length`` (default: the longest one) as a LongTensor."""
    width = length if length is not None else max((len(s) for s in sequences), default=0)
    out = torch.full((len(sequences), width), pad_value, dtype=torch.long)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = torch.as_tensor(seq[:width], dtype=torch.long)
    return out


def attention_mask_for(input_ids: torch.Tensor, pad_token_id: int, lengths: Sequence[int] | None = None) -> torch.Tensor:
    """1 for real tokens. With ``lengths`` the mask is exact even when a real token equals the pad id."""
    if lengths is None:
        return (input_ids != pad_token_id).long()
    positions = torch.arange(input_ids.shape[-1]).unsqueeze(0)
    return (positions < torch.as_tensor(lengths).unsqueeze(1)).long()


def encode(encoder: torch.nn.Module, batch: dict[str, torch.Tensor], output_hidden_states: bool = False) -> Any:
    """Run the encoder on the batch's ``input_ids``/``attention_mask`` (and ``token_type_ids`` and
    ``position_ids`` if present: a packed batch, ``models/packing.py``, numbers positions per sequence)."""
    kwargs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    # Encoders without segment embeddings (ModernBERT, T5's encoder) take no token_type_ids, whatever the
    # tokenizer made: they would fail on the keyword.
    if "token_type_ids" in batch and _takes_token_types(type(encoder)):
        kwargs["token_type_ids"] = batch["token_type_ids"]
    if "position_ids" in batch:
        kwargs["position_ids"] = batch["position_ids"]
    return encoder(**kwargs, output_hidden_states=output_hidden_states)


@functools.cache
def _takes_token_types(encoder_class: type) -> bool:
    # Named, not swallowed by **kwargs (every transformers 5 model has those, passed on to attention).
    return "token_type_ids" in inspect.signature(encoder_class.forward).parameters


def label_index(task: Any) -> dict[str, int]:
    return {label: i for i, label in enumerate(task.labels)}


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def string_fields_problem(example: dict[str, Any], *keys: str) -> str | None:
    """What is wrong with the first of ``keys`` whose value is not a string (missing counts as null), or
    None when all are strings."""
    for key in keys:
        value = example.get(key)
        if not isinstance(value, str):
            return f"'{key}' must be a string, found {type_name(value)}"
    return None


def labels_hint(labels: tuple[str, ...], shown: int = 20) -> str:
    """The label set for an error message, cut short for large sets (CCG has hundreds of supertags)."""
    more = f", ... ({len(labels)} in all)" if len(labels) > shown else ""
    return ", ".join(labels[:shown]) + more


def accuracy_only(task: Any, value: Callable[[], T]) -> dict[str, T]:
    """Every metric of ``task.metrics`` for a family whose one metric is accuracy (the spec has checked that
    the task asks for no other): ``value()`` (its score or its units; called per metric, so nothing is
    computed for a task that asks for none)."""
    return {metric: value() for metric in task.metrics}


def example_ids(examples: list[dict[str, Any]]) -> list[str]:
    """The ids of the examples, for their units (an example without one, built by hand, is named by its
    position)."""
    return [str(example.get("id", position)) for position, example in enumerate(examples)]


def one_per_example(
    examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
) -> list[Any]:
    """The raw output of each example's single feature, in example order, whatever order the features came
    in (batches are grouped by length)."""
    if len(features) != len(raw):
        raise ValueError(f"{len(raw)} raw outputs for {len(features)} features")
    chosen: list[Any] = [None] * len(examples)
    for feature, output in zip(features, raw, strict=True):
        index = feature["example_index"]
        if chosen[index] is not None:
            raise ValueError(f"example {index} has more than one feature")
        chosen[index] = output
    missing = [examples[i].get("id", i) for i, output in enumerate(chosen) if output is None]
    if missing:
        raise ValueError(f"no output for {len(missing)} examples, e.g. {missing[:3]}")
    return chosen
