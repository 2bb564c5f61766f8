"""Masked language modelling family (continued MLM training, the MLM-auxiliary variant).

Example schema::

    {"id": str, "text": str}

featurize tokenizes all texts in one call and cuts long ones into consecutive chunks of at most
``max_length`` tokens (special tokens included, no overlap), so no text is thrown away.

Masking is dynamic: collate draws new masks for every batch from the ``generator`` it is given (a CPU
``torch.Generator``; None means a fresh one seeded 0, so evaluation batches are masked the same way every
time). It chooses 15% of the non-special positions of each sequence (rounded, at least one), and of those
replaces 80% by ``<mask>``, 10% by a random non-special token and keeps 10%. ``labels`` hold the original id
at chosen positions and -100 elsewhere.

collate only receives features, so every feature carries what masking needs from the tokenizer:
``special_tokens_mask`` (never mask these), ``mask_token_id``, ``vocab_size`` (``len(tokenizer)``) and
``special_ids`` (ids random replacements must avoid). They cost a few ints per feature and make a cached
feature self-sufficient.

The head (dense + GELU + LayerNorm, then a projection onto the vocabulary) is computed only at the masked
positions: with a 250k vocabulary the projection dominates, and ~85% of it would be thrown away. Its decoder
weight is the encoder's input embedding matrix, read at every forward (not stored in the head), so the
tie survives saving the encoder and the head separately, and only the bias belongs to the head.

Metrics: ``accuracy`` (micro masked-token accuracy over all masked positions) and ``perplexity``
(exp of the mean cross-entropy per masked token). Accuracy has one unit per example, its correct masked tokens
over its masked tokens; perplexity, the exp of a ratio, is no ratio of sums and has no units.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from xstilts.errors import XstiltsError
from xstilts.families.base import Family
from xstilts.families.common import IGNORE_INDEX, attention_mask_for, encode, example_ids, pad_sequences
from xstilts.families.mlm_settings import SPEC
from xstilts.scoring.units import Counts, Units, ratio

if TYPE_CHECKING:
    from collections.abc import Sequence

    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task

MASK_PROBABILITY = 0.15
# Of the chosen positions: below 0.8 -> <mask>, 0.8-0.9 -> random token, the rest keep their token.
MASK_TOKEN_SHARE, RANDOM_TOKEN_SHARE = 0.8, 0.1
# Layout of predict's per-feature array.
MASKED, CORRECT, LOSS_SUM = 0, 1, 2


# ---------------------------------------------------------------- masking


def random_non_special_ids(
    shape: Sequence[int], vocab_size: int, special_ids: Sequence[int], generator: torch.Generator
) -> torch.Tensor:
    """Ids drawn uniformly from ``range(vocab_size)`` minus ``special_ids``.

    Draws from ``range(vocab_size - number of specials)`` and steps each draw over the specials in ascending
    order: after stepping over ``s``, the draws are exactly the ids that skip ``s``, so no table of the
    allowed ids is needed.
    """
    specials = sorted({s for s in special_ids if 0 <= s < vocab_size})
    allowed = vocab_size - len(specials)
    if allowed < 1:
        raise ValueError(f"a vocabulary of {vocab_size} ids has no non-special token")
    ids = torch.randint(0, allowed, tuple(shape), generator=generator)
    for special in specials:
        ids += (ids >= special).long()
    return ids


def mask_tokens(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    generator: torch.Generator,
    mask_token_id: int,
    vocab_size: int,
    special_ids: Sequence[int],
    probability: float = MASK_PROBABILITY,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(masked input ids, labels) for a padded batch; ``special`` is True at special and padding positions.

    Every random draw comes from ``generator`` in a fixed order, so the same generator state gives the
    same masks.
    """
    candidates = ~special
    available = candidates.sum(dim=1)
    count = torch.minimum((available.float() * probability).round().long().clamp(min=1), available)
    # Rank the candidate positions of each row in a random order (non-candidates sort last: noise 2 > 1)
    # and choose the first `count` of them: an exact count per row, uniformly chosen.
    noise = torch.rand(input_ids.shape, generator=generator).masked_fill(special, 2.0)
    rank = noise.argsort(dim=1).argsort(dim=1)
    chosen = rank < count.unsqueeze(1)

    action = torch.rand(input_ids.shape, generator=generator)
    to_mask = chosen & (action < MASK_TOKEN_SHARE)
    to_random = chosen & (action >= MASK_TOKEN_SHARE) & (action < MASK_TOKEN_SHARE + RANDOM_TOKEN_SHARE)
    random_ids = random_non_special_ids(input_ids.shape, vocab_size, special_ids, generator)

    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    masked = input_ids.masked_fill(to_mask, mask_token_id)
    masked = torch.where(to_random, random_ids, masked)
    return masked, labels


