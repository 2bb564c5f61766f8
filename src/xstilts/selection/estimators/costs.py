"""What an estimate costs and what the grid it replaces costs, by the plan's own arithmetic
(``studies.estimate``: 6 x parameters x tokens to train, 2 x parameters x tokens forward; seconds as the plan
estimates them at its default throughput). The prefix (pretraining) stages are left out of both: the grid needs
them too, and an estimator only reuses them."""

from __future__ import annotations

from typing import Any

from xstilts.selection.estimate import Cost
from xstilts.selection.estimators.nodes import NodeTime, chain_of
from xstilts.selection.problem import SelectionProblem
from xstilts.studies import estimate
from xstilts.studies.context import Context


def summary(context: Context) -> dict[str, Any]:
    from xstilts.studies.plan_summary import plan_summary

    return plan_summary(context)


def grid_cost(context: Context, problem: SelectionProblem) -> tuple[float, float]:
    """(FLOPs, estimated seconds) of the grid at one seed: every intermediate and target stage of the problem's
    pipelines and every evaluation they run (unknown model sizes count 0)."""
    plan = summary(context)
    pipelines = {p for target in problem.targets.values() for p in (target.baseline, *target.pipelines.values())}
    chains = {pipeline: chain_of(context, problem, pipeline) for pipeline in pipelines}
    stage_keys = {node.key for chain in chains.values() for node in chain if node.kind != "mlm"}
    read_keys = {node.key for chain in chains.values() for node in chain}
    entries = [n for n in plan["nodes"] if n["key"] in stage_keys]
    entries += [e for e in plan["evaluation_nodes"] if e["stage_key"] in read_keys and set(e["pipelines"]) & pipelines]
    return _sum(entries)


def stage_cost(plan: dict[str, Any], keys: set[str]) -> tuple[float, float]:
    """(FLOPs, estimated seconds) of the plan's stages with these keys."""
    return _sum([n for n in plan["nodes"] if n["key"] in keys])


def evaluation_cost(plan: dict[str, Any], stage_keys: set[str]) -> tuple[float, float]:
    """(FLOPs, estimated seconds) of the plan's evaluations of these stages."""
    return _sum([e for e in plan["evaluation_nodes"] if e["stage_key"] in stage_keys])


def forward_flops(context: Context, model: str, tokens: int) -> float:
    """2 x the parameters that multiply each token x tokens: an embedding or feature pass (0 when the model's
    size is unknown)."""
    size = estimate.model_size(context.study.model_configs()[model])
    return estimate.flops(estimate.compute_parameters(size, False), tokens, training=False) or 0.0


def _sum(entries: list[dict[str, Any]]) -> tuple[float, float]:
    return (sum(e["flops"] or 0.0 for e in entries), sum(e["seconds"] or 0.0 for e in entries))


def measured_seconds(times: dict[str, NodeTime], notes: list[str], what: str) -> float:
    """The seconds of the nodes an estimator ran or reused, with a note for reused and unrecorded ones."""
    cached = [t for t in times.values() if t.cached and t.known]
    unknown = [t for t in times.values() if not t.known]
    if cached:
        notes.append(f"{what}: {len(cached)} node(s) were done by an earlier call: their seconds are the ones "
                     "recorded when they ran")
    if unknown:
        notes.append(f"{what}: {len(unknown)} node(s) were done by another run (no record of their time): "
                     "counted 0 s, their FLOPs are counted")
    return sum(t.seconds for t in times.values())


def with_grid(cost: Cost, context: Context, problem: SelectionProblem, notes: list[str]) -> Cost:
    """``cost`` with the grid's FLOPs and seconds filled in, and a note that puts the estimate's FLOPs on the
    plan's time scale: ``grid_seconds`` is an estimate, ``seconds`` a measurement, and on a small model the two
    scales differ (the plan's throughput is that of larger matrices)."""
    cost.grid_flops, cost.grid_seconds = grid_cost(context, problem)
    notes.append(f"by the plan's arithmetic ({estimate.DEFAULT_FLOPS_PER_SECOND / 1e9:.0f} GFLOP/s), this estimate "
                 f"is {cost.flops / estimate.DEFAULT_FLOPS_PER_SECOND:.3g} s against the grid's "
                 f"{cost.grid_seconds:.3g} s ({_share(cost.flops, cost.grid_flops)} of its FLOPs)")
    return cost


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "an unknown share"
