"""The official XTREME / XTREME-R submission layout: tables of tasks, languages and groups, and readers.

Facts from google-research/xtreme evaluate.py (838c13b): files are ``<dir>/<task>/test-<lang>.<ext>``;
ext is json for QA and Mewsli-X, jsonl for XCOPA, tsv otherwise. LAReQA has no official layout (the official
table lists no languages for it); we use json like Mewsli-X: ``{question_id: [candidate ids, best first]}``
for predictions and ``{question_id: [relevant candidate ids]}`` for labels.

Every file is read as UTF-8 with universal newlines, as the official script's text mode reads it, except that
a leading UTF-8 byte order mark is skipped (with a note) rather than kept in the first line; bytes that are not
UTF-8 are a DataError naming the line and column. JSON problems name the line, or the key path
(``data[0].paragraphs[1].qas[0].answers[0].text``, ``["example id"]``) of the value that is wrong.
"""

from __future__ import annotations

import codecs
import json
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from xstilts.errors import DataError, XstiltsError
from xstilts.registry import did_you_mean

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
    path = Path(path)
    try:
        found = path.is_file()
    except OSError as error:
        raise DataError(path, f"cannot be read: {error.strerror or error}") from None
    if not found:
        raise DataError(path, "missing file: the official layout needs one file per task and language "
                              f"(<dir>/<task>/test-<lang>.<ext>){_look_alikes(path)}")
    return path


def _look_alikes(path: Path) -> str:
    """A hint naming the files of the folder that look like the missing one (another extension or case)."""
    stem = path.name.split(".")[0].lower()
    try:
        found = sorted(entry.name for entry in path.parent.iterdir()
                       if entry.name != path.name and entry.name.split(".")[0].lower() == stem)
    except OSError:  # no such folder (or unreadable): nothing to suggest
        return ""
    return f"; the folder has {', '.join(found)}: rename it to {path.name}" if found else ""


# ---------------------------------------------------------------- notes (stderr warnings)
#
# A value the official scorer would accept but that is probably a mistake (a label outside the task's label
# set in a prediction file, a question without a prediction, an ignored folder) is scored as the official
# scorer scores it and reported as a note; the command prints the notes on stderr.

_NOTES: ContextVar[Notes | None] = ContextVar("xstilts_official_scoring_notes", default=None)


class Notes:
    """Notes collected while scoring, in order; notes of one ``group`` (the same remark about many files) are
    rendered as one line."""

    def __init__(self) -> None:
        self._items: list[tuple[str | None, str, str]] = []

    def add(self, where: str, message: str, group: str | None = None) -> None:
        if (group, where, message) not in self._items:
            self._items.append((group, where, message))

    def lines(self) -> list[str]:
        out, grouped = [], {}
        for group, where, message in self._items:
            if group is None:
                out.append(f"{where}: {message}")
            elif group not in grouped:
                grouped[group] = [where for g, where, _ in self._items if g == group]
                if len(grouped[group]) == 1:
                    out.append(f"{where}: {message}")
                else:
                    out.append(f"{len(grouped[group])} files, e.g. {where}: {message}")
        return out


@contextmanager
def collecting_notes() -> Iterator[Notes]:
    notes = Notes()
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def deliver_notes(collected: Notes, notes: list[str] | None) -> None:
    """The notes a scoring call collected: appended to the caller's ``notes``, or Python warnings without one."""
    lines = collected.lines()
    if notes is None:
        for line in lines:
            warnings.warn(line, stacklevel=3)
    else:
        notes.extend(lines)


def note(path: Path | str, message: str, line: int | None = None, group: str | None = None) -> None:
    """Record a note about ``path`` (for the command to print on stderr); outside :func:`collecting_notes` it
    becomes a Python warning."""
    where = f"{path}:{line}" if line is not None else str(path)
    notes = _NOTES.get()
    if notes is None:
        warnings.warn(f"{where}: {message}", stacklevel=2)
    else:
        notes.add(where, message, group)


# ---------------------------------------------------------------- readers


