"""Generation family: source text -> target text on an encoder-decoder (T5, mT5, mBART), scored with BLEU.

Example schema::

    {"id": str, "source": str, "target": str}

``target`` is the reference text (what the model is trained to produce; the reference BLEU is scored
against). A study-declared task may also read ``source<TAB>target`` lines (``.tsv``, ``tasks/readers.py``).

Featurize tokenizes sources and targets once (cached like every family's features): the source with the
tokenizer's special tokens, cut at ``source_max_length`` (default: the stage's or the evaluation's max_length);
the target as the labels, ending with the end-of-sequence token, cut at ``target_max_length``. A tokenizer that
opens every text with a BOS token distinct from its EOS (the project's trained tokenizers, XLM-R style) has it
dropped from the labels: the decoder starts from its own start token (T5's is the pad id). Each feature also
carries the task's decoding settings (``forward`` only sees the batch; see ``generation_settings``).

The model is the whole ``AutoModelForSeq2SeqLM``, and there is no head (``build_head`` is None). In training
(the model in train mode) ``forward`` computes teacher-forced logits (decoder inputs are the labels shifted
right, the model's own ``prepare_decoder_input_ids_from_labels``) and ``loss`` is the mean cross-entropy over
the target tokens (padding is -100). In evaluation (eval mode) ``forward`` generates with transformers'
``generate`` (KV cache, greedy or beam search, ``max_new_tokens``, ``length_penalty``) on the batch, which the
evaluator has sorted by source length, and decodes the outputs with the tokenizer the model carries
(``models.seq2seq.with_tokenizer``), special tokens skipped and whitespace stripped. ``predict`` gives these
texts; ``postprocess`` puts them in example order.

Metric ``bleu``: :func:`xstilts.scoring.generation.corpus_bleu` (XGLUE's formula: sacreBLEU corpus BLEU,
lower-cased, stripped lines, 0-100). It is a corpus statistic, not a ratio of per-example sums, so it has no units.
Metric ``off_target`` (zero-shot generation's failure: answering in English): the percent of outputs that py3langid
does not identify as the task's ``target_language`` (:mod:`xstilts.scoring.language_id`), one unit per output; the
evaluator sets the target language to the evaluated one (``config.evaluations.evaluated_task``). Where it is
unknown or not identifiable the metric has no score ("n/a": no result row). Chance: the BLEU of answering every
example with the target of another example of the same set (a seeded derangement), which is what a model that
ignores its input and writes fluent in-domain text would score; a set of fewer than two examples has chance 0.
"""

from __future__ import annotations

import copy
import random
from typing import TYPE_CHECKING, Any

import torch

from xstilts.errors import XstiltsError
from xstilts.families.base import Evaluation, Family
from xstilts.families.common import (
    IGNORE_INDEX,
    attention_mask_for,
    example_ids,
    one_per_example,
    pad_sequences,
)
from xstilts.families.generation_settings import DECODING_KEYS, SPEC, TOKENIZER_ATTRIBUTE, GenerationSettings
from xstilts.families.language_codes import forced_code
from xstilts.scoring.generation import corpus_bleu
from xstilts.scoring.units import Units

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task


