"""What an estimator returns: a score per candidate for each (target task, language), higher = predicted to
help more, and its cost. ``ALL`` as the language is the target's ranking over all its evaluated languages
(what the estimator predicts for the target as a whole)."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL = "all"


@dataclass
class Cost:
    """What an estimate cost (``seconds`` measured, ``flops`` from the plan's arithmetic) and what the grid it
    replaces would cost (``grid_flops``, ``grid_seconds`` as the plan estimates them)."""

    seconds: float = 0.0
    flops: float = 0.0
    grid_flops: float = 0.0
    grid_seconds: float = 0.0


@dataclass
class Estimate:
    """One estimator's predictions. ``scores[(target, language)][candidate]``: higher means the candidate is
    predicted to give ``target`` a larger gain in ``language`` (``ALL``: over all its languages). An estimator
    that cannot tell languages apart gives only ``ALL``; validation then uses that ranking for every language."""

    estimator: str
    scores: dict[tuple[str, str], dict[str, float]]
    cost: Cost = field(default_factory=Cost)
    notes: list[str] = field(default_factory=list)

    def ranking(self, target: str, language: str) -> list[str]:
        """Candidates best first (ties broken by name, so that a ranking is reproducible)."""
        scores = self.scores.get((target, language)) or self.scores[(target, ALL)]
        return sorted(scores, key=lambda c: (-scores[c], c))
