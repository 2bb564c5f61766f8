"""The generation family's declarative part (torch-free): token limits of source and target, the decoding
settings (greedy or beam search, new tokens, length penalty), the target language, and the metrics BLEU and
off_target (the share of outputs not in the target language, ``scoring/language_id.py``).

Decoding settings are task settings so that they reach the family the way every setting does (featurize copies
them into each feature; ``families/retrieval.py`` does the same with its layer and pooling). A study sets them
for its evaluations in ``evaluate.decoding`` (``config/evaluations.py`` lays them over the task's): then they
enter the evaluation's key and its recipe, never a stage's key, so a new beam size evaluates again without
training again. Model selection on dev during training decodes with the task's own settings. Being settings, they
are in the feature-cache key too: a new beam size tokenizes the evaluated set once more (never the training data),
which keeps cached features from carrying stale decoding settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, Settings, integer, number, text

# The settings that only shape decoding: what `evaluate.decoding` may set.
DECODING_KEYS = ("num_beams", "max_new_tokens", "length_penalty")
# The attribute through which an encoder-decoder carries the tokenizer that decodes its outputs (set by
# ``models.seq2seq.with_tokenizer``; families never import models).
TOKENIZER_ATTRIBUTE = "xstilts_tokenizer"


@dataclass(frozen=True)
class GenerationSettings(Settings):
    family = "generation"

    source_max_length: int | None = integer(None, low=4, doc="tokens of the source (unset: the stage's or the "
                                            "evaluation's max_length)")
    target_max_length: int = integer(64, low=2, doc="tokens of the target the model is trained on (end token "
                                     "included)")
    num_beams: int = integer(1, low=1, high=64, doc="1: greedy search; more: beam search")
    max_new_tokens: int = integer(64, low=1, high=4096, doc="longest generated output, in tokens")
    length_penalty: float = number(1.0, low=-10.0, high=10.0, doc="beam search: sequence scores are divided by "
                                   "length ** length_penalty")
    target_language: str = text("", doc="the language the outputs should be in, for off_target (the evaluator "
                                "sets it to the evaluated language; empty: off_target is not scored)")


SPEC = FamilySpec(
    name="generation",
    description="source text -> generated target text (encoder-decoder; BLEU as XGLUE computes it)",
    settings=GenerationSettings,
    metrics=("bleu", "off_target"),
    model_kind="encoder-decoder",
    reads_tsv_pairs=True,
    texts=lambda example: [t for t in (example.get("source"), example.get("target")) if t],
)
