"""The span_qa family's declarative part (torch-free): window and answer settings, SQuAD and MLQA metrics."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, Settings, flag, integer, number

MLQA_METRICS = ("mlqa_exact_match", "mlqa_f1")


@dataclass(frozen=True)
class SpanQASettings(Settings):
    family = "span_qa"

    doc_stride: int = integer(128, low=1, doc="tokens of overlap between the windows of a long context")
    max_answer_length: int = integer(30, low=1, doc="longest predicted answer, in tokens")
    n_best: int = integer(20, low=1, doc="start and end candidates per window")
    with_negative: bool = flag(False, doc="unanswerable questions allowed (SQuAD 2.0)")
    null_score_diff_threshold: float = number(0.0, doc="with_negative: predict no answer when the null score "
                                              "beats the best span by more than this")


SPEC = FamilySpec(
    name="span_qa",
    description="extractive QA, SQuAD 1.1/2.0 style (XQuAD, MLQA, TyDiQA)",
    settings=SpanQASettings,
    metrics=("f1", "exact_match", *MLQA_METRICS),
    texts=lambda example: [example["question"], example["context"]],
)
