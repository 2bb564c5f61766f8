"""Padding-free packing: the sequences of a padded batch laid end to end in a few rows.

A padded batch of N sequences (widths up to W) becomes R <= N rows of width W, filled first-fit by
decreasing length, so the encoder computes on (nearly) real tokens only. Three things keep the packed
forward pass equal to the padded one:

- **Per-sequence position ids.** Each sequence counts its positions from the architecture's first position,
  as in its own padded row: 0 for BERT, RemBERT, DeBERTa-v2 and ModernBERT (rotary), ``pad_token_id + 1``
  for XLM-R, RoBERTa and XLM-R XL (their embeddings number positions after the padding index). DeBERTa-v2 and
  mT5 compute relative positions from token indices: within a sequence the distances are those of its padded
  row, so they need no ids.
- **A block-diagonal attention mask** of shape (R, 1, W, W): a token sees the tokens of its own sequence only.
  Its form is the one the model's attention reads: boolean (True = attend) for SDPA and DeBERTa's own
  attention, additive (0 or the dtype's minimum) for HF's eager attention. ModernBERT gets one mask per layer
  kind, its sliding layers also limited to ``|i - j| <= config.sliding_window``. The free slots at a row's end
  form a block of their own: a query with nothing to attend to would give NaN, and NaN times a zero
  attention weight is still NaN.
- **The same tokens.** Packing only moves tokens (and per-token labels) around; masks for MLM are drawn on the
  padded batch first, so the loss is the same sum over the same tokens.

The mechanism is SDPA (or HF's eager attention) with an explicit 4D mask; FlexAttention has no backward on
CPU and nested jagged tensors do not go through HF's encoders (``benchmarks/packing.py``, docs/packing.md).
Architectures or attention implementations outside the table in :func:`packing_support` are not packed: the
caller falls back to padded batches and says so once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)

# model_type -> how its absolute positions are numbered: "pad+1" counts from pad_token_id + 1, "zero" from 0,
# "relative" has no absolute position ids (distances from token indices).
_POSITIONS = {
    "xlm-roberta": "pad+1",
    "roberta": "pad+1",
    "camembert": "pad+1",
    "xlm-roberta-xl": "pad+1",
    "bert": "zero",
    "rembert": "zero",
    "electra": "zero",
    "deberta-v2": "zero",
    "modernbert": "zero",
    "mt5": "relative",
    "t5": "relative",
}
_MASK_FORMATS = {"sdpa": "bool", "eager": "additive"}


@dataclass(frozen=True)
class PackingSupport:
    """Whether an encoder can run packed rows, and how (or why not)."""

    ok: bool
    reason: str = ""
    first_position: int | None = 0  # None: the model takes no position ids
    mask_format: str = "bool"  # "bool" (True = attend) or "additive"
    sliding_window: int | None = None  # ModernBERT: half-window of its sliding layers
    layer_types: tuple[str, ...] = ()  # ModernBERT: a mask per layer kind


def packing_support(encoder: torch.nn.Module) -> PackingSupport:
    """What packing needs for this encoder, or ``ok=False`` with the reason it falls back to padding."""
    config = getattr(encoder, "config", None)
    model_type = getattr(config, "model_type", None)
    if model_type not in _POSITIONS:
        return PackingSupport(False, f"architecture {model_type!r} is not verified for packing")
    implementation = getattr(config, "_attn_implementation", None) or "eager"
    if model_type == "deberta-v2":
        # Its own attention: a boolean mask, whatever the implementation setting says.
        if getattr(config, "conv_kernel_size", 0):
            return PackingSupport(False, "DeBERTa-v2 with a convolution layer (conv_kernel_size > 0) reads a 2D mask")
        mask_format = "bool"
    elif implementation in _MASK_FORMATS:
        mask_format = _MASK_FORMATS[implementation]
    else:
        return PackingSupport(
            False, f"attention implementation {implementation!r} takes no 4D mask here (packing needs sdpa or eager)"
        )
    if getattr(config, "position_embedding_type", "absolute") not in ("absolute", "rope", None):
        return PackingSupport(False, f"position_embedding_type {config.position_embedding_type!r} is not verified")
    kind = _POSITIONS[model_type]
    first = {"pad+1": (config.pad_token_id or 0) + 1, "zero": 0, "relative": None}[kind]
    if model_type == "modernbert":
        return PackingSupport(True, first_position=first, mask_format=mask_format,
                              sliding_window=int(config.sliding_window), layer_types=tuple(config.layer_types))
    return PackingSupport(True, first_position=first, mask_format=mask_format)


# ---------------------------------------------------------------------------------------------------------
# the layout
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackLayout:
    """Where each sequence of a padded batch sits in the packed rows."""

    lengths: torch.Tensor  # (N,) tokens of each sequence
    rows: torch.Tensor  # (N,) the packed row of each sequence
    starts: torch.Tensor  # (N,) its first slot in that row
    num_rows: int
    width: int

    @property
    def padded_tokens(self) -> int:
        return self.num_rows * self.width

    def token_index(self, padded_width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(index into the flattened padded batch, index into the flattened packed rows) of every real token."""
        positions = torch.arange(padded_width)
        real = positions.unsqueeze(0) < self.lengths.unsqueeze(1)
        sequence, offset = real.nonzero(as_tuple=True)
        source = sequence * padded_width + offset
        target = self.rows[sequence] * self.width + self.starts[sequence] + offset
        return source, target


