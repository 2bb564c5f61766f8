"""Write a study's test predictions in the official XTREME / XTREME-R layout (``<dir>/<task>/test-<lang>.<ext>``)
or XGLUE's (``<dir>/<TASK>/<lang>.prediction``), ready for the leaderboards and for ``xstilts score``.

The toolkit's predictions are ``runs/<stage key>/predictions/<task>/<split>-<lang>.jsonl``, one
``{"id", "prediction"}`` per example in file order. A declared task reaches an official task folder through
OFFICIAL_TASKS (the real XTREME declarations are named like the folders) or an explicit ``--map NAME=FOLDER``
(mock, micro and study-declared tasks). What each folder's files hold:

- xnli, pawsx: the predicted label, one line per example;
- udpos, panx: one tag per line, a blank line after each sentence (an empty sentence, which PAN-X has where
  the official files have two blank lines in a row, is that blank line alone);
- xquad, mlqa, tydiqa: ``{question_id: answer_text}``;
- xcopa: one ``{"label": <int>}`` per line;
- tatoeba: one line per query (the real task's examples come in the order of the sorted English file, as the
  official labels do): the 0-based line, in the other language's file, of the retrieved sentence. The real
  task's ids are those lines; a task whose ids are not integers (micro, mock) is read as line-aligned pairs in
  file order, so a retrieved id becomes the position of its example in the predictions file;
- bucc2018: ``src_id<TAB>en_id`` for every query paired by the thresholded mining (prediction not null);
- mewslix, lareqa: ``{query_id: [candidate ids, best first]}`` for every query (the prediction must be a
  ranked list); candidate-only examples (prediction null) are not queries and are left out.

XGLUE (the understanding tasks ``xglue-*``, as ``scoring/official/xglue.py`` reads them): NER and POS as the
tagging files above, MLQA as ``{question_id: answer_text}``, NC, XNLI, PAWS-X, QADSM, QAM and WPR one predicted
label per line (WPR: the predicted relevance grade, which the scorer ranks by); QG and NTG one generated text per
line (the question, the title), in the order of the source file. A line break inside a generated text (``\n``,
``\r\n`` or ``\r``: where the official reader's text mode ends a line) becomes one space, and the text is
stripped (the scorer strips it anyway), so line ``n`` is always example ``n``'s output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.atomic import write_text_atomic
from xstilts.errors import DataError, XstiltsError
from xstilts.scoring.official import layout
from xstilts.scoring.official.xglue import GENERATION, XGLUE_LANGUAGES

XGLUE_FOLDERS: dict[str, tuple[str, ...]] = dict(XGLUE_LANGUAGES)
# Declared task name -> official folder, per benchmark (the declarations are named after the folders).
OFFICIAL_TASKS: dict[str, dict[str, str]] = {
    "xtreme": {name: name for name in layout.ALL_TASK_DIRS},
    "xtreme-r": {name: name for name in layout.ALL_TASK_DIRS},
    "xglue": {f"xglue-{folder.lower()}": folder for folder in XGLUE_FOLDERS},
}
# An XGLUE folder's file holds what the XTREME folder named here holds.
_XGLUE_RENDER_AS = {"NER": "panx", "POS": "udpos", "MLQA": "mlqa", "NC": "xnli", "XNLI": "xnli", "PAWSX": "xnli",
                    "QADSM": "xnli", "QAM": "xnli", "WPR": "xnli", **{folder: "generation" for folder in GENERATION}}
# What Python's text mode (the official reader) ends a line at.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def one_line(text: str) -> str:
    """A generated text as one prediction line: line breaks become spaces, ends stripped."""
    return _LINE_BREAK.sub(" ", text).strip()


def official_languages(benchmark: str) -> dict[str, tuple[str, ...]]:
    """Official folder -> the languages the benchmark's scorer reads."""
    if benchmark == "xglue":
        return XGLUE_FOLDERS
    layout.check_benchmark(benchmark)
    return layout.TASK_LANGUAGES[benchmark]


def official_file(out: Path, benchmark: str, folder: str, language: str) -> Path:
    if benchmark == "xglue":
        return Path(out) / folder / f"{language}.prediction"
    return layout.task_file(out, folder, language)


@dataclass(frozen=True)
class Source:
    """One task's predictions: the folder holding ``test-<lang>.jsonl`` files."""

    task: str
    folder: Path


def parse_mapping(items: list[str], benchmark: str = "xtreme") -> dict[str, str]:
    folders = official_languages(benchmark)
    mapping = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name or folder not in folders:
            raise XstiltsError(f"--map {item!r}: expected TASK=FOLDER with FOLDER one of the {benchmark} folders "
                               f"{', '.join(folders)}")
        mapping[name] = folder
    return mapping


