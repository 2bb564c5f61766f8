"""What every plot shares: matplotlib (Agg backend) set up once, saving as PNG and SVG, subplot grids, and the
one legend above a figure's subplots."""

from __future__ import annotations

import io
import math
from pathlib import Path

from xstilts.atomic import write_bytes_atomic
from xstilts.reports.model import Report

ERRORS = {"ecolor": "0.35", "elinewidth": 0.8}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "xstilts", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False, "errorbar.capsize": 2,
                         "lines.linewidth": 1.4, "hatch.linewidth": 0.6})
    return plt


def legend(fig, axes, title: str | None = None) -> None:
    """One legend above the subplots with every series of every subplot (a subplot may lack one)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if "chance level" in seen:  # a reference line, listed after the series
        seen["chance level"] = seen.pop("chance level")
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside upper center", ncols=min(len(seen), 5),
                   frameon=False, title=title)


def save(fig, folder: Path, name: str) -> list[str]:
    files = []
    for fmt, options in (("png", {"dpi": 150}), ("svg", {"metadata": {"Date": None}})):
        buffer = io.BytesIO()
        # A constrained layout already fits the figure; "tight" would lay it out (draw it) once more.
        tight = None if fig.get_layout_engine() is not None else "tight"
        fig.savefig(buffer, format=fmt, bbox_inches=tight, **options)
        write_bytes_atomic(folder / f"{name}.{fmt}", buffer.getvalue())
        files.append(f"plots/{name}.{fmt}")
    pyplot().close(fig)
    return files


def grid(count: int, columns: int = 3) -> tuple[int, int]:
    cols = min(columns, count)
    return math.ceil(count / cols), cols


def suffix(report: Report, model: str) -> str:
    return "" if len(report.models) == 1 else "-" + "".join(ch if ch.isalnum() else "_" for ch in model)


def report_marks() -> str:
    return "† p < 0.05 over test examples, ‡ over seeds"


def hide_unused(axes, used: int) -> None:
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)
