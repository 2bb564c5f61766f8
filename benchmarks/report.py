"""Time of ``build_report`` (tables and every paired bootstrap, no plots) on a study of XTREME's size.

Usage: ``python benchmarks/report.py [--quick]``

Synthetic results: 9 target tasks x 10 columns (the baseline and 9 intermediate tasks) x 20 languages x 3 seeds,
2,000 test examples per language with per-example accuracy units, 1,000 bootstrap resamples. Each language is
resampled once for all its systems, seeds and metrics, so the cost is one draw per (task, language) rather than
one per table cell. ``--quick`` uses 2 tasks. Prints the seconds on the last line.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from xstilts.reports.model import build_report
from xstilts.reports.results import ExampleScores, normalise_row


def synthetic(tasks: int, columns: int = 10, languages: int = 20, seeds: int = 3, examples: int = 2000):
    rng = np.random.default_rng(0)
    rows, units = [], {}
    ids = [str(i) for i in range(examples)]
    for t in range(tasks):
        for c in range(columns):
            intermediate = "none" if c == 0 else f"inter{c}"
            for seed in range(seeds):
                for lang in range(languages):
                    key = f"{t}-{c}-{seed}-{lang}"
                    correct = (rng.random(examples) < 0.6 + 0.01 * c).astype(float)
                    units[(key, "accuracy")] = ExampleScores(ids, correct, np.ones(examples))
                    rows.append(normalise_row({
                        "task": f"task{t}", "language": "en" if lang == 0 else f"l{lang:02d}", "metric": "accuracy",
                        "value": 100 * correct.mean(), "main": True, "seed": seed, "model": "m",
                        "intermediate": intermediate, "pretraining": "mlm", "family": "classification",
                        "eval_key": key, "pipeline": f"{intermediate}/{t}"}))
    return rows, units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows, units = synthetic(2 if args.quick else 9)
    start = time.perf_counter()
    build_report(rows, units, n_resamples=1000)
    seconds = time.perf_counter() - start
    print(f"{len(rows)} result rows, {len(units)} unit sets, 1000 resamples")
    print(f"seconds {seconds:.1f}")


if __name__ == "__main__":
    main()