def plan_rows(lengths: Sequence[int], capacity: int | None = None) -> PackLayout:
    """First-fit decreasing: sequences longest first, each into the first row with room (``capacity`` slots
    per row, default the longest sequence). Deterministic: ties keep batch order."""
    values = [int(x) for x in lengths]
    width = int(capacity if capacity is not None else max(values, default=0))
    if values and max(values) > width:
        raise ValueError(f"a sequence of {max(values)} tokens does not fit rows of {width}")
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    free: list[int] = []
    rows, starts = [0] * len(values), [0] * len(values)
    for i in order:
        row = next((r for r, room in enumerate(free) if room >= values[i]), len(free))
        if row == len(free):
            free.append(width)
        rows[i], starts[i] = row, width - free[row]
        free[row] -= values[i]
    return PackLayout(torch.tensor(values, dtype=torch.long), torch.tensor(rows, dtype=torch.long),
                      torch.tensor(starts, dtype=torch.long), len(free), width)


def padding_share(lengths: Sequence[int], width: int | None = None) -> float:
    """The share of a padded batch's slots that are padding."""
    values = list(lengths)
    slots = len(values) * (width if width is not None else max(values, default=0))
    return 1 - sum(values) / slots if slots else 0.0


# ---------------------------------------------------------------------------------------------------------
# packing a batch
# ---------------------------------------------------------------------------------------------------------


def pack_batch(
    batch: dict[str, torch.Tensor],
    support: PackingSupport,
    pad_token_id: int,
    token_keys: dict[str, int] | None = None,
    layout: PackLayout | None = None,
    mask_dtype: torch.dtype = torch.float32,
) -> tuple[dict[str, Any], PackLayout]:
    """The packed form of a padded batch (``input_ids`` and a 2D ``attention_mask`` of right-padded rows).

    ``token_keys``: other per-token tensors to move along, with the value of the free slots (MLM ``labels``:
    -100). ``token_type_ids`` move along with 0. Keys that are not per token are not allowed: a packed row
    holds several sequences. Returns the packed batch (``input_ids``, ``attention_mask``: 4D, or a dict per
    layer kind for ModernBERT; ``position_ids`` where the model takes them; the moved keys) and its layout
    (for :func:`unpack`).
    """
    if not support.ok:
        raise ValueError(f"this encoder cannot pack: {support.reason}")
    input_ids, mask2d = batch["input_ids"], batch["attention_mask"]
    if mask2d.dim() != 2:
        raise ValueError("pack_batch takes a padded batch with a 2D attention_mask")
    moved = dict(token_keys or {})
    if "token_type_ids" in batch:
        moved.setdefault("token_type_ids", 0)
    unknown = sorted(set(batch) - {"input_ids", "attention_mask", *moved})
    if unknown:
        raise ValueError(f"cannot pack the batch keys {unknown}: only per-token tensors can be packed")
    lengths = mask2d.sum(dim=1).cpu()
    layout = layout or plan_rows(lengths.tolist())
    device, padded_width = input_ids.device, input_ids.shape[1]
    source, target = (index.to(device) for index in layout.token_index(padded_width))
    slots = layout.padded_tokens

    def move(values: torch.Tensor, fill: int) -> torch.Tensor:
        out = torch.full((slots,), fill, dtype=values.dtype, device=device)
        out[target] = values.reshape(-1)[source]
        return out.view(layout.num_rows, layout.width)

    packed: dict[str, Any] = {"input_ids": move(input_ids, pad_token_id)}
    for key, fill in moved.items():
        packed[key] = move(batch[key], fill)
    if support.first_position is not None:
        positions = torch.zeros(slots, dtype=torch.long, device=device)
        positions[target] = source % padded_width  # each token's position within its own sequence
        packed["position_ids"] = positions.view(layout.num_rows, layout.width) + support.first_position
    same = _block_diagonal(layout)
    if support.layer_types:
        index = np.arange(layout.width)
        near = np.abs(index[:, None] - index[None, :]) <= support.sliding_window
        by_kind = {"full_attention": same, "sliding_attention": same & near}
        packed["attention_mask"] = {
            kind: _mask_form(by_kind[kind], support.mask_format, mask_dtype, device)
            for kind in set(support.layer_types)
        }
    else:
        packed["attention_mask"] = _mask_form(same, support.mask_format, mask_dtype, device)
    return packed, layout


