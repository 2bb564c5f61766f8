"""Evaluation throughput: xstilts' prediction and embedding passes against the plain loop a user would write.

Usage: ``python benchmarks/evaluation.py [--quick] [--sizes base large] [--threads N]``, or
``python benchmarks/evaluation.py --reuse [micro|micro-phang2020]``: the inputs that the retrieval evaluations of
one stage of a micro preset share (run on its model as built, in a fresh store; about half a minute).

Encoders built from XLM-R's config with random weights (the speed does not depend on the weights), on the GPU when
there is one, else the CPU: base (12
layers x 768) and large (24 x 1024), vocabulary 250,002. Three workloads with token lengths drawn from log-normal
distributions close to XTREME's test sets under XLM-R's tokenizer (seeded, so every method sees the same data):

- classification (XNLI-like sentence pairs): median 45 tokens, up to 256; a linear head on ``<s>``;
- QA (XQuAD/MLQA-like question + context windows): median 200 tokens, up to 384; start/end logits per token;
- retrieval embedding (Tatoeba/BUCC-like sentences): median 14 tokens, up to 512; mean of hidden layer 14/24.

Methods, each over the same examples:

- ``plain``: a fixed batch of 32 in file order, padded to the longest of the batch, fp32, ``torch.no_grad`` (what
  a user writes around a Hugging Face model; for retrieval with ``output_hidden_states`` and mean pooling);
- ``xstilts fp32``: :func:`xstilts.evaluation.predict.predict_raw` through the family (longest first, token-budget
  batches, inference mode), fp32;
- ``xstilts <precision>``: the same under the precision ``runtime.precision: auto`` picks on this machine (bf16
  autocast where the CPU or GPU computes bf16 natively; the same as fp32 elsewhere, then not repeated).

A ``transformers`` pipeline is left out: it starts from raw text (these inputs are token ids), a feature-extraction
pipeline returns the last layer's token vectors rather than a pooled middle layer, and its ``batch_size`` pads a
fixed number of inputs in the given order, the ``plain`` loop's strategy with per-example Python work added.

Each method runs ``--repeats`` times (default 2), the methods in turn, and keeps its best time. Prints, per size
and workload: examples/s and the padded share of the tokens each method computed, then the ``ratio`` lines last
(xstilts / plain examples/s). ``--quick``: 40 / 8 / 96 examples per workload (a few minutes on 2 cores; at that
size a plain batch of 32 is most of a set, so the padded share at the full sizes is printed too, from the batch
plans alone). Timings on a machine whose cores other work shares move by tens of percent between runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

SIZES = {"base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
         "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                   "intermediate_size": 4096}}
PLAIN_BATCH = 32
PAD_ID = 1  # XLM-R's <pad>


@dataclass(frozen=True)
class Workload:
    name: str
    family: str
    median: float  # tokens
    sigma: float  # of log(length)
    max_length: int
    count: int
    quick_count: int

    def lengths(self, quick: bool, seed: int = 0) -> list[int]:
        rng = np.random.default_rng(seed)
        n = self.quick_count if quick else self.count
        drawn = np.exp(rng.normal(np.log(self.median), self.sigma, n)).round().astype(int)
        return np.clip(drawn, 4, self.max_length).tolist()


WORKLOADS = (
    Workload("classification", "classification", 45, 0.45, 256, 1024, 40),
    Workload("qa", "span_qa", 200, 0.35, 384, 256, 8),
    Workload("retrieval", "retrieval", 14, 0.5, 512, 2048, 96),
)


def build_encoder(size: str):
    from transformers import XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1, pad_token_id=PAD_ID,
                              **SIZES[size])
    return XLMRobertaModel(config, add_pooling_layer=False).eval()


def token_rows(lengths: list[int], seed: int = 1) -> list[list[int]]:
    """Random token ids (not special ones) between ``<s>`` (0) and ``</s>`` (2)."""
    rng = np.random.default_rng(seed)
    return [[0, *rng.integers(5, 250000, n - 2).tolist(), 2] for n in lengths]


def features_for(family: str, rows: list[list[int]]) -> list[dict[str, Any]]:
    """Features in the family's own format (what featurize would have made of such examples)."""
    common = [{"input_ids": ids, "length": len(ids), "example_index": i} for i, ids in enumerate(rows)]
    if family == "classification":
        return [{**f, "label": 0} for f in common]
    if family == "span_qa":
        return [{**f, "start_position": 0, "end_position": 0} for f in common]
    # layer 14 of 24 scaled to the depth, mean pooling (code 0): phang2020's retrieval recipe
    return [{**f, "side": 0, "layer": 14, "layer_of": 24, "pooling": 0} for f in common]


