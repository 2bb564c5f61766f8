"""The one training loop, shared by every family.

Read it top to bottom: set up (accelerate, optimizer, schedule, data stream) -> resume if a saved state
exists -> for each step: draw a batch from the mixture, forward/backward (with accumulation), step ->
log -> evaluate on dev and keep the best checkpoint -> save the resumable state every N steps.

Exact resume: the state holds model, optimizer, schedule, RNG states, the mixture stream's position and the
selection bookkeeping; MLM masks come from a generator derived from (seed, step), so a resumed run draws
the same batches, masks and dropout as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xstilts import faults
from xstilts.config.schema import RuntimeConfig, StageConfig
from xstilts.data.cache import FeaturizedSplit
from xstilts.errors import TrainingDiverged
from xstilts.evaluation.predict import evaluate_features, move
from xstilts.families import get_family
from xstilts.models.bundle import EncoderWithHeads
from xstilts.models.checkpoint import load_training_state, save_model, save_training_state
from xstilts.models.packing import BatchPacker
from xstilts.run_folder import RunFolder
from xstilts.tasks.base import Task, stable_hash
from xstilts.training.acceleration import configure_encoder
from xstilts.training.batching import MixtureStream, mixture_weights, steps_for_epochs
from xstilts.training.optim import build_optimizer, build_schedule, fused_adamw_available
from xstilts.training.precision import Precision, resolve_precision
from xstilts.training.tracking import StageRun, StageTracking, run_name


@dataclass
class TrainSource:
    task: Task
    head: str
    features: list[dict[str, Any]]


@dataclass
class DevSet:
    task: Task
    head: str
    data: FeaturizedSplit


@dataclass
class StageOutcome:
    steps: int
    best_step: int | None
    best_score: float | None
    stopped_early: bool
    resumed_from: int | None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_examples_per_s: float = 0.0
    # What it ran in: "fp32" or "bf16" ("fp32+bf16" when resumed on a machine that picked another), the device
    # type and the GPU path's switches (runtime settings, recorded here and in results, never in lineage keys).
    precision: str = ""
    device: str = ""
    runtime: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def seed_int(*parts: Any) -> int:
    return int(stable_hash(list(parts), 8), 16)


def run_precision(runtime: RuntimeConfig) -> Precision:
    """The device and precision a stage or evaluation runs in on this machine (``runtime.device``,
    ``runtime.precision``; see training/precision.py)."""
    use_cuda = runtime.device == "cuda" or (runtime.device == "auto" and torch.cuda.is_available())
    return resolve_precision(runtime.precision, "cuda" if use_cuda else "cpu")


def make_accelerator(runtime: RuntimeConfig, trackers: list | None = None, project_dir: Path | None = None,
                     precision: Precision | None = None):
    """The Accelerator of a stage or an evaluation; ``trackers`` (accelerate tracker objects) to log to;
    ``precision`` as resolved by ``run_precision`` (default: resolved here)."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    precision = precision or run_precision(runtime)
    _allow_precision(precision.accelerate_name)
    # Multi-task steps leave the other tasks' heads unused; DDP must be told.
    ddp = DistributedDataParallelKwargs(find_unused_parameters=True)
    return Accelerator(cpu=precision.device != "cuda", mixed_precision=precision.accelerate_name,
                       kwargs_handlers=[ddp], log_with=trackers or None,
                       project_dir=str(project_dir) if project_dir else None)


def _allow_precision(mixed_precision: str) -> None:
    """accelerate keeps one AcceleratorState per process and refuses a second Accelerator of another precision;
    a process that runs stages of studies with different precisions (tests, the Python API) starts the state
    afresh. The process group (PartialState) is kept."""
    from accelerate.state import AcceleratorState

    current = AcceleratorState._shared_state.get("_mixed_precision")
    if current is not None and current != mixed_precision:
        AcceleratorState._reset_state()


class _Forward(torch.nn.Module):
    """Routes a batch through the family's forward inside the (possibly DDP-wrapped) module, so that
    gradient synchronisation sees every call."""

    def __init__(self, bundle: EncoderWithHeads):
        super().__init__()
        self.bundle = bundle

    def forward(self, batch: dict[str, Any], family_name: str, head: str) -> Any:
        family = get_family(family_name)
        return family.forward(self.bundle.encoder, self.bundle.head(head), batch)


