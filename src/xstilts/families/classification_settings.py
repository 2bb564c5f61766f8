"""The classification family's declarative part (torch-free): no settings; metrics accuracy and ndcg."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, Settings


@dataclass(frozen=True)
class ClassificationSettings(Settings):
    family = "classification"


SPEC = FamilySpec(
    name="classification",
    description="single text or text pair -> one label (XNLI, PAWS-X)",
    settings=ClassificationSettings,
    metrics=("accuracy", "ndcg"),
    needs_labels=True,
    texts=lambda example: [t for t in (example.get("text"), example.get("text_pair")) if t],
)
