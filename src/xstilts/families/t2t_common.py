"""What the text-to-text variants share (``families/t2t_*.py``; the dispatch is ``families/text_to_text.py``).

- **Sources from templates.** A source is a list of segments, fixed words (``"nli sentence1:"``) and the
  example's texts. Every segment is tokenized once, in one batched call, without special tokens; the texts are
  cut "longest first" (as an encoder family cuts a text pair) until prefix, texts and the tokenizer's special
  tokens fit ``max_length``; the special tokens are the tokenizer's own for one text (T5: ``</s>`` at the end;
  the project's trained tokenizers: ``<s> ... </s>``). Cutting ids rather than characters keeps every kept token as
  the whole text would have it, up to SentencePiece's word-initial marks at a cut.
- **Targets** are tokenized as the generation family's (``text_target``, ``</s>`` at the end, a leading BOS
  dropped: the decoder starts from its own start token).
- **Training** is the generation family's teacher forcing: the loss is the mean cross-entropy over target
  tokens.
- **Scoring candidates** (classification labels, multiple-choice choices): the source is encoded once, and
  every candidate of an example is scored by its teacher-forced log-likelihood under the decoder, the sum of
  its tokens' log-probabilities, ``</s>`` included (the probability of the whole sequence, not of a prefix).
  The prediction is the candidate of highest likelihood, so it is always a valid label or choice.
- **The encoder task**: a variant scores, counts units and computes chance by the encoder family's own code on
  the task as that family declares it (:func:`encoder_task`), never restating it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch

from xstilts.errors import XstiltsError
from xstilts.families.base import Family
from xstilts.families.common import IGNORE_INDEX

# The seq2seq building blocks live with the generation family; text-to-text variants use them as they are.
from xstilts.families.generation import (  # noqa: F401 - re-exported for the t2t families
    collate_pairs,
    encode_targets,
    target_loss,
    teacher_forced_logits,
)
from xstilts.scoring.units import Units

# A template segment: fixed text (never cut) or an example's text (cut when the source is too long).
Segment = tuple[str, bool]


def fixed(text: str) -> Segment:
    return text, False


def cuttable(text: str) -> Segment:
    return text, True


def encoder_task(task: Any, family: str, settings_keys: Sequence[str]) -> Any:
    """The task as the encoder family ``family`` declares it: that family's name, and only the settings it
    knows (a variant's own settings, such as decoding, left out), so the encoder family's checks and scoring
    apply unchanged."""
    settings = {key: value for key, value in task.settings.items() if key in settings_keys}
    return replace(task, family=family, settings=settings)


def longest_first(lengths: Sequence[int], budget: int) -> list[int]:
    """How many tokens each cuttable text keeps when they must fit ``budget`` together: the longest is cut
    first, one token at a time, and on a tie the later text (as the tokenizer's "longest_first" cuts the pair
    before the first text). Closed form: every text keeps min(length, c) for the largest c that fits, and the
    tokens left over go one each to the earliest texts cut at c."""
    if sum(lengths) <= budget:
        return list(lengths)
    budget = max(budget, 0)
    low, high = 0, max(lengths)
    while low < high:  # the largest cap c with sum(min(length, c)) <= budget
        middle = (low + high + 1) // 2
        if sum(min(length, middle) for length in lengths) <= budget:
            low = middle
        else:
            high = middle - 1
    kept = [min(length, low) for length in lengths]
    left = budget - sum(kept)
    for index, length in enumerate(lengths):
        if left == 0:
            break
        if length > low:
            kept[index] += 1
            left -= 1
    return kept


def encode_sources(
    tokenizer: Any, templates: list[list[Segment]], max_length: int, task_name: str
) -> list[list[int]]:
    """The token ids of each source (special tokens included), its texts cut longest first to ``max_length``."""
    pieces = [text for template in templates for text, _ in template]
    if not pieces:
        return []
    ids = tokenizer(pieces, add_special_tokens=False, return_attention_mask=False)["input_ids"]
    opening, closing = special_tokens_around(tokenizer)
    room = max_length - len(opening) - len(closing)
    sources, position = [], 0
    for template in templates:
        segments = [list(ids[position + offset]) for offset in range(len(template))]
        position += len(template)
        fixed_length = sum(len(seg) for seg, (_, cut) in zip(segments, template, strict=True) if not cut)
        if fixed_length >= room:
            raise XstiltsError(
                f"task {task_name!r}: max_length {max_length} leaves no room for the example's text after the "
                f"text-to-text template ({fixed_length} tokens of fixed words and special tokens); raise the "
                "stage's or the evaluation's max_length")
        cut_at = iter(longest_first([len(seg) for seg, (_, cut) in zip(segments, template, strict=True) if cut],
                                    room - fixed_length))
        kept = [seg[:next(cut_at)] if cut else seg for seg, (_, cut) in zip(segments, template, strict=True)]
        sources.append([*opening, *(token for seg in kept for token in seg), *closing])
    return sources


def special_tokens_around(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after one text (T5: none and ``</s>``; XLM-R style:
    ``<s>`` and ``</s>``; mBART-50: the language code and ``</s>``), read off a probe text: transformers 5's
    fast tokenizers have no ``build_inputs_with_special_tokens`` to add them to ids cut by hand."""
    probe = "a"
    bare = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe)["input_ids"])
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return full[:start], full[start + len(bare):]
    raise XstiltsError(f"{type(tokenizer).__name__} does not keep a text's tokens whole between its special "
                       "tokens; text-to-text sources cannot be built with it")