# ---------------------------------------------------------------- head


class MaskedLMHead(nn.Module):
    """Transform (dense + GELU + LayerNorm) and a vocabulary projection with tied weight and own bias."""

    def __init__(self, hidden_size: int, embedding_size: int, vocab_size: int, layer_norm_eps: float = 1e-5):
        super().__init__()
        # embedding_size differs from hidden_size for factorised embeddings (ALBERT, ELECTRA).
        self.dense = nn.Linear(hidden_size, embedding_size)
        self.activation = nn.GELU()
        self.layer_norm = nn.LayerNorm(embedding_size, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: torch.Tensor, decoder_weight: torch.Tensor) -> torch.Tensor:
        """Logits (positions, vocab) for hidden states (positions, hidden); ``decoder_weight`` is the
        encoder's input embedding matrix (vocab, embedding)."""
        if decoder_weight.shape[0] != self.bias.shape[0]:
            raise XstiltsError(
                f"the encoder's input embeddings have {decoder_weight.shape[0]} rows but the MLM head was built "
                f"for a vocabulary of {self.bias.shape[0]}: build the head after resizing the embeddings"
            )
        return F.linear(self.layer_norm(self.activation(self.dense(hidden))), decoder_weight, self.bias)


# ---------------------------------------------------------------- family


