"""Experiment tracking through accelerate's trackers: TensorBoard by default, MLflow or W&B on request.

Every training stage is one tracker run named ``<stage>-seed<seed>-<key[:8]>``. TensorBoard writes event files
into the stage's own folder (``runs/<key>/tensorboard/<run name>/``), so ``tensorboard --logdir <store>`` shows
every stage of every study, and parallel workers never share a file. MLflow logs to ``runtime.tracking.mlflow_uri``,
else ``$MLFLOW_TRACKING_URI``, else a SQLite database in the store (MLflow 3 refuses its old file store). W&B
runs write under the stage folder and follow ``$WANDB_MODE`` (offline) unless ``tracking.wandb_mode`` is set.

Only the main process logs (accelerate starts trackers on it alone). A resumed stage continues the same runs:
TensorBoard hides the events after the resumed step (``purge_step``), and MLflow and W&B reopen the run whose id
the stage folder keeps in ``tracking.json``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts.atomic import file_lock, write_json_atomic
from xstilts.config.schema import RuntimeConfig, TrackingConfig
from xstilts.errors import XstiltsError
from xstilts.run_folder import RunFolder

# Tracker -> (modules that can provide it, the command that installs one).
_PROVIDERS = {
    "tensorboard": (("tensorboard", "tensorboardX"), "pip install tensorboardX"),
    "mlflow": (("mlflow",), "pip install 'xstilts[mlflow]'"),
    "wandb": (("wandb",), "pip install 'xstilts[wandb]'"),
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def check_trackers_installed(trackers: list[str]) -> None:
    """Raise before any training if a tracker the run asks for cannot be imported."""
    missing = [(name, _PROVIDERS[name][1]) for name in trackers
               if not any(_installed(module) for module in _PROVIDERS[name][0])]
    if missing:
        lines = [f"runtime.trackers asks for {name!r}, which is not installed: {command}" for name, command in missing]
        raise XstiltsError("\n".join(lines) + "\nInstall it, or remove it from runtime.trackers "
                           "(runtime.trackers: [] turns tracking off).")


def mlflow_uri(settings: TrackingConfig, store_root: Path) -> str:
    """``tracking.mlflow_uri``, else ``$MLFLOW_TRACKING_URI``, else a SQLite database in the store (MLflow 3
    refuses a plain folder, its old file store, unless MLFLOW_ALLOW_FILE_STORE is set)."""
    if settings.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI"):
        return settings.mlflow_uri or os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{Path(store_root).resolve() / 'mlflow.db'}"


def viewing_hint(runtime: RuntimeConfig, store_root: Path) -> str | None:
    """How to look at what this run's trackers log, in one line (None without trackers)."""
    uri = mlflow_uri(runtime.tracking, store_root)
    # The viewer is the tensorboard package (tensorboardX, which can write the logs, has none): say how to get it.
    install = "" if _installed("tensorboard") else "pip install tensorboard && "
    hints = {"tensorboard": f"{install}tensorboard --logdir {store_root}",
             "mlflow": f"MLflow at {uri}" if uri.startswith(("http:", "https:")) else f"mlflow ui --backend-store-uri {uri}",
             "wandb": f"W&B project {runtime.tracking.project or '(the study name)'}"}
    shown = [hints[name] for name in runtime.trackers]
    return "tracking: " + "; ".join(shown) if shown else None


def run_name(stage: str, seed: int, key: str) -> str:
    return f"{stage}-seed{seed}-{key[:8]}"


@dataclass
class StageRun:
    """Who a stage is to the trackers: the run's name, the project it belongs to, and what it was trained with."""

    name: str
    project: str = "xstilts"
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    store_root: Path | None = None  # where the default MLflow database lives (default: the stage folder's parent)


