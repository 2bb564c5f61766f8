"""The t2t_multiple_choice family's declarative part (torch-free): the multiple_choice family's settings and
metrics, on an encoder-decoder."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.multiple_choice_settings import SPEC as MULTIPLE_CHOICE
from xstilts.families.multiple_choice_settings import MultipleChoiceSettings
from xstilts.families.spec import FamilySpec


@dataclass(frozen=True)
class T2TMultipleChoiceSettings(MultipleChoiceSettings):
    family = "t2t_multiple_choice"


SPEC = FamilySpec(
    name="t2t_multiple_choice",
    description="multiple choice text to text: the choice of highest likelihood (encoder-decoder)",
    settings=T2TMultipleChoiceSettings,
    metrics=MULTIPLE_CHOICE.metrics,
    model_kind="encoder-decoder",
    texts=MULTIPLE_CHOICE.texts,
)
