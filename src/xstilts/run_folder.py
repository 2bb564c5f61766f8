"""The layout of one run folder, ``runs/<key>/`` (a stage of a study, under its lineage key), named once.

::

    config.yaml                        the resolved stage config, written first
    log.jsonl                          training log: logged steps, dev evaluations, a start record per process
    state/                             resumable training state, removed when the stage is done
    checkpoint/                        the best model (encoder/ and heads)
    metrics.json                       the stage's outcome (steps, best step and score, speed)
    tracking.json                      the trackers' run ids, so that a resumed stage logs to the same runs
    tensorboard/                       TensorBoard event files
    eval/<eval key>.units.json         per-example score units of an evaluation, written just before ...
    eval/<eval key>.json               ... its result rows, which mark the evaluation done
    predictions/<task>/<split>-<language>.jsonl
    DONE                               the stage is trained, written last

``state/`` and ``checkpoint/`` are published whole by :func:`xstilts.atomic.publish_folder`, so after a crash
they may be found as ``state.old`` or ``checkpoint.old``: read them through
:func:`xstilts.atomic.published_folder` (the checkpoint readers do).

Changing a name here changes where every existing store is read, so the names are part of the store format.
Pure pathlib and at the bottom of the package: training writes run folders, studies and commands read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunFolder:
    """The paths of the parts of the run folder ``path``; nothing is created or read."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def log(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def state(self) -> Path:
        return self.path / "state"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    @property
    def tracking_ids(self) -> Path:
        return self.path / "tracking.json"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def done_marker(self) -> Path:
        return self.path / "DONE"

    def eval_result(self, eval_key: str) -> Path:
        return self.path / "eval" / f"{eval_key}.json"

    def eval_units(self, eval_key: str) -> Path:
        return self.path / "eval" / f"{eval_key}.units.json"

    @property
    def predictions(self) -> Path:
        """The folder of every task's predictions (``xstilts export`` reads it)."""
        return self.path / "predictions"

    def task_predictions(self, task: str) -> Path:
        return self.predictions / task

    def prediction_file(self, task: str, split: str, language: str) -> Path:
        return self.task_predictions(task) / f"{split}-{language}.jsonl"
