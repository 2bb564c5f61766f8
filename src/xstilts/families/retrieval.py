"""Retrieval family: sentence embeddings + nearest neighbour, evaluation only (Tatoeba, BUCC).

Example schema::

    {"id": str, "source": str | null, "target": str | null}

A parallel pair has both sides (the sentence in the test language and its English translation). An example
with ``source`` null is a distractor target only (as in BUCC); one with ``target`` null is a source whose
translation is not in the pool. A missing key reads as null; at least one side must be a non-empty string.

Mining sets (BUCC) hold every sentence of both sides as its own example (a source or a target only) and
give each source the ids of its gold translations in the optional key ``gold_targets`` (a list of target
example ids, often empty). Without ``gold_targets`` a source's gold target is the example itself (its
``target`` side), as before.

Every non-null side becomes one feature (``side`` 0 = source, 1 = target), truncated to ``max_length``.
The encoder runs with all hidden states; ``hidden_states[layer]`` is pooled into one vector per sentence
(see :mod:`xstilts.evaluation.retrieval`, which also holds the chunked search). Each source's prediction is
the ``id`` of its nearest target among all targets of the set; examples without a source predict null.

Task settings (all optional): ``layer`` (int, default -1 = last layer; 0 = embeddings), ``pooling``
("mean" over real tokens including ``<s>``/``</s>``, or "cls"), ``similarity`` ("cosine" or "margin" = ratio
margin), ``margin_k`` (neighbours per side for the margin, default 4), ``chunk_size`` (source rows per
similarity block, default 1024), ``prefix`` (text put before every sentence, e.g. "query: " for e5 models;
default none), ``backend`` ("exact" chunked search, or "faiss" when installed).

``forward`` only sees the batch, so featurize copies ``layer`` and the pooling (as a code) into every
feature and collate passes them on as per-row tensors. Settings enter the feature-cache key through
``Task.describe``, so cached features never carry stale values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from xstilts.errors import XstiltsError
from xstilts.evaluation import metrics
from xstilts.evaluation.retrieval import (
    BACKENDS,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MARGIN_K,
    POOLINGS,
    SIMILARITIES,
    nearest,
    pool,
    select_layer,
)
from xstilts.families.base import Family
from xstilts.families.common import attention_mask_for, encode, pad_sequences
from xstilts.registry import did_you_mean

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task

SOURCE, TARGET = 0, 1
SIDES = ("source", "target")
# The batch holds only tensors, so the pooling name travels as its index in POOLINGS.
POOLING_CODES = {name: code for code, name in enumerate(POOLINGS)}
METRICS = ("accuracy",)


@dataclass(frozen=True)
class RetrievalSettings:
    layer: int = -1
    pooling: str = "mean"
    similarity: str = "cosine"
    margin_k: int = DEFAULT_MARGIN_K
    chunk_size: int = DEFAULT_CHUNK_SIZE
    # Text put before every sentence: e5 models expect "query: " for symmetric tasks such as bitext mining.
    prefix: str = ""
    # "exact" (chunked matrix products) or "faiss" (optional package; same neighbours).
    backend: str = "exact"

    @classmethod
    def of(cls, task: Task) -> RetrievalSettings:
        """The task's settings, checked; every problem is reported at once."""
        known = tuple(cls.__dataclass_fields__)
        problems = [
            f"unknown setting {key!r} ({did_you_mean(key, known)})"
            for key in task.settings
            if key not in known
        ]
        values = {key: task.settings[key] for key in known if key in task.settings}
        settings = cls(**values)

        def is_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        if not is_int(settings.layer):
            problems.append(f"layer must be an integer hidden-state index, not {settings.layer!r}")
        if settings.pooling not in POOLINGS:
            problems.append(f"pooling {settings.pooling!r} is not one of {', '.join(POOLINGS)}")
        if settings.similarity not in SIMILARITIES:
            problems.append(f"similarity {settings.similarity!r} is not one of {', '.join(SIMILARITIES)}")
        if not isinstance(settings.prefix, str):
            problems.append(f"prefix must be a string, not {settings.prefix!r}")
        if settings.backend not in BACKENDS:
            problems.append(f"backend {settings.backend!r} is not one of {', '.join(BACKENDS)}")
        for key in ("margin_k", "chunk_size"):
            value = getattr(settings, key)
            if not is_int(value) or value < 1:
                problems.append(f"{key} must be a positive integer, not {value!r}")
        if problems:
            raise XstiltsError(f"retrieval task {task.name!r} has bad settings: " + "; ".join(problems))
        return settings


