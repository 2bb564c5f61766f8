"""Extractive QA text to text, on an encoder-decoder: the span_qa family's tasks (SQuAD, XQuAD, MLQA,
TyDiQA-GoldP, micro-squad, ...) as mT5 runs them, under the same task names and the same official scoring.

Example schema: the span_qa family's (``{"id", "question", "context", "answers": [{"text", "start"}]}``),
checked by it.

Source (the task's head name as prefix, shared by squad, xquad and mlqa)::

    <head> question: <question> context: <context>

cut longest first to the token limit, which in practice cuts the end of the context. **What is lost against
the encoder family**: span_qa slides windows over a long context (``doc_stride``) and takes the best span of
any window; here the model sees one window, the start of the context, so an answer past the limit cannot be
read from the source (a trained model then usually answers from what it saw). Training examples whose answer
was cut still train (on what the model cannot see), as T5 trains on truncated inputs. Raise the token limit to
lose less (mT5's own recipe reads long inputs); SQuAD-style paragraphs mostly fit in 512 tokens.

Target: the first gold answer's text (``""``, the end token alone, for an unanswerable SQuAD 2.0 question), cut
at ``target_max_length`` tokens. Prediction: the generated text (greedy or beam search: the generation family's
``generate_texts`` with the task's decoding settings, which a study sets in ``evaluate.decoding`` like a
generation task's), stripped; the empty string means "no answer". Scoring, units and chance: the span_qa
family's own: SQuAD's answer normalisation for ``exact_match``/``f1``, MLQA's per-language normalisation for
``mlqa_*``, the SQuAD 2.0 rule with ``with_negative``. A generated answer need not be a span of the context; the
official scripts do not require one either.
"""

from __future__ import annotations

from typing import Any

import torch

from xstilts.families import t2t_common as t2t
from xstilts.families.common import one_per_example
from xstilts.families.generation import collate_generation, generate_texts, generation_features
from xstilts.families.generation_settings import DECODING_KEYS
from xstilts.families.span_qa import FAMILY as SPAN_QA
from xstilts.families.t2t_span_qa_settings import SPEC, T2TSpanQASettings


def source_template(head: str, example: dict[str, Any]) -> list[t2t.Segment]:
    """The segments of one example's source (see the module docstring)."""
    return [t2t.fixed(f"{head} question:"), t2t.cuttable(example["question"].strip()), t2t.fixed("context:"),
            t2t.cuttable(example["context"])]


def target_text(example: dict[str, Any]) -> str:
    """What the model is trained to write: the first gold answer, or nothing for an unanswerable question."""
    answers = example.get("answers") or []
    return answers[0]["text"] if answers else ""


class T2TSpanQAFamily(t2t.TextToTextFamily):
    spec = SPEC
    encoder = SPAN_QA

    # ----- data -----
    def featurize(
        self, task: Any, examples: list[dict[str, Any]], tokenizer: Any, max_length: int
    ) -> list[dict[str, Any]]:
        settings: T2TSpanQASettings = self.checked(task)
        if not examples:
            return []
        sources = t2t.encode_sources(tokenizer, [source_template(task.head_name, ex) for ex in examples],
                                     max_length, task.name)
        targets = t2t.encode_targets(tokenizer, [target_text(ex) for ex in examples], settings.target_max_length)
        return generation_features(sources, targets, settings)

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        return collate_generation(features, pad_token_id)

    # ----- model -----
    def forward(self, model: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]) -> Any:
        if model.training:
            return {"logits": t2t.teacher_forced_logits(model, batch)}
        return {"texts": generate_texts(model, batch)}

    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        t2t.needs_eval_mode(outputs, "texts", self.name)
        return list(outputs["texts"])

    # ----- results -----
    def postprocess(
        self, task: Any, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        return [text.strip() for text in one_per_example(examples, features, raw)]

    def evaluation_recipe(self, task: Any, max_length: int, encoder_config: Any) -> dict[str, Any]:
        settings: T2TSpanQASettings = self.checked(task)
        return {"max_length": max_length, "prediction": "generated answer",
                "target_max_length": settings.target_max_length,
                **{key: getattr(settings, key) for key in DECODING_KEYS}}


FAMILY = T2TSpanQAFamily()
