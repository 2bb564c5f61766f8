"""The mlm family's declarative part (torch-free): ``vocab_size``; masked-token accuracy and perplexity."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, Settings, integer


@dataclass(frozen=True)
class MLMSettings(Settings):
    family = "mlm"

    vocab_size: int | None = integer(None, low=2, doc="the tokenizer's vocabulary, for the chance scores of a task "
                                     "that was never featurized (unset: read from the features)")


SPEC = FamilySpec(
    name="mlm",
    description="masked language modelling, head only at masked positions",
    settings=MLMSettings,
    metrics=("accuracy", "perplexity"),
    reads_plain_text=True,
    auxiliary=True,
    texts=lambda example: [example["text"]],
)
