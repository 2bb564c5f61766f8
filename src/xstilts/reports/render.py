"""Markdown, LaTeX (booktabs, a standalone document) and one self-contained HTML page from the same blocks."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from xstilts.reports.document import Block, Bullets, Figure, Heading, Paragraph, Table, blocks
from xstilts.reports.model import Report

# ------------------------------------------------------------------ Markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _numeric(table: Table, index: int) -> bool:
    """Right-align a column whose cells are numbers (or empty, n/a)."""
    cells = [row[index] for row in table.rows if row[index] not in ("", "n/a")]
    return index > 0 and bool(cells) and all(re.match(r"^[-+<\[]?\d", c) for c in cells)


def _md_table(table: Table) -> list[str]:
    lines = [f"*{table.caption}*", ""] if table.caption else []
    lines.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
    lines.append("|" + "|".join("---:" if _numeric(table, i) else "---" for i in range(len(table.header))) + "|")
    for index, row in enumerate(table.rows):
        cells = [_md_cell(c) for c in row]
        if table.bold_last and index == len(table.rows) - 1:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    lines += [""] + [f"> {note}" for note in table.notes] if table.notes else []
    return lines


def to_markdown(report: Report) -> str:
    return blocks_markdown(blocks(report))


def blocks_markdown(chosen: list[Block]) -> str:
    lines: list[str] = []
    for block in chosen:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            lines += _md_table(block) + [""]
        elif isinstance(block, Figure):
            png = next((f for f in block.entry.files if f.endswith(".png")), block.entry.files[0])
            lines += [f"![{block.entry.caption}]({png})", "", f"*{block.entry.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------ LaTeX

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}"}
_LATEX_UNICODE = {"±": r"$\pm$", "†": r"\textsuperscript{\dag}", "‡": r"\textsuperscript{\ddag}", "—": "---",
                  "–": "--", "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$"}


def latex_escape(text: str) -> str:
    out = []
    for char in text:
        if char in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[char])
        elif char in _LATEX_UNICODE:
            out.append(_LATEX_UNICODE[char])
        elif ord(char) > 127:
            out.append("?")  # pdflatex without extra fonts cannot typeset other scripts
        else:
            out.append(char)
    return "".join(out)


def _latex_table(table: Table) -> list[str]:
    spec = "".join("r" if _numeric(table, i) else "l" for i in range(len(table.header)))
    lines = [r"\begin{table}[ht]", r"\centering", r"\small"]
    if table.caption:
        lines.append(r"\caption{" + latex_escape(table.caption) + "}")
    lines += [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
              r"\begin{tabular}{" + spec + "}", r"\toprule",
              " & ".join(latex_escape(h) for h in table.header) + r" \\", r"\midrule"]
    for index, row in enumerate(table.rows):
        if table.bold_last and index == len(table.rows) - 1:
            lines.append(r"\midrule")
        lines.append(" & ".join(latex_escape(c) for c in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    lines += [r"\par\smallskip\footnotesize " + latex_escape(note) for note in table.notes]
    lines.append(r"\end{table}")
    return lines


def to_latex(report: Report) -> str:
    lines = [r"\documentclass{article}", r"\usepackage[margin=2cm,landscape]{geometry}",
             r"\usepackage{booktabs}", r"\usepackage{graphicx}", r"\usepackage[T1]{fontenc}",
             r"\begin{document}"]
    for block in blocks(report):
        if isinstance(block, Heading):
            if block.level == 1:
                lines.append(r"\section*{" + latex_escape(block.text) + "}")
            else:
                lines.append(("\\subsection*{" if block.level == 2 else "\\subsubsection*{")
                             + latex_escape(block.text) + "}")
        elif isinstance(block, Paragraph):
            lines += [latex_escape(block.text), ""]
        elif isinstance(block, Bullets):
            lines += [r"\begin{itemize}", *(r"\item " + latex_escape(i) for i in block.items), r"\end{itemize}"]
        elif isinstance(block, Table):
            lines += _latex_table(block) + [""]
        elif isinstance(block, Figure):
            png = next((f for f in block.entry.files if f.endswith(".png")), None)
            if png:
                lines += [r"\begin{figure}[ht]", r"\centering",
                          r"\includegraphics[width=\linewidth,height=0.8\textheight,keepaspectratio]{" + png + "}",
                          r"\caption{" + latex_escape(block.entry.caption) + "}", r"\end{figure}", ""]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:0.8em 0;font-size:0.9em;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-style:italic;padding-bottom:0.3em}
th,td{padding:0.25em 0.7em;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{border-top:2px solid #222;border-bottom:1px solid #222}
tbody tr:last-child td{border-bottom:2px solid #222}
tr.average td{border-top:1px solid #222;font-weight:bold}
tbody tr:hover{background:#f3f6fa}
.note{font-size:0.85em;color:#555}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.9em;color:#444}
"""


def _html_table(table: Table) -> str:
    parts = ["<table>"]
    if table.caption:
        parts.append(f"<caption>{html.escape(table.caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.header) + "</tr></thead>")
    parts.append("<tbody>")
    for index, row in enumerate(table.rows):
        average = table.bold_last and index == len(table.rows) - 1
        parts.append(("<tr class=\"average\">" if average else "<tr>")
                     + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    parts += [f"<p class=\"note\">{html.escape(note)}</p>" for note in table.notes]
    return "\n".join(parts)


def _embedded(out_dir: Path, files: list[str]) -> str:
    """The plot as a data URI: the SVG when there is one (sharp at any zoom), else the PNG."""
    chosen = next((f for f in files if f.endswith(".svg")), files[0])
    data = base64.b64encode((out_dir / chosen).read_bytes()).decode()
    kind = "image/svg+xml" if chosen.endswith(".svg") else "image/png"
    return f"data:{kind};base64,{data}"


def to_html(report: Report, out_dir: Path) -> str:
    title = html.escape(report.title or "xstilts report")
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>{title}</title>", f"<style>{_CSS}</style></head><body>"]
    for block in blocks(report):
        if isinstance(block, Heading):
            slug = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
            parts.append(f"<h{block.level} id=\"{slug}\">{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Bullets):
            parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            parts.append(_html_table(block))
        elif isinstance(block, Figure):
            caption = html.escape(block.entry.caption)
            parts.append(f"<figure><img alt=\"{caption}\" src=\"{_embedded(out_dir, block.entry.files)}\">"
                         f"<figcaption>{caption}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
