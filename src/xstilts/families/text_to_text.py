"""Text-to-text versions of encoder families, for encoder-decoder models, and the one place that decides which
family runs a task on which kind of model.

An encoder family (classification, span QA, multiple choice) runs on an encoder under a task head. An
encoder-decoder runs the same tasks text to text instead, as mT5 is fine-tuned and reported on XTREME-R:
classification as label words, extractive QA as answer text, multiple choice as the text of the right choice
(``families/t2t_*.py``). ``VARIANTS`` maps an encoder family's name to that family. A task keeps its name,
metrics and official scoring (each variant delegates scoring, units and chance to the encoder family), so the
rows of encoder and encoder-decoder models land in the same tables; the rows name the encoder family
(:func:`reported_family`).

:func:`run_as` is the dispatch: the task as it runs on a model of a given kind (on an encoder-decoder, a copy
whose ``family`` is the variant; the runner, the trainer and the plan all take tasks through it, so every family
lookup downstream finds the variant). Every check of a family against a model kind goes through
:func:`model_kind_problem` (``xstilts validate``, the runner), so a variant added here is taken up everywhere
at once.

Tagging has no variant: XTREME-R's mT5 baselines do not run POS or NER text to text through this recipe (a tag
sequence as target text needs word alignment back to the input, and its own scoring path); a tagging task on an
encoder-decoder needs ``kind: encoder``. Retrieval needs none: it embeds sentences with the encoder-decoder's
encoder (``get_encoder()``), mean-pooled (T5 has no CLS token).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from xstilts.families.spec import FamilySpec

# encoder family name -> the name of the family that runs its tasks text to text on an encoder-decoder
VARIANTS: dict[str, str] = {
    "classification": "t2t_classification",
    "span_qa": "t2t_span_qa",
    "multiple_choice": "t2t_multiple_choice",
}
# Families that run on either kind of model as they are.
EITHER_KIND = ("retrieval",)
# Families whose evaluation generates text, so the study's decoding settings (``evaluate.decoding``) apply.
DECODING_FAMILIES = ("generation", "t2t_span_qa")
_ENCODER_FAMILY = {variant: family for family, variant in VARIANTS.items()}


def text_to_text_variant(family: str) -> str | None:
    """The family that runs ``family``'s tasks on an encoder-decoder, or None when there is none (yet)."""
    return VARIANTS.get(family)


def run_as(task: Any, model_kind: str | None) -> Any:
    """The task as it runs on a model of ``model_kind``: on an encoder-decoder, a task of an encoder family
    with a variant becomes a copy whose family is the variant (same name, metrics, labels, settings and files);
    anything else stays as it is. ``None`` (a kind that cannot be known) runs as an encoder."""
    variant = VARIANTS.get(task.family) if model_kind == "encoder-decoder" else None
    return task if variant is None else replace(task, family=variant)


def reported_family(family: str) -> str:
    """The family a result row names: the encoder family for a variant (the same tables, the same report
    layout: the report lays out EM/F1 for span_qa), any other family as it is."""
    return _ENCODER_FAMILY.get(family, family)


def encoder_family(family: str) -> str | None:
    """The encoder family a variant stands for (None for a family that is no variant)."""
    return _ENCODER_FAMILY.get(family)


def decodes(family: str) -> bool:
    """Whether evaluating a task of ``family`` generates text (the study's decoding settings apply), or would
    on an encoder-decoder (an encoder family whose variant generates)."""
    return family in DECODING_FAMILIES or VARIANTS.get(family) in DECODING_FAMILIES


def model_kind_problem(spec: FamilySpec, model_kind: str | None, model: str = "the model") -> str | None:
    """Why a task of the family ``spec`` cannot run on a model of ``model_kind`` (None: it can, or the kind is
    unknown). ``model`` names the model in the message."""
    if model_kind is None or spec.model_kind == model_kind or spec.name in EITHER_KIND:
        return None
    if spec.model_kind == "encoder-decoder":
        return (f"the {spec.name} family needs an encoder-decoder model (T5, mT5, mBART), but "
                f"{model} is an encoder; use an encoder-decoder model (`build: {{architecture: mt5, ...}}`, or a "
                "checkpoint such as google/mt5-base without `kind: encoder`)")
    if text_to_text_variant(spec.name) is not None:
        return None
    return (f"the {spec.name} family runs on an encoder under a task head, but {model} is an encoder-decoder, and "
            f"no text-to-text version of {spec.name} exists yet (families/text_to_text.py); set `kind: encoder` on "
            "the model to fine-tune its encoder alone, or use an encoder model")