def plain_pass(encoder, head, family: str, rows: list[list[int]]) -> tuple[int, int]:
    """The user's loop; (real tokens, padded tokens computed)."""
    from xstilts.scoring.retrieval import pool, resolve_layer

    padded = 0
    with torch.no_grad():
        for start in range(0, len(rows), PLAIN_BATCH):
            chunk = rows[start:start + PLAIN_BATCH]
            width = max(map(len, chunk))
            ids = torch.full((len(chunk), width), PAD_ID, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for r, row in enumerate(chunk):
                ids[r, :len(row)] = torch.tensor(row)
                mask[r, :len(row)] = 1
            padded += ids.numel()
            ids, mask = ids.to(encoder.device), mask.to(encoder.device)
            if family == "retrieval":
                out = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)
                layer = resolve_layer(14, 24, encoder.config.num_hidden_layers)
                pool(out.hidden_states[layer], mask, "mean").cpu().numpy()
            else:
                hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
                (head(hidden[:, 0]) if family == "classification" else head(hidden)).float().cpu().numpy()
    return sum(map(len, rows)), padded


def xstilts_padded(family: str, rows: list[list[int]], device: torch.device, config: Any) -> int:
    """The padded tokens of xstilts' batches of ``rows`` (planned as predict_raw plans them)."""
    from xstilts.evaluation.batches import padded_tokens, plan_batches, tokens_per_batch

    features = features_for(family, rows)
    budget = tokens_per_batch(None, device, config, max(map(len, rows)))
    return padded_tokens(features, plan_batches(features, budget))


def plain_padded(rows: list[list[int]]) -> int:
    return sum(max(map(len, rows[i:i + PLAIN_BATCH])) * len(rows[i:i + PLAIN_BATCH])
               for i in range(0, len(rows), PLAIN_BATCH))


def xstilts_pass(encoder, head, family: str, rows: list[list[int]], autocast: Callable | None) -> tuple[int, int]:
    from xstilts.evaluation.predict import predict_raw
    from xstilts.families import get_family

    predict_raw(encoder, head, get_family(family), features_for(family, rows), pad_token_id=PAD_ID,
                autocast=autocast)
    return sum(map(len, rows)), xstilts_padded(family, rows, encoder.device, encoder.config)


def head_for(family: str, hidden: int) -> torch.nn.Module | None:
    if family == "retrieval":
        return None
    torch.manual_seed(1)
    return torch.nn.Linear(hidden, 3 if family == "classification" else 2).eval()


