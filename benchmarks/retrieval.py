"""Exact k-nearest-neighbour search in both directions (what BUCC's ratio margin needs): xstilts against faiss.

Run on a quiet machine (a few minutes at the default size):
    python benchmarks/retrieval.py --n 50000
    python benchmarks/retrieval.py --n 20000 --quick        # fewer rows, for a first look

Searches, each in its own process (so that peak memory is its own), on n x n random unit vectors of ``--dim``:
- ``xstilts``: xstilts.scoring.retrieval.mutual_top_k, the default exact search (one pass over the similarity
  blocks for both directions, the selection by threshold; xstilts.scoring.exact_search);
- ``xstilts-bf16``: the same with ``precision="bf16"`` (bf16 blocks, candidates re-scored in float32), where
  the CPU has native bf16 (AMX or AVX512-BF16) or on a GPU; skipped elsewhere (emulated bf16 is slow);
- ``faiss``: faiss-cpu's exact ``IndexFlatIP`` searched once per direction (what a user of faiss would run);
  skipped with the reason when faiss is not installed (``pip install 'xstilts[faiss]'``);
- ``naive``: the whole similarity matrix in memory, then ``torch.topk`` per row and per column, at
  ``--naive-n`` (a size it can hold).

Printed per search: seconds, the effective GFLOP/s (the matrix products it computed: faiss computes the matrix
twice), the memory it added (peak RSS), and the share of rows whose k neighbours (as sets) equal xstilts'
float32 search on the same vectors. Then the projected time of BUCC-sized mining (``--project-n`` sentences a
side at ``--project-dim`` dimensions: about 400k, XLM-R large's 1024) from each search's measured rate, and last
``ratio`` lines: faiss time / xstilts time (above 1: xstilts is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def native_bf16() -> bool:
    """CUDA, or a CPU with AMX or AVX512-BF16 (Linux flags): where bf16 matrix products are not emulated."""
    import torch

    if torch.cuda.is_available():
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def search(kind: str, x: np.ndarray, y: np.ndarray, k: int, device: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(forward indices, backward indices, matrix products computed) of one search kind."""
    if kind in ("xstilts", "xstilts-bf16"):
        from xstilts.scoring.retrieval import mutual_top_k

        precision = "bf16" if kind == "xstilts-bf16" else "fp32"
        _, forward, _, backward = mutual_top_k(x, y, k, device=None if device == "cpu" else device,
                                               precision=precision)
        return forward, backward, 1
    if kind == "faiss":
        import faiss

        forward_index, backward_index = faiss.IndexFlatIP(x.shape[1]), faiss.IndexFlatIP(x.shape[1])
        forward_index.add(y)
        backward_index.add(x)
        return forward_index.search(x, k)[1], backward_index.search(y, k)[1], 2
    import torch

    sims = torch.from_numpy(x).to(device) @ torch.from_numpy(y).to(device).T
    forward = torch.topk(sims, k, dim=1).indices.cpu().numpy()
    backward = torch.topk(sims, k, dim=0).indices.T.cpu().numpy()
    return forward, backward, 1


def run_one(kind: str, n: int, dim: int, k: int, threads: int, device: str, out: str) -> dict:
    import torch

    torch.set_num_threads(threads)
    if kind == "faiss":
        import faiss

        faiss.omp_set_num_threads(threads)
    x, y = vectors(n, dim, 0), vectors(n, dim, 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    forward, backward, products = search(kind, x, y, k, device)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(out, np.concatenate([np.sort(forward, axis=1), np.sort(backward, axis=1)]))
    return {"kind": kind, "n": n, "seconds": seconds, "products": products, "added_mib": (peak - before) / 1024}


def measure(kind: str, n: int, args: argparse.Namespace, folder: Path) -> dict:
    out = folder / f"{kind}-{n}.npy"
    done = subprocess.run([sys.executable, __file__, "--one", kind, "--n", str(n), "--dim", str(args.dim),
                           "--k", str(args.k), "--threads", str(args.threads), "--device", args.device,
                           "--out", str(out)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind} at n={n} failed:\n{done.stderr}")
    row = json.loads(done.stdout)
    row["neighbours"] = out
    return row


def agreement(row: dict, reference: dict) -> float:
    """Share of rows (both directions) whose neighbour sets equal the reference's."""
    a, b = np.load(row["neighbours"]), np.load(reference["neighbours"])
    return float((a == b).all(axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="sentences per side")
    parser.add_argument("--naive-n", type=int, default=20_000, help="size at which the whole matrix is held")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--device", default="cpu", help="cpu or cuda (xstilts and naive; faiss-cpu stays on CPU)")
    parser.add_argument("--project-n", type=int, default=400_000, help="BUCC-sized sentences per side")
    parser.add_argument("--project-dim", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="--n 20000 --naive-n 10000")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n, args.dim, args.k, args.threads, args.device, args.out)))
        return
    if args.quick:
        args.n, args.naive_n = 20_000, 10_000
    try:
        import faiss  # noqa: F401

        have_faiss = True
    except ImportError:
        have_faiss = False
    kinds = ["xstilts", "faiss"] if have_faiss else ["xstilts"]
    if native_bf16():
        kinds.insert(1, "xstilts-bf16")
    print(f"{args.n} x {args.n} unit vectors of {args.dim} dimensions, k={args.k} both directions, "
          f"{args.threads} threads, device {args.device}")
    if not have_faiss:
        print("faiss: skipped (not installed: pip install 'xstilts[faiss]')")
    if "xstilts-bf16" not in kinds:
        print("xstilts-bf16: skipped (no native bf16 here: bf16 would be emulated)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = {}
        for kind in kinds:  # alternate with a second round so that machine noise hits every search alike
            rows[kind] = [measure(kind, args.n, args, folder)]
        for kind in kinds:
            rows[kind].append(measure(kind, args.n, args, folder))
        best = {kind: min(runs, key=lambda r: r["seconds"]) for kind, runs in rows.items()}
        small = {"xstilts": measure("xstilts", args.naive_n, args, folder),
                 "naive": measure("naive", args.naive_n, args, folder)}
        print(f"{'search':<14} {'n':>8} {'seconds':>9} {'GFLOP/s':>9} {'added MiB':>10} {'same neighbours':>16}")
        for row in [*best.values(), *small.values()]:
            flops = 2.0 * row["n"] * row["n"] * args.dim * row["products"]
            reference = best["xstilts"] if row["n"] == args.n else small["xstilts"]
            print(f"{row['kind']:<14} {row['n']:>8} {row['seconds']:>9.2f} {flops / row['seconds'] / 1e9:>9.0f} "
                  f"{row['added_mib']:>10.0f} {agreement(row, reference):>15.2%}")
    scale = (args.project_n / args.n) ** 2 * args.project_dim / args.dim
    for kind, row in best.items():
        hours = row["seconds"] * scale / 3600
        print(f"projected {kind}: {args.project_n} x {args.project_n} at {args.project_dim} dimensions, "
              f"{hours:.2f} h per language pair (time scaled by n^2 x dim)")
    if "faiss" in best:
        for kind in ("xstilts", "xstilts-bf16"):
            if kind in best:
                print(f"ratio {kind}: {best['faiss']['seconds'] / best[kind]['seconds']:.2f} "
                      f"(faiss time / {kind} time at n={args.n}; above 1: xstilts is faster)")


if __name__ == "__main__":
    main()
