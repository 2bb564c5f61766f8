"""Published test results, as data with a citation per number, and the table that sets a study's own numbers
beside them.

Every number here was read in the cited source (read 2026-12; where the source prints EM/F1, both are kept).
What we could not read is not here: the XTREME paper's own results table (so XLM-R large's numbers come from
the XTREME leaderboard as the RemBERT paper prints it, and from the mT5 authors' repository), X-STILTs' BUCC and
Tatoeba numbers, and XTREME-R's baselines. A comparison is only made where it means something: the study's
model is the published one, the task was evaluated in every language of the benchmark, and the score is the
published metric (QA: F1, as the sources list it first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

RemBERT_TABLE_16 = ("Chung et al. (2021), Rethinking embedding coupling in pre-trained language models, ICLR 2021 "
                    "(arXiv 2010.12821), Table 16: the XTREME leaderboard")
MT5_README = ("Xue et al. (2021), mT5, results table of the google-research/multilingual-t5 README (commit c97a504, "
              "as the mT5 paper's Table 2 reports X-STILTs and XLM-R)")


@dataclass(frozen=True)
class Published:
    system: str  # "XLM-R" (no intermediate training) or "X-STILTs" (the best intermediate task per target)
    model: str  # the encoder, as a hub name
    benchmark: str
    task: str
    metric: str  # our metric name: accuracy, f1 (QA: SQuAD F1; MLQA: the MLQA script's F1)
    value: float
    source: str
    exact_match: float | None = None  # QA tasks: the EM the source prints beside F1


def _rows(system: str, source: str, values: dict[str, Any]) -> list[Published]:
    out = []
    for task, value in values.items():
        metric = {"xnli": "accuracy", "pawsx": "accuracy"}.get(task, "mlqa_f1" if task == "mlqa" else "f1")
        f1, em = (value, None) if not isinstance(value, tuple) else value
        out.append(Published(system, "xlm-roberta-large", "xtreme", task, metric, f1, source, em))
    return out


# QA values are (F1, EM).
PUBLISHED: tuple[Published, ...] = (
    *_rows("XLM-R", RemBERT_TABLE_16, {
        "xnli": 79.2, "udpos": 73.8, "panx": 65.4, "pawsx": 86.4, "xquad": (76.6, 60.8), "mlqa": (71.6, 53.2),
        "tydiqa": (65.1, 45.0)}),
    *_rows("XLM-R", MT5_README, {
        "xnli": 79.2, "pawsx": 86.4, "panx": 65.4, "xquad": (76.6, 60.8), "mlqa": (71.6, 53.2),
        "tydiqa": (65.1, 45.0)}),
    *_rows("X-STILTs", RemBERT_TABLE_16, {
        "xnli": 80.0, "udpos": 74.9, "panx": 64.0, "pawsx": 87.9, "xquad": (78.7, 63.3), "mlqa": (72.4, 53.7),
        "tydiqa": (76.0, 59.5)}),
    *_rows("X-STILTs", MT5_README, {
        "xnli": 80.4, "pawsx": 87.7, "panx": 64.7, "xquad": (77.2, 61.3), "mlqa": (72.3, 53.5),
        "tydiqa": (76.0, 59.5)}),
)

# Which published system a study's column stands for: the baseline is XLM-R as published; a study that follows
# X-STILTs compares its best intermediate column per target with X-STILTs (the paper's headline numbers take the
# best intermediate task per target).
SYSTEM_OF_REFERENCE = {"x-stilts": "X-STILTs"}


def model_matches(study_model: str, published_model: str) -> bool:
    """A study's model name (hub name, possibly with an organisation, or a local folder named like it)."""
    name = study_model.rstrip("/").rsplit("/", 1)[-1].lower()
    return name == published_model.lower()


def published_for(benchmark: str, model: str, task: str, system: str) -> list[Published]:
    return [p for p in PUBLISHED if p.benchmark == benchmark and p.task == task and p.system == system
            and model_matches(model, p.model)]


@dataclass(frozen=True)
class Comparison:
    """One target: our number (mean over seeds), the published one, the gap, and the source."""

    model: str
    task: str
    system: str
    ours_label: str  # the column: "baseline" or the intermediate task
    ours: float
    published: Published

    @property
    def gap(self) -> float:
        return self.ours - self.published.value


def comparisons(report: Any, reference: str | None) -> tuple[list[Comparison], list[str]]:
    """Our scores beside the published ones for every target of every model that has them, and notes for the
    targets that cannot be compared (partial evaluation, another model, nothing published)."""
    out: list[Comparison] = []
    notes: list[str] = []
    for table in report.paper:
        for target in table.rows:
            bench = report.benchmarks.get(target)
            if bench is None:
                continue
            available = {s: published_for(bench.name, table.model, target, s) for s in ("XLM-R", "X-STILTs")}
            if not any(available.values()):
                continue
            if target in table.partial:
                notes.append(f"{report.name(target)}: evaluated in {table.partial[target][0]} of "
                             f"{table.partial[target][1]} {bench.title} languages, so not compared with published "
                             "numbers.")
                continue
            for system, found in available.items():
                column = _column_for(table, target, system, reference)
                if column is None:
                    continue
                stat = table.cell(target, column)
                for published in found:
                    if report.main_metric.get(target) != published.metric:
                        continue
                    out.append(Comparison(table.model, target, system, column.label(report.short), stat.mean,
                                          published))
    return out, notes


def _column_for(table: Any, target: str, system: str, reference: str | None):
    """The study's column that corresponds to a published system: the baseline for XLM-R; for X-STILTs (in a
    study that follows it) the intermediate column with the best mean on this target."""
    columns = [c for c in table.columns if (target, c) in table.cells and not c.control]
    if system == "XLM-R":
        return next((c for c in columns if c.is_baseline and not c.variant), None)
    if SYSTEM_OF_REFERENCE.get(reference or "") != system:
        return None
    others = [c for c in columns if not c.is_baseline]
    return max(others, key=lambda c: table.cell(target, c).mean, default=None)


def sources(items: Iterable[Comparison]) -> list[str]:
    return list(dict.fromkeys(c.published.source for c in items))
