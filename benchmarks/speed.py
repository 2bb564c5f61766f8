"""Speed of the code paths whose speed is the point: data generation and span-QA chance.

Usage: ``python benchmarks/speed.py [--repeats 3] [--strict]``

These were wall-clock assertions in the test suite, where a busy machine made them fail at random. The tests
now check what these paths compute; their time is measured here, each case on one thread as the best of
``--repeats`` runs (load on the machine only slows a run down), against the budget the tests used to assert:

- ``micro-corpora``: the tiny corpora of all six micro languages (1000 sentences each), CPU time; budget 3 s.
- ``mock-tasks``: every mock task's files generated in memory; budget 2 s (about 0.4 s on one core).
- ``span-qa-chance``: span-QA chance (expected EM and F1 of a uniform span pick) of 200 contexts of 300
  words, which the family computes with prefix counts rather than span by span; budget 5 s.

It prints one line per case (``<case> <seconds> s (budget <b> s) ok|OVER``); with ``--strict`` it exits 1 if
any case is over its budget.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without install


def micro_corpora() -> Callable[[], None]:
    from xstilts.micro.corpora import corpus
    from xstilts.micro.languages import LANGUAGE_CODES

    def run() -> None:
        for code in LANGUAGE_CODES:
            assert len(corpus(code, 1000)) == 1000

    return run


def mock_tasks() -> Callable[[], None]:
    from xstilts.tasks.mock_data import GENERATORS, generate

    def run() -> None:
        for name in GENERATORS:
            generate(name)

    return run


def span_qa_chance() -> Callable[[], None]:
    from xstilts.families.span_qa import FAMILY
    from xstilts.tasks.base import Task

    syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "po", "ve", "dra", "ni"]
    vocabulary = [a + b for a in syllables for b in syllables]
    rng = random.Random(4)
    examples = []
    for i in range(200):
        words = [rng.choice(vocabulary) for _ in range(300)]
        context = " ".join(words)
        answers = [" ".join(words[100:103]), words[7]]
        examples.append({"id": str(i), "question": "q", "context": context,
                         "answers": [{"text": a, "start": context.index(a)} for a in answers]})
    task = Task(name="qa", family="span_qa", description="", splits={"train": ("en",)}, reader=lambda p: [],
                metrics=("f1", "exact_match"), settings={})

    def run() -> None:
        values = FAMILY.chance(task, examples)
        assert 0 < values["exact_match"] < values["f1"] < 20

    return run


# name -> (builder of the timed function, budget in seconds, clock)
CASES: dict[str, tuple[Callable[[], Callable[[], None]], float, Callable[[], float]]] = {
    "micro-corpora": (micro_corpora, 3.0, time.process_time),
    "mock-tasks": (mock_tasks, 2.0, time.perf_counter),
    "span-qa-chance": (span_qa_chance, 5.0, time.perf_counter),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 if a case is over its budget")
    parser.add_argument("cases", nargs="*", help=f"the cases to run, of {list(CASES)} (default: all)")
    args = parser.parse_args()
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {list(CASES)}")
    import torch

    torch.set_num_threads(1)
    over = []
    for name in args.cases or list(CASES):
        build, budget, clock = CASES[name]
        run = build()
        best = float("inf")
        for _ in range(args.repeats):
            start = clock()
            run()
            best = min(best, clock() - start)
        verdict = "ok" if best < budget else "OVER"
        if best >= budget:
            over.append(name)
        print(f"{name} {best:.2f} s (budget {budget:.0f} s) {verdict}", flush=True)
    return 1 if args.strict and over else 0


if __name__ == "__main__":
    sys.exit(main())
