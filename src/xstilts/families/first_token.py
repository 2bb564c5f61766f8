"""The first token's last hidden state, without computing the last layer for every other token.

Sentence-level heads (classification, multiple choice) read one vector: the last layer's state at position 0
(<s> for XLM-R, [CLS] for BERT). In that last layer every other position is wasted work except for its keys
and values, which the first token attends to. So for the last layer we compute keys and values of every
token, but the query, the attention output, its LayerNorm and the feed-forward block for the first token only:
the same vector (equal within fp32 rounding). Every token but the first skips 10/12 of the last layer's
weight FLOPs (Q, the output projection and the 8 H^2 feed-forward of its 12 H^2): 7% of a 12-layer encoder's
layer FLOPs, 14% of a 6-layer one's, 3.5% of a 24-layer one's.

Only layers whose structure is known are handled (BERT's post-LayerNorm layer as BERT, RoBERTa, XLM-R and
CamemBERT build it, absolute positions); anything else (DeBERTa's disentangled attention, XLM-R XL's
pre-LayerNorm, ModernBERT, RemBERT's older layer) runs the whole encoder. The switch is
``runtime.first_token_only`` (training/acceleration.py sets it on the encoder; on unless torch.compile or
gradient checkpointing is on, which this layer swap would defeat). Dropout inside that last layer draws masks
for fewer elements, so training with and without it differs like two seeds' dropout, not in expectation.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from xstilts.families.common import encode

# Layer classes with BERT's post-LayerNorm structure: attention.self.{query,key,value}, attention.output
# (dense, dropout, LayerNorm of the sum with the input), intermediate (dense + activation), output (dense,
# dropout, LayerNorm of the sum), called as layer(hidden_states, attention_mask, ...) -> tensor.
KNOWN_LAYERS = frozenset({"BertLayer", "RobertaLayer", "XLMRobertaLayer", "CamembertLayer"})
# The attribute training/acceleration.py sets on an encoder to turn this off (absent: on).
SWITCH = "xstilts_first_token_only"


def first_token_output(encoder: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The last layer's state at position 0, shape [rows, hidden], computed with a first-token-only last layer
    where the encoder's layers allow it."""
    layers = prunable_layers(encoder)
    if layers is None:
        return encode(encoder, batch).last_hidden_state[:, 0]
    last = layers[-1]
    layers[-1] = _FirstTokenLayer(last)
    try:
        return encode(encoder, batch).last_hidden_state[:, 0]
    finally:
        layers[-1] = last


def prunable_layers(encoder: torch.nn.Module) -> torch.nn.ModuleList | None:
    """The encoder's layer list when its last layer can run for the first token alone, else None."""
    if not getattr(encoder, SWITCH, True):
        return None
    model = _base_model(encoder)
    config = getattr(model, "config", None)
    if config is None or getattr(config, "is_decoder", False):
        return None
    if getattr(config, "position_embedding_type", "absolute") not in (None, "absolute"):
        return None  # relative position scores would need the query position in the layer
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(layers, torch.nn.ModuleList) or len(layers) == 0:
        return None
    last = layers[-1]
    if type(last).__name__ not in KNOWN_LAYERS or getattr(last, "add_cross_attention", False):
        return None
    if getattr(last, "chunk_size_feed_forward", 0):
        return None  # a chunked feed-forward is another code path; rare, and not worth a second one here
    return layers


def _base_model(encoder: torch.nn.Module) -> torch.nn.Module:
    """The transformers model under a PEFT wrapper (PeftModel -> LoraModel -> model), else the encoder."""
    inner = getattr(encoder, "base_model", encoder)
    return getattr(inner, "model", inner) if inner is not encoder else encoder


class _FirstTokenLayer(torch.nn.Module):
    """Runs a BERT-style layer for position 0 only; the other positions of its output are zeros (nothing
    reads them: the swap lasts one call of ``first_token_output``)."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, *args: Any,
                **kwargs: Any) -> torch.Tensor:
        attention = self.layer.attention
        heads = attention.self.num_attention_heads
        size = attention.self.attention_head_size
        rows, length, _ = hidden_states.shape
        first = hidden_states[:, :1]
        query = attention.self.query(first).view(rows, 1, heads, size).transpose(1, 2)
        key = attention.self.key(hidden_states).view(rows, length, heads, size).transpose(1, 2)
        value = attention.self.value(hidden_states).view(rows, length, heads, size).transpose(1, 2)
        mask = None
        if attention_mask is not None:  # [rows, 1, length, length] (bool, or additive float), or [rows, length]
            mask = attention_mask[:, :, :1, :] if attention_mask.dim() == 4 else attention_mask[:, None, None, :]
            if mask.dtype != torch.bool:
                mask = mask.to(query.dtype)
        dropout = attention.self.dropout.p if self.layer.training else 0.0
        context = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout,
                                                 scale=size ** -0.5)
        context = context.transpose(1, 2).reshape(rows, 1, heads * size)
        attended = attention.output(context, first)
        out = self.layer.feed_forward_chunk(attended)
        return torch.cat([out, out.new_zeros(rows, length - 1, out.shape[-1])], dim=1)
