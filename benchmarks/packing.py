"""Which packing mechanism is fastest on this machine, and is it exact: one training step per way.

Usage: ``python benchmarks/packing.py [--quick]``

For a tiny (2 layers, hidden 128) and a small (4 layers, hidden 256) XLM-R encoder with an MLM-like loss
on every real token, the same length-grouped batches (XNLI-like lengths, batch 32) are stepped (forward +
backward + AdamW) in these ways, alternately, each step's time its best over a few passes:

- ``padded``: the batch padded to its longest sequence (what xstilts does without packing);
- ``packed-sdpa``: ``xstilts.models.packing`` rows as wide as the longest sequence, SDPA with a 4D boolean
  block-diagonal mask (the mechanism xstilts uses);
- ``packed-sdpa-1row``: every sequence in one row (attention over the whole row, mostly masked);
- ``packed-eager``: the same rows through HF's eager attention with an additive mask;
- ``flex``: FlexAttention with a document mask (HF builds it from the position ids) - tried, and reported
  as unavailable where torch cannot train it (no backward on CPU in torch 2.13).

Nested jagged tensors are not tried: HF's encoders take padded (batch, length) tensors only, so they would
mean rewriting each architecture's attention. Prints the max abs difference of each packed way's last hidden
states from the padded ones (fp32) and examples/s; ``ratio`` lines last.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaModel  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from padding import PAD_ID, make_features  # noqa: E402

from xstilts.families.common import attention_mask_for, pad_sequences  # noqa: E402
from xstilts.models.packing import PackingSupport, pack_batch, packing_support, plan_rows, unpack  # noqa: E402
from xstilts.training.batching import length_grouped_batches  # noqa: E402

SHAPES = {"tiny": (2, 128, 2, 512), "small": (4, 256, 4, 1024)}
VOCAB, BATCH_SIZE, SEED = 8000, 32, 0
# Position ids and rows as for SDPA: the flex way leaves the mask to HF, which reads the position ids.
SDPA_SUPPORT = PackingSupport(True, first_position=PAD_ID + 1)


def build(shape: tuple[int, int, int, int], implementation: str, dropout: float = 0.1) -> XLMRobertaModel:
    layers, hidden, heads, intermediate = shape
    torch.manual_seed(SEED)
    config = XLMRobertaConfig(vocab_size=VOCAB, hidden_size=hidden, num_hidden_layers=layers,
                              num_attention_heads=heads, intermediate_size=intermediate, pad_token_id=PAD_ID,
                              max_position_embeddings=130 * BATCH_SIZE, hidden_dropout_prob=dropout,
                              attention_probs_dropout_prob=dropout, type_vocab_size=1)
    config._attn_implementation = implementation
    return XLMRobertaModel(config, add_pooling_layer=False)


def padded_batch(features: list[dict]) -> dict[str, torch.Tensor]:
    ids = pad_sequences([f["input_ids"] for f in features], PAD_ID)
    return {"input_ids": ids, "attention_mask": attention_mask_for(ids, PAD_ID, [len(f["input_ids"]) for f in features])}


class Way:
    def __init__(self, name: str, shape: tuple, implementation: str, capacity: str | None, dropout: float = 0.1):
        self.name, self.capacity = name, capacity
        self.model = build(shape, implementation, dropout)
        self.model.train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=5e-5)
        self.support = packing_support(self.model)

    def inputs(self, batch: dict[str, torch.Tensor]) -> dict:
        if self.capacity is None:
            return batch
        lengths = batch["attention_mask"].sum(1).tolist()
        layout = plan_rows(lengths, sum(lengths) if self.capacity == "one-row" else None)
        if self.capacity == "flex":  # no mask: HF builds the document mask from the position ids
            packed, _ = pack_batch(batch, SDPA_SUPPORT, PAD_ID, layout=layout)
            return {"input_ids": packed["input_ids"], "position_ids": packed["position_ids"]}
        return pack_batch(batch, self.support, PAD_ID, layout=layout)[0]

    def step(self, batch: dict[str, torch.Tensor]) -> float:
        start = time.perf_counter()
        hidden = self.model(**self.inputs(batch)).last_hidden_state
        # Every slot counts in this stand-in loss; the work per step is what is measured.
        loss = hidden.float().pow(2).mean()
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - start


def max_difference(shape: tuple, batch: dict[str, torch.Tensor], implementation: str, capacity: str | None) -> float:
    model = build(shape, implementation).eval()
    support = packing_support(model)
    lengths = batch["attention_mask"].sum(1).tolist()
    with torch.no_grad():
        reference = model(**batch).last_hidden_state
        layout = plan_rows(lengths, sum(lengths) if capacity == "one-row" else None)
        packed, layout = pack_batch(batch, support, PAD_ID, layout=layout)
        out = unpack(model(**packed).last_hidden_state, layout, batch["input_ids"].shape[1])
    real = batch["attention_mask"].bool()
    return float((out[real] - reference[real]).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 batches, 2 passes per model")
    args = parser.parse_args()
    torch.set_num_threads(2)
    n_batches, passes = (8, 2) if args.quick else (24, 3)
    features = make_features(BATCH_SIZE * n_batches * 4, SEED)
    lengths = [f["length"] for f in features]
    batchings = {
        # what xstilts trains on: length-grouped batches
        "grouped": length_grouped_batches(lengths, BATCH_SIZE, seed=SEED, epoch=0)[:n_batches],
        # plain random batches (no length grouping): where padding is large
        "random": length_grouped_batches(lengths, BATCH_SIZE, seed=SEED, epoch=0, group_factor=0)[:n_batches],
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH_SIZE}, lengths mean "
          f"{np.mean(lengths):.1f}")
    for batching, batches in batchings.items():
        data = [padded_batch([features[i] for i in b]) for b in batches]
        slots = sum(b["input_ids"].numel() for b in data)
        real = sum(int(b["attention_mask"].sum()) for b in data)
        rows = sum(plan_rows(b["attention_mask"].sum(1).tolist()).num_rows * b["input_ids"].shape[1] for b in data)
        print(f"{batching}: {n_batches} batches; padded: {1 - real / slots:.1%} of {slots} slots are padding; "
              f"packed rows: {1 - real / rows:.1%} of {rows}")
        for size, shape in SHAPES.items():
            measure(f"{batching} {size}", shape, data, passes, every_way=batching == "grouped")


def measure(label: str, shape: tuple, data: list[dict[str, torch.Tensor]], passes: int, every_way: bool) -> None:
    ways = {"padded": ("sdpa", None), "packed-sdpa": ("sdpa", "rows")}
    if every_way:
        ways.update({"packed-sdpa-1row": ("sdpa", "one-row"), "packed-eager": ("eager", "rows")})
    for name, (implementation, capacity) in list(ways.items())[1:]:
        difference = max_difference(shape, data[0], implementation, capacity)
        print(f"{label} {name}: max abs difference from padded {difference:.2e}")
    runners = {name: Way(name, shape, implementation, capacity) for name, (implementation, capacity) in ways.items()}
    if every_way:
        try:
            # HF's flex path refuses attention dropout: this way trains without it (less work, if anything).
            flex = Way("flex", shape, "flex_attention", "flex", dropout=0.0)
            flex.step(data[0])
            runners["flex"] = flex
        except Exception as error:  # report why, keep measuring the others
            print(f"{label} flex: unavailable ({type(error).__name__}: {str(error).splitlines()[0][:120]})")
    for runner in runners.values():
        runner.step(data[0])  # warm-up
    best = {name: [float("inf")] * len(data) for name in runners}
    for _ in range(passes):
        for k, batch in enumerate(data):
            order = list(runners) if k % 2 == 0 else list(runners)[::-1]
            for name in order:
                best[name][k] = min(best[name][k], runners[name].step(batch))
    rates = {name: BATCH_SIZE * len(data) / sum(times) for name, times in best.items()}
    for name, rate in rates.items():
        print(f"{label} {name:17s} {rate:8.1f} examples/s")
    for name in rates:
        if name != "padded":
            print(f"ratio {label} {name}/padded {rates[name] / rates['padded']:.3f}")


if __name__ == "__main__":
    main()
