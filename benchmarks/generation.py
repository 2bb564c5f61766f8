"""xstilts' batched generation against a plain ``model.generate`` loop over the same examples.

Usage: ``python benchmarks/generation.py [--examples N] [--batch-size N] [--beams N] [--max-new-tokens N]
[--hidden N] [--layers N] [--rounds N] [--threads N]`` (docs/encoder-decoders.md)

One encoder-decoder (a T5 built from a config, random weights, seeded; no hub) and one set of generation examples
(sources of 4 to 40 words of a fixed word list, a tokenizer trained in code on them), decoded greedily or with
beams, ``max_new_tokens`` new tokens at most:

a) ``xstilts``: ``evaluation.predict.evaluate_features`` with the generation family, what every evaluation runs:
   features sorted by source length, batches of ``--batch-size``, transformers' ``generate`` with the KV cache;
b) ``loop``: ``model.generate`` on one example at a time, in file order (the plain loop a script would write);
c) ``batched``: ``model.generate`` on batches of ``--batch-size`` in file order (no sorting): what sorting adds.

The sides run alternately, ``--rounds`` times (each keeps its best time), after an untimed warm-up. Printed per
side: examples/s, the share of outputs equal to the loop's (greedy decoding of a padded batch may differ from the
unpadded one in the last bits of fp32, which can flip a near tie), and the ratio to the loop.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xstilts.evaluation.predict import evaluate_features  # noqa: E402
from xstilts.families import get_family  # noqa: E402
from xstilts.models.seq2seq import build_seq2seq, with_tokenizer  # noqa: E402
from xstilts.models.tokenizer import train_tokenizer  # noqa: E402
from xstilts.tasks.base import Task  # noqa: E402

WORDS = ("alpha beta gamma delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def examples(count: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 40))]
        out.append({"id": str(index), "source": " ".join(words), "target": " ".join(words[:8])})
    return out


def setup(args: argparse.Namespace):
    """(model, tokenizer, task, examples, features) for the benchmark's settings."""
    data = examples(args.examples)
    tokenizer = train_tokenizer([example["source"] for example in data], vocab_size=200)
    torch.manual_seed(0)
    model = build_seq2seq({"architecture": "t5", "hidden_size": args.hidden, "num_layers": args.layers,
                           "num_heads": max(1, args.hidden // 64), "intermediate_size": 4 * args.hidden,
                           "dropout": 0.0}, tokenizer)
    model = with_tokenizer(model.eval(), tokenizer)
    task = Task(name="generation-benchmark", family="generation", description="", splits={"test": ("en",)},
                reader=lambda *a: [], metrics=("bleu",),
                settings={"num_beams": args.beams, "max_new_tokens": args.max_new_tokens})
    features = get_family("generation").featurize(task, data, tokenizer, max_length=128)
    return model, tokenizer, task, data, features


def run_xstilts(model, tokenizer, task, data, features, args) -> list[str]:
    evaluation = evaluate_features(model, None, get_family("generation"), task, data, features,
                                   pad_token_id=tokenizer.pad_token_id, batch_size=args.batch_size,
                                   device=torch.device("cpu"))
    return evaluation.predictions


@torch.no_grad()
def run_plain(model, tokenizer, data, args, batch_size: int) -> list[str]:
    outputs = []
    for start in range(0, len(data), batch_size):
        chunk = [example["source"] for example in data[start:start + batch_size]]
        encoded = tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=128)
        generated = model.generate(**encoded, num_beams=args.beams, max_new_tokens=args.max_new_tokens,
                                   do_sample=False, early_stopping=args.beams > 1)
        outputs += [text.strip() for text in tokenizer.batch_decode(generated, skip_special_tokens=True)]
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beams", type=int, default=1)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tokenizer, task, data, features = setup(args)
    sides = {
        "xstilts": lambda: run_xstilts(model, tokenizer, task, data, features, args),
        "loop": lambda: run_plain(model, tokenizer, data, args, batch_size=1),
        "batched": lambda: run_plain(model, tokenizer, data, args, batch_size=args.batch_size),
    }
    for side in sides.values():  # warm-up: thread pools, allocator
        side()
    best, outputs = dict.fromkeys(sides, float("inf")), {}
    for round_number in range(args.rounds):
        for name in (list(sides) if round_number % 2 == 0 else list(sides)[::-1]):
            start = time.perf_counter()
            outputs[name] = sides[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"{args.examples} examples, batch {args.batch_size}, beams {args.beams}, max_new_tokens "
          f"{args.max_new_tokens}, T5 hidden {args.hidden} x {args.layers} layers, {torch.get_num_threads()} threads")
    for name in sides:
        same = sum(a == b for a, b in zip(outputs[name], outputs["loop"], strict=True)) / len(data)
        print(f"{name:8s} {len(data) / best[name]:9.1f} examples/s   {100 * same:5.1f}% outputs as the loop's   "
              f"{best['loop'] / best[name]:5.2f}x the loop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
