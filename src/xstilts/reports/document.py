"""The report laid out as a list of blocks (headings, paragraphs, tables, figures; blocks.py), in plain Unicode
text. Markdown, LaTeX and HTML render the same blocks (render.py), so the three files always show the same
numbers. Every table has a caption.
"""

from __future__ import annotations

from xstilts.reports.blocks import (
    TEST_HEADER,
    Block,
    Bullets,
    Figure,
    Heading,
    Paragraph,
    Table,
    cell_text,
    gain_text,
    number,
    test_cells,
)
from xstilts.reports.model import (
    CHANCE_MARK,
    CONSTANT_MARK,
    EXAMPLES_MARK,
    SEEDS_MARK,
    SIGNIFICANCE,
    Report,
    ScoreTable,
    model_gains,
    scaling_points,
)

__all__ = ["Block", "Bullets", "Figure", "Heading", "Paragraph", "Table", "blocks", "paper_blocks", "published_table"]


def score_table(report: Report, table: ScoreTable, corner: str, caption: str) -> Table:
    header = [corner, *(c.label(report.short) for c in table.columns)]
    label = (lambda row: table.row_label(row, report.name(row))) if not table.target else (lambda language: language)
    rows = [[label(r), *(cell_text(table.cell(r, c)) for c in table.columns)] for r in table.rows]
    notes = list(table.notes)
    flagged = [stat for stat in table.cells.values() if stat.warnings]
    if any(stat.at_chance for stat in flagged):
        notes.append(f"{CHANCE_MARK}: at or below chance (a uniform random predictor): the model learnt nothing "
                     "that transfers here.")
    if any(stat.constant for stat in flagged):
        notes.append(f"{CONSTANT_MARK}: the model gave every example the same output (one class, one tag) in some "
                     "language: a degenerate model, whatever the score says.")
    bold = bool(table.average)
    if table.average:
        rows.append([table.average_label, *(cell_text(table.average.get(c)) for c in table.columns)])
    return Table(header, rows, bold_last=bold, caption=caption, notes=notes)


def _of_model(report: Report, model: str) -> str:
    return f", {model}" if len(report.models) > 1 else ""


def paper_caption(report: Report, table: ScoreTable) -> str:
    scope = "zero-shot languages only (English excluded)" if table.excluded else "all test languages"
    return (f"Main metric (0-100) per target task and intermediate training, {scope}{_of_model(report, table.model)}: "
            f"mean over seeds{' ± 95% CI' if len(report.seeds) > 1 else ''}, in brackets the gain over the baseline "
            f"({EXAMPLES_MARK}/{SEEDS_MARK}: p < {SIGNIFICANCE} over test examples / seeds)")


def legend(report: Report) -> str:
    parts = ["Scores are 0-100: a target task's main metric, averaged over its test languages, per seed, then over "
             "seeds", "with several seeds, ± is the half-width of the 95% t interval over seeds",
             "in brackets the gain over the baseline without intermediate stage (same model)",
             f"{EXAMPLES_MARK}: p < {SIGNIFICANCE} in a paired bootstrap over test examples "
             f"({report.n_resamples} resamples)",
             f"{SEEDS_MARK}: p < {SIGNIFICANCE} in a paired t-test over seeds"]
    return "; ".join(parts) + "."


def significance_table(report: Report) -> Table:
    several = len(report.models) > 1
    header = [*(["model"] if several else []), "target", "intermediate", "gain", *TEST_HEADER]
    rows = []
    for table in report.paper:
        cells = [(report.name(t), c, s) for (t, c), s in table.cells.items()]
        cells += [(table.average_label, c, s) for c, s in table.average.items()]
        for target, column, stat in cells:
            if stat.delta is None:
                continue
            rows.append([*([table.model] if several else []), target, column.label(report.short),
                         number(stat.delta, sign=True), *test_cells(stat)])
    return Table(header, rows, caption="Paired significance of each gain over the baseline, per cell of the paper "
                                       "table (all test languages)")


def models_table(report: Report) -> Table | None:
    gains = model_gains(report)
    if not gains:
        return None
    header = ["intermediate", "target", *report.models]
    rows = [[column.label(report.short), report.name(target),
             *(gain_text(per_model[m]) if m in per_model else "" for m in report.models)]
            for (column, target), per_model in gains.items()]
    return Table(header, rows, caption="Gain over each model's own baseline, per intermediate training and target "
                                       "task (all test languages)")


def scaling_table(report: Report, axis: str) -> Table | None:
    points = scaling_points(report, axis)
    if not points:
        return None
    several = len(report.models) > 1
    header = [*(["model"] if several else []), "target", "intermediate", axis, "score", "gain"]
    rows = [[*([p.model] if several else []), report.name(p.target), p.line.label(report.short),
             f"{p.x:g}", cell_text(p.score).split(" (")[0],
             number(None if p.baseline is None else p.score.mean - p.baseline, sign=True)] for p in points]
    return Table(header, rows, caption=f"Score and gain over the baseline by {axis}, per target task and "
                                       "intermediate training (all test languages)")


