"""The blocks a report is laid out in (headings, paragraphs, tables, figures), in plain Unicode text, and the
number formats every table uses. Markdown, LaTeX and HTML render the same blocks (render.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xstilts.reports.model import PlotEntry, Stat


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
    caption: str = ""  # every table of a report has one; each renderer numbers it ("Table 3. ...")
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


def gain_text(stat: Stat | None) -> str:
    """'+4.0†‡': a cell's gain and its significance marks; '' without one."""
    if stat is None or stat.delta is None:
        return ""
    return f"{stat.delta:+.1f}{stat.marks}"


def test_cells(stat: Stat) -> list[str]:
    """The paired tests of a delta, as the significance tables print them: 95% CI and p over test examples,
    95% CI and t-test p over seeds, bootstrap p over seeds, the number of paired seeds."""
    ex, st = stat.examples, stat.seed_test
    seeds_ci = "n/a"
    if st is not None and st.half_width is not None:
        seeds_ci = f"[{st.delta - st.half_width:+.1f}, {st.delta + st.half_width:+.1f}]"
    return [f"[{ex.low:+.1f}, {ex.high:+.1f}]" if ex else "n/a", p_text(ex.p_value if ex else None), seeds_ci,
            p_text(st.p_value if st else None), p_text(st.boot_p if st else None), str(st.n if st else 0)]


TEST_HEADER = ["95% CI (examples)", "p (examples)", "95% CI (seeds)", "p (seeds, t-test)", "p (seeds, bootstrap)",
               "seeds"]
