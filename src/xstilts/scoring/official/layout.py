"""The official XTREME / XTREME-R submission layout: tables of tasks, languages and groups, and readers.

Facts from google-research/xtreme evaluate.py (838c13b): files are ``<dir>/<task>/test-<lang>.<ext>``;
ext is json for QA and Mewsli-X, jsonl for XCOPA, tsv otherwise. LAReQA has no official layout (the official
table lists no languages for it); we use json like Mewsli-X: ``{question_id: [candidate ids, best first]}``
for predictions and ``{question_id: [relevant candidate ids]}`` for labels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xstilts.errors import DataError, XstiltsError

QA_TASKS = ("xquad", "mlqa", "tydiqa")

_XQUAD = "en,es,de,el,ru,tr,ar,vi,th,zh,hi"
_PANX = "ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu"
_UDPOS = "af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh"
_TATOEBA = "ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,ko,th,sw,zh,kk,tr,et,fi,hu"
_XNLI = "ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh"
_MLQA = "en,es,de,ar,hi,vi,zh"
_TYDIQA = "en,ar,bn,fi,id,ko,ru,sw,te"


def _langs(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


# Task -> languages, in the official order (the order of the per-language entries in the report).
TASK_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "xtreme": {
        "pawsx": _langs("de,en,es,fr,ja,ko,zh"),
        "xnli": _langs(_XNLI),
        "panx": _langs(_PANX),
        "udpos": _langs(_UDPOS),
        "bucc2018": _langs("de,fr,ru,zh"),
        "tatoeba": _langs(_TATOEBA),
        "xquad": _langs(_XQUAD),
        "mlqa": _langs(_MLQA),
        "tydiqa": _langs(_TYDIQA),
    },
    "xtreme-r": {
        "xnli": _langs(_XNLI),
        "panx": _langs(_PANX + ",qu,pl,uk,az,lt,pa,gu,ro"),
        "udpos": _langs(_UDPOS + ",lt,pl,uk,wo,ro"),
        "tatoeba": _langs(_TATOEBA + ",az,lt,pl,uk,ro"),
        "xcopa": _langs("et,ht,id,it,qu,sw,ta,th,tr,vi,zh"),
        # The official table leaves LAReQA empty (its script cannot score it); these are XQuAD-R's languages.
        "lareqa": _langs("ar,de,el,en,es,hi,ru,th,tr,vi,zh"),
        "mewslix": _langs("ar,de,en,es,fa,ja,pl,ro,ta,tr,uk"),
        "xquad": _langs(_XQUAD + ",ro"),
        "mlqa": _langs(_MLQA),
        "tydiqa": _langs(_TYDIQA),
    },
}

# Group -> tasks, in the official order. XTREME-R lists XCOPA twice and LAReQA in no group, as the official
# table does.
TASK_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "xtreme": {
        "classification": ("pawsx", "xnli"),
        "tagging": ("udpos", "panx"),
        "qa": QA_TASKS,
        "retrieval": ("bucc2018", "tatoeba"),
    },
    "xtreme-r": {
        "classification": ("xnli", "xcopa"),
        "tagging": ("udpos", "panx"),
        "qa": QA_TASKS,
        "retrieval": ("tatoeba", "mewslix"),
        "multi_choice": ("xcopa",),
    },
}

ALL_TASK_DIRS = ("pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba", "xquad", "mlqa", "tydiqa", "mewslix",
                 "xcopa", "lareqa")

# Closed label sets: a prediction outside the set (and absent from the label file) is an error, never a
# silent miss.
LABEL_SETS: dict[str, frozenset[str]] = {
    "xnli": frozenset({"entailment", "neutral", "contradiction"}),
    "pawsx": frozenset({"0", "1"}),
    "panx": frozenset({"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}),
    "udpos": frozenset("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()),
}


def check_benchmark(benchmark: str) -> None:
    if benchmark not in TASK_LANGUAGES:
        raise XstiltsError(f"unknown benchmark {benchmark!r}: choose one of xtreme, xtreme-r, xglue")


def suffix(task: str) -> str:
    if task in QA_TASKS or task in ("mewslix", "lareqa"):
        return "json"
    return "jsonl" if task == "xcopa" else "tsv"


def task_file(folder: Path, task: str, language: str) -> Path:
    return Path(folder) / task / f"test-{language}.{suffix(task)}"


def require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(path, "missing file: the official layout needs one file per task and language "
                              "(<dir>/<task>/test-<lang>.<ext>)")
    return path


def _text(path: Path) -> str:
    try:
        return require(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None


def _split_lines(text: str) -> list[str]:
    """Lines as Python's text-mode file iteration yields them (universal newlines, which read_text has
    already turned into \n); str.splitlines would also split at form feeds and U+2028."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def read_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped line) for every line, as the official reader keeps them (blank ones too)."""
    return [(number, line.strip()) for number, line in enumerate(_split_lines(_text(path)), start=1)]


