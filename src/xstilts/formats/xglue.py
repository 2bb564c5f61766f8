"""Readers for XGLUE's own files (``xglue_full_dataset/``), as its scorer ``xglue_evaluate.py`` reads them.

- NER, POS: ``word<space>label`` per line, a blank line between sentences (``-DOCSTART-`` lines, if any, end
  a sentence as in CoNLL files; the scorer skips them too).
- NC: ``title<TAB>body<TAB>category``. XGLUE's Data_Format.txt lists a query column first; the released
  files have none, so a 4-column line is an error rather than a silently shifted example.
- QADSM: ``query<TAB>ad title<TAB>ad description<TAB>Good|Bad``.
- WPR: ``query<TAB>page title<TAB>page snippet<TAB>0..4``; the scorer groups *consecutive* lines with the same
  query into one ranking (a query seen again later starts a new group), so the reader does the same.
- QAM: ``question<TAB>passage<TAB>0|1``.
- XNLI: ``<lang>.dev``/``<lang>.test`` hold ``premise<TAB>hypothesis<TAB>label``; the English training file
  is XNLI-MT's ``multinli.train.en.tsv`` (header ``premise hypo label``, label ``contradictory`` for
  ``contradiction``).
- PAWS-X: header ``id sentence1 sentence2 label``; labels 0/1.
- MLQA: SQuAD JSON (``formats.squad``).
- QG, NTG: line-aligned ``xglue.<task>.<lang>.src.<split>`` / ``.tgt.<split>`` files (``read_generation_pairs``):
  QG's source is the answer passage alone (a web passage that answers a search query; there is no separate
  answer span) and its target the user's query as a question; NTG's source is the news body, its target the
  title. A target is the last tab-separated field of its line, stripped, as XGLUE's scorer reads references.

Test files of the leaderboard release have no label column; ``xglue_full_dataset`` has labels, and scoring
needs them, so a missing label is an error that says so.

Two-text inputs of three-column tasks (QADSM, WPR) are encoded as the pair (query, title + " " + snippet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import is_blank, text_lines
from xstilts.formats.delimited import map_label, tab_rows

Example = dict[str, Any]
Reader = Callable[[Path, str, str], Iterator[tuple[int, Example]]]

NER_LABELS = ("B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O")
POS_LABELS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
    "SCONJ", "SYM", "VERB", "X",
)
NC_LABELS = (
    "foodanddrink", "sports", "news", "entertainment", "health", "video", "finance", "travel", "lifestyle",
    "autos",
)
NLI_LABELS = ("entailment", "neutral", "contradiction")
QADSM_LABELS = ("Bad", "Good")
WPR_LABELS = ("0", "1", "2", "3", "4")  # bad, fair, good, excellent, perfect
BINARY_LABELS = ("0", "1")

_UNLABELLED_HINT = (
    "the line has no label column (the leaderboard release's test files have none); use the labelled files "
    "of xglue_full_dataset"
)


def _example_id(split: str, language: str, line: int) -> str:
    return f"{split}-{language}-{line}"


# ------------------------------------------------------------------------------------------ tagging


def word_label_reader(labels: Sequence[str]) -> Reader:
    """A reader of ``word<space>label`` sentence files whose labels must be among ``labels`` (checked at the
    line, so an error names the exact line rather than the sentence)."""
    known = set(labels)

    def read(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
        tokens: list[str] = []
        tags: list[str] = []
        first = 0
        count = 0
        for number, line in text_lines(path):
            if is_blank(line) or line.startswith("-DOCSTART-"):
                if tokens:
                    count += 1
                    yield first, {"id": f"{split}-{language}-{count}", "tokens": tokens, "tags": tags}
                    tokens, tags = [], []
                continue
            # One space between word and label; words never contain a plain space in these files, and a
            # non-breaking space inside a word stays part of the word.
            fields = line.split(" ")
            if len(fields) != 2 or not fields[0]:
                raise DataError(
                    path, f"expected 'word label' (one space between them), found {line[:200]!r}", number
                )
            word, tag = fields
            if tag not in known:
                raise DataError(
                    path, f"unknown tag {tag[:40]!r}; the task's tags are: {', '.join(labels)}", number
                )
            if not tokens:
                first = number
            tokens.append(word)
            tags.append(tag)
        if tokens:
            count += 1
            yield first, {"id": f"{split}-{language}-{count}", "tokens": tokens, "tags": tags}
        if not count:
            raise DataError(path, "holds no 'word label' lines: is the file empty or cut short?")

    return read


read_xglue_ner = word_label_reader(NER_LABELS)
read_xglue_pos = word_label_reader(POS_LABELS)


# ------------------------------------------------------------------------------------ classification


def _labelled_rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """Rows of ``columns`` fields, the last one the label; one column fewer is an unlabelled test file."""
    for number, fields in tab_rows(path, (columns - 1, columns)):
        if len(fields) == columns - 1:
            raise DataError(path, f"expected {columns} tab-separated columns, found {columns - 1}: {_UNLABELLED_HINT}",
                            number)
        yield number, fields


def read_xglue_nc(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """News classification: (title, body) -> category."""
    for number, fields in tab_rows(path, (2, 3), what="columns (title, body, category)"):
        if len(fields) == 2:
            raise DataError(path, f"expected 3 tab-separated columns, found 2: {_UNLABELLED_HINT}", number)
        title, body, category = fields
        yield number, {
            "id": _example_id(split, language, number),
            "text": title,
            "text_pair": body,
            "label": map_label(path, number, category, NC_LABELS),
        }


def read_xglue_qadsm(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """Query-ad matching: (query, ad title + description) -> Good/Bad."""
    for number, (query, title, description, label) in _labelled_rows(path, 4):
        yield number, {
            "id": _example_id(split, language, number),
            "text": query,
            "text_pair": f"{title} {description}",
            "label": map_label(path, number, label, QADSM_LABELS),
        }


def read_xglue_wpr(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """Web page ranking: (query, page title + snippet) -> relevance 0..4, with ``group`` = the index of the
    run of consecutive lines sharing the query (nDCG is computed per group, as the official scorer does)."""
    group = -1
    previous: str | None = None
    for number, (query, title, snippet, label) in _labelled_rows(path, 4):
        if query != previous:
            group += 1
            previous = query
        yield number, {
            "id": _example_id(split, language, number),
            "text": query,
            "text_pair": f"{title} {snippet}",
            "label": map_label(path, number, label, WPR_LABELS),
            "group": str(group),
        }


def read_xglue_qam(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """Question-answer matching: (question, passage) -> 0/1."""
    for number, (question, passage, label) in _labelled_rows(path, 3):
        yield number, {
            "id": _example_id(split, language, number),
            "text": question,
            "text_pair": passage,
            "label": map_label(path, number, label, BINARY_LABELS),
        }


_MNLI_TRAIN_LABELS = {"entailment": "entailment", "neutral": "neutral", "contradictory": "contradiction"}


def read_xglue_xnli(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """XNLI: per-language ``premise<TAB>hypothesis<TAB>label`` files; train is XNLI-MT's English MNLI."""
    if path.name.endswith(".tsv"):  # multinli.train.en.tsv
        rows = tab_rows(path, (3,), header=("premise", "hypo", "label"))
        labels: dict[str, str] | Sequence[str] = _MNLI_TRAIN_LABELS
    else:
        rows = _labelled_rows(path, 3)
        labels = NLI_LABELS
    for number, (premise, hypothesis, label) in rows:
        yield number, {
            "id": _example_id(split, language, number),
            "text": premise,
            "text_pair": hypothesis,
            "label": map_label(path, number, label, labels),
        }


