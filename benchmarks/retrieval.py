"""Chunked exact nearest-neighbour search vs the naive full similarity matrix: time and peak memory.

Run (niced, one thread, about a minute):
    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/retrieval.py --n 50000 --baseline-n 10000

The chunked search (xstilts.scoring.retrieval.mutual_top_k: k nearest neighbours in both directions, what
BUCC's ratio margin needs) runs on n x n random unit vectors; the naive baseline (the whole matrix in memory,
then argpartition per row and per column) runs at a size it can hold, on the same data prefix, where both
must give the same neighbours. Each measurement runs in its own process so that peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def run_one(kind: str, n: int, dim: int, k: int) -> dict:
    import torch

    torch.set_num_threads(1)
    x, y = vectors(n, dim, 0), vectors(n, dim, 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if kind == "chunked":
        from xstilts.scoring.retrieval import mutual_top_k

        _, forward, _, backward = mutual_top_k(x, y, k)
    else:
        sims = x @ y.T
        forward = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        backward = np.argpartition(-sims.T, k - 1, axis=1)[:, :k]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "kind": kind, "n": n, "seconds": seconds, "peak_rss_mib": peak / 1024, "added_rss_mib": (peak - before) / 1024,
        "forward_sets": [sorted(r) for r in forward[:200].tolist()],
        "backward_sets": [sorted(r) for r in backward[:200].tolist()],
    }


def measure(kind: str, n: int, dim: int, k: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, "--n", str(n), "--dim", str(dim), "--k", str(k)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="sentences per side for the chunked search")
    parser.add_argument("--baseline-n", type=int, default=10_000, help="size at which the naive matrix is held")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--one", choices=("chunked", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n, args.dim, args.k)))
        return
    naive = measure("naive", args.baseline_n, args.dim, args.k)
    small = measure("chunked", args.baseline_n, args.dim, args.k)
    same = naive["forward_sets"] == small["forward_sets"] and naive["backward_sets"] == small["backward_sets"]
    big = measure("chunked", args.n, args.dim, args.k)
    print(f"{'search':<10} {'n x n':>15} {'seconds':>9} {'peak RSS MiB':>13} {'added MiB':>10}")
    for row in (naive, small, big):
        print(f"{row['kind']:<10} {row['n']:>7} x {row['n']:<7} {row['seconds']:>9.1f} {row['peak_rss_mib']:>13.0f} "
              f"{row['added_rss_mib']:>10.0f}")
    print(f"same neighbours at n={args.baseline_n} (first 200 rows, both directions): {same}")
    print(f"at n={args.baseline_n}: time chunked/naive = {small['seconds'] / naive['seconds']:.2f}, "
          f"added memory chunked/naive = {small['added_rss_mib'] / max(naive['added_rss_mib'], 1):.3f}")
    full_matrix_gib = args.n * args.n * 4 / 2**30
    print(f"at n={args.n}: the full matrix would need {full_matrix_gib:.1f} GiB; chunked added "
          f"{big['added_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