def official_folder(task: str, mapping: dict[str, str], benchmark: str = "xtreme") -> str | None:
    return mapping.get(task) or OFFICIAL_TASKS.get(benchmark, {}).get(task)


def read_predictions(path: Path) -> list[tuple[int, str, Any]]:
    rows = []
    for line, row in layout.read_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or "prediction" not in row:
            raise DataError(path, "expected {\"id\": ..., \"prediction\": ...}", line)
        rows.append((line, row["id"], row["prediction"]))
    return rows


def render(folder: str, path: Path, rows: list[tuple[int, str, Any]]) -> str:
    """The text of one official file from one predictions file."""
    folder = _XGLUE_RENDER_AS.get(folder, folder)

    def need(kind: type | tuple[type, ...], what: str):
        for line, _, value in rows:
            if not isinstance(value, kind) or isinstance(value, bool):
                raise DataError(path, f"an official {folder} file needs {what}, got {value!r:.60}", line)

    if folder in ("xnli", "pawsx"):
        need(str, "a label string")
        return "".join(f"{value}\n" for _, _, value in rows)
    if folder == "generation":
        need(str, "the generated text")
        return "".join(f"{one_line(value)}\n" for _, _, value in rows)
    if folder in ("udpos", "panx"):
        need(list, "a list of tags")
        return "".join("".join(f"{tag}\n" for tag in value) + "\n" for _, _, value in rows)
    if folder in layout.QA_TASKS:
        need(str, "an answer string")
        return json.dumps({key: value for _, key, value in rows}, ensure_ascii=False, indent=1) + "\n"
    if folder == "xcopa":
        need(int, "an integer choice")
        return "".join(json.dumps({"label": value}) + "\n" for _, _, value in rows)
    if folder == "tatoeba":
        return _tatoeba_lines(path, rows)
    if folder == "bucc2018":
        queries = [row for row in rows if row[2] is not None]
        for line, key, value in queries:
            if not isinstance(value, str) or not value or "\t" in value or "\t" in key:
                raise DataError(path, f"a BUCC prediction is the English sentence id paired with {key!r} (or "
                                      f"null), got {value!r:.60}", line)
        return "".join(f"{key}\t{value}\n" for _, key, value in queries)
    if folder in ("mewslix", "lareqa"):
        queries = [row for row in rows if row[2] is not None]
        for line, _, value in queries:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise DataError(path, f"an official {folder} file needs a ranked list of ids, got {value!r:.60}",
                                line)
        return json.dumps({key: value for _, key, value in queries}, ensure_ascii=False, indent=1) + "\n"
    raise XstiltsError(f"export to the official {folder} layout is not supported")


def _tatoeba_lines(path: Path, rows: list[tuple[int, str, Any]]) -> str:
    """One official line per query: the retrieved sentence's 0-based line in the other language's file."""
    numbered = all(key.isdecimal() for _, key, _ in rows)
    position = {key: (int(key) if numbered else index) for index, (_, key, _) in enumerate(rows)}
    lines = []
    for line, _, value in rows:
        if value not in position:
            raise DataError(path, f"the retrieved id {value!r} is not an example of this file", line)
        lines.append(f"{position[value]}\n")
    return "".join(lines)


def export(sources: list[Source], out: Path, benchmark: str, mapping: dict[str, str]) -> list[str]:
    """Write every source's test predictions under ``out``; returns one line per task written."""
    official = official_languages(benchmark)
    report, used = [], {}
    for source in sources:
        folder = official_folder(source.task, mapping, benchmark)
        if folder is None:
            continue
        if folder not in official:
            raise XstiltsError(f"task {source.task!r} maps to {folder!r}, which is not a {benchmark} task "
                               f"({', '.join(official)})")
        if folder in used:
            raise XstiltsError(f"tasks {used[folder]!r} and {source.task!r} both map to {folder!r}; "
                               "export one of them (choose a pipeline with --pipeline)")
        used[folder] = source.task
        written, missing = [], []
        for language in official[folder]:
            path = source.folder / f"test-{language}.jsonl"
            if not path.is_file():
                missing.append(language)
                continue
            rows = read_predictions(path)
            write_text_atomic(official_file(out, benchmark, folder, language), render(folder, path, rows))
            written.append(language)
        extra = sorted(p.stem.removeprefix("test-") for p in source.folder.glob("test-*.jsonl")
                       if p.stem.removeprefix("test-") not in official[folder])
        line = f"{source.task} -> {folder}: {len(written)}/{len(official[folder])} languages"
        if missing:
            line += f" (missing: {', '.join(missing)})"
        if extra:
            line += f" (not in {benchmark}, skipped: {', '.join(extra)})"
        report.append(line)
    if not report:
        raise XstiltsError(f"none of the tasks with predictions maps to a {benchmark} task folder; map them with "
                           "--map TASK=FOLDER")
    return report
