"""The Markdown summary written next to results.csv after a run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from statistics import mean
from typing import Any

from xstilts.atomic import write_text_atomic


def summary_markdown(study: Any, rows: list[dict[str, Any]]) -> str:
    parts = [f"# {study.name}" + (f" ({study.variant})" if getattr(study, "variant", None) else ""), ""]
    if study.is_smoke_test():
        parts += ["**A smoke test at toy size**: its numbers show that every step runs, not what the method does"
                  + (" (run the study without `--size` for that)." if study.variant else "."), ""]
    if study.description:
        parts += [study.description.strip(), ""]
    models = [study.model_label(name) for name in study.model_configs()]
    parts += [
        f"Model{'s' if len(models) > 1 else ''}: {', '.join(models)}; seeds: {', '.join(map(str, study.seeds))}. "
        "Scores are the main metric of each task (0-100), averaged over its test languages and seeds; deltas in brackets are against the "
        "baseline without intermediate stage.", "",
    ]
    parts += ["With several seeds, ± is the 95% t interval over seeds and ‡ marks p < 0.05 in a paired t-test "
              "over seeds. `xstilts report` adds per-language tables, significance over test examples and plots.",
              "", _paper_tables(rows)]
    per_language = per_language_markdown(rows)
    if per_language:
        parts += ["", "### Baseline per language", "", per_language]
    chance = _chance_lines(rows)
    if chance:
        parts += ["", "### Chance level (uniform random predictor)", "", *chance]
    return "\n".join(parts).rstrip() + "\n"


def _paper_tables(rows: list[dict[str, Any]]) -> str:
    """The report's paper tables (all languages, zero-shot only), without the bootstrap over test examples."""
    from xstilts.reports.document import paper_blocks
    from xstilts.reports.model import build_report
    from xstilts.reports.render import blocks_markdown
    from xstilts.reports.results import normalise_row

    if not rows:
        return "No result rows yet.\n"
    report = build_report([normalise_row(r) for r in rows], n_resamples=0, per_language=False)
    return blocks_markdown(paper_blocks(report))


def _chance_lines(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, float] = {}
    for row in rows:
        if str(row["main"]).lower() == "true" and row.get("chance") not in (None, ""):
            seen.setdefault(row["task"], float(row["chance"]))
    return [f"- {task}: {value:.1f}" for task, value in sorted(seen.items())]


def write_summary(study: Any, rows: list[dict[str, Any]], out_dir: Path) -> Path:
    path = Path(out_dir) / "summary.md"
    write_text_atomic(path, summary_markdown(study, rows))
    return path


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def per_language_markdown(rows: Iterable[dict[str, Any]], column: str = "none") -> str:
    """Main score per (target task, language) for one intermediate column (default: the baseline)."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        if _truthy(row["main"]) and row.get("intermediate") == column and row.get("pretraining") != "none":
            values[(row["task"], row["language"])].append(float(row["value"]))
    if not values:
        return ""
    tasks = sorted({t for t, _ in values})
    languages = sorted({lang for _, lang in values}, key=lambda lang: (lang != "en", lang))
    lines = ["| task | " + " | ".join(languages) + " |", "|---|" + "---:|" * len(languages)]
    for task in tasks:
        cells = [f"{mean(values[(task, lang)]):.1f}" if (task, lang) in values else "" for lang in languages]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
