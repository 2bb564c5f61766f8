"""The multiple_choice family's declarative part (torch-free): ``num_choices``; metric accuracy."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, Settings, integer


@dataclass(frozen=True)
class MultipleChoiceSettings(Settings):
    family = "multiple_choice"

    # Every example must have exactly this many choices; unset: any number from 2.
    num_choices: int | None = integer(None, low=2, doc="choices every example has (unset: 2 or more, any)")


SPEC = FamilySpec(
    name="multiple_choice",
    description="context + N choices, one forward pass (XCOPA)",
    settings=MultipleChoiceSettings,
    metrics=("accuracy",),
    texts=lambda example: [example["context"], *example["choices"]],
)
