"""Small helpers shared by the families (padding, encoder calls, label lookups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


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
    """Run the encoder on the batch's ``input_ids``/``attention_mask`` (and ``token_type_ids`` if present)."""
    kwargs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if "token_type_ids" in batch:
        kwargs["token_type_ids"] = batch["token_type_ids"]
    return encoder(**kwargs, output_hidden_states=output_hidden_states)


def label_index(task: Any) -> dict[str, int]:
    return {label: i for i, label in enumerate(task.labels)}
