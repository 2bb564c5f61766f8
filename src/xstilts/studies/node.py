"""The one unit of work and the one way to run it.

A node is a stage, or the evaluations of one stage. Every executor runs nodes through :func:`run_once`: the
local drain (this process and its parallel workers), a torchrun/accelerate process group, a Ray task, a SLURM
job. :func:`run_once` takes the node's store lock, checks again that nobody finished the node meanwhile, and
runs it; so a node runs at most once whoever runs the study, and the store's locks are the only coordination.

Node ids: a stage node is its lineage key; the evaluations of one stage are one node, ``<stage key>.eval``.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from xstilts.studies import activity
from xstilts.studies.context import Context, Say
from xstilts.studies.evaluate import is_evaluated, run_evaluations
from xstilts.studies.plan import EvalNode
from xstilts.studies.stage import train_stage_node

EVAL_SUFFIX = ".eval"
Outcome = Literal["ran", "done", "busy"]


@dataclass
class Node:
    """A unit of work: one stage, or the evaluations of one stage."""

    id: str
    kind: str  # "stage" or "eval"
    name: str  # for people: "stage 'pos' (seed 0)", "evaluations of stage 'pos' (seed 0)"
    parent: str | None  # the id of the node whose output this one reads (None: starts from the model)
    payload: Any  # the StageNode, or the list of EvalNodes

    @property
    def stage_key(self) -> str:
        return self.id.removesuffix(EVAL_SUFFIX)

    def finished(self, context: Context) -> bool:
        if self.kind == "stage":
            return context.store.is_done(self.id)
        return all(is_evaluated(context, evaluation) for evaluation in self.payload)

    def ready(self, context: Context) -> bool:
        """Its input is done (a stage's parent stage; the stage an evaluation group reads)."""
        return self.parent is None or context.store.is_done(self.parent)

    def run(self, context: Context, say: Say) -> None:
        if self.kind == "stage":
            train_stage_node(context, self.payload, say)
        else:
            run_evaluations(context, self.payload, say)


def eval_groups(context: Context) -> dict[str, list[EvalNode]]:
    """Evaluations by the stage they read: one group loads its model once."""
    groups: dict[str, list[EvalNode]] = {}
    for evaluation in context.plan.evaluations:
        groups.setdefault(evaluation.stage.key, []).append(evaluation)
    return groups


def plan_nodes(context: Context) -> list[Node]:
    """Every node of the plan, parents before children: stages in plan order, then evaluation groups."""
    nodes = []
    for stage in context.plan.stages:
        nodes.append(Node(stage.key, "stage", f"stage {stage.name!r} (seed {stage.seed})",
                          stage.parent.key if stage.parent else None, stage))
    for key, group in eval_groups(context).items():
        stage = group[0].stage
        what = "the model as loaded" if stage.untrained else f"stage {stage.name!r}"
        nodes.append(Node(key + EVAL_SUFFIX, "eval", f"evaluations of {what} (seed {stage.seed})",
                          None if stage.untrained else stage.key, group))
    return nodes


def run_once(context: Context, node: Node, say: Say, *, wait: bool = True) -> Outcome:
    """Lock, re-check, run. ``"ran"``; ``"done"`` when someone finished the node first; ``"busy"`` when another
    runner holds its lock and ``wait`` is False (a worker with other work moves on instead of waiting).

    In a torchrun/accelerate process group every process comes here for a stage together: the main process
    holds the lock and the others follow it at the barriers, so they all see the same state."""
    store, processes = context.store, context.processes
    if processes.world == 1 and node.finished(context):
        return "done"
    lock = (store.lock(node.id) if wait else store.try_lock(node.id)) if processes.is_main else nullcontext(True)
    with lock as got:
        if got is False:
            return "busy"
        processes.barrier()
        try:
            if node.finished(context):
                return "done"
            if processes.is_main:
                pipelines = node.payload.pipelines if node.kind == "stage" else [e.pipeline for e in node.payload]
                activity.start(store.root, node.name, list(dict.fromkeys(pipelines)))
            try:
                node.run(context, say)
            finally:
                if processes.is_main:
                    activity.finish(store.root)
            return "ran"
        finally:
            processes.barrier()
