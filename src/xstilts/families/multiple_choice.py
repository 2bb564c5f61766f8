"""Multiple choice: a context and N choices -> the index of the right choice (XCOPA, HellaSwag, SocialIQA).

Example schema::

    {"id": str, "context": str, "choices": [str, ...], "label": int}

At least two choices; ``label`` indexes ``choices``. When the task sets ``settings["num_choices"]`` every
example must have exactly that many (the settings: :mod:`xstilts.families.multiple_choice_settings`). Each choice is encoded as the pair (context, choice), truncated
"longest_first". All choices of a batch go through the encoder in ONE forward pass: the batch is
[examples, choices, length] and the encoder sees the real choices flattened to [rows, length]. Examples with
fewer choices than the batch's widest are padded with empty choices that are never encoded and whose score
is -inf, so the softmax gives them no mass. The head scores each choice from its first token; the
prediction is the index of the best choice. Metric: "accuracy", one unit per example (1 or 0 over 1). A
uniform random predictor scores the mean over examples of 100 / number of choices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from xstilts.errors import XstiltsError
from xstilts.families.base import Family
from xstilts.families.common import (
    IGNORE_INDEX,
    accuracy_only,
    example_ids,
    one_per_example,
    string_fields_problem,
    type_name,
)
from xstilts.families.heads import PooledClassifierHead, sentence_states
from xstilts.families.multiple_choice_settings import SPEC
from xstilts.scoring import metrics
from xstilts.scoring.units import Units, scores_from_units


class MultipleChoiceFamily(Family):
    spec = SPEC

    # ----- data -----
    def validate_example(self, task: Any, example: dict[str, Any]) -> str | None:
        if problem := string_fields_problem(example, "id", "context"):
            return problem
        choices = example.get("choices")
        if not isinstance(choices, list):
            return f"'choices' must be a list of strings, found {type_name(choices)}"
        if len(choices) < 2:
            return f"'choices' has {len(choices)} choice{'' if len(choices) == 1 else 's'}: at least 2 are needed"
        for position, choice in enumerate(choices):
            if not isinstance(choice, str):
                return f"choice {position} must be a string, found {type_name(choice)}"
        expected = self.checked(task).num_choices
        if expected is not None and len(choices) != expected:
            return f"'choices' has {len(choices)} choices but task {task.name!r} expects {expected}"
        label = example.get("label")
        # bool is an int subclass; true/false in a file is a mistake, not index 1/0.
        if not isinstance(label, int) or isinstance(label, bool):
            return f"'label' must be an integer index into 'choices', found {type_name(label)} {label!r}"
        if not 0 <= label < len(choices):
            return f"label {label} is out of range: {len(choices)} choices allow 0 to {len(choices) - 1}"
        return None

    def featurize(
        self, task: Any, examples: list[dict[str, Any]], tokenizer: Any, max_length: int
    ) -> list[dict[str, Any]]:
        if not examples:
            return []
        # Every (context, choice) pair of every example in one tokenizer call, then cut back per example.
        contexts = [ex["context"] for ex in examples for _ in ex["choices"]]
        choices = [choice for ex in examples for choice in ex["choices"]]
        batch = tokenizer(
            contexts, choices, truncation="longest_first", max_length=max_length, return_attention_mask=False
        )
        keys = [key for key in ("input_ids", "token_type_ids") if key in batch]
        features, row = [], 0
        for index, example in enumerate(examples):
            count = len(example["choices"])
            feature: dict[str, Any] = {
                key: [list(ids) for ids in batch[key][row : row + count]] for key in keys
            }
            row += count
            label = example.get("label")
            if label is not None and not 0 <= label < count:
                raise XstiltsError(
                    f"example {example.get('id')!r}: label {label} is out of range for {count} choices"
                )
            feature.update(
                example_index=index,
                # The padded batch needs room for the longest choice.
                length=max(len(ids) for ids in feature["input_ids"]),
                label=label if label is not None else IGNORE_INDEX,
            )
            features.append(feature)
        return features

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        length = max(len(ids) for f in features for ids in f["input_ids"])
        shape = (len(features), width, length)
        input_ids = torch.full(shape, pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(shape, dtype=torch.long)
        choice_mask = torch.zeros(shape[:2], dtype=torch.bool)
        with_types = all("token_type_ids" in f for f in features)
        token_type_ids = torch.zeros(shape, dtype=torch.long)
        for b, feature in enumerate(features):
            for c, ids in enumerate(feature["input_ids"]):
                input_ids[b, c, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
                attention_mask[b, c, : len(ids)] = 1
                choice_mask[b, c] = True
                if with_types:
                    types = feature["token_type_ids"][c]
                    token_type_ids[b, c, : len(types)] = torch.as_tensor(types, dtype=torch.long)
        batch = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "choice_mask": choice_mask,
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.long),
        }
        if with_types:
            batch["token_type_ids"] = token_type_ids
        return batch

    # ----- model -----
    def build_head(self, task: Any, encoder_config: Any) -> torch.nn.Module:
        return PooledClassifierHead.for_encoder(encoder_config, 1)

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> Any:
        """Scores [examples, choices]; padded choices are -inf.

        Only the real choices are flattened into the encoder batch ([rows, length] with rows = the number of
        real choices): padded choices would cost compute and, with no token to attend to, give
        ill-defined attention.
        """
        real = batch["choice_mask"]
        flat = {
            key: batch[key][real] for key in ("input_ids", "attention_mask", "token_type_ids") if key in batch
        }
        row_scores = head(sentence_states(encoder, flat)).squeeze(-1)
        scores = row_scores.new_full(real.shape, float("-inf"))
        scores[real] = row_scores
        return scores

    def loss(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        # -inf scores take no softmax mass and pass no gradient; the label always points at a real choice.
        return F.cross_entropy(outputs.float(), batch["labels"], ignore_index=IGNORE_INDEX)

    def predict(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        """Each feature's scores over its real choices (padding removed)."""
        scores = outputs.detach().float().cpu().numpy()
        counts = batch["choice_mask"].sum(dim=1).tolist()
        return [row[:count] for row, count in zip(scores, counts, strict=True)]

    # ----- results -----
    def postprocess(
        self, task: Any, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        return [int(np.argmax(scores)) for scores in one_per_example(examples, features, raw)]

    def score(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return scores_from_units(task.metrics, self.example_units(task, examples, predictions))

    def example_units(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        references = [example["label"] for example in examples]
        ids = example_ids(examples)
        self.checked(task)
        return accuracy_only(task, lambda: Units.of(ids, metrics.accuracy_units(predictions, references)))

    def chance(self, task: Any, examples: list[dict[str, Any]]) -> dict[str, float]:
        self.checked(task)
        return accuracy_only(
            task,
            lambda: sum(100.0 / len(ex["choices"]) for ex in examples) / len(examples) if examples else 0.0,
        )


FAMILY = MultipleChoiceFamily()
