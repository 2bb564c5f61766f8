"""The t2t_classification family's declarative part (torch-free): the classification family's settings and
metrics, on an encoder-decoder."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.classification_settings import SPEC as CLASSIFICATION
from xstilts.families.classification_settings import ClassificationSettings
from xstilts.families.spec import FamilySpec


@dataclass(frozen=True)
class T2TClassificationSettings(ClassificationSettings):
    family = "t2t_classification"


SPEC = FamilySpec(
    name="t2t_classification",
    description="classification text to text: the label word, chosen by its likelihood (encoder-decoder)",
    settings=T2TClassificationSettings,
    metrics=CLASSIFICATION.metrics,
    model_kind="encoder-decoder",
    needs_labels=True,
    texts=CLASSIFICATION.texts,
)
