"""The estimators of ``xstilts select``, cheapest first: each ranks a problem's candidate intermediate tasks
for each target without training the grid, and says what that cost and what the grid would cost.

- ``similarity``: cosine of mean-pooled task texts in the prefix encoder (forward passes only);
- ``logme``: LogME of the target's English features after a short probe of each candidate;
- ``probe``: the short candidate probe, then a short target stage, evaluated zero-shot in every language.

Each is ``estimate(problem, context, settings, say) -> Estimate`` (``selection.estimate``). Their stages are
nodes of the run store (``nodes.py``), their results cached under ``<home>/selection`` (``cache.py``). See
docs/selection-estimators.md.
"""

from __future__ import annotations

from collections.abc import Callable

from xstilts.selection.estimate import Estimate
from xstilts.selection.estimators import probe, similarity, transferability
from xstilts.selection.estimators.settings import EstimatorSettings
from xstilts.selection.problem import SelectionProblem
from xstilts.studies.context import Context, Say

Estimator = Callable[[SelectionProblem, Context, EstimatorSettings, Say], Estimate]

ESTIMATORS: dict[str, Estimator] = {
    similarity.NAME: similarity.estimate,
    transferability.NAME: transferability.estimate,
    probe.NAME: probe.estimate,
}

__all__ = ["ESTIMATORS", "Estimator", "EstimatorSettings"]