class RetrievalFamily(Family):
    name: ClassVar[str] = "retrieval"
    description: ClassVar[str] = "embeddings + nearest neighbour, evaluation only (Tatoeba)"
    trainable: ClassVar[bool] = False

    # ----- data -----
    def validate_example(self, task: Task, example: dict[str, Any]) -> str | None:
        if not isinstance(example.get("id"), str):
            return "every example needs a string 'id'"
        for side in SIDES:
            text = example.get(side)
            if text is not None and not isinstance(text, str):
                return f"'{side}' must be a string or null, not {type(text).__name__}"
            if isinstance(text, str) and not text.strip():
                return f"'{side}' is empty: write null for a side that is missing"
        if example.get("source") is None and example.get("target") is None:
            return "an example needs a 'source' or a 'target' sentence (both are null)"
        gold = example.get("gold_targets")
        if gold is not None:
            if not isinstance(gold, list) or not all(isinstance(item, str) for item in gold):
                return f"'gold_targets' must be a list of target example ids (strings), not {gold!r}"
            if example.get("source") is None:
                return "'gold_targets' belongs to a source sentence, but this example has no 'source'"
        return None

    def featurize(
        self, task: Task, examples: list[dict[str, Any]], tokenizer: PreTrainedTokenizerFast, max_length: int
    ) -> list[dict[str, Any]]:
        settings = RetrievalSettings.of(task)
        texts, owners = [], []
        for index, example in enumerate(examples):
            for side, key in enumerate(SIDES):
                if example.get(key) is not None:
                    texts.append(settings.prefix + example[key])
                    owners.append((index, side))
        if not texts:
            return []
        encoded = tokenizer(texts, truncation=True, max_length=max_length)
        return [
            {
                "input_ids": ids,
                "example_index": index,
                "length": len(ids),
                "side": side,
                "layer": settings.layer,
                "pooling": POOLING_CODES[settings.pooling],
            }
            for ids, (index, side) in zip(encoded["input_ids"], owners, strict=True)
        ]

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        lengths = [len(f["input_ids"]) for f in features]
        input_ids = pad_sequences([f["input_ids"] for f in features], pad_token_id)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask_for(input_ids, pad_token_id, lengths),
            "side": torch.tensor([f["side"] for f in features], dtype=torch.long),
            "layer": torch.tensor([f["layer"] for f in features], dtype=torch.long),
            "pooling": torch.tensor([f["pooling"] for f in features], dtype=torch.long),
        }

    # ----- model -----
    def build_head(self, task: Task, encoder_config: Any) -> torch.nn.Module | None:
        return None

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> Any:
        layers, poolings = batch["layer"], batch["pooling"]
        if bool((layers != layers[0]).any()) or bool((poolings != poolings[0]).any()):
            raise ValueError("a retrieval batch mixes features of different layer/pooling settings")
        outputs = encode(encoder, batch, output_hidden_states=True)
        hidden = select_layer(outputs.hidden_states, int(layers[0]))
        return pool(hidden, batch["attention_mask"], POOLINGS[int(poolings[0])])

    def loss(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise XstiltsError(
            "retrieval tasks are evaluated, never trained: remove the retrieval task from the stage's training "
            "sources and list it under evaluation instead"
        )

    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        vectors = outputs.detach().float().cpu().numpy()
        return [vector.astype(np.float32, copy=False) for vector in vectors]

    # ----- results -----
    def postprocess(
        self, task: Task, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        settings = RetrievalSettings.of(task)
        ids = [example["id"] for example in examples]
        if len(set(ids)) != len(ids):
            duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)[:5]
            raise XstiltsError(
                f"task {task.name!r}: example ids must be unique within a retrieval set (predictions are "
                f"target ids), but these repeat: {', '.join(map(repr, duplicates))}"
            )
        owners: list[list[int]] = [[], []]
        vectors: list[list[np.ndarray]] = [[], []]
        for feature, vector in zip(features, raw, strict=True):
            owners[feature["side"]].append(feature["example_index"])
            vectors[feature["side"]].append(np.asarray(vector, dtype=np.float32))
        predictions: list[str | None] = [None] * len(examples)
        if not owners[SOURCE]:
            return predictions
        if not owners[TARGET]:
            raise XstiltsError(
                f"task {task.name!r}: the retrieval set has source sentences but no target sentences to search"
            )
        found, _ = nearest(
            np.stack(vectors[SOURCE]),
            np.stack(vectors[TARGET]),
            similarity=settings.similarity,
            k=settings.margin_k,
            chunk_size=settings.chunk_size,
            backend=settings.backend,
        )
        for source_example, target_row in zip(owners[SOURCE], found, strict=True):
            predictions[source_example] = ids[owners[TARGET][target_row]]
        return predictions

    def score(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        for metric in task.metrics:
            if metric not in METRICS:
                raise XstiltsError(
                    f"task {task.name!r}: the retrieval family has no metric {metric!r}; "
                    f"{did_you_mean(metric, METRICS)}"
                )
        # Only sources whose translation is in the pool can be right; the gold target shares their id.
        scored = [
            (prediction, example["id"])
            for example, prediction in zip(examples, predictions, strict=True)
            if example.get("source") is not None and example.get("target") is not None
        ]
        return {"accuracy": metrics.accuracy([p for p, _ in scored], [g for _, g in scored])}

    def chance(self, task: Task, examples: list[dict[str, Any]]) -> dict[str, float]:
        # A uniform pick among the targets hits the one right target with probability 1 / targets.
        targets = sum(example.get("target") is not None for example in examples)
        return {"accuracy": 100.0 / targets if targets else 0.0}


FAMILY = RetrievalFamily()
