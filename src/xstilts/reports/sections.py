"""Two sections of the report: direct comparisons of paired conditions (pairs.py), and the per-language gains
over the baseline (gains.py), one table per model: rows target x intermediate, columns the test languages."""

from __future__ import annotations

from xstilts.reports.blocks import (
    TEST_HEADER,
    Block,
    Heading,
    Table,
    gain_text,
    number,
    test_cells,
)
from xstilts.reports.gains import language_gains
from xstilts.reports.model import EXAMPLES_MARK, SEEDS_MARK, SIGNIFICANCE, Report

PAIRS_RULE = ("Two intermediate columns of one model pair when they train the same intermediate tasks and differ in "
              "one thing only: one grid axis (neighbouring values of a numeric axis), or, with no axis between them, "
              "the order of their stages, joint vs sequential training with the target, or a PEFT adapter (~lora) vs "
              "the whole encoder. A - B is tested as each "
              "column against the baseline: a paired bootstrap over test examples and a paired t-test over seeds.")


def pair_blocks(report: Report) -> list[Block]:
    if not report.pairs:
        return []
    several = len(report.models) > 1
    header = [*(["model"] if several else []), "target", "A", "B", "differ in", "score A", "score B", "A - B", *TEST_HEADER]
    rows = []
    for p in report.pairs:
        name = report.name(p.target) if p.target else p.label
        rows.append([*([p.model] if several else []), name, p.pair.a.label(report.short),
                     p.pair.b.label(report.short), p.pair.differs, number(p.a.mean), number(p.b.mean),
                     number(p.difference.delta, sign=True) + p.difference.marks, *test_cells(p.difference)])
    # The rule as the table's note, under it: a paragraph between heading and table could part them in the PDF.
    return [Heading("Paired conditions: direct comparison"),
            Table(header, rows, caption="Direct comparison of paired conditions (all test languages): A - B per target "
                                        "task and in the average, with its paired tests", notes=[PAIRS_RULE])]


def language_gain_blocks(report: Report) -> list[Block]:
    every = language_gains(report)
    if not every:
        return []
    out: list[Block] = [Heading("Per-language gain over the baseline")]
    for gains in every:
        header = ["target", "intermediate", *gains.languages]
        rows = [[report.name(target), column.label(report.short),
                 *(gain_text(gains.gain(target, column, lg)) for lg in gains.languages)]
                for target in gains.targets for column in gains.columns
                if any(gains.gain(target, column, lg) is not None for lg in gains.languages)]
        model = f", {gains.model}" if len(report.models) > 1 else ""
        if len(report.models) > 1:
            out.append(Heading(gains.model, 3))
        out.append(Table(header, rows, caption=f"Gain over the baseline per target task, intermediate training and "
                                               f"test language{model} (main metric, mean over seeds; "
                                               f"{EXAMPLES_MARK}/{SEEDS_MARK}: p < {SIGNIFICANCE} over test "
                                               "examples / seeds)"))
    return out
