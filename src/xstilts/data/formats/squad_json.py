"""SQuAD-format JSON (XQuAD, MLQA, TyDiQA-GoldP, SQuAD itself): ``{"data": [{"paragraphs": [{"context",
"qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}``.

Offsets are character offsets into the context as stored, so a context that starts with U+FEFF (Thai
XQuAD) keeps it: stripping it would shift every answer by one. TyDiQA-GoldP's official training file mixes
all nine languages; for zero-shot transfer only its English part is used (question ids ``english-...``),
which :func:`read_tydiqa` selects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xstilts.data.formats.common import load_json, require
from xstilts.errors import DataError

# TyDiQA question ids start with the language's English name.
TYDIQA_LANGUAGES = {
    "en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian", "ko": "korean",
    "ru": "russian", "sw": "swahili", "te": "telugu",
}


def squad_examples(path: Path, keep: Callable[[str], bool] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every question as ``{"id", "question", "context", "answers": [{"text", "start"}]}``. The number is
    the question's position in the file (1-based): JSON has no useful line numbers."""
    document = load_json(path)
    articles = require(path, document, "data", list, "top level")
    position = 0
    for a, article in enumerate(articles):
        paragraphs = require(path, article, "paragraphs", list, f"data[{a}]")
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            context = require(path, paragraph, "context", str, where)
            for q, qa in enumerate(require(path, paragraph, "qas", list, where)):
                position += 1
                here = f"{where}.qas[{q}]"
                qid = require(path, qa, "id", str, here)
                if keep is not None and not keep(qid):
                    continue
                answers = []
                for n, answer in enumerate(require(path, qa, "answers", list, here)):
                    text = require(path, answer, "text", str, f"{here}.answers[{n}]")
                    start = require(path, answer, "answer_start", int, f"{here}.answers[{n}]")
                    if context[start : start + len(text)] != text:
                        raise DataError(
                            path, f"{here} (id {qid!r}): answer {text!r} is not at offset {start} of the context "
                            f"(found {context[start : start + len(text)]!r})",
                        )
                    answers.append({"text": text, "start": start})
                yield position, {
                    "id": qid,
                    "question": require(path, qa, "question", str, here),
                    "context": context,
                    "answers": answers,
                }


def read_squad(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """A file of one language (XQuAD ``xquad.<lang>.json``, MLQA ``*-context-<l>-question-<l>.json``)."""
    return squad_examples(path)


def read_tydiqa(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """TyDiQA-GoldP: the questions of ``language`` only (the train file holds all languages; each dev file
    one). Ids are kept as in the file, since the official labels use them."""
    if language not in TYDIQA_LANGUAGES:
        raise DataError(path, f"TyDiQA-GoldP has no language {language!r}: {', '.join(TYDIQA_LANGUAGES)}")
    prefix = TYDIQA_LANGUAGES[language] + "-"
    return squad_examples(path, keep=lambda qid: qid.startswith(prefix))
