"""The report's last sections: provenance (toolkit, date, machine, the run and the resolved hyperparameters of
every stage) and the run's recipe card, its Markdown read back into blocks so that every format shows it."""

from __future__ import annotations

import re

from xstilts.reports.blocks import Block, Bullets, Heading, Paragraph, Table
from xstilts.reports.provenance import STAGE_HEADER, Provenance


def provenance_blocks(provenance: Provenance | None) -> list[Block]:
    if provenance is None:
        return []
    out: list[Block] = [Heading("Provenance"),
                        Table(["what", "value"], [list(pair) for pair in provenance.toolkit + provenance.machine],
                              caption="Toolkit, date and the machine that wrote this report")]
    if provenance.run:
        out.append(Table(["what", "value"], [list(pair) for pair in provenance.run],
                         caption="The run: results, models, seeds and evaluation settings (study.yaml)"))
    if provenance.stages:
        out.append(Table(list(STAGE_HEADER), provenance.stages,
                         caption="Resolved hyperparameters of every stage the pipelines train (study.yaml)"))
    if provenance.notes:
        out.append(Bullets(list(provenance.notes)))
    if provenance.recipe:
        out += [Heading("Recipe card"), *recipe_blocks(provenance.recipe)]
    return out


def _plain(text: str) -> str:
    return text.replace("`", "").strip()


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [_plain(c).replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def recipe_blocks(text: str) -> list[Block]:
    """The recipe card's Markdown (headings, paragraphs, bullets, pipe tables) as blocks: its title is dropped
    (the report gives the section its own), second-level headings become subsections, and a third-level heading
    becomes the caption of the table under it."""
    out: list[Block] = []
    caption = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            level, title = len(heading.group(1)), _plain(heading.group(2))
            if level == 2:
                out.append(Heading(title, 3))
            elif level >= 3:
                caption = title
            i += 1
        elif line.lstrip().startswith("|"):
            block = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                block.append(lines[i])
                i += 1
            rows = [_cells(b) for b in block if not re.match(r"^\s*\|?[\s:|-]+\|?\s*$", b)]
            if rows:
                out.append(Table(rows[0], rows[1:], caption=f"Recipe card: {caption}" if caption else "Recipe card"))
            caption = ""
        elif line.lstrip().startswith("- "):
            items = []
            while i < len(lines) and lines[i].lstrip().startswith("- "):
                items.append(_plain(lines[i].lstrip()[2:]))
                i += 1
            out.append(Bullets(items))
        else:
            paragraph = []
            while i < len(lines) and lines[i].strip() and not re.match(r"^(#|\s*\||\s*- )", lines[i]):
                paragraph.append(_plain(lines[i]))
                i += 1
            out.append(Paragraph(" ".join(paragraph)))
    return out