def flat_params(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested config as ``{"optimizer.lr": 1e-5, ...}`` with scalar values (lists as JSON), as MLflow params
    and W&B config want them."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flat_params(item, f"{prefix}{key}."))
        return out
    if isinstance(value, (list, tuple)):
        value = json.dumps(value)
    return {prefix.rstrip("."): value}


class StageTracking:
    """The trackers of one stage: built before the Accelerator (which takes them as ``log_with``), started once
    the resumed step is known, then fed the loop's log records."""

    def __init__(self, stage_dir: Path, runtime: RuntimeConfig, run: StageRun):
        self.stage_dir, self.run, self.settings = stage_dir, run, runtime.tracking
        self.folder = RunFolder(stage_dir)
        self.names = list(runtime.trackers)
        check_trackers_installed(self.names)
        self.saved = _read_ids(self.folder.tracking_ids)
        self.mlflow_uri = self._mlflow_uri() if "mlflow" in self.names else None
        self.trackers = [self._build(name) for name in self.names]

    def _store_root(self) -> Path:
        return Path(self.run.store_root or self.stage_dir.parent).resolve()

    @property
    def _default_mlflow(self) -> bool:
        return not (self.settings.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI"))

    def _mlflow_uri(self) -> str:
        return mlflow_uri(self.settings, self._store_root())

    def _build(self, name: str):
        from accelerate.tracking import MLflowTracker, TensorBoardTracker, WandBTracker

        if name == "tensorboard":
            # Event files are named by the second they were opened and opened for writing: a stage that resumes
            # within the second would overwrite its first file. A nanosecond suffix keeps them apart, in order.
            return TensorBoardTracker(self.run.name, str(self.folder.tensorboard),
                                      filename_suffix=f".{time.time_ns()}")
        if name == "mlflow":
            # A saved run id is reused only with the store it was created in.
            run_id = self.saved.get("mlflow_run_id") if self.saved.get("mlflow_uri") == self.mlflow_uri else None
            # Artifacts of the default database go beside it, not into the working folder (MLflow's default).
            artifacts = str(self._store_root() / "mlflow-artifacts") if self._default_mlflow else None
            return MLflowTracker(self.run.project, logging_dir=artifacts, run_id=run_id, run_name=self.run.name,
                                 tags=self.run.tags or None)
        kwargs: dict[str, Any] = {
            "name": self.run.name, "id": self.saved.get("wandb_id") or uuid.uuid4().hex[:16], "resume": "allow",
            "dir": str(self.stage_dir), "tags": [f"{k}={v}"[:64] for k, v in self.run.tags.items()],  # W&B's limit
        }
        if self.settings.wandb_mode:
            kwargs["mode"] = self.settings.wandb_mode
        return WandBTracker(self.run.project, **kwargs)

    def start(self, accelerator, resumed_step: int) -> None:
        """Open the runs (on the main process: accelerate starts trackers nowhere else). ``resumed_step``: the
        step training continues after (0 for a fresh start)."""
        if not self.trackers or not accelerator.is_main_process:
            return
        board = self._tracker("tensorboard")
        if board is not None and self.folder.tensorboard.exists():
            # Events logged after the resumed step (before a crash) are hidden, as log.jsonl is trimmed.
            board.init_kwargs["purge_step"] = resumed_step + 1
        if self.mlflow_uri is not None:
            import mlflow

            mlflow.set_tracking_uri(self.mlflow_uri)
            if self.mlflow_uri.startswith("sqlite:///"):
                Path(self.mlflow_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Parallel workers share one MLflow database: creating it and the experiment must not race.
        lock = self._store_root() / "tracking.lock"
        try:
            with file_lock(lock) if self.mlflow_uri is not None else contextlib.nullcontext():
                accelerator.init_trackers(self.run.project)
        except Exception as error:  # a server that cannot be reached, a bad URI, no W&B login...
            self.finish(accelerator, failed=True)
            raise XstiltsError(
                f"could not start the trackers {self.names} for {self.stage_dir}: {type(error).__name__}: {error}\n"
                f"Check runtime.tracking (MLflow URI: {self.mlflow_uri}; W&B: `wandb login`, or WANDB_MODE=offline), "
                "or remove the tracker from runtime.trackers ([] turns tracking off)."
            ) from error
        for tracker in accelerator.trackers:
            if tracker.name != "tensorboard" and self.run.params:
                # TensorBoard's hparams would add a second run per stage; the stage folder has config.yaml.
                tracker.store_init_configuration(self.run.params)
        self._save_ids(accelerator)

    def _tracker(self, name: str):
        return next((t for t in self.trackers if t.name == name), None)

    def _save_ids(self, accelerator) -> None:
        ids = dict(self.saved)
        for tracker in accelerator.trackers:
            if tracker.name == "mlflow":
                ids.update(mlflow_run_id=tracker.active_run.info.run_id, mlflow_uri=self.mlflow_uri)
            elif tracker.name == "wandb":
                ids["wandb_id"] = tracker.run.id
        if ids and ids != self.saved:
            write_json_atomic(self.folder.tracking_ids, ids)

    @staticmethod
    def log_train(accelerator, record: dict[str, Any]) -> None:
        values = {f"train/{name}": float(record[name]) for name in ("loss", "lr", "examples_per_s", "epoch")}
        accelerator.log(values, step=record["step"])

    @staticmethod
    def log_dev(accelerator, step: int, evaluation: dict[str, Any]) -> None:
        """The selection score and each dev set's main score (``dev/<task>/<language>``)."""
        values = {"dev/score": float(evaluation["score"])}
        values.update({f"dev/{name}": float(score) for name, score in evaluation["scores"].items()})
        accelerator.log(values, step=step)

    @contextlib.contextmanager
    def session(self, accelerator, resumed_step: int) -> Iterator[None]:
        """Open the runs for the training loop, close them when it ends: as failed if it raised (the logs up
        to then are kept)."""
        self.start(accelerator, resumed_step)
        try:
            yield
        except BaseException:
            self.finish(accelerator, failed=True)
            raise
        self.finish(accelerator)

    @staticmethod
    def finish(accelerator, failed: bool = False) -> None:
        # Not accelerator.end_training(): it also destroys the process group, which the next stage of a
        # multi-process run still needs.
        for tracker in accelerator.trackers:
            if failed and tracker.name == "mlflow":
                import mlflow

                mlflow.end_run(status="FAILED")
            elif failed and tracker.name == "wandb":
                tracker.run.finish(exit_code=1)
            else:
                tracker.finish()


def _read_ids(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}