def _text(path: Path) -> str:
    """The text of a file as the official reader's text mode gives it (UTF-8, universal newlines), with a
    leading UTF-8 byte order mark skipped (the official reader would keep it in the first line, or fail on it in
    a JSON file)."""
    try:
        data = require(path).read_bytes()
    except OSError as error:
        raise DataError(path, f"cannot be read: {error.strerror or error}") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        note(path, "starts with a UTF-8 byte order mark; it is skipped (the official scorer would read it as "
                   "part of the first line, or fail on it in a JSON file)", group="bom")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(path, "UTF-16 text (it starts with a UTF-16 byte order mark): the official files are "
                              "UTF-8; save it as UTF-8", 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        column = error.start - max(before.rfind(b"\n"), before.rfind(b"\r"))
        raise DataError(path, f"not UTF-8 text: byte 0x{data[error.start]:02x} at column {column} is invalid "
                              f"({error.reason}); the official files are UTF-8: save it as UTF-8", line) from None
    # Universal newlines, as Python's text mode reads the file for the official scorer.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split_lines(text: str) -> list[str]:
    """Lines as Python's text-mode file iteration yields them (universal newlines, which _text has already
    turned into \\n); str.splitlines would also split at form feeds and U+2028."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def read_lines(path: Path, strip: bool = True) -> list[tuple[int, str]]:
    """(line number, line) for every line, as the official reader keeps them (blank ones too): stripped, or
    with ``strip=False`` as read (without the line end), for a reader that splits before it strips."""
    lines = enumerate(_split_lines(_text(path)), start=1)
    return [(number, line.strip() if strip else line) for number, line in lines]


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
    """A JSON file as json.load reads it; a key repeated in one object keeps its last value, as there, with a
    note."""
    text = _text(path)
    if not text.strip():
        raise DataError(path, "the file is empty: expected a JSON document")
    repeated: list[str] = []

    def keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for key, item in pairs:
            if key in value:
                repeated.append(key)
            value[key] = item
        return value

    try:
        value = json.loads(text, object_pairs_hook=keep_last)
    except json.JSONDecodeError as error:
        end = error.pos >= len(text.rstrip())
        raise DataError(path, f"not valid JSON ({error.msg}, column {error.colno})"
                              + ("; the file ends too early: it may be truncated" if end else ""),
                        error.lineno) from None
    except (ValueError, RecursionError) as error:  # an integer of too many digits, nesting too deep
        raise DataError(path, f"not valid JSON for the scorer: {error}") from None
    if repeated:
        note(path, f"{len(repeated)} key(s) repeated within one object, e.g. {repeated[0]!r:.60}: the last "
                   f"value counts, as the official reader takes it")
    return value


def read_jsonl(path: Path) -> list[tuple[int, Any]]:
    rows = []
    for number, line in enumerate(_split_lines(_text(path)), start=1):
        if not line.strip():
            raise DataError(path, "blank line: a jsonl file holds one JSON object per line", number)
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise DataError(path, f"not valid JSON ({error.msg}, column {error.colno})", number) from None
        except (ValueError, RecursionError) as error:
            raise DataError(path, f"not valid JSON for the scorer: {error}", number) from None
    return rows


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_path(root: str, *keys: str | int) -> str:
    """A JSON key path such as ``data[0].paragraphs[2].qas[1].answers[0].text`` or ``data["e1"][0]``."""
    path = root
    for key in keys:
        if isinstance(key, int):
            path += f"[{key}]"
        elif _IDENTIFIER.fullmatch(key):
            path += f".{key}" if path else key
        else:
            path += f"[{json.dumps(key, ensure_ascii=False)}]"
    return path or "the top level"


def id_path(root: str, key: str) -> str:
    """The key path of an entry of an ``{id: value}`` map: ``data["e1"]`` or ``["e1"]`` (ids always in brackets)."""
    return f"{root}[{json.dumps(key, ensure_ascii=False)}]"


def folder_hint(name: str, choices: Iterable[str]) -> str:
    """A hint for a misnamed folder: the choice it is spelt like (case, punctuation), one it contains
    (``panx_old``), else the closest names."""
    choices = list(choices)
    plain = re.sub(r"[^a-z0-9]", "", name.lower())
    same = [c for c in choices if re.sub(r"[^a-z0-9]", "", c.lower()) == plain]
    inside = sorted((c for c in choices if c.lower() in plain), key=len, reverse=True)
    if same or inside:
        return f"did you mean {(same or inside)[0]!r}? The folder names are exactly those of the official table"
    return did_you_mean(name, choices)


def read_squad(path: Path) -> tuple[Any, str]:
    """A JSON file as evaluate.py's read_squad gives it (QA and Mewsli-X files, labels and predictions
    alike): an object with a ``"data"`` key stands for that key's value. Returns the value and its key path
    (``"data"`` or ``""``)."""
    value = read_json(path)
    if isinstance(value, dict) and "data" in value:
        return value["data"], "data"
    return value, ""


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: its kind and a clipped rendering."""
    text = json.dumps(value, ensure_ascii=False)
    return f"{_kind(value)} ({text[:60]}{'...' if len(text) > 60 else ''})"


