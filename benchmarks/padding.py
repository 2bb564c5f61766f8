"""Length-grouped dynamic padding vs. packing vs. padding every batch to max_length, on the same model and data.

Usage: ``python benchmarks/padding.py [--quick]``

Trains one small XLM-R-architecture classifier (random weights, built from a config) on synthetic
classification data whose lengths follow an XNLI-like long-tailed distribution, four times from the same seed:

a) ours: ``length_grouped_batches`` + padding to the longest feature of each batch;
b) packed: the same length-grouped batches packed padding-free (``xstilts.models.packing``: rows as wide as
   the longest feature, per-sequence position ids, a block-diagonal SDPA mask; the first token of each
   sequence is pooled), what ``runtime.packing: true`` does;
c) packed-random: plain random batches (no length grouping) packed the same way: padding-free batching
   without length grouping;
d) baseline: random batches padded to max_length 128, as the original X-STILTs code and the usual reference
   fine-tuning scripts do.

Every loop runs the same forward + backward + AdamW step on the same examples and the same collate; only the
batch composition and the layout differ. The ways step alternately and a step's time is its best over a few
passes, so that other load on the machine cannot favour one way. It prints examples/s of each, the share of
padding (free slots) in what the encoder computed, a matmul peak measured in the same process, the model FLOPs
utilisation of each loop relative to that peak, ``ratio`` lines and, on the last line,
``ratio <ours/baseline examples per second>``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without install

from xstilts.families.common import attention_mask_for, pad_sequences  # noqa: E402
from xstilts.models.packing import pack_batch, packing_support  # noqa: E402
from xstilts.training.batching import length_grouped_batches  # noqa: E402

MAX_LENGTH = 128
BATCH_SIZE = 32
VOCAB = 8000
PAD_ID, BOS_ID, EOS_ID = 1, 0, 2  # XLM-R's special ids
NUM_LABELS = 3
LAYERS, HIDDEN, HEADS, INTERMEDIATE = 2, 128, 2, 512
SEED = 0

Collate = Callable[[list[dict[str, Any]]], dict[str, torch.Tensor]]


# ----- data -----


def sample_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """XNLI-like token counts of premise + hypothesis: log-normal with mean ~40, clipped to [8, 128].

    sigma 0.55 gives a median of ~35 and a p99 near 120 before clipping; a few percent sit at the cap, like
    the long premises XNLI truncates.
    """
    sigma = 0.55
    mu = np.log(40) - sigma**2 / 2  # mean of a log-normal is exp(mu + sigma^2 / 2)
    return np.clip(np.round(rng.lognormal(mu, sigma, size=n)), 8, MAX_LENGTH).astype(int)


def make_features(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    lengths = sample_lengths(n, rng)
    features = []
    for i, length in enumerate(lengths.tolist()):
        body = rng.integers(5, VOCAB, size=length - 2).tolist()  # ids 0-4 are special in XLM-R
        features.append(
            {
                "input_ids": [BOS_ID, *body, EOS_ID],
                "example_index": i,
                "length": length,
                "label": int(rng.integers(NUM_LABELS)),
            }
        )
    return features


# ----- collate -----


def fallback_collate(features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    ids = pad_sequences([f["input_ids"] for f in features], PAD_ID)
    return {
        "input_ids": ids,
        "attention_mask": attention_mask_for(ids, PAD_ID, [len(f["input_ids"]) for f in features]),
        "labels": torch.tensor([f["label"] for f in features]),
    }


def pick_collate(sample: list[dict[str, Any]]) -> tuple[Collate, str]:
    """The classification family's collate if it exists and handles our features, else common.pad_sequences."""
    try:
        family = importlib.import_module("xstilts.families.classification").FAMILY
        batch = family.collate(sample, PAD_ID)
        label_key = next(k for k in ("labels", "label") if k in batch)
        assert {"input_ids", "attention_mask"} <= set(batch)
    except Exception as error:  # any mismatch: fall back, and say so in the output
        return (
            fallback_collate,
            f"xstilts.families.common.pad_sequences (classification collate unusable: {error!r})",
        )

    def collate(features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        out = family.collate(features, PAD_ID)
        return {
            "input_ids": out["input_ids"],
            "attention_mask": out["attention_mask"],
            "labels": out[label_key],
        }

    return collate, "xstilts.families.classification collate"


def pad_to_max_length(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The baseline's fixed-width padding, applied after the shared collate."""
    extra = MAX_LENGTH - batch["input_ids"].shape[1]
    return {
        "input_ids": torch.nn.functional.pad(batch["input_ids"], (0, extra), value=PAD_ID),
        "attention_mask": torch.nn.functional.pad(batch["attention_mask"], (0, extra), value=0),
        "labels": batch["labels"],
    }


# ----- model and FLOPs -----


def build_model() -> XLMRobertaForSequenceClassification:
    torch.manual_seed(SEED)
    config = XLMRobertaConfig(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE,
        max_position_embeddings=MAX_LENGTH + PAD_ID + 1,  # XLM-R positions start at pad_id + 1
        pad_token_id=PAD_ID,
        num_labels=NUM_LABELS,
    )
    return XLMRobertaForSequenceClassification(config)


def non_embedding_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)


def training_flops(n_params: int, batch_shapes: list[tuple[int, int]]) -> float:
    """FLOPs of forward + backward over batches of (rows, padded width).

    Dense layers: 2 FLOPs per parameter per token forward, 4 backward -> 6 * N * tokens, N = non-embedding
    parameters (embedding lookups are gathers, not matmuls). Attention scores QK^T and the weighted sum AV
    are 2 * seq^2 * hidden FLOPs each per layer forward, so 4 * seq^2 * hidden forward, x3 with backward ->
    12 * layers * hidden * seq^2 per sequence. Padded positions count: the hardware does that work.
    """
    dense = sum(6 * n_params * rows * width for rows, width in batch_shapes)
    attention = sum(12 * LAYERS * HIDDEN * width**2 * rows for rows, width in batch_shapes)
    return float(dense + attention)


def matmul_peak(size: int = 2048, tries: int = 5) -> float:
    """Best fp32 GFLOP/s of a square torch.mm: the practical ceiling for this process."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up (thread pool, allocator)
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


# ----- training loop -----


class Run:
    """One way of batching: its own model and optimizer, stepping through a fixed list of batches."""

    def __init__(
        self, features: list[dict[str, Any]], batches: list[list[int]], collate: Collate, fixed_width: bool,
        packed: bool = False,
    ):
        self.model = build_model()  # same seed -> same initial weights in every run
        self.model.train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=5e-5, weight_decay=0.01)
        self.features, self.batches, self.collate, self.fixed_width = features, batches, collate, fixed_width
        self.packed = packed
        self.support = packing_support(self.model.roberta)

    def step(self, k: int) -> tuple[float, tuple[int, int]]:
        """Collate + forward + backward + AdamW step on batch ``k``; returns (seconds, computed batch shape)."""
        start = time.perf_counter()
        batch = self.collate([self.features[i] for i in self.batches[k]])
        if self.fixed_width:
            batch = pad_to_max_length(batch)
        if self.packed:
            loss, shape = self.packed_loss(batch)
        else:
            loss, shape = self.model(**batch).loss, tuple(batch["input_ids"].shape)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        loss.item()  # wait for the step to finish (a no-op sync on CPU, kept for honesty on other devices)
        return time.perf_counter() - start, shape

    def packed_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, tuple[int, int]]:
        """The classifier's loss on the packed batch: the encoder on packed rows, then the head on the first
        token of each sequence (what the padded model pools), the same cross-entropy."""
        labels = batch.pop("labels")
        packed, layout = pack_batch(batch, self.support, PAD_ID)
        hidden = self.model.roberta(**packed).last_hidden_state
        first = hidden[layout.rows, layout.starts].unsqueeze(1)  # (sequences, 1, hidden)
        logits = self.model.classifier(first)
        return torch.nn.functional.cross_entropy(logits, labels), tuple(packed["input_ids"].shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="~600 examples each way (under a minute on 2 cores)"
    )
    args = parser.parse_args()
    torch.set_num_threads(2)

    warmup_steps = 3
    n_examples, passes = (600, 3) if args.quick else (4000, 3)
    features = make_features(n_examples, SEED)
    lengths = [f["length"] for f in features]
    real_tokens = sum(lengths)

    lengths_array = np.asarray(lengths)
    print(
        f"data: {n_examples} examples each way, lengths mean {lengths_array.mean():.1f}, median "
        f"{np.median(lengths_array):.0f}, p99 {np.percentile(lengths_array, 99):.0f}, max {lengths_array.max()} "
        f"(cap {MAX_LENGTH})"
    )
    collate, collate_name = pick_collate(features[:2])
    print(f"collate: {collate_name}")
    print(
        f"model: XLM-R {LAYERS} layers, hidden {HIDDEN}, {HEADS} heads, intermediate {INTERMEDIATE}, vocab "
        f"{VOCAB}; batch {BATCH_SIZE}, fp32, AdamW, {torch.get_num_threads()} threads, torch {torch.__version__}"
    )

    # Measured again after every pass and the best kept, like the step times: a peak taken during a busy
    # spell would make the MFU of quiet-spell step times look impossibly high.
    peaks = [matmul_peak()]
    n_params = non_embedding_params(build_model())

    grouped = length_grouped_batches(lengths, BATCH_SIZE, seed=SEED, epoch=0)
    random_batches = length_grouped_batches(lengths, BATCH_SIZE, seed=SEED, epoch=0, group_factor=0)
    runs = {
        "ours": Run(features, grouped, collate, False),
        "packed": Run(features, grouped, collate, False, packed=True),
        "packed-random": Run(features, random_batches, collate, False, packed=True),
        "baseline": Run(features, random_batches, collate, True),
    }
    steps = len(grouped)
    assert all(len(run.batches) == steps for run in runs.values())
    # Warm-up (thread pool, allocator, AdamW state): a few untimed steps of each way's own batches.
    for run in runs.values():
        for k in range(warmup_steps):
            run.step(k)

    # The two ways step alternately, each step timed on its own, so that load from anything else on the
    # machine hits both alike. Each pass trains on every example once; a step's time is its best over the
    # passes (the usual defence against noise: work per step does not depend on the weights).
    best = {name: [float("inf")] * steps for name in runs}
    pass_totals: dict[str, list[float]] = {name: [] for name in runs}
    shapes: dict[str, list[tuple[int, int]]] = {name: [] for name in runs}
    for p in range(passes):
        totals = dict.fromkeys(runs, 0.0)
        for k in range(steps):
            order = list(runs) if k % 2 == 0 else list(runs)[::-1]
            for name in order:
                seconds, shape = runs[name].step(k)
                best[name][k] = min(best[name][k], seconds)
                totals[name] += seconds
                if p == 0:
                    shapes[name].append(shape)
        for name in runs:
            pass_totals[name].append(totals[name])
        peaks.append(matmul_peak())
    peak = max(peaks)
    print(
        f"matmul peak: {peak:.1f} GFLOP/s (fp32 2048x2048 torch.mm, best of 5 x {len(peaks)} times in the run)"
    )

    rates = {}
    for name in runs:
        seconds = sum(best[name])
        rates[name] = n_examples / seconds
        padded = sum(rows * width for rows, width in shapes[name])
        flops = training_flops(n_params, shapes[name])
        useful = training_flops(n_params, [(1, length) for length in lengths])
        print(
            f"{name:13s} {rates[name]:7.1f} examples/s  ({seconds:.2f} s: sum of per-step best of {passes} passes; "
            f"median pass {statistics.median(pass_totals[name]):.2f} s; {steps} steps; padding "
            f"{1 - real_tokens / padded:5.1%} of {padded} tokens; MFU {flops / seconds / 1e9 / peak:5.1%}, "
            f"useful-token MFU {useful / seconds / 1e9 / peak:5.1%})"
        )
    print("(a shared, noisy machine: per-step best of the passes; compare ratios, not absolute rates)")
    print(f"ratio packed/ours {rates['packed'] / rates['ours']:.2f}")
    print(f"ratio packed-random/ours {rates['packed-random'] / rates['ours']:.2f}")
    print(f"ratio packed-random/baseline {rates['packed-random'] / rates['baseline']:.2f}")
    print(f"ratio {rates['ours'] / rates['baseline']:.2f}")


if __name__ == "__main__":
    main()
