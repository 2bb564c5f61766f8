"""``--executor ray``: every pending node is a Ray task with the resources of ``runtime.ray``.

A task receives its parent's task as an argument (an ObjectRef), so Ray itself starts it only once the parent
has finished, and skips it if the parent failed. The task runs ``nodes.run_node`` in a Ray worker: the node
meets its input through the store, so workers on other machines need the same store path (a shared file
system) and xstilts installed.
"""

from __future__ import annotations

from typing import Any

from xstilts.errors import XstiltsError
from xstilts.studies.executors.nodes import failure_report, run_node
from xstilts.studies.node import plan_nodes

INSTALL_HINT = "pip install 'xstilts[ray]'"


def import_ray():
    try:
        import ray
    except ImportError:
        raise XstiltsError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def _node_task(spec: dict[str, Any], node_id: str, threads: int, *inputs: Any) -> dict[str, Any]:
    """The body of a Ray task; ``inputs`` are the parents' results, there only so Ray orders the tasks."""
    return run_node(spec, node_id, threads=threads)


def run_with_ray(context, spec: dict[str, Any], settings, threads: int | None, say) -> None:
    """Submit every node that is not done, wait for all, and raise one XstiltsError naming every failed node
    with its remote error. Starts a local Ray instance unless one is running in this process or
    ``settings.address`` names a cluster."""
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        say(f"connecting to Ray at {settings.address}" if settings.address else "starting a local Ray instance")
        ray.init(address=settings.address, include_dashboard=False, log_to_driver=True)
        started = True
    try:
        _submit_and_wait(ray, context, spec, settings, threads or max(1, int(settings.num_cpus)), say)
    finally:
        if started:
            ray.shutdown()


def _submit_and_wait(ray, context, spec, settings, threads: int, say) -> None:
    task = ray.remote(_node_task)
    nodes = {node.id: node for node in plan_nodes(context)}
    refs: dict[str, Any] = {}
    for node in nodes.values():
        if node.finished(context):
            continue
        inputs = [refs[node.parent]] if node.parent in refs else []
        refs[node.id] = task.options(
            num_cpus=settings.num_cpus, num_gpus=settings.num_gpus, name=f"xstilts {node.name}", max_retries=1,
        ).remote(spec, node.id, threads, *inputs)
    say(f"{len(refs)} Ray tasks submitted ({len(nodes) - len(refs)} nodes already done)"
        + (f", {settings.num_cpus:g} CPUs and {settings.num_gpus:g} GPUs each" if refs else ""))

    by_ref = {ref: node_id for node_id, ref in refs.items()}
    waiting = list(refs.values())
    failed: dict[str, str] = {}
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1)
        node = nodes[by_ref[ready[0]]]
        try:
            outcome = ray.get(ready[0])
        except ray.exceptions.RayError as error:
            failed[node.id] = _remote_error(error)
            continue
        say(f"{'finished' if outcome['ran'] else 'found done'}: {node.name}")
    if failed:
        raise XstiltsError(failure_report(nodes, failed, "Ray task", "finished stages are kept, interrupted ones resume"))


def _remote_error(error: Exception) -> str:
    """The remote exception's own message for a user error, else the remote traceback."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, XstiltsError):
        return str(cause)
    text = str(error).strip()
    return text if len(text) < 4000 else "...\n" + text[-4000:]