def published_table(report: Report) -> Table | None:
    """Our numbers beside the published ones (reports.published): the gap and the source of each."""
    from xstilts.reports.published import sources

    if not report.published and not report.published_notes:
        return None
    cited = sources(report.published)
    several = len(report.models) > 1
    header = [*(["model"] if several else []), "target", "published system", "ours (column)", "ours", "published",
              "gap", "source"]
    rows = [[*([c.model] if several else []), report.name(c.task), c.system, c.ours_label, number(c.ours),
             number(c.published.value), number(c.gap, sign=True), f"[{cited.index(c.published.source) + 1}]"]
            for c in report.published]
    notes = [f"[{i}] {source}" for i, source in enumerate(cited, start=1)]
    if any(c.system == "X-STILTs" for c in report.published):
        notes.append("X-STILTs is compared with the study's best intermediate column per target, as the paper's "
                     "headline numbers take the best intermediate task per target.")
    return Table(header, rows, caption="Published test results beside this study's (QA: F1)",
                 notes=notes + list(report.published_notes))


def paper_blocks(report: Report) -> list[Block]:
    """The paper table of every model, over all test languages, then over the zero-shot languages only, then
    the published numbers beside ours."""
    out: list[Block] = []
    for table in [*report.paper, *report.zero_shot]:
        out += [Heading(table.title, 3),
                score_table(report, table, "target \\ intermediate", paper_caption(report, table))]
    published = published_table(report)
    if published is not None:
        out += [Heading("Published numbers beside ours", 3), published]
    return out


def _language_blocks(report: Report) -> list[Block]:
    out: list[Block] = [Heading("Per language")]
    for table in report.languages:
        heading = report.name(table.target) + (f" ({table.model})" if len(report.models) > 1 else "")
        caption = (f"{report.name(table.target)}{_of_model(report, table.model)}: main metric (0-100) per test "
                   "language and intermediate training, mean over seeds; in brackets the gain over the baseline in "
                   "that language")
        out += [Heading(heading, 3), score_table(report, table, "language \\ intermediate", caption)]
    return out


def _reference_tables(report: Report) -> list[Block]:
    out: list[Block] = []
    if report.chance:
        out += [Heading("Chance level (uniform random predictor)"),
                Table(["task", "metric", "chance"], [[report.name(t), m, number(v)]
                                                     for t, (m, v) in sorted(report.chance.items())],
                      caption="Score of a uniform random predictor on each target task's main metric")]
    if report.distances:
        families = bool(report.families)
        rows = [[lg, f"{d:.3f}", s, *([report.families.get(lg, "")] if families else [])]
                for lg, (d, s) in sorted(report.distances.items(), key=lambda i: i[1][0])]
        out += [Heading("Typological distance from English"),
                Table(["language", "distance", "source", *(["family"] if families else [])], rows,
                      caption="Typological distance of each test language from English (0: the same features)")]
    return out


def _plot_blocks(report: Report) -> list[Block]:
    if not report.plots:
        return []
    out: list[Block] = [Heading("Plots")]
    drawn = [p for p in report.plots if p.files]
    skipped = [f"{p.name}: not drawn ({p.skipped})" for p in report.plots if not p.files]
    out += [Figure(p) for p in drawn]
    if skipped:
        out.append(Bullets(skipped))
    return out


def blocks(report: Report) -> list[Block]:
    from xstilts.reports.appendix import provenance_blocks
    from xstilts.reports.sections import language_gain_blocks, pair_blocks

    out: list[Block] = [Heading(report.title or "xstilts report", 1)]
    if report.description:
        out.append(Paragraph(report.description.strip()))
    seeds = ", ".join(map(str, report.seeds))
    out.append(Paragraph(f"Models: {', '.join(report.models)}. Seeds: {seeds}. " + legend(report)))
    if report.explorer:
        out.append(Paragraph(f"Interactive explorer: {report.explorer} (beside this file) filters the scores by task, "
                             "language, language family or distance, model and seed."))
    if report.notes:
        out.append(Bullets(list(report.notes)))
    out.append(Heading("Paper table: target tasks x intermediate tasks"))
    out += paper_blocks(report)
    significance = significance_table(report)
    if significance.rows:
        out += [Heading("Significance against the baseline"), significance]
    out += pair_blocks(report)
    models = models_table(report)
    if models is not None:
        out += [Heading("Model comparison"), models]
    for axis in report.numeric_axes:
        table = scaling_table(report, axis)
        if table is not None:
            out += [Heading(f"Scaling over {axis}"), table]
    out += language_gain_blocks(report)
    if report.languages:
        out += _language_blocks(report)
    out += _reference_tables(report)
    out += _plot_blocks(report)
    out += provenance_blocks(report.provenance)
    return out
