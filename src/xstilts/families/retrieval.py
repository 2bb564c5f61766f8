"""Retrieval family: sentence embeddings + search, evaluation only (Tatoeba, BUCC, LAReQA, Mewsli-X).

Example schema::

    {"id": str, "source": str | null, "target": str | null, "gold_targets": [str] (optional)}

``source`` is a query and ``target`` a candidate of the search. A line-aligned pair has both sides (the gold
of its query is the example itself); an example with ``source`` null is a candidate only (a distractor, a
BUCC English sentence, a LAReQA answer sentence with its paragraph), one with ``target`` null is a query
only. A missing key reads as null; at least one side must be a non-empty string. A query may name its gold candidates explicitly with
``gold_targets`` (a list of candidate example ids, possibly empty): BUCC gold pairs, LAReQA's answer sentence
in every language, Mewsli-X's gold entity.

The ``protocol`` setting says what is searched and scored:

- ``nearest`` (default; Tatoeba): each query predicts the id of its nearest candidate (cosine or ratio
  margin); metric ``accuracy`` over the queries that have a gold.
- ``mining`` (BUCC 2018): ratio-margin mining in both directions, greedy one-to-one, over de-duplicated
  sentences, only pairs of margin above 0 (:mod:`xstilts.scoring.mining`); the margin threshold is chosen
  on the gold of ``threshold_split`` (default ``dev``, which the evaluator then also embeds:
  :meth:`reference_splits`) and the pairs at or above it are extracted. Each query predicts the candidate id it is paired with, or null; metrics
  ``f1``, ``precision``, ``recall`` over the set of ``(query id, candidate id)`` pairs. Evaluating the
  threshold split itself chooses the threshold on its own gold (an upper bound, as XTREME's dev numbers are).
- ``ranking`` (LAReQA, Mewsli-X): each query predicts the ids of its 20 candidates of highest cosine, best
  first; metrics ``map@20`` (mean average precision) and ``mrr@20`` (mean reciprocal rank; Mewsli-X's
  official "map@20").

Every non-null side becomes one feature (``side`` 0 = source, 1 = target), truncated to ``max_length``.
The encoder runs with all hidden states; ``hidden_states[layer]`` is pooled into one vector per sentence
(see :mod:`xstilts.scoring.retrieval`, which also holds the chunked search).

Task settings (all optional; each one's type, default, range and meaning is declared, once, in
:mod:`xstilts.families.retrieval_settings`): ``protocol`` (above), ``layer`` (an index or ``"n/m"``, scaled to
the encoder's depth when it runs, see :func:`xstilts.scoring.retrieval.resolve_layer`), ``pooling``,
``similarity`` (mining is always margin, ranking always cosine), ``margin_k``, ``chunk_size``, ``prefix``,
``backend``, and for mining ``threshold_split`` and ``threshold_rule`` (see :mod:`xstilts.scoring.mining`).

Units (:meth:`RetrievalFamily.example_units`): one per query (an example with a source), with the query's id.
``nearest`` and ``ranking``: the queries with a gold, each its hit (1/0), AP@20 or RR@20 over 1. ``mining``:
every query, with its (correct, extracted, gold) pairs: precision ``correct / extracted``, recall
``correct / gold``, F1 ``2 correct / (extracted + gold)`` (:func:`xstilts.scoring.mining.pair_counts`).

``forward`` only sees the batch, so featurize copies ``layer`` (as index and ``layer_of``, 0 for an absolute
index) and the pooling (as a code) into every feature and collate passes them on as per-row tensors. A study's
``evaluate.retrieval`` settings reach the family as the task's settings (``config.evaluations``), and
:meth:`RetrievalFamily.evaluation_recipe` says what an evaluation actually used, for its result rows. Settings enter the feature-cache key through
``Task.describe``, so cached features never carry stale values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from xstilts.errors import XstiltsError
from xstilts.families.base import EvalSet, Evaluation, Family
from xstilts.families.common import attention_mask_for, encode, pad_sequences
from xstilts.families.retrieval_settings import SPEC, RetrievalSettings, encoder_depth
from xstilts.scoring import mining, retrieval_metrics
from xstilts.scoring.metrics import average_precision_units, prf_units, reciprocal_rank_units
from xstilts.scoring.retrieval import POOLINGS, nearest, parse_layer, pool, resolve_layer, select_layer
from xstilts.scoring.units import Units, scores_from_units

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task

SOURCE, TARGET = 0, 1
SIDES = ("source", "target")
# The batch holds only tensors, so the pooling name travels as its index in POOLINGS.
POOLING_CODES = {name: code for code, name in enumerate(POOLINGS)}
TOP_K = retrieval_metrics.TOP_K


class RetrievalFamily(Family):
    spec = SPEC

    # ----- data -----
    def validate_example(self, task: Task, example: dict[str, Any]) -> str | None:
        self.checked(task)  # a bad task raises (it is not the example's fault)
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
        settings = self.checked(task)
        texts, owners = [], []
        for index, example in enumerate(examples):
            for side, key in enumerate(SIDES):
                if example.get(key) is not None:
                    texts.append(settings.prefix + example[key])
                    owners.append((index, side))
        if not texts:
            return []
        encoded = tokenizer(texts, truncation=True, max_length=max_length)
        layer, layer_of = parse_layer(settings.layer)
        return [
            {
                "input_ids": ids,
                "example_index": index,
                "length": len(ids),
                "side": side,
                "layer": layer,
                "layer_of": layer_of,
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
            # Features cached before depth-relative layers existed hold an absolute index.
            "layer_of": torch.tensor([f.get("layer_of", 0) for f in features], dtype=torch.long),
            "pooling": torch.tensor([f["pooling"] for f in features], dtype=torch.long),
        }

    # ----- model -----
    def build_head(self, task: Task, encoder_config: Any) -> torch.nn.Module | None:
        return None

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> Any:
        layers, layers_of, poolings = batch["layer"], batch["layer_of"], batch["pooling"]
        if any(bool((values != values[0]).any()) for values in (layers, layers_of, poolings)):
            raise ValueError("a retrieval batch mixes features of different layer/pooling settings")
        outputs = encode(encoder, batch, output_hidden_states=True)
        depth = len(outputs.hidden_states) - 1  # the embeddings come first
        hidden = select_layer(outputs.hidden_states, resolve_layer(int(layers[0]), int(layers_of[0]), depth))
        return pool(hidden, batch["attention_mask"], POOLINGS[int(poolings[0])])

    def loss(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise XstiltsError(
            "retrieval tasks are evaluated, never trained: remove the retrieval task from the stage's training "
            "sources and list it under evaluation instead"
        )

    def evaluation_recipe(self, task: Task, max_length: int, encoder_config: Any) -> dict[str, Any]:
        """The embedding and search settings an evaluation used, the layer resolved for this encoder."""
        settings = self.checked(task)
        depth = encoder_depth(encoder_config)
        recipe = {"layer": settings.resolved_layer(depth), "layer_setting": settings.layer, "layers": depth, "pooling": settings.pooling,
                  "max_length": max_length, "protocol": settings.protocol, "similarity": settings.similarity}
        if settings.protocol == "mining":
            recipe["margin_k"] = settings.margin_k
        if settings.prefix:
            recipe["prefix"] = settings.prefix
        return recipe

    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        vectors = outputs.detach().float().cpu().numpy()
        return [vector.astype(np.float32, copy=False) for vector in vectors]

    def reuse_key(self, feature: dict[str, Any]) -> Any:
        """The embedding of a sentence is its token ids (text, prefix, token limit) through one layer and pooling;
        which side it is on, and which example owns it, do not change it."""
        return (tuple(feature["input_ids"]), feature["layer"], feature.get("layer_of", 0), feature["pooling"])

    # ----- results -----
    def postprocess(
        self, task: Task, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        """Predictions of one set on its own (mining chooses the threshold on this set's gold)."""
        evaluated = EvalSet(examples, features, raw)
        settings = self.checked(task)
        if settings.protocol == "mining":
            return self._mine_and_extract(task, settings, evaluated, evaluated)
        sides = _sides(task, evaluated)
        predictions: list[Any] = [None] * len(examples)
        if sides is None:
            return predictions
        (queries, query_vectors), (candidates, candidate_vectors) = sides
        ids = [example["id"] for example in examples]
        search = _search(settings)
        if settings.protocol == "ranking":
            found = retrieval_metrics.rank_candidates(query_vectors, candidate_vectors, TOP_K, **search)
            for query, rows in zip(queries, found.tolist(), strict=True):
                predictions[query] = [ids[candidates[row]] for row in rows]
            return predictions
        found, _ = nearest(query_vectors, candidate_vectors, similarity=settings.similarity, k=settings.margin_k,
                           **search)
        for query, row in zip(queries, found.tolist(), strict=True):
            predictions[query] = ids[candidates[row]]
        return predictions

    def reference_splits(self, task: Task, split: str) -> tuple[str, ...]:
        settings = self.checked(task)
        if settings.protocol == "mining" and split != settings.threshold_split:
            return (settings.threshold_split,)
        return ()

    def evaluate(
        self, task: Task, split: str, evaluated: EvalSet, references: Mapping[str, EvalSet]
    ) -> Evaluation:
        settings = self.checked(task)
        if settings.protocol != "mining" or split == settings.threshold_split:
            return super().evaluate(task, split, evaluated, references)
        if settings.threshold_split not in references:
            raise XstiltsError(f"task {task.name!r}: scoring {split!r} needs the model's outputs on "
                               f"{settings.threshold_split!r}, whose gold sets the mining threshold")
        predictions = self._mine_and_extract(task, settings, references[settings.threshold_split], evaluated)
        return self.scored(task, evaluated.examples, predictions)

    def _mine_and_extract(
        self, task: Task, settings: RetrievalSettings, threshold_set: EvalSet, evaluated: EvalSet
    ) -> list[Any]:
        """Threshold from ``threshold_set``'s gold, then each query of ``evaluated`` gets the candidate it is
        mined with at or above that threshold (or None)."""

        def candidates_of(data: EvalSet) -> dict[tuple[str, str], float]:
            sides = _sides(task, data)
            if sides is None:
                raise XstiltsError(f"task {task.name!r}: a mining set needs source and target sentences")
            (queries, query_vectors), (targets, target_vectors) = sides
            rows = [(data.examples[i]["id"], data.examples[i]["source"]) for i in queries]
            target_rows = [(data.examples[i]["id"], data.examples[i]["target"]) for i in targets]
            return mining.candidate_pairs(rows, query_vectors, target_rows, target_vectors, settings.margin_k,
                                          **_search(settings))

        reference = candidates_of(threshold_set)
        gold = _gold_pairs(threshold_set.examples)
        if not gold:
            raise XstiltsError(f"task {task.name!r}: the threshold set has no gold pairs (gold_targets), so no "
                               "mining threshold can be chosen")
        choice = mining.choose_threshold(reference, gold, settings.threshold_rule)
        mined = reference if threshold_set is evaluated else candidates_of(evaluated)
        chosen = dict(mining.extract(mined, choice.threshold))
        return [chosen.get(example["id"]) if example.get("source") is not None else None
                for example in evaluated.examples]

    def score(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return scores_from_units(task.metrics, self.example_units(task, examples, predictions))

    def example_units(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        settings = self.checked(task)
        if settings.protocol == "mining":
            gold = _gold_pairs(examples)
            if not gold:
                raise XstiltsError(f"task {task.name!r}: the set has no gold pairs (gold_targets) to score against")
            queries = [e["id"] for e, p in zip(examples, predictions, strict=True)
                       if e.get("source") is not None or p is not None]
            predicted = [(e["id"], p) for e, p in zip(examples, predictions, strict=True) if p is not None]
            counts = prf_units(mining.pair_counts(queries, predicted, gold))
        else:
            chosen = [(example["id"], prediction, _gold(example))
                      for example, prediction in zip(examples, predictions, strict=True)
                      if example.get("source") is not None and _gold(example)]
            queries = [query for query, _, _ in chosen]
            if settings.protocol == "nearest":
                # A query is right when its prediction is one of its gold candidates.
                counts = {"accuracy": ([float(p in gold) for _, p, gold in chosen], [1.0] * len(chosen))}
            else:
                counts = _ranking_units(task, [(prediction, gold) for _, prediction, gold in chosen])
        return {metric: Units.of(queries, counts[metric]) for metric in task.metrics}

    def chance(self, task: Task, examples: list[dict[str, Any]]) -> dict[str, float]:
        settings = self.checked(task)
        n_targets = sum(example.get("target") is not None for example in examples)
        if settings.protocol == "mining":
            # Every query paired with a uniformly random candidate: E[correct] = sum over queries of
            # |gold| / candidates; with |predicted| = queries fixed, P, R and F1 are linear in correct.
            queries = [e for e in examples if e.get("source") is not None]
            gold = len(_gold_pairs(examples))
            correct = sum(len(e.get("gold_targets") or ()) for e in queries) / n_targets if n_targets else 0.0
            return {
                "precision": 100 * correct / len(queries) if queries else 0.0,
                "recall": 100 * correct / gold if gold else 0.0,
                "f1": 200 * correct / (len(queries) + gold) if queries or gold else 0.0,
            }
        golds = [_gold(e) for e in examples if e.get("source") is not None and _gold(e)]
        if settings.protocol == "nearest":
            # A uniform pick among the candidates hits one of a query's golds with probability |gold| / candidates.
            hits = [min(len(gold), n_targets) / n_targets for gold in golds] if n_targets else []
            return {"accuracy": 100.0 * sum(hits) / len(hits) if hits else 0.0}
        return {metric: 100.0 * sum(_random_ranking(metric, len(g), n_targets) for g in golds) / len(golds)
                if golds and n_targets else 0.0 for metric in task.metrics}


def _sides(task: Task, data: EvalSet) -> tuple[tuple[list[int], np.ndarray], tuple[list[int], np.ndarray]] | None:
    """(query example indices, their vectors), (candidate example indices, their vectors); None without queries."""
    ids = [example["id"] for example in data.examples]
    if len(set(ids)) != len(ids):
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)[:5]
        raise XstiltsError(
            f"task {task.name!r}: example ids must be unique within a retrieval set (predictions are "
            f"target ids), but these repeat: {', '.join(map(repr, duplicates))}"
        )
    owners: list[list[int]] = [[], []]
    vectors: list[list[np.ndarray]] = [[], []]
    for feature, vector in zip(data.features, data.raw, strict=True):
        owners[feature["side"]].append(feature["example_index"])
        vectors[feature["side"]].append(np.asarray(vector, dtype=np.float32))
    if not owners[SOURCE]:
        return None
    if not owners[TARGET]:
        raise XstiltsError(
            f"task {task.name!r}: the retrieval set has source sentences but no target sentences to search"
        )
    return (owners[SOURCE], np.stack(vectors[SOURCE])), (owners[TARGET], np.stack(vectors[TARGET]))


def _gold(example: dict[str, Any]) -> list[str]:
    """The gold candidate ids of a query: ``gold_targets``, else the example itself when it has a target."""
    if example.get("gold_targets") is not None:
        return list(example["gold_targets"])
    return [example["id"]] if example.get("target") is not None else []


def _gold_pairs(examples: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(e["id"], target) for e in examples if e.get("source") is not None for target in _gold(e)}


def _ranking_units(task: Task, queries: list[tuple[Any, list[str]]]) -> dict[str, Any]:
    if not queries:
        raise XstiltsError(f"task {task.name!r}: no query has a gold candidate, so there is nothing to rank")
    rankings = [prediction or [] for prediction, _ in queries]
    units = {"map@20": average_precision_units([g for _, g in queries], rankings, k=TOP_K)}
    if "mrr@20" in task.metrics:
        several = [gold for _, gold in queries if len(gold) != 1]
        if several:
            raise XstiltsError(f"task {task.name!r}: mrr@20 needs exactly one gold candidate per query, but a "
                               f"query has {len(several[0])}")
        units["mrr@20"] = reciprocal_rank_units([g[0] for _, g in queries], rankings, k=TOP_K)
    return units


def _random_ranking(metric: str, relevant: int, candidates: int) -> float:
    """Expected AP@20 or RR@20 of a uniformly random ranking of ``candidates`` with ``relevant`` golds.

    P(rank r is relevant) = R/N; given that, the expected hits up to r are 1 + (r-1)(R-1)/(N-1); AP@k is
    the sum over r <= k of that product / r, over min(R, k). RR@k is sum over r <= k of P(first gold at r) / r,
    which for R = 1 is (1/N) per rank.
    """
    n, big_r, k = candidates, min(relevant, candidates), min(TOP_K, candidates)
    if metric == "mrr@20":
        total, none_before = 0.0, 1.0
        for r in range(1, k + 1):
            here = big_r / (n - r + 1)  # the r-th pick is a gold, given none before
            total += none_before * here / r
            none_before *= 1 - here
        return total
    spread = (big_r - 1) / (n - 1) if n > 1 else 0.0
    return sum((big_r / n) * (1 + (r - 1) * spread) / r for r in range(1, k + 1)) / min(relevant, TOP_K)


FAMILY = RetrievalFamily()


def _search(settings: RetrievalSettings) -> dict[str, Any]:
    """How the exact search runs: the settings' block size, backend and precision, on a GPU where there is one
    (the blocks are matrix products: the GPU path of mining and ranking)."""
    device = "cuda" if settings.backend == "exact" and torch.cuda.is_available() else None
    return {"chunk_size": settings.chunk_size, "backend": settings.backend, "precision": settings.search_precision,
            "device": device}
