"""Span-corruption denoising family: T5's pretraining objective, on an encoder-decoder model.

Example schema (the mlm family's: plain-text corpora)::

    {"id": str, "text": str}

featurize tokenizes every text in one call without special tokens and cuts long ones into consecutive chunks of
at most ``max_length - 1`` tokens (room for the end-of-sequence token), so no text is thrown away.

Corruption is dynamic, drawn anew for every batch by collate from the ``generator`` it is given (a CPU
``torch.Generator``; None means a fresh one seeded 0, so evaluation batches are corrupted the same way every
time), as T5's ``random_spans_noise_mask`` does it. A chunk of n tokens has ``round(n * noise_density)`` noise
tokens (at least 1, at most n - 1) in ``round(noise / mean_noise_span_length)`` spans (at least 1): the noise
tokens and then the kept tokens are each split into that many non-empty runs, uniformly at random (cut points
drawn with ``torch.randperm``), and the runs alternate, kept first, so the last run is always noise (T5's
layout). Then

- the inputs are the chunk with each noise span replaced by one sentinel (span i by sentinel i), then eos;
- the labels are each sentinel followed by the tokens of its span, then eos.

A chunk of one token is a single noise span with nothing kept.

Sentinels are the tokens ``<extra_id_0>``, ``<extra_id_1>``, ... looked up by name in the tokenizer: T5's and
mT5's tokenizers have 100 of them at the top of the vocabulary (``<extra_id_0>`` the last id, going down), and
the project's own tokenizer gets them the same way when trained with ``sentinels=`` (``models.tokenizer``): added
special tokens after the learnt vocabulary, never split, dropped when decoding. A tokenizer without enough
sentinels for the longest chunk is refused at featurize, naming the fix.

collate only receives features, so each feature carries what corruption needs: ``noise_tokens`` and
``noise_spans`` (they follow from its length and the settings), the ``sentinel_ids`` of its spans,
``eos_token_id`` and ``vocab_size``.

The model is the whole seq2seq model (``AutoModelForSeq2SeqLM``: T5, mT5, mBART), the head None; ``forward`` feeds
the decoder the labels shifted right (the model's own ``prepare_decoder_input_ids_from_labels``) and keeps the
logits at label positions only. From there the results are the mlm family's: ``accuracy`` (teacher-forced
label tokens predicted right, over all label tokens; units per example) and ``perplexity`` (exp of the mean
cross-entropy per label token); the uniform predictor's chance is 100 / vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from xstilts.errors import XstiltsError
from xstilts.families.common import IGNORE_INDEX, attention_mask_for, pad_sequences
from xstilts.families.denoising_settings import SPEC, noise_counts
from xstilts.families.mlm import MaskedLMFamily

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task

SENTINEL = "<extra_id_{}>"


# ---------------------------------------------------------------- corruption


def _segment(total: int, parts: int, generator: torch.Generator) -> list[int]:
    """``total`` items as ``parts`` non-empty runs, every split equally likely (``parts`` - 1 distinct cuts)."""
    if parts == 1:
        return [total]
    cuts = sorted((torch.randperm(total - 1, generator=generator)[: parts - 1] + 1).tolist())
    return [end - start for start, end in zip([0, *cuts], [*cuts, total], strict=True)]


def span_mask(length: int, noise: int, spans: int, generator: torch.Generator) -> list[bool]:
    """True at the noise positions: kept and noise runs alternate, kept first (the last run is noise). The noise
    runs are drawn first, then the kept ones (T5's order)."""
    noise_runs = _segment(noise, spans, generator)
    kept_runs = _segment(length - noise, spans, generator) if length > noise else [0]
    mask: list[bool] = []
    for kept, corrupted in zip(kept_runs, noise_runs, strict=True):
        mask += [False] * kept + [True] * corrupted
    return mask


def corrupt(tokens: Sequence[int], mask: Sequence[bool], sentinel_ids: Sequence[int],
            eos_token_id: int) -> tuple[list[int], list[int]]:
    """(inputs, labels): span i of ``mask`` becomes ``sentinel_ids[i]`` in the inputs, and the labels are each
    sentinel followed by its span; both end with eos."""
    inputs: list[int] = []
    labels: list[int] = []
    span = -1
    for position, (token, noisy) in enumerate(zip(tokens, mask, strict=True)):
        if noisy:
            if position == 0 or not mask[position - 1]:
                span += 1
                if span >= len(sentinel_ids):
                    raise ValueError(f"the mask has more spans than the {len(sentinel_ids)} sentinels given")
                inputs.append(sentinel_ids[span])
                labels.append(sentinel_ids[span])
            labels.append(token)
        else:
            inputs.append(token)
    return [*inputs, eos_token_id], [*labels, eos_token_id]


def sentinel_ids(tokenizer: PreTrainedTokenizerFast) -> list[int]:
    """The ids of ``<extra_id_0>``, ``<extra_id_1>``, ... for as long as the tokenizer has them."""
    vocab = tokenizer.get_vocab()
    ids: list[int] = []
    while SENTINEL.format(len(ids)) in vocab:
        ids.append(vocab[SENTINEL.format(len(ids))])
    return ids


# ---------------------------------------------------------------- family


class DenoisingFamily(MaskedLMFamily):
    """Span corruption for an encoder-decoder. Validation and results (accuracy and perplexity over predicted
    tokens, chance) are the mlm family's; data and model differ."""

    spec = SPEC
    packed_token_keys = None  # inputs and labels have different lengths: nothing to pack per token

    def featurize(
        self, task: Task, examples: list[dict[str, Any]], tokenizer: PreTrainedTokenizerFast, max_length: int
    ) -> list[dict[str, Any]]:
        settings = self.checked(task)
        if max_length < 2:
            raise XstiltsError(f"max_length {max_length} leaves no room for a token next to the end-of-sequence "
                               "token: span corruption needs at least 2")
        if tokenizer.eos_token_id is None:
            raise XstiltsError("the tokenizer has no end-of-sequence token, which span corruption ends inputs and "
                               "labels with")
        density, mean_span = settings.noise_density, settings.mean_noise_span_length
        sentinels = sentinel_ids(tokenizer)
        needed = noise_counts(max_length - 1, density, mean_span)[1]
        if len(sentinels) < needed:
            raise XstiltsError(
                f"task {task.name!r}: span corruption of chunks up to {max_length - 1} tokens needs {needed} sentinel "
                f"tokens <extra_id_0> ... <extra_id_{needed - 1}>, and the tokenizer has {len(sentinels)}. Train it "
                "with sentinels (models.tokenizer.train_tokenizer(..., sentinels=100)) or use a T5/mT5 tokenizer"
            )
        if not examples:
            return []
        vocab_size = len(tokenizer)
        self._vocab_sizes[task.name] = vocab_size
        encoded = tokenizer(
            [example["text"] for example in examples],
            add_special_tokens=False,
            truncation=True,
            max_length=max_length - 1,
            stride=0,
            return_overflowing_tokens=True,
        )
        features = []
        for ids, example_index in zip(encoded["input_ids"], encoded["overflow_to_sample_mapping"], strict=True):
            if not ids:  # a text of nothing but what the tokenizer drops
                continue
            noise, spans = noise_counts(len(ids), density, mean_span)
            features.append({
                "input_ids": ids,
                "example_index": int(example_index),
                "length": len(ids) - noise + spans + 1,  # the corrupted inputs, eos included
                "noise_tokens": noise,
                "noise_spans": spans,
                "sentinel_ids": sentinels[:spans],
                "eos_token_id": tokenizer.eos_token_id,
                "vocab_size": vocab_size,
            })
        return features

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        first = features[0]
        if any(f["vocab_size"] != first["vocab_size"] or f["eos_token_id"] != first["eos_token_id"]
               for f in features[1:]):
            raise ValueError("a denoising batch mixes features made with different tokenizers")
        inputs, labels = [], []
        for feature in features:  # one row after the other: the draws come in a fixed order
            tokens = feature["input_ids"]
            mask = span_mask(len(tokens), feature["noise_tokens"], feature["noise_spans"], generator)
            row_inputs, row_labels = corrupt(tokens, mask, feature["sentinel_ids"], feature["eos_token_id"])
            inputs.append(row_inputs)
            labels.append(row_labels)
        input_ids = pad_sequences(inputs, pad_token_id)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask_for(input_ids, pad_token_id, [len(row) for row in inputs]),
            "labels": pad_sequences(labels, IGNORE_INDEX),
        }

    def build_head(self, task: Task, encoder_config: Any) -> torch.nn.Module | None:
        return None  # the seq2seq model's own language-model head writes the spans

    def forward(self, model: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]) -> Any:
        labels = batch["labels"]
        shift = getattr(model, "prepare_decoder_input_ids_from_labels", None)
        if shift is None:
            raise XstiltsError(f"the denoising family needs an encoder-decoder model (T5, mT5, mBART), not a "
                               f"{type(model).__name__}")
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                       decoder_input_ids=shift(labels=labels)).logits
        chosen = labels != IGNORE_INDEX
        # Boolean indexing keeps row-major order, as the mlm family's loss and predict expect.
        return {"logits": logits[chosen], "labels": labels[chosen], "counts": chosen.sum(dim=1)}


FAMILY = DenoisingFamily()
