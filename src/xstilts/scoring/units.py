"""Per-example score units: every metric that decomposes is a ratio of sums over the units of one evaluated set.

Unit ``i`` contributes ``(num_i, den_i)`` and the metric is ``100 * sum(num) / sum(den)`` (0 when the
denominators sum to 0, as the metrics define an empty set). Means over examples (accuracy, SQuAD EM/F1,
AP/RR per query) have ``den_i = 1`` and ``num_i`` = the example's score in 0..1; micro-averaged counts
(token accuracy, chunk and mined-pair precision/recall/F1) have the example's counts, e.g. F1 ``num = 2 tp``,
``den = predicted + gold``. A paired bootstrap over test examples resamples units and recomputes the ratio.

A unit is usually one example, but not always: a query of a retrieval set (candidate-only examples are no
unit), a query group for nDCG (XGLUE WPR averages over groups). ``ids`` says which.

Metrics that are not such a ratio (MLM perplexity, the exp of a mean) have no units.
Pure Python: scoring files and reading results never need the model stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# (numerators, denominators) of one metric, one entry per unit, as the metric functions return them.
Counts = tuple[list[float], list[float]]


def ratio(num: Iterable[float], den: Iterable[float]) -> float:
    """``100 * sum(num) / sum(den)``, 0 for an empty denominator. Summed left to right, as the metrics
    always have, so a score computed here is the same float as before units existed."""
    total = sum(den)
    return 100.0 * sum(num) / total if total else 0.0


@dataclass(frozen=True)
class Units:
    """The units of one metric on one evaluated set: ``ids[i]`` contributes ``num[i] / den[i]``."""

    ids: list[str]
    num: list[float]
    den: list[float]

    def __post_init__(self) -> None:
        if not len(self.ids) == len(self.num) == len(self.den):
            raise ValueError(f"{len(self.ids)} unit ids, {len(self.num)} numerators, {len(self.den)} denominators")

    @classmethod
    def of(cls, ids: Sequence[Any], counts: Counts) -> Units:
        return cls([str(i) for i in ids], [float(x) for x in counts[0]], [float(x) for x in counts[1]])

    def value(self) -> float:
        """The metric (0-100) these units add up to."""
        return ratio(self.num, self.den)

    def as_json(self) -> dict[str, list]:
        return {"ids": self.ids, "num": self.num, "den": self.den}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Units:
        return cls(list(data["ids"]), list(data["num"]), list(data["den"]))


def scores_from_units(metrics: Sequence[str], units: Mapping[str, Units]) -> dict[str, float]:
    """Every metric of ``metrics`` (in that order) from its units."""
    return {metric: units[metric].value() for metric in metrics}
