"""The report laid out as a list of blocks (headings, paragraphs, tables, figures), in plain Unicode text.
Markdown, LaTeX and HTML render the same blocks (render.py), so the three files always show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xstilts.reports.model import (
    CHANCE_MARK,
    CONSTANT_MARK,
    EXAMPLES_MARK,
    SEEDS_MARK,
    SIGNIFICANCE,
    PlotEntry,
    Report,
    ScoreTable,
    Stat,
    model_gains,
    scaling_points,
)


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    bold_last: bool = False  # the average row
    caption: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Figure:
    entry: PlotEntry


Block = Heading | Paragraph | Bullets | Table | Figure


def number(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.1f}" if sign else f"{value:.1f}"


def p_text(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def cell_text(stat: Stat | None) -> str:
    """'75.0' (one seed), '75.0 ± 1.2' (several: 95% CI half-width), then ' (+4.0†)' outside the baseline."""
    if stat is None:
        return ""
    text = number(stat.mean)
    if stat.ci.half_width is not None:
        text += f" ± {stat.ci.half_width:.1f}"
    if stat.delta is not None:
        text += f" ({stat.delta:+.1f}{stat.marks})"
    return text + stat.warnings


def score_table(report: Report, table: ScoreTable, corner: str) -> Table:
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
    return Table(header, rows, bold_last=bold, notes=notes)


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
    header = [*(["model"] if several else []), "target", "intermediate", "gain", "95% CI (examples)",
              "p (examples)", "95% CI (seeds)", "p (seeds, t-test)", "p (seeds, bootstrap)", "seeds"]
    rows = []
    for table in report.paper:
        cells = [(report.name(t), c, s) for (t, c), s in table.cells.items()]
        cells += [(table.average_label, c, s) for c, s in table.average.items()]
        for target, column, stat in cells:
            if stat.delta is None:
                continue
            ex, st = stat.examples, stat.seed_test
            seeds_ci = "n/a"
            if st is not None and st.half_width is not None:
                seeds_ci = f"[{st.delta - st.half_width:+.1f}, {st.delta + st.half_width:+.1f}]"
            rows.append([*([table.model] if several else []), target, column.label(report.short), number(stat.delta, sign=True),
                         f"[{ex.low:+.1f}, {ex.high:+.1f}]" if ex else "n/a", p_text(ex.p_value if ex else None),
                         seeds_ci, p_text(st.p_value if st else None), p_text(st.boot_p if st else None),
                         str(st.n if st else 0)])
    return Table(header, rows, caption="Paired significance against the baseline, per cell of the main table")


def models_table(report: Report) -> Table | None:
    gains = model_gains(report)
    if not gains:
        return None
    header = ["intermediate", "target", *report.models]
    rows = [[column.label(report.short), report.name(target),
             *(number(per_model[m].delta, sign=True) + per_model[m].marks if m in per_model else "" for m in
               report.models)] for (column, target), per_model in gains.items()]
    return Table(header, rows, caption="Gain over each model's own baseline")


def scaling_table(report: Report, axis: str) -> Table | None:
    points = scaling_points(report, axis)
    if not points:
        return None
    several = len(report.models) > 1
    header = [*(["model"] if several else []), "target", "intermediate", axis, "score", "gain"]
    rows = [[*([p.model] if several else []), report.name(p.target), p.line.label(report.short),
             f"{p.x:g}", cell_text(p.score).split(" (")[0],
             number(None if p.baseline is None else p.score.mean - p.baseline, sign=True)] for p in points]
    return Table(header, rows, caption=f"Scores by {axis}")


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
        out += [Heading(table.title, 3), score_table(report, table, "target \\ intermediate")]
    published = published_table(report)
    if published is not None:
        out += [Heading("Published numbers beside ours", 3), published]
    return out


def blocks(report: Report) -> list[Block]:
    out: list[Block] = [Heading(report.title or "xstilts report", 1)]
    if report.description:
        out.append(Paragraph(report.description.strip()))
    seeds = ", ".join(map(str, report.seeds))
    out.append(Paragraph(f"Models: {', '.join(report.models)}. Seeds: {seeds}. " + legend(report)))
    if report.notes:
        out.append(Bullets(list(report.notes)))
    out.append(Heading("Paper table: target tasks x intermediate tasks"))
    out += paper_blocks(report)
    significance = significance_table(report)
    if significance.rows:
        out += [Heading("Significance against the baseline"), significance]
    models = models_table(report)
    if models is not None:
        out += [Heading("Model comparison"), models]
    for axis in report.numeric_axes:
        table = scaling_table(report, axis)
        if table is not None:
            out += [Heading(f"Scaling over {axis}"), table]
    if report.languages:
        out.append(Heading("Per language"))
        several = len(report.models) > 1
        for table in report.languages:
            title = report.name(table.target) + (f" ({table.model})" if several else "")
            out += [Heading(title, 3), score_table(report, table, "language \\ intermediate")]
    if report.chance:
        out += [Heading("Chance level (uniform random predictor)"),
                Table(["task", "metric", "chance"], [[report.name(t), m, number(v)]
                                                     for t, (m, v) in sorted(report.chance.items())])]
    if report.distances:
        out += [Heading("Typological distance from English"),
                Table(["language", "distance", "source"], [[lg, f"{d:.3f}", s] for lg, (d, s) in
                                                           sorted(report.distances.items(), key=lambda i: i[1][0])])]
    if report.plots:
        out.append(Heading("Plots"))
        drawn = [p for p in report.plots if p.files]
        skipped = [f"{p.name}: not drawn ({p.skipped})" for p in report.plots if not p.files]
        out += [Figure(p) for p in drawn]
        if skipped:
            out.append(Bullets(skipped))
    return out
