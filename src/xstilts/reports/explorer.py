"""The interactive explorer: one self-contained HTML page (``explorer.html`` beside ``report.html``; inline
script and style, the data inline as JSON, nothing fetched) where a reader filters the scores by target task,
test language (one by one, or a language family or a band of typological distance from English at once),
model, seed and condition, and sees the score table and the per-language gain heatmap follow.

The page holds each (model, target, condition, language, seed)'s main metric, the values the per-language
tables average. A score is the mean over the selected languages, per seed, then over the selected seeds, as
in the report; a gain is against the condition's baseline on the languages and seeds both have. The paper
table's benchmark rules (official languages, QA as (EM + F1) / 2 in the average) are not applied: with
everything selected, the explorer's cells are the plain means the per-language tables show.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from xstilts.reports.columns import Column, baseline_of
from xstilts.reports.model import Report

EXPLORER = "explorer.html"


def distance_bands(distances: dict[str, float]) -> dict[str, list[str]]:
    """English apart, the other languages in three bands of typological distance from English (as equal in
    size as the languages allow, never splitting a tie), each named by its range."""
    others = sorted((d, lg) for lg, d in distances.items() if lg != "en")
    bands: dict[str, list[str]] = {}
    if "en" in distances:
        bands["English"] = ["en"]
    if len(others) < 3:
        if others:
            bands["other languages"] = [lg for _, lg in others]
        return bands
    chunks: list[list[tuple[float, str]]] = [[], [], []]
    for i, item in enumerate(others):
        band = i * 3 // len(others)
        if band > 0 and chunks[band - 1] and chunks[band - 1][-1][0] == item[0]:
            band -= 1  # a tie stays in the band of its equal
        chunks[band].append(item)
    for name, chunk in zip(("near", "middle", "far"), chunks, strict=True):
        if chunk:
            low, high = chunk[0][0], chunk[-1][0]
            span = f"{low:.2f}" if low == high else f"{low:.2f}-{high:.2f}"
            bands[f"{name} ({span})"] = [lg for _, lg in chunk]
    return bands


def explorer_data(report: Report) -> dict[str, Any]:
    """The page's data: labels, colours, baselines, language groups and every value, as JSON-ready lists."""
    columns = sorted(dict.fromkeys(c for t in report.paper for c in t.columns), key=Column.sort_key)
    targets = list(dict.fromkeys(t.target for t in report.languages))
    languages = sorted(dict.fromkeys(lg for t in report.languages for lg in t.rows), key=lambda lg: (lg != "en", lg))
    seeds = list(report.seeds)
    colours = report.palette.colours if report.palette is not None else {}
    baselines = {}
    for table in report.paper:
        baselines[table.model] = [columns.index(b) if (b := baseline_of(c, table.columns)) is not None else None
                                  for c in columns]
    values = []
    for table in report.languages:
        m, t = report.models.index(table.model), targets.index(table.target)
        for (language, column), stat in table.cells.items():
            for seed, value in stat.seeds.items():
                values.append([m, t, columns.index(column), languages.index(language), seeds.index(seed),
                               round(float(value), 4)])
    distances = {lg: d for lg, (d, _) in report.distances.items() if lg in languages}
    groups = [{"kind": "family", "name": name, "languages": [lg for lg in languages if report.families.get(lg) == name]}
              for name in dict.fromkeys(report.families.get(lg) for lg in languages) if name]
    groups += [{"kind": "distance", "name": name, "languages": members}
               for name, members in distance_bands(distances).items()]
    return {
        "title": report.title or "xstilts report",
        "models": list(report.models),
        "targets": [{"id": t, "name": report.name(t), "metric": report.main_metric.get(t, "")} for t in targets],
        "columns": [{"label": c.label(report.short), "colour": colours.get(c, "#888888"),
                     "kind": "control" if c.control else "baseline" if c.is_baseline else "intermediate"}
                    for c in columns],
        "baselines": [baselines.get(m, [None] * len(columns)) for m in report.models],
        "languages": [{"code": lg, "family": report.families.get(lg, ""), "distance": distances.get(lg)}
                      for lg in languages],
        "seeds": [str(s) for s in seeds],
        "groups": groups,
        "values": values,
    }


def _asset(name: str) -> str:
    return (resources.files("xstilts.reports") / name).read_text(encoding="utf-8")


def to_explorer(report: Report) -> str:
    """The explorer page. The JSON is escaped for a <script> element (no "</" can close it early)."""
    data = json.dumps(explorer_data(report), separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(f"{report.title or 'xstilts report'}: explorer")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{title}</title>",
        f"<style>{_asset('explorer.css')}</style></head><body>",
        f"<h1>{title}</h1>",
        '<p class="lead">Main metric (0-100) per target task and condition: the mean over the selected test languages, '
        "per seed, then over the selected seeds; in brackets the gain over the condition's baseline (same model, on "
        "the languages and seeds both have). Plain means: the report's paper table applies each benchmark's own "
        'languages and rules to its averages. Significance tests are in <a href="report.html">report.html</a>.</p>',
        "<noscript><p><strong>The explorer needs JavaScript; report.html has every table.</strong></p></noscript>",
        '<div id="filters"></div><div id="views"></div>',
        f'<script type="application/json" id="explorer-data">{data}</script>',
        f"<script>{_asset('explorer.js')}</script>",
        "</body></html>",
    ]) + "\n"
