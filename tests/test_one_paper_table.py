"""The terminal summary, summary.md and `xstilts report` show one paper table: on the same rows, the same
cells and the same labelled average (an earlier terminal table averaged differently: 31.8 against 28.6)."""

from __future__ import annotations

import re
from types import SimpleNamespace

from xstilts.cli.app import _print_summary
from xstilts.reports.model import build_report
from xstilts.reports.render import to_markdown
from xstilts.reports.results import normalise_row
from xstilts.reports.summary import summary_markdown


def row(task, language, value, intermediate="none", metric=None, main=True, family="classification"):
    return {"study": "s", "pipeline": f"{intermediate}/{task}", "model": "m", "seed": 0, "task": task,
            "family": family, "language": language, "split": "test", "metric": metric or "accuracy",
            "value": value, "chance": "", "zero_shot": True, "main": main, "intermediate": intermediate,
            "pretraining": "model", "n_examples": 10, "stage_key": f"k-{intermediate}-{task}",
            "eval_key": f"e-{intermediate}-{task}-{language}-{metric}", "axes": "{}"}


# QA enters the average as (EM + F1) / 2 while its cell shows F1: the rule that made two tables disagree.
ROWS = [
    row("xnli", "en", 80.0), row("xnli", "de", 60.0), row("xnli", "en", 84.0, "squad"), row("xnli", "de", 66.0, "squad"),
    row("qa", "en", 70.0, metric="f1", family="span_qa"), row("qa", "de", 50.0, metric="f1", family="span_qa"),
    row("qa", "en", 60.0, metric="exact_match", main=False, family="span_qa"),
    row("qa", "de", 40.0, metric="exact_match", main=False, family="span_qa"),
    row("qa", "en", 74.0, "squad", "f1", family="span_qa"), row("qa", "de", 56.0, "squad", "f1", family="span_qa"),
    row("qa", "en", 64.0, "squad", "exact_match", False, "span_qa"),
    row("qa", "de", 46.0, "squad", "exact_match", False, "span_qa"),
]
# by hand: xnli 70 / 75 (+5); qa cells F1 60 / 65 (+5); qa scores (EM+F1)/2 = 55 / 60; average (70+55)/2 = 62.5
# and (75+60)/2 = 67.5 (+5.0)
AVERAGE = "67.5 (+5.0)"


def average_line(text: str) -> str:
    lines = [line for line in text.splitlines() if "average (languages evaluated)" in line]
    assert lines, text
    return lines[0]


def test_terminal_summary_and_report_agree(capsys):
    report = to_markdown(build_report([normalise_row(r) for r in ROWS], n_resamples=0))
    study = SimpleNamespace(name="s", variant=None, is_smoke_test=lambda: False, description="", seeds=[0],
                            model_configs=lambda: {"m": None},
                            model_label=lambda name: name)
    summary = summary_markdown(study, ROWS)
    _print_summary(ROWS)
    terminal = capsys.readouterr().out  # the results table goes to stdout
    for text in (report, summary, terminal):
        assert AVERAGE in average_line(text)
        assert "62.5" in average_line(text)
        # the QA cell is F1 (65.0, +5.0) everywhere, never the (EM + F1) / 2 of the average
        assert re.search(r"\bqa\b.*65\.0 \(\+5\.0\)", text), text
