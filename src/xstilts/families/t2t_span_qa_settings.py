"""The t2t_span_qa family's declarative part (torch-free): the span_qa family's settings (its scoring reads
them) and metrics, with the answer's token limit and the decoding settings of generation, on an
encoder-decoder. The window settings (``doc_stride``, ``n_best``, ``max_answer_length``) are accepted, since
the task declares them for the encoder family, and unused: the source is one truncated window and the answer
is generated."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.span_qa_settings import SPEC as SPAN_QA
from xstilts.families.span_qa_settings import SpanQASettings
from xstilts.families.spec import FamilySpec, integer, number


@dataclass(frozen=True)
class T2TSpanQASettings(SpanQASettings):
    family = "t2t_span_qa"

    target_max_length: int = integer(32, low=2, doc="tokens of the answer the model is trained on (end token "
                                     "included)")
    num_beams: int = integer(1, low=1, high=64, doc="1: greedy search; more: beam search")
    max_new_tokens: int = integer(32, low=1, high=4096, doc="longest generated answer, in tokens")
    length_penalty: float = number(1.0, low=-10.0, high=10.0, doc="beam search: sequence scores are divided by "
                                   "length ** length_penalty")


SPEC = FamilySpec(
    name="t2t_span_qa",
    description="extractive QA text to text: the answer generated from question and context (encoder-decoder)",
    settings=T2TSpanQASettings,
    metrics=SPAN_QA.metrics,
    model_kind="encoder-decoder",
    texts=SPAN_QA.texts,
)