def squad_articles(path: Path) -> tuple[list[Any], str]:
    """The article list of a SQuAD-format label file (``{"data": [...]}`` or the bare list) and its key path;
    the articles themselves are checked by :func:`xstilts.scoring.official.qa.questions`."""
    articles, root = read_squad(path)
    if not isinstance(articles, list):
        raise DataError(path, f"{key_path(root)}: expected a list of articles (SQuAD JSON: {{\"data\": "
                              f"[{{\"paragraphs\": [{{\"qas\": [...]}}]}}]}}), got {describe(articles)}")
    return articles, root


def _object(path: Path, value: Any, what: str, root: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(path, f"{key_path(root)}: expected a JSON object {what}, got {describe(value)}")
    return value


def string_map(path: Path, what: str) -> dict[str, Any]:
    return _object(path, read_json(path), what)


def id_map(path: Path, what: str) -> tuple[dict[str, Any], str]:
    """A ``{id: value}`` file of a task that evaluate.py reads with read_squad (``{"data": {...}}`` is
    unwrapped) and its key path."""
    value, root = read_squad(path)
    return _object(path, value, what, root), root


def require_shared_ids(prediction: Path, label: Path, predicted: Iterable[str], gold: Iterable[str],
                       what: str = "question ids") -> None:
    """A prediction file that holds none of the label file's ids would score 0 without a word (every id of
    the labels counts as unanswered): that is a wrong file or wrong ids, so it is an error instead."""
    predicted, gold = list(predicted), list(gold)
    if set(predicted) & set(gold):
        return
    found = f"{len(predicted)} ids, e.g. {predicted[0]!r:.60}" if predicted else "no ids"
    example = f", e.g. {gold[0]!r:.60}" if gold else ""
    raise DataError(prediction, f"none of its ids is an id of the label file {label}: it has {found}; the labels "
                                f"have {len(gold)}{example}. The ids must be the label file's {what}")


def note_coverage(prediction: Path, label: Path, predicted: Iterable[str], gold: list[str], unit: str) -> None:
    """Notes on label ids without a prediction (they score 0, as in the official scorer, which prints one
    line per unanswered question) and prediction ids that are no label id (ignored, as there)."""
    predicted_set, gold_set = set(predicted), set(gold)
    missing = [key for key in gold if key not in predicted_set]
    if missing:
        note(prediction, f"{len(missing)} of the {len(gold)} {unit}s of {label} {'has' if len(missing) == 1 else 'have'} "
                         f"no prediction, e.g. {missing[0]!r:.60}: each scores 0, as in the official scorer")
    extra = sorted(predicted_set - gold_set)
    if extra:
        note(prediction, f"{len(extra)} {'id is' if len(extra) == 1 else 'ids are'} no {unit} of {label}, e.g. "
                         f"{extra[0]!r:.60}: ignored, as in the official scorer")
