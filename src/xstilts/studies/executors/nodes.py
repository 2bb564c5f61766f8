"""One node of a plan, run in a fresh process from nothing but a job spec and the node's id.

This is what a Ray task or a SLURM job executes. Nodes meet through the store, never through memory: the job
rebuilds the study's context from the spec (``make_context``), finds its node by id, checks that its input is
done, and runs it through :func:`xstilts.studies.node.run_once` (the node's store lock, a re-check, the run),
as every other executor does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from xstilts.errors import XstiltsError
from xstilts.studies.node import Node, plan_nodes, run_once


def job_spec(study, base: Path | None = None) -> dict[str, Any]:
    """Everything a fresh process needs to rebuild a study's context: the resolved config, the folder its relative
    task files are read from, and the absolute homes of data, store and caches (a job need not share the
    driver's environment variables or working directory)."""
    from xstilts.studies.context import resolve_data_root
    from xstilts.studies.store import xstilts_home

    home = xstilts_home().resolve()
    data = study.model_dump(mode="json")
    data["store"] = str(Path(study.store).resolve() if study.store else home / "runs")
    data["data_root"] = str(resolve_data_root(study).resolve())
    return {"study": data, "base": str((base or Path.cwd()).resolve()), "home": str(home)}


def context_from_spec(spec: dict[str, Any]):
    from xstilts.config.load import parse_study
    from xstilts.studies.context import make_context

    os.environ["XSTILTS_HOME"] = spec["home"]  # tokenizers and features: the driver's caches
    study = parse_study(spec["study"], source="<job spec>", base=Path(spec["base"]))
    return make_context(study)


def run_node(spec: dict[str, Any], node_id: str, threads: int | None = None) -> dict[str, Any]:
    """Run one node of the spec's study in this process unless it is done; returns ``{"node", "name", "ran"}``.
    Raises XstiltsError if the node's input is not done (its parent's job failed or never ran)."""
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    context = context_from_spec(spec)
    runtime = context.study.runtime
    if threads or runtime.threads:
        torch.set_num_threads(threads or runtime.threads)
    if runtime.progress:  # a job's output is a log file: no progress bars
        context.study = context.study.model_copy(
            update={"runtime": runtime.model_copy(update={"progress": False})})
    nodes = {node.id: node for node in plan_nodes(context)}
    if node_id not in nodes:
        raise XstiltsError(f"node {node_id} is not in the plan of study {context.study.name!r}; the study changed "
                           "since the jobs were submitted: run the study again to submit its current plan")
    node = nodes[node_id]
    if node.parent is not None and not context.store.is_done(node.parent):
        raise XstiltsError(f"{node.name}: its input, {nodes[node.parent].name} ({node.parent}), is not done "
                           f"in {context.store.root}; its job failed or has not run. Run the study again: it "
                           "resubmits what is not done")

    def say(message: str) -> None:
        sys.stderr.write(f"xstilts: {message}\n")
        sys.stderr.flush()

    outcome = run_once(context, node, say)  # waits while another runner of the same node holds it
    if outcome == "done":
        say(f"{node.name}: already done")
    return {"node": node.id, "name": node.name, "ran": outcome == "ran"}


def failure_report(nodes: dict[str, Node], failed: dict[str, str], what: str, again: str) -> str:
    """One message for every failed node with its error (``what``: "Ray task", "job"). Nodes that failed only
    because their input failed are listed apart, by name."""
    roots = {node_id: message for node_id, message in failed.items() if nodes[node_id].parent not in failed}
    skipped = [nodes[node_id].name for node_id in failed if node_id not in roots]
    lines = [f"{len(roots)} {what}{'s' if len(roots) != 1 else ''} failed:"]
    for node_id, message in roots.items():
        lines.append(f"  {nodes[node_id].name} ({node_id}):\n    " + message.replace("\n", "\n    "))
    if skipped:
        lines.append(f"not run because their input failed: {', '.join(skipped)}")
    lines.append(f"Fix the cause and run the same command again: {again}")
    return "\n".join(lines)
