"""The paper table from hand-made rows: per-task mean over languages, then over seeds; deltas; control; the
benchmark-aware average (official languages, partial evaluations labelled, LAReQA pooled); the published
numbers beside ours. One report model serves the terminal, summary.md and `xstilts report`."""

from __future__ import annotations

import pytest

from xstilts.reports.columns import CONTROL, Column
from xstilts.reports.document import paper_blocks, published_table
from xstilts.reports.model import build_report
from xstilts.reports.render import blocks_markdown
from xstilts.reports.results import normalise_row

BASE, SQUAD = Column("none"), Column("squad")


def row(task, language, value, intermediate="none", seed=0, pretraining="mlm", main=True, metric="accuracy",
        benchmark="", family="classification", weight=None, model="m", reference=""):
    return normalise_row({
        "task": task, "language": language, "value": value, "intermediate": intermediate, "seed": seed,
        "pretraining": pretraining, "main": main, "metric": metric, "split": "test", "model": model,
        "family": family, "benchmark": benchmark, "weight": weight, "reference": reference,
        "eval_key": f"{task}-{language}-{intermediate}-{seed}-{pretraining}-{metric}"})


ROWS = [
    # xnli baseline: seed 0 mean(80, 60) = 70; seed 1 mean(82, 62) = 72 -> 71
    row("xnli", "en", 80), row("xnli", "de", 60), row("xnli", "en", 82, seed=1), row("xnli", "de", 62, seed=1),
    # xnli after squad: mean(84, 66) = 75 (one seed)
    row("xnli", "en", 84, "squad"), row("xnli", "de", 66, "squad"),
    # pos: baseline mean(90, 50) = 70; squad mean(91, 55) = 73
    row("pos", "en", 90), row("pos", "de", 50), row("pos", "en", 91, "squad"), row("pos", "de", 55, "squad"),
    # control (random init): xnli mean(40, 33) = 36.5; pos only -> not in every column
    row("xnli", "en", 40, pretraining="none"), row("xnli", "de", 33, pretraining="none"),
    # a non-main metric row is ignored
    row("pos", "en", 1.0, main=False, metric="precision"),
]


def paper(rows, index=0):
    return build_report(rows, n_resamples=0, per_language=False).paper[index]


def test_cells_deltas_and_averages():
    table = paper(ROWS)
    control = Column("none", control=True)
    assert table.columns == [BASE, SQUAD, control]
    assert table.cell("xnli", BASE).mean == pytest.approx(71)
    assert table.cell("xnli", SQUAD).mean == pytest.approx(75)
    assert table.cell("pos", SQUAD).delta == pytest.approx(3)
    assert table.cell("xnli", control).mean == pytest.approx(36.5)
    # the average compares the baseline and the intermediate columns over the tasks they share (both), per
    # seed over the seeds every task has (pos has seed 0 only): seed 0, (70 + 70) / 2
    assert table.average[BASE].mean == pytest.approx(70.0)
    assert table.average[SQUAD].mean == pytest.approx(74)  # (75 + 73) / 2
    assert table.average_label == "average (languages evaluated)"


def test_zero_shot_only_excludes_english():
    report = build_report(ROWS, n_resamples=0, per_language=False)
    zero = report.zero_shot[0]
    assert zero.cell("xnli", BASE).mean == pytest.approx(61)  # seeds: 60 and 62
    assert zero.cell("xnli", SQUAD).delta == pytest.approx(5)


def test_markdown_rendering():
    text = blocks_markdown(paper_blocks(build_report([r for r in ROWS if r["pretraining"] != "none"],
                                                     n_resamples=0, per_language=False)))
    assert "| xnli | 71.0 ± 12.7 | 75.0 (+4.0) |" in text  # seeds 70, 72: sd 1.414, t(0.975, 1) 12.706 * sd / sqrt(2)
    assert "| **average (languages evaluated)** |" in text


def test_table_without_a_baseline_column():
    # a study whose pipelines all have intermediate stages: no "none" column, no deltas, no crash
    table = paper([row("xnli", "en", 80, "squad"), row("xnli", "de", 60, "squad")])
    assert table.columns == [SQUAD] and table.cell("xnli", SQUAD).delta is None
    assert table.cell("xnli", SQUAD).mean == pytest.approx(70)


# ---------------------------------------------------------------- benchmarks


def xtreme_rows(task, values, intermediate="none", metric="accuracy", family="classification", **fields):
    return [row(task, language, value, intermediate, metric=metric, family=family, benchmark="xtreme", **fields)
            for language, value in values.items()]


def test_benchmark_average_uses_official_languages_and_says_which():
    # PAWS-X in XTREME's 7 languages; an eighth language in the rows (not XTREME's) must not enter the average
    pawsx = {lang: 80.0 + i for i, lang in enumerate(("de", "en", "es", "fr", "ja", "ko", "zh"))}
    rows = xtreme_rows("pawsx", {**pawsx, "it": 0.0})
    table = paper(rows)
    assert table.cell("pawsx", BASE).mean == pytest.approx(83.0)  # mean of 80..86, "it" left out
    assert "pawsx" not in table.partial
    assert table.average_label == "average of 1 of 9 XTREME tasks"
    assert any("not the XTREME score" in note for note in table.notes)