class MaskedLMFamily(Family):
    spec = SPEC
    # Masks are drawn on the padded batch first, so a packed batch holds the same masked tokens.
    packed_token_keys = {"labels": IGNORE_INDEX}

    def __init__(self) -> None:
        # Vocabulary size per task name, noted when features pass through featurize/postprocess: chance()
        # only receives the task and the examples (see chance).
        self._vocab_sizes: dict[str, int] = {}

    # ----- data -----
    def validate_example(self, task: Task, example: dict[str, Any]) -> str | None:
        self.checked(task)  # a bad task raises (it is not the example's fault)
        if not isinstance(example.get("id"), str):
            return "every example needs a string 'id'"
        text = example.get("text")
        if not isinstance(text, str):
            return f"'text' must be a string, not {type(text).__name__}"
        if not text.strip():
            return "'text' is empty: drop the line, an empty text has no token to mask"
        return None

    def featurize(
        self, task: Task, examples: list[dict[str, Any]], tokenizer: PreTrainedTokenizerFast, max_length: int
    ) -> list[dict[str, Any]]:
        self.checked(task)
        specials = tokenizer.num_special_tokens_to_add(pair=False)
        if max_length <= specials:
            raise XstiltsError(
                f"max_length {max_length} leaves no room for text next to {specials} special tokens"
            )
        if tokenizer.mask_token_id is None:
            raise XstiltsError(
                "the tokenizer has no mask token, so it cannot be used for masked language modelling"
            )
        if not examples:
            return []
        vocab_size = len(tokenizer)
        self._vocab_sizes[task.name] = vocab_size
        special_ids = sorted(set(tokenizer.all_special_ids))
        # Overflow with stride 0 cuts a long text into consecutive chunks, each with its own <s> ... </s>.
        encoded = tokenizer(
            [example["text"] for example in examples],
            truncation=True,
            max_length=max_length,
            stride=0,
            return_overflowing_tokens=True,
            return_special_tokens_mask=True,
        )
        return [
            {
                "input_ids": ids,
                "special_tokens_mask": special,
                "example_index": int(example_index),
                "length": len(ids),
                "mask_token_id": tokenizer.mask_token_id,
                "vocab_size": vocab_size,
                "special_ids": special_ids,
            }
            for ids, special, example_index in zip(
                encoded["input_ids"],
                encoded["special_tokens_mask"],
                encoded["overflow_to_sample_mapping"],
                strict=True,
            )
        ]

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        first = features[0]
        for feature in features[1:]:
            if (
                feature["mask_token_id"] != first["mask_token_id"]
                or feature["vocab_size"] != first["vocab_size"]
            ):
                raise ValueError("an MLM batch mixes features made with different tokenizers")
        lengths = [len(f["input_ids"]) for f in features]
        input_ids = pad_sequences([f["input_ids"] for f in features], pad_token_id)
        # Padding counts as special, so it is never chosen.
        special = pad_sequences([f["special_tokens_mask"] for f in features], 1).bool()
        masked, labels = mask_tokens(
            input_ids, special, generator, first["mask_token_id"], first["vocab_size"], first["special_ids"]
        )
        return {
            "input_ids": masked,
            "attention_mask": attention_mask_for(input_ids, pad_token_id, lengths),
            "labels": labels,
        }

    # ----- model -----
    def build_head(self, task: Task, encoder_config: Any) -> torch.nn.Module | None:
        hidden_size = encoder_config.hidden_size
        return MaskedLMHead(
            hidden_size=hidden_size,
            # The decoder is the input embedding matrix: its width is DeBERTa's embedding_size, RemBERT's
            # input_embedding_size (narrower than the hidden size), the hidden size elsewhere.
            embedding_size=getattr(encoder_config, "embedding_size", None)
            or getattr(encoder_config, "input_embedding_size", None) or hidden_size,
            vocab_size=encoder_config.vocab_size,
            layer_norm_eps=getattr(encoder_config, "layer_norm_eps", 1e-5),
        )

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> Any:
        if head is None:
            raise ValueError("the mlm family needs its head")
        hidden = encode(encoder, batch)[0]
        labels = batch["labels"]
        chosen = labels != IGNORE_INDEX
        # Boolean indexing keeps row-major order: the masked positions of row 0 first, then row 1, ...
        logits = head(hidden[chosen], encoder.get_input_embeddings().weight)
        return {"logits": logits, "labels": labels[chosen], "counts": chosen.sum(dim=1)}

    def loss(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits, labels = outputs["logits"], outputs["labels"]
        if labels.numel() == 0:
            return logits.sum() * 0.0  # keeps the graph; collate always masks at least one token
        return F.cross_entropy(logits.float(), labels)

    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        logits, labels, counts = outputs["logits"].detach().float(), outputs["labels"], outputs["counts"]
        rows = torch.repeat_interleave(torch.arange(len(counts), device=counts.device), counts)
        losses = torch.zeros(len(counts), device=logits.device).index_add_(
            0, rows, F.cross_entropy(logits, labels, reduction="none")
        )
        correct = torch.zeros(len(counts), device=logits.device).index_add_(
            0, rows, (logits.argmax(dim=-1) == labels).float()
        )
        table = torch.stack([counts.float(), correct, losses], dim=1).cpu().double().numpy()
        return list(table)  # per feature: [masked, correct, summed loss]

    # ----- results -----
    def postprocess(
        self, task: Task, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        totals = np.zeros((len(examples), 3), dtype=np.float64)
        for feature, values in zip(features, raw, strict=True):
            totals[feature["example_index"]] += np.asarray(values, dtype=np.float64)
        if features:
            self._vocab_sizes[task.name] = int(features[0]["vocab_size"])
        return [
            {"masked": int(row[MASKED]), "correct": int(row[CORRECT]), "loss": float(row[LOSS_SUM])}
            for row in totals
        ]

    def example_units(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        self.checked(task)
        if "accuracy" not in task.metrics:
            return {}
        return {"accuracy": Units.of(example_ids(examples), _accuracy_units(predictions))}

    def score(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        self.checked(task)
        masked = sum(p["masked"] for p in predictions)
        loss = sum(p["loss"] for p in predictions)
        scores = {"accuracy": ratio(*_accuracy_units(predictions))}
        if "perplexity" in task.metrics:
            scores["perplexity"] = math.exp(loss / masked) if masked else math.inf
        return {metric: scores[metric] for metric in task.metrics}

    def chance(self, task: Task, examples: list[dict[str, Any]]) -> dict[str, float]:
        """The uniform predictor over the whole vocabulary of V ids: accuracy 100/V, perplexity V.

        V comes from the task setting ``vocab_size`` if given, else from the features this family last
        featurized or postprocessed for the task (chance does not see the tokenizer).
        """
        vocab_size = self.checked(task).vocab_size or self._vocab_sizes.get(task.name)
        if not vocab_size:
            raise XstiltsError(
                f"task {task.name!r}: the MLM chance level needs the vocabulary size; evaluate the task first "
                "or set settings.vocab_size in its declaration"
            )
        scores = {"accuracy": 100.0 / vocab_size, "perplexity": float(vocab_size)}
        return {metric: scores[metric] for metric in task.metrics}


def _accuracy_units(predictions: list[Any]) -> Counts:
    """Per example: its correctly predicted masked tokens over its masked tokens."""
    return [float(p["correct"]) for p in predictions], [float(p["masked"]) for p in predictions]


FAMILY = MaskedLMFamily()
