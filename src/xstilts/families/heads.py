"""Heads shared by the families that put a small network on the encoder's hidden states.

They are plain ``nn.Module`` s built from the encoder's config, so a head can be created, saved and dropped
independently of the encoder (target fine-tuning starts from an intermediate encoder with fresh heads).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from xstilts.families.common import encode
from xstilts.families.first_token import first_token_output


def head_dropout(encoder_config: Any) -> float:
    """The encoder's hidden dropout, used for the head as XLM-R's own heads do.

    BERT-style configs call it ``hidden_dropout_prob``; T5-style encoders name it ``dropout_rate``. 0.1 is
    the value all of them default to, used only when a config names neither.
    """
    for name in ("hidden_dropout_prob", "dropout_rate", "dropout"):
        value = getattr(encoder_config, name, None)
        if isinstance(value, (int, float)):
            return float(value)
    return 0.1


class PooledClassifierHead(nn.Module):
    """dropout -> dense -> tanh -> dropout -> linear, on one vector per sequence.

    The shape of XLM-R's sequence classification head. It does no pooling itself: the family hands it the
    first token's hidden state, so the same head scores a sentence (classification, one output per label) or
    a (context, choice) pair (multiple choice, one output).
    """

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, num_outputs)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.dense(self.dropout(pooled)))
        return self.out_proj(self.dropout(hidden))

    @classmethod
    def for_encoder(cls, encoder_config: Any, num_outputs: int) -> PooledClassifierHead:
        return cls(encoder_config.hidden_size, num_outputs, head_dropout(encoder_config))


class TokenClassifierHead(nn.Module):
    """dropout -> linear on every position (the token classification head of BERT/XLM-R)."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(hidden_states))

    @classmethod
    def for_encoder(cls, encoder_config: Any, num_labels: int) -> TokenClassifierHead:
        return cls(encoder_config.hidden_size, num_labels, head_dropout(encoder_config))


def sentence_states(encoder: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """What a sentence-level head reads, shape [rows, hidden]: the last layer's state at position 0 (<s> for
    XLM-R, [CLS] for BERT: pre-trained to summarise the input), or, for T5-style encoders, which have no such
    token (mT5's input starts with its first word), the mean over the real tokens, as sentence encoders built
    on T5 pool it."""
    if t5_style(encoder):
        hidden = encode(encoder, batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return first_token_output(encoder, batch)


def t5_style(encoder: torch.nn.Module) -> bool:
    """Whether the encoder is T5's kind (T5, mT5, UMT5, or the encoder of any encoder-decoder): no CLS token."""
    config = getattr(encoder, "config", None)
    return getattr(config, "model_type", "") in T5_STYLE or bool(getattr(config, "is_encoder_decoder", False))


T5_STYLE = frozenset({"t5", "mt5", "umt5", "byt5"})