def train_stage(
    stage_dir: Path,
    *,
    config: StageConfig,
    seed: int,
    bundle: EncoderWithHeads,
    sources: list[TrainSource],
    dev_sets: list[DevSet],
    pad_token_id: int,
    runtime: RuntimeConfig,
    title: str = "train",
    head_meta: dict[str, dict] | None = None,
    on_progress: Callable[[int, int, float | None, int | None], None] | None = None,
    tracking_run: StageRun | None = None,
) -> StageOutcome:
    """Train one stage in ``stage_dir``; ``tracking_run`` names it in the trackers of ``runtime.trackers``
    (default: ``title``, the seed and the folder's name). ``on_progress(done, total, loss, resumed_from)`` is
    called once when training starts (``resumed_from``: the step a saved state resumed at, else None) and at
    every logged step (the run's live display reads it)."""
    tracking = StageTracking(stage_dir, runtime, tracking_run or StageRun(run_name(title, seed, stage_dir.name)))
    precision = run_precision(runtime)
    accelerator = make_accelerator(runtime, tracking.trackers, stage_dir, precision)
    switches = configure_encoder(bundle.encoder, runtime, training=True, device=precision.device)
    sizes = [len(s.features) for s in sources]
    per_step = config.batch_size * config.grad_accumulation
    total = config.steps or steps_for_epochs(sizes, per_step, config.epochs)
    one_epoch = steps_for_epochs(sizes, per_step, 1.0)
    selection = config.selection
    eval_every = (selection.every or one_epoch) if selection.enabled and dev_sets else None

    fused = runtime.fused_optimizer and fused_adamw_available(precision.device)
    optimizer = build_optimizer(bundle, config.optimizer, fused=fused)
    scheduler = build_schedule(optimizer, config.schedule, total)
    weights = mixture_weights(sizes, config.sampler.kind, config.sampler.temperature, config.sampler.cap)
    stream = MixtureStream([[f["length"] for f in s.features] for s in sources], config.batch_size, weights, seed)
    bookkeeping: dict[str, Any] = {"step": 0, "best_score": None, "best_step": None, "evals_without_gain": 0,
                                   "history": [], "examples": 0, "train_seconds": 0.0, "precisions": []}

    folder = RunFolder(stage_dir)
    state_dir = folder.state
    restored = load_training_state(state_dir, model=bundle, optimizer=optimizer, scheduler=scheduler)
    if restored is not None:
        stream.load_state_dict(restored.pop("stream"))
        bookkeeping.update(restored)
    else:
        torch.manual_seed(seed_int(seed, "train"))
        random.seed(seed_int(seed, "python"))
        np.random.seed(seed_int(seed, "numpy") % 2**32)
    if accelerator.is_main_process:
        # Lines after the resumed step (all of them when no state was saved) will be written again.
        _trim_log(folder.log, bookkeeping["step"])
    resumed_from = bookkeeping["step"] if restored is not None else None
    if precision.name not in bookkeeping["precisions"]:  # every precision the stage has run in, in order
        bookkeeping["precisions"] = [*bookkeeping["precisions"], precision.name]
    if on_progress is not None:
        on_progress(bookkeeping["step"], total, None, resumed_from)

    wrapped = _Forward(bundle)
    wrapped, optimizer = accelerator.prepare(wrapped, optimizer)
    device = accelerator.device
    rank, world = accelerator.process_index, accelerator.num_processes
    families = [get_family(s.task.family) for s in sources]
    # Packing moves the tokens of a collated batch into fewer rows (same tokens, same MLM masks): the loss
    # equals the padded one within fp32 rounding (dropout draws differ with the layout). Deterministic, so a
    # resumed run packs its batches exactly as the uninterrupted one would.
    packer = BatchPacker(runtime.packing, bundle.encoder, pad_token_id)

    def evaluate_dev(step: int) -> float:
        scores = {}
        for dev in dev_sets:
            family = get_family(dev.task.family)
            metrics = evaluate_features(
                bundle.encoder, bundle.head(dev.head), family, dev.task, dev.data.examples, dev.data.features,
                pad_token_id=pad_token_id, device=device, autocast=accelerator.autocast,
            ).scores
            scores[f"{dev.task.name}/{dev.data.language}"] = metrics[dev.task.main_metric]
        score = float(np.mean(list(scores.values())))
        bookkeeping["history"].append({"step": step, "score": score, "scores": scores})
        return score

    def save_state(step: int) -> None:
        if accelerator.is_main_process:
            extra = dict(bookkeeping, step=step, stream=stream.state_dict())
            save_training_state(state_dir, model=bundle, optimizer=optimizer, scheduler=scheduler, extra=extra)

    progress = _Progress(title, total, enabled=runtime.progress and accelerator.is_main_process)
    log_every = max(1, total // 50)
    window_loss, window_examples, window_steps, window_start = 0.0, 0, 0, time.perf_counter()
    stopped_early = False
    with progress, tracking.session(accelerator, resumed_step=bookkeeping["step"]), packer.session():
        progress.advance_to(bookkeeping["step"])
        for step in range(bookkeeping["step"], total):
            wrapped.train()
            step_loss = 0.0
            for micro in range(config.grad_accumulation):
                source_index, indices = stream.next_batch()
                family = families[source_index]
                features = [sources[source_index].features[i] for i in indices[rank::world]]
                generator = torch.Generator().manual_seed(seed_int(seed, step, micro))
                batch = move(family.collate(features, pad_token_id, generator=generator), device)
                batch = packer(batch, family.packed_token_keys, family.name)
                sync = micro == config.grad_accumulation - 1
                with contextlib.nullcontext() if sync else accelerator.no_sync(wrapped):
                    with accelerator.autocast():
                        outputs = wrapped(batch, sources[source_index].task.family, sources[source_index].head)
                        loss = family.loss(outputs, batch)
                    if not torch.isfinite(loss):
                        raise TrainingDiverged(
                            f"{title}: the loss became {loss.item()} at step {step + 1} (task "
                            f"{sources[source_index].task.name!r}). The last good checkpoint and training state "
                            f"in {stage_dir} are kept. Lower optimizer.lr, raise schedule.warmup or set "
                            "optimizer.max_grad_norm, then run again."
                        )
                    accelerator.backward(loss / config.grad_accumulation)
                step_loss += loss.item() / config.grad_accumulation
                bookkeeping["examples"] += len(indices)
                window_examples += len(indices)
            if config.optimizer.max_grad_norm:
                accelerator.clip_grad_norm_(wrapped.parameters(), config.optimizer.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            done = step + 1
            window_loss += step_loss
            window_steps += 1

            if done % log_every == 0 or done == total:
                elapsed = time.perf_counter() - window_start
                bookkeeping["train_seconds"] += elapsed
                record = {"step": done, "loss": window_loss / max(window_steps, 1),
                          "lr": scheduler.get_last_lr()[0], "examples_per_s": window_examples / max(elapsed, 1e-9),
                          "epoch": round(done / one_epoch, 3)}
                _append_log(folder.log, record, accelerator.is_main_process)
                tracking.log_train(accelerator, record)
                progress.update(done, record["loss"], record["examples_per_s"])
                if on_progress is not None:
                    on_progress(done, total, record["loss"], resumed_from)
                window_loss, window_examples, window_steps = 0.0, 0, 0
                window_start = time.perf_counter()

            if eval_every and (done % eval_every == 0 or done == total):
                score = evaluate_dev(done)
                best = bookkeeping["best_score"]
                if best is None or score > best:
                    bookkeeping.update(best_score=score, best_step=done, evals_without_gain=0)
                    if accelerator.is_main_process:
                        save_model(folder.checkpoint, bundle.encoder, dict(bundle.heads), head_meta=head_meta)
                else:
                    bookkeeping["evals_without_gain"] += 1
                _append_log(folder.log, {"step": done, "dev": bookkeeping["history"][-1]},
                            accelerator.is_main_process)
                tracking.log_dev(accelerator, done, bookkeeping["history"][-1])
                if selection.patience and bookkeeping["evals_without_gain"] >= selection.patience:
                    stopped_early = True
                    bookkeeping["step"] = done
                    break
            bookkeeping["step"] = done
            if done % config.checkpoint_every == 0 and done < total:
                save_state(done)
            faults.point("train.step", done)  # test-only seam (xstilts/faults.py): a no-op unless armed

    if not eval_every and accelerator.is_main_process:
        save_model(folder.checkpoint, bundle.encoder, dict(bundle.heads), head_meta=head_meta)
    accelerator.wait_for_everyone()
    seconds = bookkeeping["train_seconds"]
    return StageOutcome(
        steps=bookkeeping["step"], best_step=bookkeeping["best_step"], best_score=bookkeeping["best_score"],
        stopped_early=stopped_early, resumed_from=resumed_from, history=bookkeeping["history"],
        train_examples_per_s=bookkeeping["examples"] / seconds if seconds else 0.0,
        precision="+".join(bookkeeping["precisions"]), device=precision.device,
        runtime={**switches, "fused_optimizer": fused, "precision_reason": precision.reason},
    )


def _append_log(path: Path, record: dict[str, Any], main: bool) -> None:
    if not main:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=float) + "\n")


def _trim_log(path: Path, step: int) -> None:
    """Drop log lines written after the resumed step (they will be written again)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:
            continue  # a line torn by the crash
    from xstilts.atomic import write_text_atomic

    write_text_atomic(path, "".join(k + "\n" for k in kept))


class _Progress:
    """A rich progress bar with loss, throughput and ETA; silent when disabled."""

    def __init__(self, title: str, total: int, enabled: bool):
        self.enabled, self.title, self.total = enabled, title, total
        self._bar = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[speed]} ex/s"),
                TimeRemainingColumn(), transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.title, total=self.total, loss="-", speed="-")
        return self

    def advance_to(self, step: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=step)

    def update(self, step: int, loss: float, speed: float) -> None:
        if self._bar is not None:
            loss_text = f"{loss:.4f}" if math.isfinite(loss) else str(loss)
            self._bar.update(self._task, completed=step, loss=loss_text, speed=f"{speed:.0f}")

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