def _block_diagonal(layout: PackLayout) -> np.ndarray:
    """(R, W, W) booleans: True where query and key belong to the same sequence; the free slots at a row's end
    form a block of their own. Built block by block in numpy: torch splits an op of this size across its
    threads, and on a busy CPU waiting for the other thread costs more than the whole mask."""
    same = np.zeros((layout.num_rows, layout.width, layout.width), dtype=bool)
    used = [0] * layout.num_rows
    for row, start, length in zip(layout.rows.tolist(), layout.starts.tolist(), layout.lengths.tolist(), strict=True):
        same[row, start : start + length, start : start + length] = True
        used[row] += length
    for row, filled in enumerate(used):
        same[row, filled:, filled:] = True  # the free slots (nothing when the row is full)
    return same


def _mask_form(allowed: np.ndarray, mask_format: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    allowed = allowed[:, None]  # one mask for every head
    if mask_format == "bool":
        return torch.from_numpy(allowed).to(device)
    additive = np.where(allowed, np.float32(0), np.finfo(np.float32).min)
    # The dtype's own minimum: fp32's would overflow to -inf in bf16 and give NaN where a row masks all.
    return torch.from_numpy(additive).to(device=device, dtype=dtype).clamp_(min=torch.finfo(dtype).min)


def unpack(values: torch.Tensor, layout: PackLayout, padded_width: int, fill: float = 0.0) -> torch.Tensor:
    """Per-token outputs of the packed rows (R, W, ...) back in the padded layout (N, padded_width, ...)."""
    source, target = (index.to(values.device) for index in layout.token_index(padded_width))
    trailing = values.shape[2:]
    out = values.new_full((len(layout.lengths) * padded_width, *trailing), fill)
    out[source] = values.reshape(-1, *trailing)[target]
    return out.view(len(layout.lengths), padded_width, *trailing)


# ---------------------------------------------------------------------------------------------------------
# model quirks
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def packed_inputs_accepted(encoder: torch.nn.Module) -> Iterator[None]:
    """While inside, the encoder takes packed batches: DeBERTa-v2's embeddings multiply by the attention mask
    and read only a 2D one, so a 4D mask is kept from them (the free slots it would zero are never read)."""
    handles = []
    embeddings = getattr(encoder, "embeddings", None)
    if getattr(getattr(encoder, "config", None), "model_type", None) == "deberta-v2" and embeddings is not None:
        def drop_4d_mask(module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
            mask = kwargs.get("mask")
            if mask is not None and mask.dim() == 4:
                kwargs = {**kwargs, "mask": None}
            return args, kwargs

        handles.append(embeddings.register_forward_pre_hook(drop_4d_mask, with_kwargs=True))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


# ---------------------------------------------------------------------------------------------------------
# the policy: runtime.packing
# ---------------------------------------------------------------------------------------------------------

# `auto` packs a batch when the packed rows have at least this share fewer slots than the padded batch.
# benchmarks/packing.py (2 CPU threads): at equal slots packed steps ran at 0.8-1.25x the padded ones (noise
# of a busy machine around 1: same work plus a mask of the same size), with 2.2x fewer slots at 1.6-2.1x.
# The speed follows the slots, so a saving well above the noise of one step is worth the rows and the mask.
AUTO_MIN_SAVING = 0.10


class BatchPacker:
    """Packs the training batches of one encoder as ``runtime.packing`` says: True packs every batch of a
    packable family, ``"auto"`` those where packing saves at least :data:`AUTO_MIN_SAVING` of the slots,
    False none. An encoder that cannot pack trains padded, with one log line saying why."""

    def __init__(self, setting: bool | str, encoder: torch.nn.Module, pad_token_id: int):
        if setting not in (True, False, "auto"):
            raise ValueError(f"runtime.packing is true, false or auto, not {setting!r}")
        self.setting, self.pad_token_id = setting, pad_token_id
        self.support = packing_support(encoder) if setting is not False else PackingSupport(False, "packing: false")
        self.enabled = self.support.ok
        self.encoder = encoder
        self.packed_batches = self.batches = 0
        self._said: set[str] = set()
        if setting is not False and not self.support.ok:
            logger.warning("packing (runtime.packing: %s): %s; training on padded batches",
                           str(setting).lower(), self.support.reason)

    def __call__(self, batch: dict[str, torch.Tensor], token_keys: dict[str, int] | None,
                 family: str = "") -> dict[str, Any]:
        """The batch to train on: ``batch`` itself or its packed form."""
        self.batches += 1
        if not self.enabled:
            return batch
        if token_keys is None:
            if self.setting is True and family not in self._said:
                self._said.add(family)
                logger.warning("packing: the %s family trains on padded batches (its batches cannot be packed)",
                               family or "this")
            return batch
        layout = plan_rows(batch["attention_mask"].sum(dim=1).tolist())
        saving = 1 - layout.padded_tokens / batch["input_ids"].numel()
        if self.setting == "auto" and saving < AUTO_MIN_SAVING:
            return batch
        self.packed_batches += 1
        dtype = next(self.encoder.parameters()).dtype
        return pack_batch(batch, self.support, self.pad_token_id, token_keys, layout, mask_dtype=dtype)[0]

    def session(self) -> contextlib.AbstractContextManager:
        """The context the packed forward passes run in (see :func:`packed_inputs_accepted`)."""
        return packed_inputs_accepted(self.encoder) if self.enabled else contextlib.nullcontext()
