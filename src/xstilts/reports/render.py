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


def _md_table(table: Table, number: int) -> list[str]:
    lines = [f"*Table {number}. {table.caption}*", ""]
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
    tables = figures = 0
    for block in chosen:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            tables += 1
            lines += _md_table(block, tables) + [""]
        elif isinstance(block, Figure):
            figures += 1
            png = next((f for f in block.entry.files if f.endswith(".png")), block.entry.files[0])
            lines += [f"![{block.entry.caption}]({png})", "", f"*Figure {figures}. {block.entry.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------ LaTeX

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}"}
_LATEX_UNICODE = {"±": r"$\pm$", "†": r"\textsuperscript{\dag}", "‡": r"\textsuperscript{\ddag}", "—": "---",
                  "–": "--", "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$", "−": r"$-$", "·": r"$\cdot$",
                  "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\ldots{}"}


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


ROWS_PER_PART = 28  # a longer table is split into parts (continued captions), each fits a landscape page
_LATEX_PREAMBLE = [r"\documentclass{article}", r"\usepackage[margin=2cm,landscape]{geometry}",
                   r"\usepackage{booktabs}", r"\usepackage{graphicx}", r"\usepackage[T1]{fontenc}",
                   # Vector fonts, and text that copies and searches as text (ligatures map back to letters)
                   r"\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{}",
                   r"\IfFileExists{glyphtounicode.tex}{\input{glyphtounicode}\pdfgentounicode=1}{}",
                   r"\usepackage{caption}", r"\captionsetup{font=small,labelfont=bf,skip=4pt}",
                   r"\setlength{\parindent}{0pt}",
                   # A plot at its natural size (its text then has the size it was drawn with), shrunk to fit
                   r"\newsavebox{\plotbox}",
                   r"\newcommand{\plot}[1]{\sbox{\plotbox}{\includegraphics{#1}}%",
                   r"\ifdim\wd\plotbox>\linewidth\sbox{\plotbox}{\includegraphics[width=\linewidth]{#1}}\fi",
                   r"\ifdim\ht\plotbox>0.78\textheight\sbox{\plotbox}{\includegraphics[height=0.78\textheight]{#1}}\fi",
                   r"\usebox{\plotbox}}",
                   r"\begin{document}"]


def _latex_box(body: list[str]) -> list[str]:
    """Content that must not break across pages, nor float away from the heading above it: an unbreakable
    minipage in the text (a heading is never left alone at the bottom of a page: LaTeX keeps it with what
    follows)."""
    return [r"\par\addvspace{\medskipamount}", r"\noindent\begin{minipage}{\linewidth}", r"\centering",
            *body, r"\end{minipage}", r"\par\addvspace{\medskipamount}"]


def _latex_table(table: Table) -> list[str]:
    """A booktabs tabular, not a float: its caption (captionof, numbered) stays with it, right under the
    heading; wider than the text, it is scaled down to fit; longer than a page, it is split into parts."""
    spec = "".join("r" if _numeric(table, i) else "l" for i in range(len(table.header)))
    rows = table.rows or [[""] * len(table.header)]
    parts = [rows[i:i + ROWS_PER_PART] for i in range(0, len(rows), ROWS_PER_PART)]
    lines: list[str] = []
    for index, part in enumerate(parts):
        caption = latex_escape(table.caption)
        body = [r"\small", r"\captionof{table}{" + caption + "}" if index == 0
                else r"\captionof*{table}{Table \thetable{} (continued): " + caption + "}",
                r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                r"\begin{tabular}{" + spec + "}", r"\toprule",
                " & ".join(latex_escape(h) for h in table.header) + r" \\", r"\midrule"]
        for row in part:
            if table.bold_last and table.rows and row is table.rows[-1]:
                body.append(r"\midrule")
            body.append(" & ".join(latex_escape(c) for c in row) + r" \\")
        body += [r"\bottomrule", r"\end{tabular}}"]
        if index == len(parts) - 1 and table.notes:
            body += [r"\par\smallskip\raggedright\footnotesize", *(latex_escape(note) + r"\par" for note in table.notes)]
        lines += _latex_box(body)
    return lines


def _latex_heading(block: Heading) -> str:
    command = {1: "section", 2: "subsection"}.get(block.level, "subsubsection")
    return "\\" + command + "*{" + latex_escape(block.text) + "}"


def to_latex(report: Report) -> str:
    lines = list(_LATEX_PREAMBLE)
    for block in blocks(report):
        if isinstance(block, Heading):
            lines.append(_latex_heading(block))
        elif isinstance(block, Paragraph):
            lines += [latex_escape(block.text), ""]
        elif isinstance(block, Bullets):
            lines += [r"\begin{itemize}", *(r"\item " + latex_escape(i) for i in block.items), r"\end{itemize}"]
        elif isinstance(block, Table):
            lines += _latex_table(block) + [""]
        elif isinstance(block, Figure):
            png = next((f for f in block.entry.files if f.endswith(".png")), None)
            if png:
                lines += _latex_box([r"\plot{" + png + "}",
                                     r"\captionof{figure}{" + latex_escape(block.entry.caption) + "}"])
                lines.append("")
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
th:first-child,td:first-child,th.l,td.l{text-align:left}
.wide{overflow-x:auto}
thead th{border-top:2px solid #222;border-bottom:1px solid #222}
tbody tr:last-child td{border-bottom:2px solid #222}
tr.average td{border-top:1px solid #222;font-weight:bold}
tbody tr:hover{background:#f3f6fa}
.note{font-size:0.85em;color:#555}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.9em;color:#444}
"""


def _html_table(table: Table, number: int) -> str:
    """A table in a scrolling box (a wide one never widens the page); text columns left-aligned."""
    align = ["" if _numeric(table, i) or i == 0 else ' class="l"' for i in range(len(table.header))]
    parts = ['<div class="wide"><table>', f"<caption>Table {number}. {html.escape(table.caption)}</caption>"]
    parts.append("<thead><tr>" + "".join(f"<th{a}>{html.escape(h)}</th>" for a, h in zip(align, table.header,
                                                                                       strict=True)) + "</tr></thead>")
    parts.append("<tbody>")
    for index, row in enumerate(table.rows):
        average = table.bold_last and index == len(table.rows) - 1
        parts.append(("<tr class=\"average\">" if average else "<tr>")
                     + "".join(f"<td{a}>{html.escape(c)}</td>" for a, c in zip(align, row, strict=True)) + "</tr>")
    parts.append("</tbody></table></div>")
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
    tables = figures = 0
    for block in blocks(report):
        if isinstance(block, Heading):
            slug = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
            parts.append(f"<h{block.level} id=\"{slug}\">{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            text = html.escape(block.text)
            if report.explorer and report.explorer in block.text:  # the explorer's page, beside this one
                name = html.escape(report.explorer)
                text = text.replace(name, f"<a href=\"{name}\">{name}</a>", 1)
            parts.append(f"<p>{text}</p>")
        elif isinstance(block, Bullets):
            parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            tables += 1
            parts.append(_html_table(block, tables))
        elif isinstance(block, Figure):
            figures += 1
            caption = html.escape(block.entry.caption)
            parts.append(f"<figure><img alt=\"{caption}\" src=\"{_embedded(out_dir, block.entry.files)}\">"
                         f"<figcaption>Figure {figures}. {caption}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
