"""Write a report's files (Markdown, LaTeX, HTML, the explorer and plots) from loaded results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xstilts.reports import DEFAULT_RESAMPLES


def prepare_report(results: Any, title: str = "", description: str = "", n_resamples: int = DEFAULT_RESAMPLES,
                   seed: int = 0) -> Any:
    """The report of loaded results with what its files show beyond the tables: typological distances and
    families of the languages, and the provenance (from the results' folder: ``study.yaml``, ``recipe.md``)."""
    from xstilts.reports.model import build_report
    from xstilts.reports.provenance import collect
    from xstilts.reports.typology import language_distances, language_families

    report = build_report(results.rows, results.examples, title=title, description=description,
                          n_resamples=n_resamples, seed=seed)
    languages = [lg for table in report.languages for lg in table.rows]
    report.distances, notes = language_distances(languages)
    report.families = language_families(languages)
    report.notes += notes
    report.provenance = collect(getattr(results, "folder", None))
    return report


def write_report(results: Any, out_dir: Path, title: str = "", description: str = "",
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0, plots: bool = True,
                 explorer: bool = True) -> dict[str, Path]:
    """Build the report from loaded results (:func:`xstilts.reports.results.load_results`) and write
    ``report.md``, ``report.tex``, ``report.html``, ``explorer.html`` and ``plots/*.{png,svg}`` under
    ``out_dir``."""
    from xstilts.atomic import write_text_atomic
    from xstilts.reports.explorer import EXPLORER, to_explorer
    from xstilts.reports.render import to_html, to_latex, to_markdown

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = prepare_report(results, title, description, n_resamples, seed)
    if plots:
        from xstilts.reports.plots import draw_plots

        draw_plots(report, out_dir)
    paths = {"markdown": out_dir / "report.md", "latex": out_dir / "report.tex", "html": out_dir / "report.html"}
    if explorer:
        report.explorer = EXPLORER
        paths["explorer"] = out_dir / EXPLORER
        write_text_atomic(paths["explorer"], to_explorer(report))
    write_text_atomic(paths["markdown"], to_markdown(report))
    write_text_atomic(paths["latex"], to_latex(report))
    write_text_atomic(paths["html"], to_html(report, out_dir))
    return paths