class GenerationFamily(Family):
    spec = SPEC

    # ----- data -----
    def validate_example(self, task: Task, example: dict[str, Any]) -> str | None:
        self.checked(task)
        if not isinstance(example.get("id"), str):
            return "every example needs a string 'id'"
        source, target = example.get("source"), example.get("target")
        if not isinstance(source, str) or not source.strip():
            return f"'source' must be a non-empty string, found {source!r}"
        if not isinstance(target, str):
            return f"'target' must be a string (the reference text; may be empty), found {type(target).__name__}"
        return None

    def featurize(
        self, task: Task, examples: list[dict[str, Any]], tokenizer: PreTrainedTokenizerFast, max_length: int
    ) -> list[dict[str, Any]]:
        settings: GenerationSettings = self.checked(task)
        if not examples:
            return []
        source_length = settings.source_max_length or max_length
        sources = tokenizer([ex["source"] for ex in examples], truncation=True, max_length=source_length)["input_ids"]
        targets = encode_targets(tokenizer, [ex["target"] for ex in examples], settings.target_max_length)
        return generation_features(sources, targets, settings)

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        return collate_generation(features, pad_token_id)

    # ----- model -----
    def build_head(self, task: Task, encoder_config: Any) -> None:
        return None  # the LM head is the model's own

    def forward(self, model: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]) -> Any:
        if model.training:
            return {"logits": teacher_forced_logits(model, batch)}
        return {"texts": generate_texts(model, batch)}

    def loss(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return target_loss(outputs["logits"], batch["labels"])

    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        if "texts" not in outputs:
            raise XstiltsError("the generation family predicts from generated texts: run the model in eval mode")
        return list(outputs["texts"])

    # ----- results -----
    def postprocess(
        self, task: Task, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        return [text.strip() for text in one_per_example(examples, features, raw)]

    def score(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return self.scored(task, examples, predictions).scores

    def example_units(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        """off_target's units (one per output, 1 when not identified as the target language), when the task asks
        for it and its target language is known and identifiable; BLEU has none."""
        language = self.checked(task).target_language
        if "off_target" not in task.metrics or not language:
            return {}
        from xstilts.scoring.language_id import off_target_units

        units = off_target_units(example_ids(examples), predictions, language)
        return {} if units is None else {"off_target": units}

    def scored(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> Evaluation:
        """BLEU of the set, and off_target from its units. off_target has no score where the target language is
        unknown or not identifiable (a synthetic micro language): "n/a", so that metric has no result row."""
        units = self.example_units(task, examples, predictions)
        references = [example["target"] for example in examples]
        scores = {metric: units[metric].value() if metric in units else corpus_bleu(predictions, references)
                  for metric in task.metrics if metric in units or metric == "bleu"}
        return Evaluation(predictions, scores, units)

    def chance(self, task: Task, examples: list[dict[str, Any]]) -> dict[str, float]:
        """BLEU of the derangement (see the module docstring); off_target has no chance level (an output's
        language is not drawn from the task's outputs)."""
        targets = [example["target"] for example in examples]
        metrics = [metric for metric in task.metrics if metric == "bleu"]
        if len(targets) < 2:
            return {metric: 0.0 for metric in metrics}
        order = list(range(len(targets)))
        random.Random(f"{task.name}/{len(targets)}").shuffle(order)
        # Each example in the shuffled cycle answers with the next one's target: never its own.
        answers = [""] * len(targets)
        for position, index in enumerate(order):
            answers[index] = targets[order[(position + 1) % len(order)]]
        return {metric: corpus_bleu(answers, targets) for metric in metrics}

    # ----- evaluation -----
    def evaluation_recipe(self, task: Task, max_length: int, encoder_config: Any) -> dict[str, Any]:
        settings: GenerationSettings = self.checked(task)
        return {"max_length": settings.source_max_length or max_length,
                "target_max_length": settings.target_max_length,
                **{key: getattr(settings, key) for key in DECODING_KEYS}}


def opens_with_bos(tokenizer: Any) -> bool:
    """Whether the tokenizer starts every text with a BOS token other than its EOS (then the labels drop it)."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    if bos is None or bos == eos:
        return False
    probe = tokenizer(text_target="a")["input_ids"]
    return bool(probe) and probe[0] == bos


def encode_targets(tokenizer: Any, texts: list[str], max_length: int | None = None) -> list[list[int]]:
    """Target ids as the decoder is trained on them: ``</s>`` at the end, no leading BOS; cut at ``max_length``
    (``</s>`` kept) when given."""
    if not texts:
        return []
    drop_bos = opens_with_bos(tokenizer)
    limit = {} if max_length is None else {"truncation": True, "max_length": max_length + int(drop_bos)}
    encoded = tokenizer(text_target=texts, **limit)["input_ids"]
    return [list(ids[1:] if drop_bos else ids) for ids in encoded]


def generation_features(sources: list[list[int]], targets: list[list[int]], settings: Any) -> list[dict[str, Any]]:
    """One feature per example: source ids, gold target ids and the decoding settings it is generated with
    (they travel with the features, so one evaluation's batches all decode alike)."""
    decoding = {key: getattr(settings, key) for key in DECODING_KEYS}
    return [
        {"input_ids": list(source), "labels": target, "example_index": index, "length": len(source), **decoding}
        for index, (source, target) in enumerate(zip(sources, targets, strict=True))
    ]


def collate_generation(features: list[dict[str, Any]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Sources, their mask and the labels (``collate_pairs``), with the decoding settings as columns."""
    return {
        **collate_pairs(features, pad_token_id),
        "num_beams": torch.tensor([f["num_beams"] for f in features], dtype=torch.long),
        "max_new_tokens": torch.tensor([f["max_new_tokens"] for f in features], dtype=torch.long),
        "length_penalty": torch.tensor([f["length_penalty"] for f in features], dtype=torch.float64),
    }


def collate_pairs(features: list[dict[str, Any]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Sources padded, with their mask, and the gold targets as labels (padding -100)."""
    input_ids = pad_sequences([f["input_ids"] for f in features], pad_token_id)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask_for(input_ids, pad_token_id, [len(f["input_ids"]) for f in features]),
        "labels": pad_sequences([f["labels"] for f in features], IGNORE_INDEX),
    }


def teacher_forced_logits(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Decoder logits for the gold targets (decoder inputs: the labels shifted right, the model's own rule)."""
    decoder_inputs = model.prepare_decoder_input_ids_from_labels(labels=batch["labels"])
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                 decoder_input_ids=decoder_inputs, use_cache=False).logits


def target_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the target tokens (padding -100 left out); float for bf16 runs."""
    return torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                             ignore_index=IGNORE_INDEX)


def decoding_settings(batch: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The batch's decoding settings (one evaluated set shares them: every row must agree)."""
    values = {}
    for key in DECODING_KEYS:
        column = batch[key]
        if bool((column != column[0]).any()):
            raise XstiltsError(f"one generation batch mixes {key} values {sorted(set(column.tolist()))}: "
                               "features of one evaluation share its decoding settings")
        values[key] = column[0].item()
    return values


def generate_texts(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> list[str]:
    """The decoded outputs of ``model.generate`` on the batch, with its decoding settings (KV cache on)."""
    tokenizer = getattr(model, TOKENIZER_ATTRIBUTE, None)
    if tokenizer is None:
        raise XstiltsError(f"{type(model).__name__} carries no tokenizer to decode its outputs with: build or load "
                           "it through xstilts.models (models.seq2seq.with_tokenizer)")
    settings = decoding_settings(batch)
    config = copy.deepcopy(model.generation_config)
    beams = int(settings["num_beams"])
    config.update(num_beams=beams, max_new_tokens=int(settings["max_new_tokens"]),
                  length_penalty=float(settings["length_penalty"]), do_sample=False, use_cache=True,
                  early_stopping=beams > 1, num_return_sequences=1, max_length=None)
    code = forced_code(tokenizer, batch["input_ids"][:, 0].tolist())
    if code is not None:  # mBART-50: write in the language the source is in (its code opens the output)
        config.update(forced_bos_token_id=code)
    sequences = model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                               generation_config=config)
    return [text.strip() for text in tokenizer.batch_decode(sequences, skip_special_tokens=True)]


FAMILY = GenerationFamily()
