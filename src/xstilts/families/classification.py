"""Classification: one text or a text pair -> one label (XNLI, PAWS-X, MNLI, QQP).

Example schema::

    {"id": str, "text": str, "text_pair": str (optional; absent or null for single-text tasks), "label": str}

``label`` is one of ``task.labels``. Ranking tasks (XGLUE WPR) add ``"group": str``, the query an example
belongs to, and ask for the metric "ndcg". A pair is encoded as ``tokenizer(text, text_pair)`` truncated
"longest_first" to the maximum length. The head (XLM-R's classification head) reads the first token
(<s>/[CLS]) of the last hidden state; the loss is cross-entropy. The prediction is the label string.
Metrics: "accuracy" (a uniform random predictor scores 100 / number of labels) and "ndcg" for ranking tasks
whose labels are relevance grades ("0".."4"): the predicted label, read as a number, is the ranking score and
nDCG is averaged over groups, as XGLUE scores WPR (``metrics.grouped_ndcg``). Its chance value has no closed
form: it is the mean over ``CHANCE_DRAWS`` draws of uniformly random labels from ``random.Random(CHANCE_SEED)``.
Units (:meth:`example_units`): accuracy has one per example (1 or 0 over 1), nDCG one per group of 2 or more
examples, the group's nDCG (0-1) over 1, with the group as its id.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from xstilts.errors import XstiltsError
from xstilts.families.base import Family
from xstilts.families.classification_settings import SPEC
from xstilts.families.common import (
    IGNORE_INDEX,
    attention_mask_for,
    example_ids,
    label_index,
    labels_hint,
    one_per_example,
    pad_sequences,
    string_fields_problem,
    type_name,
)
from xstilts.families.heads import PooledClassifierHead, sentence_states
from xstilts.scoring import metrics
from xstilts.scoring.units import Units, scores_from_units

CHANCE_DRAWS = 20
CHANCE_SEED = 20200517


def label_problem(task: Any, label: Any) -> str | None:
    if not task.labels:
        return (
            f"task {task.name!r} declares no labels: a classification task needs `labels` in its declaration"
        )
    if not isinstance(label, str):
        return f"'label' must be a string, found {type_name(label)} {label!r}"
    if label not in task.labels:
        return f"label {label!r} is not one of the task's labels: {labels_hint(task.labels)}"
    return None


class ClassificationFamily(Family):
    spec = SPEC

    # ----- data -----
    def validate_example(self, task: Any, example: dict[str, Any]) -> str | None:
        self.checked(task)  # a bad task raises (it is not the example's fault)
        if problem := string_fields_problem(example, "id", "text"):
            return problem
        pair = example.get("text_pair")
        if pair is not None and not isinstance(pair, str):
            return f"'text_pair' must be a string or null, found {type_name(pair)}"
        group = example.get("group")
        if group is not None and not isinstance(group, str):
            return f"'group' must be a string (the query the example belongs to), found {type_name(group)}"
        if "label" not in example:
            return (
                f"'label' is missing: each example needs one of the task's labels: {labels_hint(task.labels)}"
            )
        return label_problem(task, example["label"])

    def featurize(
        self, task: Any, examples: list[dict[str, Any]], tokenizer: Any, max_length: int
    ) -> list[dict[str, Any]]:
        labels = label_index(task)
        singles = [i for i, ex in enumerate(examples) if ex.get("text_pair") is None]
        pairs = [i for i, ex in enumerate(examples) if ex.get("text_pair") is not None]
        encoded: dict[int, dict[str, list[int]]] = {}
        # One tokenizer call per kind: a batch call cannot mix single texts and pairs.
        if singles:
            batch = tokenizer(
                [examples[i]["text"] for i in singles],
                truncation=True,
                max_length=max_length,
                return_attention_mask=False,
            )
            encoded.update(_rows(batch, singles))
        if pairs:
            batch = tokenizer(
                [examples[i]["text"] for i in pairs],
                [examples[i]["text_pair"] for i in pairs],
                truncation="longest_first",
                max_length=max_length,
                return_attention_mask=False,
            )
            encoded.update(_rows(batch, pairs))
        features = []
        for index, example in enumerate(examples):
            row = encoded[index]
            gold = example.get("label")
            if gold is not None and gold not in labels:
                raise XstiltsError(f"example {example.get('id')!r}: {label_problem(task, gold)}")
            features.append(
                {
                    **row,
                    "example_index": index,
                    "length": len(row["input_ids"]),
                    "label": labels[gold] if gold is not None else IGNORE_INDEX,
                }
            )
        return features

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        input_ids = pad_sequences([f["input_ids"] for f in features], pad_token_id)
        batch = {
            "input_ids": input_ids,
            "attention_mask": attention_mask_for(
                input_ids, pad_token_id, [len(f["input_ids"]) for f in features]
            ),
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.long),
        }
        if all("token_type_ids" in f for f in features):
            batch["token_type_ids"] = pad_sequences([f["token_type_ids"] for f in features], 0)
        return batch

    # ----- model -----
    def build_head(self, task: Any, encoder_config: Any) -> torch.nn.Module:
        return PooledClassifierHead.for_encoder(encoder_config, len(task.labels))

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> Any:
        return head(sentence_states(encoder, batch))

    def loss(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        # float(): a bf16 softmax over a few labels loses precision the optimizer then sees.
        return F.cross_entropy(outputs.float(), batch["labels"], ignore_index=IGNORE_INDEX)

    def predict(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        """The label logits of each feature (kept whole, not argmaxed, so runs can be ensembled)."""
        return list(outputs.detach().float().cpu().numpy())

    # ----- results -----
    def postprocess(
        self, task: Any, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        chosen = one_per_example(examples, features, raw)
        return [task.labels[int(np.argmax(logits))] for logits in chosen]

    def score(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return scores_from_units(task.metrics, self.example_units(task, examples, predictions))

    def example_units(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        self.checked(task)
        units = {}
        for metric in task.metrics:
            if metric == "accuracy":
                references = [example["label"] for example in examples]
                units[metric] = Units.of(example_ids(examples), metrics.accuracy_units(predictions, references))
            else:  # ndcg
                units[metric] = Units.of(*_ndcg_units(task, examples, predictions))
        return units

    def chance(self, task: Any, examples: list[dict[str, Any]]) -> dict[str, float]:
        self.checked(task)
        out = {}
        for metric in task.metrics:
            if metric == "accuracy":
                out[metric] = 100.0 / len(task.labels)
            else:  # ndcg
                rng = random.Random(CHANCE_SEED)
                draws = [
                    _ndcg(task, examples, rng.choices(task.labels, k=len(examples))) for _ in range(CHANCE_DRAWS)
                ]
                out[metric] = sum(draws) / len(draws)
        return out


def _ndcg(task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> float:
    return Units.of(*_ndcg_units(task, examples, predictions)).value()


def _ndcg_units(task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> tuple[list[str], Any]:
    """(group ids, per-group units) of grouped nDCG with the predicted and gold labels read as relevance
    grades."""
    try:
        grades = {label: float(label) for label in task.labels}
    except ValueError:
        raise XstiltsError(
            f"task {task.name!r} asks for 'ndcg', which needs numeric labels (relevance grades), "
            f"but its labels are {labels_hint(task.labels)}"
        ) from None
    groups = [example.get("group") for example in examples]
    if any(group is None for group in groups):
        missing = next(example.get("id") for example in examples if example.get("group") is None)
        raise XstiltsError(
            f"task {task.name!r} asks for 'ndcg', but example {missing!r} has no 'group' (the query it ranks for); "
            "its reader must give every example a group"
        )
    try:
        return metrics.grouped_ndcg_units(
            [grades[p] for p in predictions], [grades[e["label"]] for e in examples], groups
        )
    except ValueError as error:
        raise XstiltsError(f"task {task.name!r}: cannot compute nDCG: {error}") from None


def _rows(batch: Any, indices: list[int]) -> dict[int, dict[str, list[int]]]:
    """Per-example token lists of a batch encoding, keyed by the examples' positions."""
    keys = [key for key in ("input_ids", "token_type_ids") if key in batch]
    return {index: {key: list(batch[key][row]) for key in keys} for row, index in enumerate(indices)}


FAMILY = ClassificationFamily()
