"""Multiple choice text to text, on an encoder-decoder: the multiple_choice family's tasks (XCOPA, COPA,
SocialIQa, HellaSwag, micro-copa, ...) under the same task names and scoring.

Example schema: the multiple_choice family's (``{"id", "context", "choices", "label"}``), checked by it.

Source (every choice is in the source, as T5 and UnifiedQA pose COPA-style tasks, so the model can weigh
them against each other; the prefix is the task's head name, shared by socialiqa, copa and xcopa)::

    <head> context: <context> choice1: <choice 1> choice2: <choice 2> ...

cut longest first to the token limit (the context first: it is the longest). Target: the text of the right
choice. Prediction: each choice's text is scored as the continuation, by its teacher-forced log-likelihood
(summed over its tokens and ``</s>``), all choices of a batch in one decoder call; the prediction is the index
of the most likely choice (a valid index by construction). Raw per-feature output: the choices'
log-likelihoods. A summed likelihood favours short choices when a model is unsure; training on the right
choice's text is what teaches it to put its mass there (the sum is what that training maximises).

Training: teacher-forced cross-entropy on the right choice's tokens. Scoring, units and chance: the
multiple_choice family's own (accuracy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xstilts.families import t2t_common as t2t
from xstilts.families.common import one_per_example
from xstilts.families.multiple_choice import FAMILY as MULTIPLE_CHOICE
from xstilts.families.t2t_multiple_choice_settings import SPEC


def source_template(head: str, example: dict[str, Any]) -> list[t2t.Segment]:
    """The segments of one example's source (see the module docstring)."""
    segments = [t2t.fixed(f"{head} context:"), t2t.cuttable(example["context"])]
    for number, choice in enumerate(example["choices"], start=1):
        segments += [t2t.fixed(f"choice{number}:"), t2t.cuttable(choice)]
    return segments


class T2TMultipleChoiceFamily(t2t.CandidateScoringFamily):
    spec = SPEC
    encoder = MULTIPLE_CHOICE
    prediction = "choice likelihood"

    # ----- data -----
    def featurize(
        self, task: Any, examples: list[dict[str, Any]], tokenizer: Any, max_length: int
    ) -> list[dict[str, Any]]:
        self.checked(task)
        if not examples:
            return []
        sources = t2t.encode_sources(tokenizer, [source_template(task.head_name, ex) for ex in examples],
                                     max_length, task.name)
        flat = t2t.encode_targets(tokenizer, [choice for ex in examples for choice in ex["choices"]], max_length)
        features, start = [], 0
        for index, (example, source) in enumerate(zip(examples, sources, strict=True)):
            candidates = flat[start : start + len(example["choices"])]
            start += len(candidates)
            features.append({"input_ids": source, "labels": candidates[example["label"]], "candidates": candidates,
                             "example_index": index, "length": len(source)})
        return features

    # ----- results -----
    def postprocess(
        self, task: Any, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        return [int(np.argmax(scores)) for scores in one_per_example(examples, features, raw)]


FAMILY = T2TMultipleChoiceFamily()
