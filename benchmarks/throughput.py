"""xstilts' training loop against HF Trainer set up as a careful user would, side by side in one run.

Usage: ``python benchmarks/throughput.py [--quick] [--size tiny|small|base|large] [--device cpu|cuda]
[--precision auto|fp32|bf16] [--batch-size N] [--set KEY=VALUE ...]`` (docs/speed.md)

Four workloads on the micro-benchmark's English training data (the toolkit's own data path: its tasks,
tokenizer trained in code and featurization), each trained for the same steps with the same batch size,
optimizer hyperparameters, schedule and initial encoder weights (an XLM-R shape built from a config, no hub):

- ``classification``: micro-xnli (premise + hypothesis pairs), max length 128;
- ``tagging``: micro-pos (universal POS tags), max length 128;
- ``qa``: micro-squad (SQuAD-like span QA), max length 192;
- ``mlm``: micro-mlm (monolingual corpus), max length 128, 15% of the tokens masked.

a) ``xstilts``: a study built from this script's settings (``--set`` edits it: ``runtime.precision=bf16``,
   ``stage.<field>=...`` for every workload's stage), trained by ``xstilts.training.loop.train_stage``, the loop
   every study stage runs, with the family's own featurize, collate, head, forward and loss;
b) ``hf``: ``transformers.Trainer`` with the same model architecture and weights (the ``AutoModelFor...`` head
   of the workload), ``DataCollatorWithPadding`` (``DataCollatorForTokenClassification`` for tags, which pads
   labels; ``DataCollatorForLanguageModeling`` for MLM), length-grouped sampling, bf16 where the device has it
   natively (CUDA; CPUs with AMX or AVX512-BF16), fused AdamW (Trainer's default), no reports, no saving;
c) ``hf-flat``: for token-level workloads (tagging, MLM), HF's padding-free ``DataCollatorWithFlattening``
   where the installed transformers packs this architecture (checked at run time: a flattened forward pass
   must equal the padded one).

Both train on exactly one pass over the same features (``steps * batch_size`` of them, the data repeated
when it is smaller), so each side does the same work. Time runs from the start of training to the end of
its last step, marked at the loop's logged steps (CUDA events on a GPU, so the host never waits). The sides
run alternately (xstilts, hf, hf-flat, then the next round in the reverse order), so load from anything
else on the machine hits all alike; every round trains the same batches in the same order, and each
stretch between marks keeps its best time over the rounds. An untimed short run of each goes first (thread
pools, allocator, kernels). bf16 on a CPU builds oneDNN kernels for each batch width the first time it
meets it, which makes the first round of a side slower than the next: hence two rounds at least (a long
training run meets each width many times). The loop's final checkpoint write, after its last step, is
skipped (HF saves nothing either).

Printed per workload and side: examples/s, tokens/s (real tokens, padding excluded), padding share of the
tokens the model saw, and MFU: useful FLOPs (6 x non-embedding encoder parameters x real tokens + attention
12 x layers x hidden x length^2 per sequence) per second over a matmul peak measured in the same run at this
model's GEMM sizes, fp32 or bf16 as the side ran. The ``ratio`` lines come last: HF seconds / xstilts seconds
for the same work against the faster HF variant, "1.30x faster" meaning xstilts took 1/1.3 of HF's time.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import torch  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without install

# XLM-R shapes: (layers, hidden, heads, intermediate). The vocabulary is the tokenizer trained on micro-mlm.
SIZES = {
    "tiny": (2, 128, 2, 512),
    "small": (6, 384, 6, 1536),
    "base": (12, 768, 12, 3072),
    "large": (24, 1024, 16, 4096),
}
VOCAB = 8000
BATCH_SIZE = 32  # default; --batch-size
LR, WARMUP, WEIGHT_DECAY = 5e-5, 0.1, 0.01


@dataclass(frozen=True)
class Workload:
    name: str
    task: str
    max_length: int
    flattens: bool  # token-level: HF's flattening collator applies


WORKLOADS = (
    Workload("classification", "micro-xnli", 128, False),
    Workload("tagging", "micro-pos", 128, True),
    Workload("qa", "micro-squad", 192, False),
    Workload("mlm", "micro-mlm", 128, True),
)


# ----- the device and its peak -----


def native_bf16(device: str) -> bool:
    """bf16 in hardware: any CUDA GPU that reports it; on a CPU, AMX or AVX512-BF16 (emulated bf16 elsewhere
    is many times slower than fp32, so a careful user would not turn it on)."""
    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return True
    except (AttributeError, RuntimeError):
        pass
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def gemm_rates(device: str, shapes: list[tuple[int, int, int]], dtype: torch.dtype, tries: int) -> dict:
    """Best GFLOP/s of ``torch.mm`` per (m, k, n) shape: the ceiling a training step's GEMMs can reach."""
    rates = {}
    for m, k, n in shapes:
        a = torch.randn(m, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        torch.mm(a, b)  # warm-up (thread pool, allocator, kernel choice)
        best = float("inf")
        for _ in range(tries):
            synchronize(device)
            start = time.perf_counter()
            torch.mm(a, b)
            synchronize(device)
            best = min(best, time.perf_counter() - start)
        rates[(m, k, n)] = 2 * m * k * n / best / 1e9
    return rates


class Peaks:
    """fp32 and bf16 matmul peaks, measured at the model's GEMM sizes (tokens of a batch x hidden x
    intermediate, both ways) and at 4096^2; measured again between rounds and the best kept, so that a busy
    spell during one measurement cannot make a quiet spell's step times look impossibly efficient."""

    def __init__(self, device: str, hidden: int, intermediate: int, tokens: int):
        self.device = device
        self.shapes = [(tokens, hidden, intermediate), (tokens, intermediate, hidden), (4096, 4096, 4096)]
        self.best: dict[str, dict] = {"fp32": {}, "bf16": {}}

    def measure(self, tries: int = 3) -> None:
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            for shape, rate in gemm_rates(self.device, self.shapes, dtype, tries).items():
                self.best[name][shape] = max(rate, self.best[name].get(shape, 0.0))

    def peak(self, precision: str) -> float:
        return max(self.best[precision].values())

    def describe(self) -> str:
        parts = []
        for name, rates in self.best.items():
            sizes = ", ".join(f"{m}x{k}x{n} {rate:,.0f}" for (m, k, n), rate in rates.items())
            parts.append(f"{name} {self.peak(name):,.0f} GFLOP/s ({sizes})")
        return "; ".join(parts)


# ----- the study and its data -----


def set_path(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value


def study_data(args: argparse.Namespace, steps: int, store: Path) -> dict:
    batch = args.batch_size
    layers, hidden, heads, intermediate = SIZES[args.size]
    stages, pipelines = {}, {}
    for workload in WORKLOADS:
        stages[workload.name] = {
            "sources": [{"task": workload.task, "max_examples": steps * batch}],
            "steps": steps,
            "batch_size": batch,
            "max_length": workload.max_length,
            "optimizer": {"lr": LR, "weight_decay": WEIGHT_DECAY},
            "schedule": {"warmup": WARMUP},
            "selection": {"enabled": False},
            # No resumable-state saves inside the timed run: HF Trainer saves nothing either.
            "checkpoint_every": steps,
        }
        pipelines[workload.name] = [workload.name]
    data = {
        "name": "throughput",
        "model": {
            "build": {"architecture": "xlm-roberta", "hidden_size": hidden, "num_layers": layers,
                      "num_heads": heads, "intermediate_size": intermediate, "max_length": 512},
            "tokenizer": {"train": {"corpus": ["micro-mlm"], "vocab_size": VOCAB}},
        },
        "seeds": [0],
        "stages": stages,
        "pipelines": pipelines,
        "evaluate": {"split": "dev"},  # never run here; every workload's task has a dev split
        "runtime": {"device": args.device, "precision": args.precision, "trackers": [], "progress": False},
        "store": str(store),
    }
    for item in args.set:
        key, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"--set {item!r}: write KEY=VALUE, e.g. runtime.precision=bf16 or stage.<field>=...")
        if key.startswith("stage."):  # every workload's stage
            for stage in stages.values():
                set_path(stage, key[len("stage."):], yaml.safe_load(value))
        else:
            set_path(data, key, yaml.safe_load(value))
    return data


@dataclass
class Prepared:
    workload: Workload
    family: Any
    task: Any
    stage: Any  # the StageConfig as the study parsed it
    features: list[dict[str, Any]]
    encoder: torch.nn.Module  # initial weights, shared by both sides
    head: torch.nn.Module | None
    num_labels: int
    hf_template: Any = None  # HF's model of the workload with the initial weights, made on first use

    @property
    def steps(self) -> int:
        return self.stage.steps

    @property
    def batch_size(self) -> int:
        return self.stage.batch_size

    def real_tokens(self) -> int:
        return sum(len(f["input_ids"]) for f in self.features)

    def sequence_lengths(self) -> list[int]:
        return [len(f["input_ids"]) for f in self.features]


def prepare(args: argparse.Namespace, steps: int, store: Path):
    """The parsed study, its tokenizer and one Prepared per workload (``steps x batch_size`` features)."""
    from xstilts.config.load import parse_study
    from xstilts.families import get_family
    from xstilts.models.setup import initial_encoder
    from xstilts.studies.context import ensure_tokenizer, featurize, make_context
    from xstilts.tasks import get_task

    study = parse_study(study_data(args, steps, store), source="benchmarks/throughput.py")
    context = make_context(study)
    tokenizer, _ = ensure_tokenizer(context)
    model = next(iter(study.model_configs().values()))
    torch.manual_seed(0)
    encoder = initial_encoder(model, tokenizer)
    prepared = []
    for workload in WORKLOADS:
        stage = study.stages[workload.name]
        task = get_task(workload.task).with_data(context.data_root)
        family = get_family(task.family)
        data = featurize(context, task, "train", "en", workload.max_length, stage.sources[0].max_examples)
        # Exactly steps x batch_size features, one pass: the data repeated when it is smaller than that
        # (large batches on a GPU), so that both sides train on the same list.
        needed = stage.steps * stage.batch_size
        features = [data.features[i % len(data.features)] for i in range(needed)]
        torch.manual_seed(1)
        head = family.build_head(task, encoder.config)
        prepared.append(Prepared(workload, family, task, stage, features, encoder, head, len(task.labels)))
    return study, tokenizer, prepared


# ----- FLOPs -----


def non_embedding_params(encoder: torch.nn.Module) -> int:
    return sum(p.numel() for name, p in encoder.named_parameters() if "embeddings" not in name)


def useful_flops(encoder: torch.nn.Module, lengths: list[int]) -> float:
    """Forward + backward FLOPs of the encoder over real tokens only: 6 per non-embedding parameter per token
    (2 forward, 4 backward) plus attention (QK^T and AV: 4 x length^2 x hidden forward per layer, x3 with
    backward). Heads are left out (the same for both sides except MLM, where HF's head runs at every
    position and ours at masked ones only)."""
    config = encoder.config
    dense = 6 * non_embedding_params(encoder) * sum(lengths)
    attention = 12 * config.num_hidden_layers * config.hidden_size * sum(n * n for n in lengths)
    return float(dense + attention)


# ----- one timed run of each side -----


def log_every(steps: int) -> int:
    """The loop's logging interval (training/loop.py): it reports progress, and so its clock, at these steps."""
    return max(1, steps // 50)


class StepClock:
    """Marks at the end of the logged steps. On a GPU the marks are CUDA events in the stream, so that timing
    never makes the host wait (a wait each step would stall the queue HF Trainer keeps ahead of the GPU)."""

    def __init__(self, device: str):
        self.device = device
        self.marks: list[Any] = []

    def mark(self) -> None:
        if self.device == "cuda":
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())

    def segments(self) -> list[float]:
        """Seconds between consecutive marks."""
        if self.device == "cuda":
            torch.cuda.synchronize()
            return [a.elapsed_time(b) / 1000 for a, b in zip(self.marks, self.marks[1:], strict=False)]
        return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]


