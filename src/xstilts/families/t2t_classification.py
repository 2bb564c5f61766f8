"""Classification text to text, on an encoder-decoder (T5, mT5, mBART): the classification family's tasks (XNLI,
PAWS-X, MNLI, micro-xnli, ...) as mT5 is fine-tuned on them, under the same task names, labels and scoring.

Example schema: the classification family's (``{"id", "text", "text_pair"?, "label"}``), checked by it.

Source (the template of T5's GLUE tasks, with the task's head name as its prefix, so tasks that share a head
share a prompt: MNLI trains what XNLI is asked)::

    <head> sentence: <text>                            (one text)
    <head> sentence1: <text> sentence2: <text_pair>    (a pair)

cut longest first to the token limit, as the encoder family cuts a pair (``t2t_common.encode_sources``).

Target: the label string itself (``entailment``, ``not_paraphrase``; PAWS-X and QQP keep ``0``/``1``). No
mapping to other words: the prediction is then the task's label by construction and the mapping cannot drift
from the declaration; the model learns whatever the string is (with likelihood scoring any string works).

Prediction: **label scoring by likelihood**, not free decoding. Each label's target sequence is scored under
the model (teacher-forced log-probability of its tokens and ``</s>``, summed), all labels of a batch in one
decoder call; the prediction is the label of highest likelihood. It never yields a string outside the label
set (free or even restricted decoding can stop early or prefer a prefix) and costs one decoder pass per label
over a handful of tokens. Raw per-feature output: the labels' log-likelihoods, in the task's label order.

Training: teacher-forced cross-entropy on the gold label's tokens (as mT5 fine-tunes), mean over tokens.
Scoring, per-example units and chance: the classification family's own (accuracy, nDCG for WPR).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xstilts.errors import XstiltsError
from xstilts.families import t2t_common as t2t
from xstilts.families.classification import FAMILY as CLASSIFICATION
from xstilts.families.common import one_per_example
from xstilts.families.t2t_classification_settings import SPEC


def source_template(head: str, example: dict[str, Any]) -> list[t2t.Segment]:
    """The segments of one example's source (see the module docstring)."""
    if example.get("text_pair") is None:
        return [t2t.fixed(f"{head} sentence:"), t2t.cuttable(example["text"])]
    return [t2t.fixed(f"{head} sentence1:"), t2t.cuttable(example["text"]), t2t.fixed("sentence2:"),
            t2t.cuttable(example["text_pair"])]


class T2TClassificationFamily(t2t.CandidateScoringFamily):
    spec = SPEC
    encoder = CLASSIFICATION
    prediction = "label likelihood"

    # ----- data -----
    def featurize(
        self, task: Any, examples: list[dict[str, Any]], tokenizer: Any, max_length: int
    ) -> list[dict[str, Any]]:
        self.checked(task)
        if not examples:
            return []
        sources = t2t.encode_sources(tokenizer, [source_template(task.head_name, ex) for ex in examples],
                                     max_length, task.name)
        candidates = t2t.encode_targets(tokenizer, list(task.labels))
        _distinct_or_raise(task, candidates)
        position = {label: i for i, label in enumerate(task.labels)}
        return [
            {"input_ids": source, "labels": candidates[position[example["label"]]], "candidates": candidates,
             "example_index": index, "length": len(source)}
            for index, (example, source) in enumerate(zip(examples, sources, strict=True))
        ]

    # ----- results -----
    def postprocess(
        self, task: Any, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        return [task.labels[int(np.argmax(scores))] for scores in one_per_example(examples, features, raw)]


def _distinct_or_raise(task: Any, candidates: list[list[int]]) -> None:
    """Two labels the tokenizer cannot tell apart would tie for ever: say which."""
    seen: dict[tuple[int, ...], str] = {}
    for label, ids in zip(task.labels, candidates, strict=True):
        other = seen.setdefault(tuple(ids), label)
        if other != label:
            raise XstiltsError(f"task {task.name!r}: labels {other!r} and {label!r} tokenize to the same target "
                               "ids, so text to text cannot tell them apart; use a tokenizer that keeps them apart "
                               "(case, characters) or run the task on an encoder (`kind: encoder`)")


FAMILY = T2TClassificationFamily()
