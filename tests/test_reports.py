"""The paper table from hand-made rows: per-task mean over languages, then over seeds; deltas; control."""

from __future__ import annotations

import pytest

from xstilts.reports.paper import CONTROL, paper_table, to_markdown


def row(task, language, value, intermediate="none", seed=0, pretraining="mlm", main=True):
    return {"task": task, "language": language, "value": value, "intermediate": intermediate, "seed": seed,
            "pretraining": pretraining, "main": main}


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
    row("pos", "en", 1.0, main=False),
]


def test_cells_deltas_and_averages():
    table = paper_table(ROWS)
    assert table.columns == ["none", "squad", CONTROL]
    assert table.cells[("xnli", "none")] == pytest.approx(71)
    assert table.cells[("xnli", "squad")] == pytest.approx(75)
    assert table.delta("pos", "squad") == pytest.approx(3)
    assert table.cells[("xnli", CONTROL)] == pytest.approx(36.5)
    # only xnli has a score in every column (pos has no control): averages over xnli alone
    assert table.common_targets() == ["xnli"]
    assert table.average("squad") == pytest.approx(75)


def test_zero_shot_only_excludes_english():
    table = paper_table(ROWS, exclude_languages=["en"])
    assert table.cells[("xnli", "none")] == pytest.approx(61)  # seeds: 60 and 62
    assert table.delta("xnli", "squad") == pytest.approx(5)


def test_markdown_rendering():
    text = to_markdown(paper_table([r for r in ROWS if r["pretraining"] != "none"]))
    assert "| xnli | 71.0 | 75.0 (+4.0) |" in text
    assert "| **average** | 70.5 | 74.0 (+3.5) |" in text  # (71 + 70) / 2 and (75 + 73) / 2


def test_table_without_a_baseline_column():
    # a study whose pipelines all have intermediate stages: no "none" column, no deltas, no crash
    rows = [row("xnli", "en", 80, "squad"), row("xnli", "de", 60, "squad")]
    table = paper_table(rows)
    assert table.columns == ["squad"] and table.delta("xnli", "squad") is None
    assert "| xnli | 70.0 |" in to_markdown(table)
