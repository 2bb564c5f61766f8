"""A memory plan for fine-tuning an encoder on one GPU: an estimate from the model's shape, not a measurement.

bf16 autocast keeps fp32 master weights: per parameter 4 bytes of weights, 4 of gradients, 8 of AdamW moments
(exp_avg, exp_avg_sq) and 2 of the bf16 copies autocast caches for the matrix products of a step (18 bytes).
Activations kept for the backward pass, per transformer layer and token (h the hidden size, i the
intermediate size), counted for a BERT-style layer under autocast: the fp32 inputs of the two LayerNorms (4h
each), the bf16 inputs of the four projections (2h + 2h + 2h + 2i), q, k, v (6h), the FFN's pre-activation (2i)
and the two dropout masks (1h each): 24h + 4i bytes. Eager attention also keeps, per head, the s x s scores
(bf16), softmax output (fp32), dropout mask and dropped probabilities (bf16): 9 bytes per entry; SDPA's flash
and memory-efficient kernels keep none of them (they recompute from q, k, v and one log-sum-exp per row).
Gradient checkpointing keeps only each layer's fp32 input (4h) and recomputes one layer at a time in the
backward pass. Heads of classification, tagging and QA are negligible; an MLM head's fp32 logits over a
250k vocabulary are not (b x s x V x 4 bytes) and are listed apart.

Torch-free, so that ``xstilts plan`` and the docs can use it without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
# Bytes per parameter in bf16 autocast with fp32 master weights and AdamW (see the module docstring).
WEIGHT_BYTES, GRAD_BYTES, ADAM_BYTES, CAST_BYTES = 4, 4, 8, 2


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    heads: int
    intermediate: int
    vocab: int
    positions: int = 514

    @property
    def parameters(self) -> int:
        """Embeddings (words, positions, one token type, LayerNorm) + per layer: q, k, v, output projection,
        two FFN matrices, their biases and two LayerNorms."""
        h, i = self.hidden, self.intermediate
        embeddings = (self.vocab + self.positions + 1) * h + 2 * h
        layer = 4 * h * h + 4 * h + 2 * h * i + i + h + 4 * h
        return embeddings + self.layers * layer


# facebook/xlm-roberta-xl's config.json (XLMRobertaXLConfig): 3.5B parameters.
XLMR_XL = EncoderShape(layers=36, hidden=2560, heads=32, intermediate=10240, vocab=250880)


@dataclass(frozen=True)
class MemoryPlan:
    """Bytes of each part of a training step's peak (an estimate)."""

    weights: int
    gradients: int
    optimizer: int
    autocast_copies: int
    activations: int
    mlm_logits: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.autocast_copies + self.activations

    def gib(self) -> dict[str, float]:
        parts = {name: getattr(self, name) for name in ("weights", "gradients", "optimizer", "autocast_copies",
                                                         "activations", "total", "mlm_logits")}
        return {name: value / GIB for name, value in parts.items()}


def layer_activation_bytes(shape: EncoderShape, batch: int, length: int, sdpa: bool = True) -> int:
    """Activations one layer keeps for the backward pass at ``batch`` x ``length`` tokens."""
    tokens = batch * length
    per_token = 24 * shape.hidden + 4 * shape.intermediate
    attention = 0 if sdpa else 9 * shape.heads * batch * length * length
    return tokens * per_token + attention


def training_memory(shape: EncoderShape, batch: int, length: int, *, checkpointing: bool = False,
                    sdpa: bool = True) -> MemoryPlan:
    """The estimated peak memory of one fine-tuning step in bf16 autocast with fp32 master weights and AdamW."""
    params = shape.parameters
    layer = layer_activation_bytes(shape, batch, length, sdpa)
    if checkpointing:
        # every layer's fp32 input, plus one layer recomputed in full during the backward pass
        activations = shape.layers * 4 * shape.hidden * batch * length + layer
    else:
        activations = shape.layers * layer
    return MemoryPlan(weights=WEIGHT_BYTES * params, gradients=GRAD_BYTES * params, optimizer=ADAM_BYTES * params,
                      autocast_copies=CAST_BYTES * params, activations=activations,
                      mlm_logits=4 * batch * length * shape.vocab)