def read_xglue_pawsx(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """PAWS-X as XGLUE ships it (``id sentence1 sentence2 label`` with a header)."""
    for number, (example_id, first, second, label) in tab_rows(
        path, (4,), header=("id", "sentence1", "sentence2", "label")
    ):
        yield number, {
            "id": f"{split}-{language}-{example_id}",
            "text": first,
            "text_pair": second,
            "label": map_label(path, number, label, BINARY_LABELS),
        }


# ---------------------------------------------------------------------------------------- generation


def generation_files(path: Path) -> tuple[Path, Path]:
    """The (source, target) files of a QG/NTG split: ``xglue.qg.en.src.train`` -> ``xglue.qg.en.tgt.train``."""
    parts = path.name.split(".")
    if "src" not in parts:
        raise DataError(path, "expected a generation source file named like xglue.<task>.<lang>.src.<split>")
    target = path.with_name(".".join("tgt" if part == "src" else part for part in parts))
    return path, target


def reference_text(label_line: str) -> str:
    """The reference of one QG/NTG label line as XGLUE's scorer takes it: the last tab-separated field,
    stripped (the released files hold one field; the scorer allows more and keeps the last)."""
    return label_line.split("\t")[-1].strip()


def read_generation_pairs(path: Path, split: str, language: str) -> Iterator[tuple[int, Example]]:
    """QG and NTG: line ``n`` of ``<...>.src.<split>`` (the passage, or the news body) and line ``n`` of its
    ``<...>.tgt.<split>`` (the question, or the title) make example ``n``, ``{"id", "source", "target"}``.

    Every line counts, as in XGLUE's scorer (a prediction file has one line per label line): a blank source or
    target line is an error, not a skipped example, and so is a different number of lines in the two files
    (naming the file that ends first and its partner). The source is the stripped line (a tab in it is text);
    the target is :func:`reference_text` of its line, the reference the official BLEU compares with.
    """
    source, target = generation_files(path)
    if not target.exists():
        raise DataError(target, f"missing: the target file that goes with {source.name} (xglue_full_dataset "
                                "ships a .tgt file beside every .src file, test included)")
    sources, targets = text_lines(source), text_lines(target)
    number = 0
    for number, source_line in sources:
        target_line = next(targets, None)
        if target_line is None:
            raise DataError(target, f"ends at line {number - 1} but its partner {source} has more lines: the two "
                                    "files are line-aligned (one target per source line)", number)
        text = source_line.strip()
        if not text:
            raise DataError(source, "blank source line: every line holds one input text (a passage, or a news "
                                    "body) and its partner file's line the same example's target", number)
        reference = reference_text(target_line[1])
        if not reference:
            raise DataError(target, "blank target: every line holds the reference text (its last tab-separated "
                                    "field) of the same line of " + source.name, number)
        yield number, {"id": _example_id(split, language, number), "source": text, "target": reference}
    if next(targets, None) is not None:
        raise DataError(source, f"ends at line {number} but its partner {target} has more lines: the two files "
                                "are line-aligned (one target per source line)", number + 1)
    if not number:
        raise DataError(source, "the file is empty: expected one source text per line")


read_xglue_qg = read_generation_pairs  # passage -> question
read_xglue_ntg = read_generation_pairs  # news body -> title
