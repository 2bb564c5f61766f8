"""Text-to-text versions of encoder families, for encoder-decoder models (the hook; none is written yet).

An encoder family (classification, tagging, span QA, multiple choice) runs on an encoder under a task head. An
encoder-decoder runs tasks as text to text instead (classification as label words, extractive QA as answer
text: how mT5 is fine-tuned and reported on XTREME-R). ``VARIANTS`` maps an encoder family's name to the
generation-style family that runs its tasks on an encoder-decoder, under the same task names and the same
official scoring; it is empty until those variants are written (the branch that writes them also makes the runner
run a task through its variant on an encoder-decoder). Every check of a family against an
encoder-decoder model goes through :func:`model_kind_problem` (``xstilts validate``, the runner), so a variant
added here is taken up everywhere at once.

Retrieval is the exception that needs no variant: it embeds sentences with the encoder-decoder's encoder
(``get_encoder()``), mean-pooled (T5 has no CLS token).
"""

from __future__ import annotations

from xstilts.families.spec import FamilySpec

# encoder family name -> the name of the family that runs its tasks text to text on an encoder-decoder
VARIANTS: dict[str, str] = {}
# Families that run on either kind of model as they are.
EITHER_KIND = ("retrieval",)


def text_to_text_variant(family: str) -> str | None:
    """The family that runs ``family``'s tasks on an encoder-decoder, or None when there is none (yet)."""
    return VARIANTS.get(family)


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
