"""The Markdown summary written next to results.csv after a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xstilts.atomic import write_text_atomic
from xstilts.reports.paper import paper_table, per_language_markdown, to_markdown


def summary_markdown(study: Any, rows: list[dict[str, Any]]) -> str:
    parts = [f"# {study.name}" + (f" ({study.variant})" if getattr(study, "variant", None) else ""), ""]
    if study.description:
        parts += [study.description.strip(), ""]
    models = [study.model_label(name) for name in study.model_configs()]
    parts += [
        f"Model{'s' if len(models) > 1 else ''}: {', '.join(models)}; seeds: {', '.join(map(str, study.seeds))}. "
        "Scores are the main metric of each task (0-100), averaged over its test languages and seeds; deltas in brackets are against the "
        "baseline without intermediate stage.", "",
    ]
    parts.append(to_markdown(paper_table(rows), "All test languages"))
    zero_shot = paper_table(rows, exclude_languages=["en"])
    if zero_shot.targets:
        parts += ["", to_markdown(zero_shot, "Zero-shot languages only (English excluded)")]
    per_language = per_language_markdown(rows)
    if per_language:
        parts += ["", "### Baseline per language", "", per_language]
    chance = _chance_lines(rows)
    if chance:
        parts += ["", "### Chance level (uniform random predictor)", "", *chance]
    return "\n".join(parts).rstrip() + "\n"


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