def read_sentences(path: Path) -> list[tuple[int, list[str]]]:
    """Tagging files: one tag per line, a blank line ends a sentence. Returns (first line, tags) per
    sentence, grouped as the official reader groups them (each blank line closes a sentence, even an empty
    one; a last sentence without a closing blank line still counts)."""
    sentences: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    lines = read_lines(path)
    for number, tag in lines:
        if tag:
            if not current:
                start = number
            current.append(tag)
        else:
            sentences.append((start if current else number, current))
            current = []
            start = number + 1
    if current:
        sentences.append((start, current))
    return sentences


def read_json(path: Path) -> Any:
    try:
        return json.loads(_text(path))
    except json.JSONDecodeError as error:
        raise DataError(path, f"not valid JSON ({error.msg}, column {error.colno}); the file may be truncated",
                        error.lineno) from None


def read_jsonl(path: Path) -> list[tuple[int, Any]]:
    rows = []
    for number, line in enumerate(_split_lines(_text(path)), start=1):
        if not line.strip():
            raise DataError(path, "blank line: a jsonl file holds one JSON object per line", number)
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise DataError(path, f"not valid JSON ({error.msg}, column {error.colno})", number) from None
    return rows


def read_squad(path: Path) -> Any:
    """A JSON file as evaluate.py's read_squad gives it (QA and Mewsli-X files, labels and predictions
    alike): an object with a ``"data"`` key stands for that key's value."""
    value = read_json(path)
    return value["data"] if isinstance(value, dict) and "data" in value else value


def squad_articles(path: Path) -> list[dict[str, Any]]:
    """The article list of a SQuAD-format label file (``{"data": [...]}`` or the bare list)."""
    articles = read_squad(path)
    if not isinstance(articles, list):
        raise DataError(path, "expected SQuAD JSON: {\"data\": [{\"paragraphs\": [{\"qas\": [...]}]}]}")
    return articles


def _object(path: Path, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(path, f"expected a JSON object {what}, got {type(value).__name__}")
    return value


def string_map(path: Path, what: str) -> dict[str, Any]:
    return _object(path, read_json(path), what)


def id_map(path: Path, what: str) -> dict[str, Any]:
    """A ``{id: value}`` file of a task that evaluate.py reads with read_squad (``{"data": {...}}`` is
    unwrapped)."""
    return _object(path, read_squad(path), what)


def require_shared_ids(prediction: Path, label: Path, predicted: Iterable[str], gold: Iterable[str]) -> None:
    """A prediction file that holds none of the label file's ids would score 0 without a word (every id of
    the labels counts as unanswered): that is a wrong file or wrong ids, so it is an error instead."""
    predicted, gold = list(predicted), list(gold)
    if set(predicted) & set(gold):
        return
    found = f"{len(predicted)} ids, e.g. {predicted[0]!r:.60}" if predicted else "no ids"
    example = f", e.g. {gold[0]!r:.60}" if gold else ""
    raise DataError(prediction, f"none of its ids is an id of the label file {label}: it has {found}; the labels "
                                f"have {len(gold)}{example}. The ids must be the label file's question ids")
