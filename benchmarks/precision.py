"""The default study in fp32 and in bf16: per-task scores side by side, seed noise, wall times.

Usage::

    python benchmarks/precision.py [--out DIR] [--size tiny] [--seeds 0 1] [--threads 1] [--compare-only]

Runs ``xstilts run`` on the micro preset (the default study; ``--size tiny`` its toy variant) twice, with
``runtime.precision: fp32`` and ``bf16``, each from an empty ``XSTILTS_HOME`` (``DIR/home-<precision>``) so that
every stage is trained in its own precision, one after the other, and times each whole run. Then it prints, per
target task, the mean of the main metric over every pipeline and language of the test set in each precision,
their difference, and the seed noise: the spread (max - min) of that mean between the fp32 run's seeds when it
has several (``--seeds``; the preset has one). Last, ``ratio <fp32 wall time / bf16 wall time>``.

``--compare-only`` reads runs already made in ``DIR`` (``out-fp32/``, ``out-bf16/`` and their ``time-*.txt``,
``/usr/bin/time -v`` output, when there) instead of running. bf16 on a CPU without native bf16 is emulated
and slow: check ``xstilts.training.precision.native_bf16("cpu")`` first.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

PRECISIONS = ("fp32", "bf16")


def study_file(folder: Path, precision: str, seeds: list[int] | None, threads: int | None = None) -> Path:
    """The micro preset with ``runtime.precision`` set (its variants kept: ``--size`` picks one), in ``folder``."""
    import xstilts

    data = yaml.safe_load((Path(xstilts.__file__).parent / "presets" / "micro.yaml").read_text())
    data["runtime"] = dict(data.get("runtime") or {}, precision=precision)
    if threads:
        data["runtime"]["threads"] = threads
    if seeds:
        data["seeds"] = seeds
    path = folder / f"micro-{precision}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(folder: Path, precision: str, study: Path, size: str | None) -> float:
    home, out = folder / f"home-{precision}", folder / f"out-{precision}"
    for path in (home, out):
        shutil.rmtree(path, ignore_errors=True)
    env = dict(os.environ, XSTILTS_HOME=str(home), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    command = [sys.executable, "-m", "xstilts", "run", str(study), "--out", str(out), "--quiet",
               *(["--size", size] if size else [])]
    timer = shutil.which("time") and Path("/usr/bin/time").exists()
    if timer:
        command = ["/usr/bin/time", "-v", "-o", str(folder / f"time-{precision}.txt"), *command]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if not timer:
        (folder / f"time-{precision}.txt").write_text(f"\tElapsed (wall clock) time (h:mm:ss or m:ss): {seconds}\n")
    return seconds


def wall_seconds(folder: Path, precision: str) -> float | None:
    """The elapsed time /usr/bin/time -v wrote (h:mm:ss or m:ss, or plain seconds)."""
    path = folder / f"time-{precision}.txt"
    if not path.exists():
        return None
    match = re.search(r"Elapsed \(wall clock\) time.*: ([\d:.]+)", path.read_text())
    if not match:
        return None
    seconds = 0.0
    for part in match.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def cpu_seconds(folder: Path, precision: str) -> float | None:
    """User + system time /usr/bin/time -v wrote (the process and the workers it waited for)."""
    path = folder / f"time-{precision}.txt"
    text = path.read_text() if path.exists() else ""
    parts = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text)
    return sum(map(float, parts)) if len(parts) == 2 else None


def task_means(*results: Path) -> dict[str, dict[int, float]]:
    """task -> seed -> mean main-metric value over its pipelines and languages (test split), over the rows of
    every ``results`` file (runs of other seeds)."""
    values: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in results:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["main"] == "True" and row["split"] == "test":
                    values[row["task"]][int(row["seed"])].append(float(row["value"]))
    return {task: {seed: statistics.fmean(v) for seed, v in seeds.items()} for task, seeds in sorted(values.items())}


def row_differences(a: Path, b: Path, same_seed: bool = True) -> list[float]:
    """b - a for every (pipeline, seed, task, language) of the main metric both runs have (``same_seed``
    False: the seed left out of the match, for runs of different seeds)."""
    def read(path: Path) -> dict[tuple, float]:
        with open(path, newline="", encoding="utf-8") as handle:
            return {(r["pipeline"], r["seed"] if same_seed else "", r["task"], r["language"]): float(r["value"])
                    for r in csv.DictReader(handle) if r["main"] == "True" and r["split"] == "test"}

    first, second = read(a), read(b)
    return [second[key] - first[key] for key in first.keys() & second.keys()]


def precision_used(results: Path) -> str:
    with open(results, newline="", encoding="utf-8") as handle:
        used = sorted({row.get("precision") or "?" for row in csv.DictReader(handle)})
    return ", ".join(used)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("precision-bench"))
    parser.add_argument("--size", default=None, help="a variant of the micro study (tiny)")
    parser.add_argument("--seeds", type=int, nargs="*", default=None, help="seeds of both runs (default: the preset's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="runtime.threads of both runs (default: the preset's 2); 1 on a machine whose cores "
                        "other jobs share, where two-thread OpenMP regions wait on each other")
    parser.add_argument("--more-fp32", type=Path, nargs="*", default=[],
                        help="results folders of fp32 runs of other seeds (their seed spread is the noise)")
    parser.add_argument("--compare-only", action="store_true", help="compare the runs already in --out")
    args = parser.parse_args()
    folder = args.out.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not args.compare_only:
        for precision in PRECISIONS:
            seconds = run(folder, precision, study_file(folder, precision, args.seeds, args.threads), args.size)
            print(f"{precision}: {seconds:.0f} s", file=sys.stderr)
    results = {p: folder / f"out-{p}" / "results.csv" for p in PRECISIONS}
    means = {"fp32": task_means(results["fp32"], *(path / "results.csv" for path in args.more_fp32)),
             "bf16": task_means(results["bf16"])}
    print(f"precision column: fp32 run {precision_used(results['fp32'])}; bf16 run {precision_used(results['bf16'])}")
    print("per task, the mean main score over pipelines and languages (fp32 of the bf16 run's seeds):")
    print(f"{'task':<20} {'fp32':>7} {'bf16':>7} {'bf16-fp32':>9} {'fp32 seed spread':>16}")
    gaps, spreads = [], []
    for task, by_seed in means["fp32"].items():
        # bf16 against fp32 of the same seeds; the other fp32 seeds only give the spread
        bf16_seeds = means["bf16"].get(task, {})
        fp32 = statistics.fmean([value for seed, value in by_seed.items() if seed in bf16_seeds] or [float("nan")])
        bf16 = statistics.fmean(bf16_seeds.values() or [float("nan")])
        spread = max(by_seed.values()) - min(by_seed.values()) if len(by_seed) > 1 else None
        gaps.append(abs(bf16 - fp32))
        if spread is not None:
            spreads.append(spread)
        spread_text = f"{spread:16.2f}" if spread is not None else f"{'(one seed)':>16}"
        print(f"{task:<20} {fp32:7.2f} {bf16:7.2f} {bf16 - fp32:+9.2f} {spread_text}")
    differences = row_differences(results["fp32"], results["bf16"])
    if differences:
        mean, mean_abs = statistics.fmean(differences), statistics.fmean(abs(d) for d in differences)
        print(f"rows: {len(differences)} (pipeline, task, language); bf16 - fp32 mean {mean:+.2f}, "
              f"mean |.| {mean_abs:.2f}, max |.| {max(map(abs, differences)):.2f}")
    for other in args.more_fp32:
        seeds = row_differences(results["fp32"], other / "results.csv", same_seed=False)
        if seeds:
            print(f"rows, fp32 {other.name} - fp32: mean {statistics.fmean(seeds):+.2f}, "
                  f"mean |.| {statistics.fmean(abs(d) for d in seeds):.2f}, max |.| {max(map(abs, seeds)):.2f}")
    print(f"mean |bf16 - fp32| of the task means: {statistics.fmean(gaps):.2f}"
          + (f"; mean fp32 seed spread: {statistics.fmean(spreads):.2f}" if spreads else ""))
    walls = {p: wall_seconds(folder, p) for p in PRECISIONS}
    print("wall time: " + ", ".join(f"{p} {s / 60:.1f} min" if s else f"{p} ?" for p, s in walls.items()))
    cpus = {p: cpu_seconds(folder, p) for p in PRECISIONS}
    if cpus["fp32"] and cpus["bf16"]:
        print(f"CPU time (of the processes /usr/bin/time waited for): fp32 {cpus['fp32']:.0f} s, "
              f"bf16 {cpus['bf16']:.0f} s, fp32/bf16 {cpus['fp32'] / cpus['bf16']:.2f}")
    if walls["fp32"] and walls["bf16"]:
        print(f"ratio {walls['fp32'] / walls['bf16']:.2f}")


if __name__ == "__main__":
    main()
