"""The tagging family's declarative part (torch-free): no settings; chunk scores and word accuracy."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, Settings

CHUNK_METRICS = ("f1", "precision", "recall")


@dataclass(frozen=True)
class TaggingSettings(Settings):
    family = "tagging"


SPEC = FamilySpec(
    name="tagging",
    description="a tag per word, first-subword labelling (UD-POS, PAN-X)",
    settings=TaggingSettings,
    metrics=(*CHUNK_METRICS, "accuracy"),
    needs_labels=True,
    texts=lambda example: [" ".join(example["tokens"])],
)