def test_partial_evaluation_is_labelled_and_never_called_the_benchmark_score():
    rows = xtreme_rows("pawsx", {"en": 90.0, "de": 80.0})
    table = paper(rows)
    assert table.partial == {"pawsx": (2, 7)}
    assert table.row_label("pawsx", "pawsx") == "pawsx (partial: 2 of 7 languages)"
    assert table.average_label.startswith("average, partial")
    assert "XTREME score" not in table.average_label


def test_xtreme_score_when_every_task_is_whole():
    from xstilts.tasks.benchmarks import XTREME

    rows = []
    for task, languages in XTREME.languages.items():
        if task in XTREME.em_f1_tasks:
            f1 = "mlqa_f1" if task == "mlqa" else "f1"
            rows += xtreme_rows(task, dict.fromkeys(languages, 60.0), metric=f1, family="span_qa")
            rows += [r | {"main": False} for r in xtreme_rows(task, dict.fromkeys(languages, 40.0),
                                                               metric=f1.replace("f1", "exact_match"),
                                                               family="span_qa")]
        else:
            rows += xtreme_rows(task, dict.fromkeys(languages, 70.0))
    table = paper(rows)
    assert table.average_label == "XTREME score (XTREME languages)"
    # 6 tasks at 70, 3 QA tasks at (40 + 60) / 2 = 50: (6 * 70 + 3 * 50) / 9
    assert table.average[BASE].mean == pytest.approx((6 * 70 + 3 * 50) / 9)
    assert table.cell("xquad", BASE).mean == pytest.approx(60)  # the cell shows the main metric, F1


def test_xglue_averages_mlqa_by_f1_alone():
    rows = [row("xglue-mlqa", lang, 70.0, metric="mlqa_f1", family="span_qa", benchmark="xglue")
            for lang in ("ar", "de", "en", "es", "hi", "vi", "zh")]
    rows += [row("xglue-mlqa", lang, 50.0, metric="mlqa_exact_match", family="span_qa", benchmark="xglue",
                 main=False) for lang in ("ar", "de", "en", "es", "hi", "vi", "zh")]
    table = paper(rows)
    assert table.average[BASE].mean == pytest.approx(70.0)  # not (50 + 70) / 2


def test_lareqa_is_pooled_over_the_queries_of_all_languages():
    # two languages with 1 and 3 queries: pooled (100 * 1 + 0 * 3) / 4 = 25, not the mean of means 50
    languages = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
    values = {lang: (100.0 if lang == "ar" else 0.0) for lang in languages}
    weights = {lang: (1.0 if lang == "ar" else 3.0) for lang in languages}
    rows = [row("lareqa", lang, value, metric="map@20", family="retrieval", benchmark="xtreme-r",
                weight=weights[lang]) for lang, value in values.items()]
    table = paper(rows)
    assert table.cell("lareqa", BASE).mean == pytest.approx(100.0 / (1 + 3 * 10))
    assert any("pooled" in note for note in table.notes)


def test_published_numbers_sit_beside_ours_with_gap_and_source():
    xnli = {lang: 79.0 for lang in ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur",
                                    "vi", "zh")}
    rows = xtreme_rows("xnli", xnli, model="xlm-roberta-large", reference="x-stilts")
    rows += xtreme_rows("xnli", {k: v + 2 for k, v in xnli.items()}, "mnli", model="xlm-roberta-large",
                        reference="x-stilts")
    report = build_report(rows, n_resamples=0, per_language=False)
    found = {(c.system, c.published.source[:10]): c for c in report.published}
    xlmr = [c for c in report.published if c.system == "XLM-R"]
    assert {c.published.value for c in xlmr} == {79.2}
    assert all(c.ours == pytest.approx(79.0) and c.gap == pytest.approx(-0.2) for c in xlmr)
    stilts = [c for c in report.published if c.system == "X-STILTs"]
    assert {c.published.value for c in stilts} == {80.0, 80.4}  # the leaderboard and the mT5 authors' table
    assert all(c.ours == pytest.approx(81.0) and c.ours_label == "mnli" for c in stilts)
    assert found
    table = published_table(report)
    assert table is not None and any("Chung et al." in note for note in table.notes)


def test_no_published_comparison_for_another_model_or_a_partial_task():
    rows = xtreme_rows("xnli", {"en": 80.0}, model="xlm-roberta-large")
    report = build_report(rows, n_resamples=0, per_language=False)
    assert report.published == []
    assert any("not compared" in note for note in report.published_notes)
    other = build_report(xtreme_rows("pawsx", dict.fromkeys(("de", "en", "es", "fr", "ja", "ko", "zh"), 80.0),
                                     model="xlm-roberta-base"), n_resamples=0, per_language=False)
    assert other.published == [] and other.published_notes == []


def test_control_label_is_shared():
    assert Column("none", control=True).label() == CONTROL