def timed(run: Callable[..., tuple[int, int]], *args: Any) -> tuple[float, int, int]:
    start = time.perf_counter()
    real, padded = run(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, real, padded


def reuse_on_micro(preset: str) -> None:
    """Run the retrieval evaluations of a micro preset on its model as built (what repeats does not depend on
    the weights) in a fresh store, and print what the shared output cache reused."""
    import tempfile
    from pathlib import Path

    import yaml

    import xstilts
    from xstilts.config.load import parse_study
    from xstilts.studies.runner import run_study

    data = yaml.safe_load((Path(xstilts.__file__).parent / "presets" / f"{preset}.yaml").read_text())
    data.pop("grids", None)
    data.pop("variants", None)
    data["pipelines"] = {"retrieval": {"stages": [], "evaluate": ["micro-tatoeba", "micro-bucc"]}}
    data["runtime"] = {"progress": False}
    with tempfile.TemporaryDirectory() as folder:
        data["store"] = str(Path(folder) / "runs")
        said: list[str] = []
        run_study(parse_study(data), Path(folder) / "out", said.append)
    print(f"{preset}: retrieval evaluations of one stage (micro-tatoeba, micro-bucc; evaluate.max_examples "
          f"{data.get('evaluate', {}).get('max_examples')})")
    for line in said:
        if "reused" in line:
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few examples per workload (a few minutes)")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["base", "large"])
    parser.add_argument("--workloads", nargs="+", choices=[w.name for w in WORKLOADS],
                        default=[w.name for w in WORKLOADS])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of every method; the best time is kept")
    parser.add_argument("--reuse", metavar="PRESET", nargs="?", const="micro", default=None,
                        help="instead: count the inputs the retrieval evaluations of one stage of a micro preset "
                        "reuse (default micro)")
    args = parser.parse_args()
    if args.reuse:
        reuse_on_micro(args.reuse)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    from xstilts.training.precision import resolve_precision

    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = resolve_precision("auto", device)
    methods: list[tuple[str, Callable | None]] = [("xstilts fp32", None)]
    if precision.name == "bf16":
        methods.append(("xstilts bf16", lambda: torch.autocast(device, dtype=torch.bfloat16)))
    print(f"device {device}, {torch.get_num_threads()} threads, run precision {precision.name} ({precision.reason})")
    if args.quick:
        # Padding depends on the number of examples: the full sizes' batch plans cost nothing to make.
        from transformers import XLMRobertaConfig

        config = XLMRobertaConfig(**SIZES["large"])
        for workload in (w for w in WORKLOADS if w.name in args.workloads):
            rows = token_rows(workload.lengths(False))
            real = sum(map(len, rows))
            ours = xstilts_padded(workload.family, rows, torch.device(device), config)
            print(f"padded share at the full size ({len(rows)} {workload.name} examples): plain "
                  f"{1 - real / plain_padded(rows):.0%}, xstilts {1 - real / ours:.0%}")
    print(f"{'size':<6} {'workload':<15} {'method':<13} {'examples':>8} {'tokens':>7} {'padded':>7} "
          f"{'seconds':>8} {'examples/s':>10}")
    ratios = []
    for size in args.sizes:
        encoder = build_encoder(size).to(device)
        for workload in (w for w in WORKLOADS if w.name in args.workloads):
            rows = token_rows(workload.lengths(args.quick))
            head = head_for(workload.family, encoder.config.hidden_size)
            head = head.to(device) if head is not None else None
            # Warm-up: the first forward of a shape pays for allocations and kernel choice.
            plain_pass(encoder, head, workload.family, rows[:4])
            runs = [("plain", plain_pass, ()), *((name, xstilts_pass, (autocast,)) for name, autocast in methods)]
            results: dict[str, tuple[float, int, int]] = {}
            # Rounds in turn, the best of each method kept: the first meeting of a batch shape pays for kernel
            # choice (oneDNN builds bf16 kernels per shape), and other work on shared cores comes and goes.
            for _ in range(args.repeats):
                for name, run, extra in runs:
                    seconds, real, padded = timed(run, encoder, head, workload.family, rows, *extra)
                    if name not in results or seconds < results[name][0]:
                        results[name] = (seconds, real, padded)
            for name, (seconds, real, padded) in results.items():
                print(f"{size:<6} {workload.name:<15} {name:<13} {len(rows):>8} {real:>7} "
                      f"{1 - real / padded:>6.0%} {seconds:>8.2f} {len(rows) / seconds:>10.1f}")
            for name, _ in methods:
                ratios.append((size, workload.name, name, results["plain"][0] / results[name][0]))
        del encoder  # the large one needs the memory
    for size, workload, name, ratio in ratios:
        print(f"ratio {size} {workload} {name} / plain: {ratio:.2f}")


if __name__ == "__main__":
    main()