def collate_candidates(features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Every feature's candidate targets as ``[examples, candidates, tokens]`` (padding -100) and which are
    real (examples with fewer candidates than the batch's widest get empty ones, never scored)."""
    width = max(len(f["candidates"]) for f in features)
    length = max(len(ids) for f in features for ids in f["candidates"])
    candidates = torch.full((len(features), width, length), IGNORE_INDEX, dtype=torch.long)
    real = torch.zeros((len(features), width), dtype=torch.bool)
    for row, feature in enumerate(features):
        for column, ids in enumerate(feature["candidates"]):
            candidates[row, column, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
            real[row, column] = True
    return {"candidates": candidates, "candidate_mask": real}


def sequence_log_likelihoods(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per row, the sum of the log-probabilities of its label tokens (positions of -100 count nothing)."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    present = labels != IGNORE_INDEX
    picked = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * present).sum(dim=-1)


def candidate_scores(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``[examples, candidates]``: each candidate's log-likelihood given its example's source (-inf for padded
    candidates). The encoder runs once per source; the decoder once per real candidate, all in one call."""
    from transformers.modeling_outputs import BaseModelOutput

    real = batch["candidate_mask"]
    rows = real.nonzero(as_tuple=True)[0]  # the source of each real candidate
    encoded = model.get_encoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    labels = batch["candidates"][real]
    decoder_inputs = model.prepare_decoder_input_ids_from_labels(labels=labels)
    logits = model(encoder_outputs=BaseModelOutput(last_hidden_state=encoded.last_hidden_state[rows]),
                   attention_mask=batch["attention_mask"][rows], decoder_input_ids=decoder_inputs,
                   use_cache=False).logits
    scores = torch.full(real.shape, float("-inf"), dtype=torch.float32, device=logits.device)
    scores[real] = sequence_log_likelihoods(logits, labels)
    return scores


def scores_per_feature(scores: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[np.ndarray]:
    """Each feature's candidate log-likelihoods (padding removed), kept whole so that runs can be ensembled."""
    values = scores.detach().float().cpu().numpy()
    counts = batch["candidate_mask"].sum(dim=1).tolist()
    return [row[:count] for row, count in zip(values, counts, strict=True)]


def needs_eval_mode(outputs: Any, key: str, family: str) -> None:
    if key not in outputs:
        raise XstiltsError(f"the {family} family predicts from {key}: run the model in eval mode (training mode "
                           "computes teacher-forced logits for the loss)")


class TextToTextFamily(Family):
    """A text-to-text variant: it reads, scores and judges chance exactly as ``encoder`` (the encoder family it
    stands in for) does, on the task as that family sees it, so rows of both kinds of model compare."""

    encoder: ClassVar[Family]

    def encoder_task(self, task: Any) -> Any:
        return encoder_task(task, self.encoder.name, self.encoder.spec.settings.keys())

    def validate_example(self, task: Any, example: dict[str, Any]) -> str | None:
        self.checked(task)
        return self.encoder.validate_example(self.encoder_task(task), example)

    def build_head(self, task: Any, encoder_config: Any) -> None:
        return None  # the model's own LM head writes (or scores) the target text

    def loss(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return target_loss(outputs["logits"], batch["labels"])

    def score(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return self.encoder.score(self.encoder_task(task), examples, predictions)

    def example_units(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        return self.encoder.example_units(self.encoder_task(task), examples, predictions)

    def chance(self, task: Any, examples: list[dict[str, Any]]) -> dict[str, float]:
        return self.encoder.chance(self.encoder_task(task), examples)


class CandidateScoringFamily(TextToTextFamily):
    """Trains on the gold candidate's text; predicts by each candidate's likelihood (labels, choices): features
    carry ``candidates``, raw outputs are the candidates' log-likelihoods."""

    prediction: ClassVar[str]  # what the recipe column says the prediction is

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        return {**collate_pairs(features, pad_token_id), **collate_candidates(features)}

    def forward(self, model: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]) -> Any:
        if model.training:
            return {"logits": teacher_forced_logits(model, batch)}
        return {"scores": candidate_scores(model, batch)}

    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        needs_eval_mode(outputs, "scores", self.name)
        return scores_per_feature(outputs["scores"], batch)

    def evaluation_recipe(self, task: Any, max_length: int, encoder_config: Any) -> dict[str, Any]:
        return {"max_length": max_length, "prediction": self.prediction}
