"""Length-grouped dynamic padding vs. padding every batch to max_length, on the same model and data.

Usage: ``python benchmarks/padding.py [--quick]``

Trains one small XLM-R-architecture classifier (random weights, built from a config) on synthetic
classification data whose lengths follow an XNLI-like long-tailed distribution, twice from the same seed:

a) ours: ``length_grouped_batches`` + padding to the longest feature of each batch;
b) baseline: random batches padded to max_length 128, as the original X-STILTs code and the usual reference
   fine-tuning scripts do.

Both loops run the same forward + backward + AdamW step on the same examples and the same collate; only the
batch composition and the padding width differ. It prints examples/s of each, a matmul peak measured in the
same process, the model FLOPs utilisation of each loop relative to that peak and, on the last line,
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


def train(
    features: list[dict[str, Any]],
    batches: list[list[int]],
    collate: Collate,
    fixed_width: bool,
    warmup_steps: int,
) -> tuple[float, list[tuple[int, int]], float]:
    """Train on ``batches`` (after ``warmup_steps`` untimed ones); returns (seconds, batch shapes, last loss)."""
    model = build_model()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    torch.manual_seed(SEED)  # same dropout stream for both ways

    def step(indices: list[int]) -> tuple[tuple[int, int], float]:
        batch = collate([features[i] for i in indices])
        if fixed_width:
            batch = pad_to_max_length(batch)
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return tuple(batch["input_ids"].shape), loss.item()

    for indices in batches[:warmup_steps]:
        step(indices)
    shapes = []
    start = time.perf_counter()
    for indices in batches[warmup_steps:]:
        shape, loss = step(indices)
        shapes.append(shape)
    return time.perf_counter() - start, shapes, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="~600 examples each way (under a minute on 2 cores)"
    )
    args = parser.parse_args()
    torch.set_num_threads(2)

    warmup_steps = 3
    n_examples, repeats = (600, 1) if args.quick else (4000, 3)
    # Warm-up batches come on top, so both ways time exactly n_examples.
    n_total = n_examples + warmup_steps * BATCH_SIZE
    features = make_features(n_total, SEED)
    lengths = [f["length"] for f in features]
    real_tokens = sum(lengths[warmup_steps * BATCH_SIZE :])

    lengths_array = np.asarray(lengths)
    print(
        f"data: {n_examples} timed examples (+{warmup_steps} warm-up batches), lengths mean "
        f"{lengths_array.mean():.1f}, median {np.median(lengths_array):.0f}, p99 "
        f"{np.percentile(lengths_array, 99):.0f}, max {lengths_array.max()} (cap {MAX_LENGTH})"
    )
    collate, collate_name = pick_collate(features[:2])
    print(f"collate: {collate_name}")
    print(
        f"model: XLM-R {LAYERS} layers, hidden {HIDDEN}, {HEADS} heads, intermediate {INTERMEDIATE}, vocab "
        f"{VOCAB}; batch {BATCH_SIZE}, fp32, AdamW, {torch.get_num_threads()} threads, torch {torch.__version__}"
    )

    peak = matmul_peak()
    print(f"matmul peak: {peak:.1f} GFLOP/s (fp32 2048x2048 torch.mm, best of 5)")
    n_params = non_embedding_params(build_model())

    # Warm-up batches are drawn from the first indices in both ways, so both time the same examples.
    warm = list(range(warmup_steps * BATCH_SIZE))
    warm_batches = [warm[i : i + BATCH_SIZE] for i in range(0, len(warm), BATCH_SIZE)]
    timed_lengths = lengths[len(warm) :]

    def offset(batches: list[list[int]]) -> list[list[int]]:
        return warm_batches + [[i + len(warm) for i in b] for b in batches]

    ways = {
        "ours": (offset(length_grouped_batches(timed_lengths, BATCH_SIZE, seed=SEED, epoch=0)), False),
        "baseline": (
            offset(length_grouped_batches(timed_lengths, BATCH_SIZE, seed=SEED, epoch=0, group_factor=0)),
            True,
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    shapes: dict[str, list[tuple[int, int]]] = {}
    for _ in range(repeats):  # interleaved, so a slow spell of the machine hits both ways
        for name, (batches, fixed_width) in ways.items():
            seconds, shapes[name], loss = train(features, batches, collate, fixed_width, warmup_steps)
            times[name].append(seconds)

    rates = {}
    for name in ways:
        seconds = statistics.median(times[name])
        rates[name] = n_examples / seconds
        padded = sum(rows * width for rows, width in shapes[name])
        flops = training_flops(n_params, shapes[name])
        useful = training_flops(n_params, [(1, length) for length in timed_lengths])
        print(
            f"{name:9s} {rates[name]:8.1f} examples/s  ({seconds:.2f} s median of {repeats}, "
            f"{len(shapes[name])} steps, padding {1 - real_tokens / padded:5.1%} of {padded} tokens, "
            f"MFU {flops / seconds / 1e9 / peak:5.1%}, useful-token MFU {useful / seconds / 1e9 / peak:5.1%})"
        )
    print(f"ratio {rates['ours'] / rates['baseline']:.2f}")


if __name__ == "__main__":
    main()