@dataclass
class Timing:
    segments: list[float]  # seconds between logged steps, from the start of training to its last step
    examples: int
    real_tokens: int
    seen_tokens: int  # positions the model ran on, padding included
    precision: str

    @property
    def seconds(self) -> float:
        return sum(self.segments)


@dataclass
class Side:
    name: str
    timings: list[Timing] = field(default_factory=list)

    def seconds(self) -> float:
        """Each stretch between logged steps at its best over the rounds, summed: every round trains the same
        batches in the same order, and load from elsewhere only ever slows a stretch down."""
        return sum(min(values) for values in zip(*(t.segments for t in self.timings), strict=True))


def reset_accelerate() -> None:
    """Both sides make Accelerators in this one process, with different mixed precision: forget the last."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)


def run_xstilts(item: Prepared, study, tokenizer, device: str, work: Path, steps: int | None = None) -> Timing:
    from accelerate.state import AcceleratorState

    from xstilts.models.bundle import EncoderWithHeads
    from xstilts.training import loop
    from xstilts.training.loop import TrainSource, train_stage

    reset_accelerate()
    stage = item.stage if steps is None else item.stage.model_copy(update={"steps": steps})
    features = item.features[: stage.steps * item.batch_size]
    heads = {item.task.head_name: copy.deepcopy(item.head)} if item.head is not None else {}
    bundle = EncoderWithHeads(copy.deepcopy(item.encoder), heads).to(device)  # on the device before the clock
    seen: list[int] = []

    def count(module, args, kwargs):  # the shape the encoder ran on: padding (or packing) as it happened
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None:
            seen.append(ids.numel())

    hook = bundle.encoder.register_forward_pre_hook(count, with_kwargs=True)
    clock = StepClock(device)

    def on_progress(done: int, total: int, loss: float | None, resumed_from: int | None) -> None:
        clock.mark()  # at the start (done 0) and after every logged step

    stage_dir = Path(tempfile.mkdtemp(dir=work))
    # The loop writes the final checkpoint after its last (timed) step; skipped here, so that large shapes
    # do not write gigabytes each run (HF Trainer saves nothing either, save_strategy="no").
    try:
        with mock.patch.object(loop, "save_model", lambda *args, **kwargs: None):
            train_stage(stage_dir, config=stage, seed=0, bundle=bundle,
                        sources=[TrainSource(item.task, item.task.head_name, features)], dev_sets=[],
                        pad_token_id=tokenizer.pad_token_id, runtime=study.runtime, title=item.workload.name,
                        on_progress=on_progress)
        precision = AcceleratorState().mixed_precision
    finally:
        hook.remove()
        shutil.rmtree(stage_dir, ignore_errors=True)
    return Timing(clock.segments(), len(features), sum(len(f["input_ids"]) for f in features), sum(seen),
                  "bf16" if precision == "bf16" else "fp32")


def hf_model(item: Prepared, device: str):
    """A fresh copy of the workload's HF model with xstilts' initial encoder weights (built once and kept on
    the device: random initialisation of a large model on the CPU takes longer than its training run)."""
    if item.hf_template is None:
        item.hf_template = build_hf_model(item).to(device)
    return copy.deepcopy(item.hf_template)


def build_hf_model(item: Prepared):
    import transformers

    config = copy.deepcopy(item.encoder.config)
    kind = {"classification": "AutoModelForSequenceClassification", "tagging": "AutoModelForTokenClassification",
            "qa": "AutoModelForQuestionAnswering", "mlm": "AutoModelForMaskedLM"}[item.workload.name]
    if item.num_labels:
        config.num_labels = item.num_labels
    model = getattr(transformers, kind).from_config(config)
    # The same initial encoder as xstilts (HF's MLM head ties its decoder to these embeddings).
    missing, unexpected = model.base_model.load_state_dict(item.encoder.state_dict(), strict=False)
    if unexpected:
        raise RuntimeError(f"HF {kind} does not take the encoder's weights {unexpected[:3]}")
    return model


def hf_rows(item: Prepared) -> list[dict[str, Any]]:
    """The featurized examples in the keys HF models take."""
    rows = []
    for f in item.features:
        row: dict[str, Any] = {"input_ids": list(f["input_ids"])}
        name = item.workload.name
        if name == "classification":
            row["labels"] = f["label"]
        elif name == "tagging":
            row["labels"] = list(f["labels"])
        elif name == "qa":
            row["start_positions"], row["end_positions"] = f["start_position"], f["end_position"]
        else:
            row["special_tokens_mask"] = list(f["special_tokens_mask"])  # tokenized with it, as HF's examples do
        rows.append(row)
    return rows


def position_start(config) -> int:
    """The first position id of a sequence: RoBERTa-like models count from padding_idx + 1."""
    return config.pad_token_id + 1 if config.model_type in ("xlm-roberta", "roberta", "camembert") else 0


def hf_collator(item: Prepared, tokenizer, flat: bool, device: str):
    from transformers import (
        DataCollatorForLanguageModeling,
        DataCollatorForTokenClassification,
        DataCollatorWithFlattening,
        DataCollatorWithPadding,
    )

    multiple = 8 if device == "cuda" else None  # tensor-core friendly widths, as HF's examples set on GPUs
    name = item.workload.name
    if name == "mlm":
        masking = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, pad_to_multiple_of=multiple)
        if not flat:
            return masking
        flatten = DataCollatorWithFlattening(position_ids_start=position_start(item.encoder.config))

        def flat_mlm(rows):  # flatten first, then mask the one packed row (two stock pieces)
            special = torch.tensor([[m for row in rows for m in row["special_tokens_mask"]]])
            packed = flatten([{"input_ids": row["input_ids"]} for row in rows])
            packed["input_ids"], packed["labels"] = masking.torch_mask_tokens(packed["input_ids"], special)
            return packed

        return flat_mlm
    if flat:
        return DataCollatorWithFlattening(position_ids_start=position_start(item.encoder.config))
    if name == "tagging":
        return DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=multiple)
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple)


def flattening_supported(item: Prepared) -> bool:
    """Whether the installed transformers packs this architecture: the flattened forward pass of two
    sequences (position ids restarting per sequence, no attention mask) must equal their padded pass."""
    import inspect

    from transformers import DataCollatorWithFlattening

    if position_start(item.encoder.config) and "position_ids_start" not in inspect.signature(
            DataCollatorWithFlattening.__init__).parameters:
        return False  # positions would start at 0 where the model counts from padding_idx + 1
    encoder = copy.deepcopy(item.encoder).eval()
    device = next(encoder.parameters()).device
    rows = [{"input_ids": list(f["input_ids"])} for f in item.features[:2]]
    if len(rows) < 2:
        return False
    pad = encoder.config.pad_token_id
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in rows])
    mask = (torch.arange(width)[None, :] < torch.tensor([len(r["input_ids"]) for r in rows])[:, None]).long()
    packed = DataCollatorWithFlattening(position_ids_start=position_start(encoder.config))(rows)
    with torch.no_grad():  # fp32 (no autocast): the comparison is exact up to float rounding
        padded = encoder(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
        flat = encoder(input_ids=packed["input_ids"].to(device),
                       position_ids=packed["position_ids"].to(device)).last_hidden_state[0]
    reference = torch.cat([padded[i, : len(r["input_ids"])] for i, r in enumerate(rows)])
    # Leaking attention across sequences moves hidden states by tenths; float rounding over 24 layers, by
    # far less than 1e-3.
    return flat.shape == reference.shape and float((flat - reference).abs().max()) < 1e-3


def training_arguments(output_dir: Path, item: Prepared, steps: int, device: str, bf16: bool):
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    # transformers 5 replaced group_by_length=True with train_sampling_strategy="group_by_length"
    grouping = ({"train_sampling_strategy": "group_by_length"} if "train_sampling_strategy" in names
                else {"group_by_length": True})
    optimizer = item.stage.optimizer
    return TrainingArguments(
        output_dir=str(output_dir), per_device_train_batch_size=item.batch_size, max_steps=steps,
        learning_rate=optimizer.lr, weight_decay=optimizer.weight_decay, adam_beta1=optimizer.betas[0],
        adam_beta2=optimizer.betas[1], adam_epsilon=optimizer.eps, max_grad_norm=optimizer.max_grad_norm or 0.0,
        lr_scheduler_type="linear", warmup_steps=int(round(item.stage.schedule.warmup * steps)),
        bf16=bf16, use_cpu=device == "cpu", report_to=[], save_strategy="no", logging_steps=log_every(steps),
        disable_tqdm=True, seed=0, dataloader_num_workers=0, remove_unused_columns=False, **grouping,
    )


def run_hf(item: Prepared, tokenizer, device: str, bf16: bool, flat: bool, work: Path,
           steps: int | None = None) -> Timing:
    from transformers import PrinterCallback, Trainer, TrainerCallback

    reset_accelerate()
    steps = steps or item.steps
    rows = hf_rows(item)[: steps * item.batch_size]
    collate = hf_collator(item, tokenizer, flat, device)
    seen: list[int] = []

    def counting(batch_rows):
        batch = collate(batch_rows)
        seen.append(batch["input_ids"].numel())
        return batch

    clock = StepClock(device)
    every = log_every(steps)

    class Clock(TrainerCallback):  # marks at the same steps as xstilts' loop
        def on_train_begin(self, args, state, control, **kwargs):
            clock.mark()

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step % every == 0 or state.global_step == state.max_steps:
                clock.mark()

    output_dir = Path(tempfile.mkdtemp(dir=work))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer = Trainer(model=hf_model(item, device), args=training_arguments(output_dir, item, steps, device, bf16),
                              train_dataset=rows, data_collator=counting, processing_class=tokenizer,
                              callbacks=[Clock()])
            trainer.remove_callback(PrinterCallback)  # its log lines would bury the results
            trainer.train()
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)
    # The dataloader may have collated one batch ahead of the last step: count the steps' batches only.
    return Timing(clock.segments(), len(rows), sum(len(r["input_ids"]) for r in rows),
                  sum(seen[:steps]), "bf16" if bf16 else "fp32")


# ----- the run -----


def report(item: Prepared, sides: dict[str, Side], peaks: Peaks) -> None:
    flops = useful_flops(item.encoder, item.sequence_lengths())
    for side in sides.values():
        last, seconds = side.timings[-1], side.seconds()
        rounds = ", ".join(f"{t.seconds:.2f}" for t in side.timings)
        print(f"  {side.name:8s} {last.examples / seconds:9.1f} examples/s {last.real_tokens / seconds:11,.0f} "
              f"tokens/s  padding {1 - last.real_tokens / max(last.seen_tokens, 1):5.1%}  {last.precision}  MFU "
              f"{flops / seconds / 1e9 / peaks.peak(last.precision):5.1%}  ({seconds:.2f} s: per-stretch best of "
              f"rounds of [{rounds}] s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a minute or two on 2 CPU cores at tiny size")
    parser.add_argument("--size", choices=list(SIZES), default="tiny", help="XLM-R shape built from a config")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                        help="xstilts: runtime.precision as given; HF: bf16 for bf16, and for auto where native")
    parser.add_argument("--steps", type=int, help="steps per run (default: 12 quick, 40 otherwise)")
    parser.add_argument("--rounds", type=int, help="timed runs of each side (default: 2 quick, 3 otherwise)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"default {BATCH_SIZE}")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="edit the xstilts study: runtime.<field>=..., stage.<field>=... (every workload)")
    parser.add_argument("--workloads", nargs="*", choices=[w.name for w in WORKLOADS], help="default: all four")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here")
    if args.threads:
        torch.set_num_threads(args.threads)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    steps = args.steps or (12 if args.quick else 40)
    rounds = args.rounds or (2 if args.quick else 3)
    if rounds < 2:
        print("note: one round keeps the first meeting of each batch width (bf16 kernel builds on CPUs): "
              "the times are not steady state", flush=True)
    hf_bf16 = args.precision == "bf16" or (args.precision == "auto" and native_bf16(args.device))

    work = Path(tempfile.mkdtemp(prefix="xstilts-throughput-"))
    try:
        study, tokenizer, prepared = prepare(args, steps, work / "store")
        prepared = [p for p in prepared if not args.workloads or p.workload.name in args.workloads]
        if args.device == "cuda":  # initial weights on the GPU once: each run copies them there, not from the host
            prepared[0].encoder.to(args.device)
            for item in prepared:
                if item.head is not None:
                    item.head.to(args.device)
        layers, hidden, heads, intermediate = SIZES[args.size]
        device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
        print(f"model: XLM-R {args.size} ({layers} layers, hidden {hidden}, {heads} heads, intermediate "
              f"{intermediate}, vocab {len(tokenizer)}), {non_embedding_params(prepared[0].encoder) / 1e6:.1f}M "
              f"non-embedding parameters; batch {args.batch_size}; {device_name}; torch {torch.__version__}")
        print(f"precision: xstilts runtime.precision={study.runtime.precision}; HF bf16={hf_bf16} (native bf16 "
              f"on {args.device}: {native_bf16(args.device)})" + (f"; --set {' '.join(args.set)}" if args.set else ""))
        peaks = Peaks(args.device, hidden, intermediate, args.batch_size * 64)
        peaks.measure()

        plans = []
        for item in prepared:
            lengths = item.sequence_lengths()
            flat = item.workload.flattens and flattening_supported(item)
            names = ["xstilts", "hf"] + (["hf-flat"] if flat else [])
            print(f"{item.workload.name}: {item.task.name}, {item.steps} steps, {len(lengths)} features, lengths "
                  f"mean {sum(lengths) / len(lengths):.1f}, max {max(lengths)} (cap {item.workload.max_length})"
                  + ("" if not item.workload.flattens else
                     f"; HF flattening {'packs' if flat else 'does not pack'} this architecture"), flush=True)
            plans.append((item, {name: Side(name) for name in names}))

        def run(item: Prepared, name: str, steps: int | None = None) -> Timing:
            if name == "xstilts":
                timing = run_xstilts(item, study, tokenizer, args.device, work, steps)
            else:
                timing = run_hf(item, tokenizer, args.device, hf_bf16, name == "hf-flat", work, steps)
            gc.collect()  # the last run's model and optimizer state, before the next one allocates its own
            if args.device == "cuda":
                torch.cuda.empty_cache()
            return timing

        for item, sides in plans:  # untimed warm-up of every side
            for name in sides:
                run(item, name, steps=min(2, item.steps))
        for r in range(rounds):
            for item, sides in plans:
                order = list(sides) if r % 2 == 0 else list(sides)[::-1]
                for name in order:
                    sides[name].timings.append(run(item, name))
            peaks.measure()
        print(f"matmul peak: {peaks.describe()}")
        ratios = []
        for item, sides in plans:
            print(f"{item.workload.name}:")
            report(item, sides, peaks)
            hf = min((s for name, s in sides.items() if name != "xstilts"), key=Side.seconds)
            ratios.append((item.workload.name, hf.seconds() / sides["xstilts"].seconds(), hf.name))
        for name, ratio, against in ratios:
            verdict = "faster" if ratio >= 1 else "(xstilts slower)"
            print(f"ratio {name}: {ratio:.2f}x {verdict} (vs {against})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
