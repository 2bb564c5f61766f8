"""The run's one live display: stages and evaluations done out of all, what each process is doing (from the
activity files every worker writes: :mod:`xstilts.studies.activity`), elapsed time and an ETA, and a line for
every node that finishes (a stage with its best dev score). It reads the store, so it sees the work of parallel
workers as well as this process's; it runs in a thread of the main process.

On a terminal the status lines are redrawn in place (rich's Live) and the finish lines scroll above them;
elsewhere (a log file, a CI job) only the finish lines are written, one per node.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from xstilts.studies import activity
from xstilts.studies.context import Context, Say
from xstilts.studies.node import Node, plan_nodes

REFRESH_S = 0.5


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class StudyMonitor:
    """``with StudyMonitor(context, say, live=...):`` around the work of a run."""

    def __init__(self, context: Context, say: Say, live: bool | None = None):
        self.context, self.say = context, say
        self.live = sys.stderr.isatty() if live is None else live
        self.nodes = plan_nodes(context)
        self.weights = _weights(context, self.nodes)
        self.reported = {node.id for node in self.nodes if node.finished(context)}
        self.seen: dict[str, dict[str, Any]] = {}  # node name -> the last activity record seen for it
        self.start = time.time()
        self.done_at_start = self._progress()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Any = None

    # ----- the numbers
    def _progress(self, records: list[dict[str, Any]] | None = None) -> float:
        """Work done, in the nodes' weights: finished nodes whole, a training stage by its step."""
        running = {r.get("node"): r for r in records or []}
        total = 0.0
        for node in self.nodes:
            if node.id in self.reported:
                total += self.weights[node.id]
            elif (record := running.get(node.name)) and record.get("total"):
                total += self.weights[node.id] * min(1.0, (record.get("step") or 0) / record["total"])
        return total

    def status(self) -> list[str]:
        records = activity.read_all(self.context.store.root)
        self.seen.update({r["node"]: r for r in records if r.get("node")})
        stages = [n for n in self.nodes if n.kind == "stage"]
        groups = [n for n in self.nodes if n.kind == "eval"]
        done_stages = sum(n.id in self.reported for n in stages)
        done_groups = sum(n.id in self.reported for n in groups)
        elapsed = time.time() - self.start
        progress = self._progress(records) - self.done_at_start
        left = sum(self.weights.values()) - self._progress(records)
        eta = f", about {duration(elapsed * left / progress)} left" if progress > 0 and left > 0 else ""
        head = (f"{self.context.study.name}: {done_stages}/{len(stages)} stages trained, {done_groups}/{len(groups)} "
                f"evaluated, {duration(elapsed)} elapsed{eta}")
        lines = [head]
        for record in records:
            where = ", ".join(record.get("pipelines", [])[:2]) + (
                f" +{len(record['pipelines']) - 2}" if len(record.get("pipelines", [])) > 2 else "")
            step = (f" step {record['step']}/{record['total']}" if record.get("total") else "")
            if record.get("resumed_from") is not None:
                step += f" (resumed at {record['resumed_from']})"
            loss = f" loss {record['loss']:.3f}" if isinstance(record.get("loss"), float) else ""
            lines.append(f"  pid {record.get('pid')}: {record.get('node')}" + (f" [{where}]" if where else "")
                         + step + loss)
        return lines

    def finished_lines(self) -> list[str]:
        """A line for each node that finished since the last look (stages with their best dev score)."""
        out = []
        for node in self.nodes:
            if node.id in self.reported or not node.finished(self.context):
                continue
            self.reported.add(node.id)
            out.append(_finish_line(self.context, node, self.seen.get(node.name, {})))
        return out

    # ----- the display
    def _render(self) -> Any:
        from rich.text import Text

        return Text("\n".join(self.status()), style="dim")

    def poll(self) -> None:
        for line in self.finished_lines():
            if self._live is not None:
                self._live.console.print(f"[dim]xstilts:[/] {line}", highlight=False)
            else:
                self.say(line)
        if self._live is not None:
            self._live.update(self._render())

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH_S):
            try:
                self.poll()
            except Exception:  # noqa: BLE001  (a display hiccup, e.g. a file replaced mid-read, never stops a run)
                continue

    def __enter__(self) -> StudyMonitor:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._render(), console=Console(stderr=True), refresh_per_second=4, transient=True)
            self._live.__enter__()
        self._thread = threading.Thread(target=self._loop, name="xstilts-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.poll()
        finally:
            if self._live is not None:
                self._live.__exit__(*exc)
                self._live = None


def _finish_line(context: Context, node: Node, record: dict[str, Any]) -> str:
    if node.kind == "eval":
        pipelines = list(dict.fromkeys(evaluation.pipeline for evaluation in node.payload))
        pairs = f"{len(node.payload)} task/language pair" + ("s" if len(node.payload) != 1 else "")
        return f"done: {node.name}, {pairs}, {_for_pipelines(pipelines)}"
    run = context.store.run(node.id)
    try:
        metrics = json.loads(run.metrics.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        metrics = {}
    parts = [f"done: {node.name}"]
    if metrics.get("steps"):
        parts.append(f"{metrics['steps']} steps" + (" (stopped early)" if metrics.get("stopped_early") else ""))
    if record.get("resumed_from"):
        parts.append(f"resumed from step {record['resumed_from']}")
    if metrics.get("best_score") is not None:
        parts.append(f"dev {metrics['best_score']:.1f} at step {metrics.get('best_step')}")
    if node.payload.pipelines:
        parts.append(_for_pipelines(node.payload.pipelines))
    return ", ".join(parts)


def _for_pipelines(pipelines: list[str]) -> str:
    """Which pipelines a node served: two nodes of the same stage name differ only in this."""
    return f"for {pipelines[0]}" + (f" and {len(pipelines) - 1} more" if len(pipelines) > 1 else "")


def _weights(context: Context, nodes: list[Node]) -> dict[str, float]:
    """Each node's share of the work: its estimated FLOPs (`xstilts plan`'s estimate); a node whose size is not
    known weighs the mean of the known ones (all the same when none is known)."""
    from xstilts.studies.plan_summary import plan_summary

    try:
        summary = plan_summary(context)
    except Exception:  # noqa: BLE001  (an estimate is a nicety: without one every node weighs the same)
        return {node.id: 1.0 for node in nodes}
    flops: dict[str, float] = {n["key"]: n["flops"] for n in summary["nodes"] if n["flops"]}
    for evaluation in summary["evaluation_nodes"]:
        if evaluation["flops"]:
            key = evaluation["stage_key"] + ".eval"
            flops[key] = flops.get(key, 0.0) + evaluation["flops"]
    mean = sum(flops.values()) / len(flops) if flops else 1.0
    return {node.id: flops.get(node.id, mean) for node in nodes}
