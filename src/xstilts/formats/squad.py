"""SQuAD-format JSON: SQuAD v1.1 and v2.0, XQuAD, MLQA, TyDiQA-GoldP and XGLUE's MLQA copy.

``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
"answer_start"}], "is_impossible" (v2.0)}]}]}]}``. Every question becomes a span_qa example
``{"id", "question", "context", "answers": [{"text", "start"}], "language"}``.

- Offsets are character offsets into the context as stored; each answer is checked against its context, so a
  wrong offset is reported with the question's key path rather than found later as a bad training target. A
  context that starts with U+FEFF (Thai XQuAD) keeps it: stripping it would shift every answer by one.
- SQuAD v2.0: a question with ``is_impossible: true`` has no answers (its ``plausible_answers`` are not gold
  answers and are dropped); in files without the flag an empty answer list means the same.
- TyDiQA-GoldP's training file mixes all nine languages; zero-shot transfer uses its English part, the
  questions whose ids start with ``english-`` (:func:`read_tydiqa` selects a language by that prefix).
- ``language`` is the reader's language argument: answer normalisation of MLQA's scorer depends on it.

A JSON file has no useful line numbers (SQuAD files are a single line), so the number yielded with an example
is the question's position in the file (1-based), and structural errors name the JSON key path of the bad
item; a syntax error names the line and column where parsing stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import load_json, require

# TyDiQA question ids start with the language's English name.
TYDIQA_LANGUAGES = {
    "en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian", "ko": "korean",
    "ru": "russian", "sw": "swahili", "te": "telugu",
}


def squad_examples(
    path: Path, language: str = "", keep: Callable[[str], bool] | None = None, what: str = "questions"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position of the question in the file, example) for every question ``keep`` accepts (all by default).
    Question ids must be unique in the file (the official scorers key answers by id); a file that gives no
    question (``what`` names them in the error) is an error."""
    document = load_json(path)
    articles = require(path, document, "data", list, what="a list of articles")
    position = 0
    seen: dict[str, str] = {}
    kept = 0
    for a, article in enumerate(articles):
        paragraphs = require(path, article, "paragraphs", list, f"data[{a}]", what="a list of paragraphs")
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            context = require(path, paragraph, "context", str, where, what="the context text")
            questions = require(path, paragraph, "qas", list, where, what="a list of questions")
            for q, qa in enumerate(questions):
                position += 1
                here = f"{where}.qas[{q}]"
                # SQuAD ids are strings; an integer id (some hand-made files) is kept as its text.
                qid = str(require(path, qa, "id", (str, int), here, what="the question id"))
                if qid in seen:
                    raise DataError(path, f"{here}: question id {qid!r} occurs twice (also at {seen[qid]})")
                seen[qid] = here
                question = require(path, qa, "question", str, here, what="the question text")
                answers = _answers(path, here, qid, qa, context)  # checked also where not kept
                if keep is not None and not keep(qid):
                    continue
                kept += 1
                yield position, {
                    "id": qid,
                    "question": question,
                    "context": context,
                    "answers": answers,
                    "language": language,
                }
    if not kept:
        raise DataError(path, f"holds no {what}: is the file empty or cut short?")


def _answers(path: Path, here: str, qid: str, qa: dict[str, Any], context: str) -> list[dict[str, Any]]:
    impossible = qa.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise DataError(path, f"{here}.is_impossible: expected true or false, found {impossible!r:.40}")
    listed = require(path, qa, "answers", list, here, what="a list of answers")
    if impossible:
        if listed:
            raise DataError(path, f"{here} (question {qid!r}): is_impossible is true but it has {len(listed)} "
                                  "answers (SQuAD 2.0 keeps those under plausible_answers)")
        return []
    answers = []
    for n, answer in enumerate(listed):
        spot = f"{here}.answers[{n}]"
        text = require(path, answer, "text", str, spot, what="the answer text")
        start = require(path, answer, "answer_start", int, spot, what="an integer character offset")
        found = context[start : start + len(text)] if 0 <= start < len(context) else ""
        if not text or found != text:
            elsewhere = context.find(text) if text else -1
            hint = f"the text first occurs at offset {elsewhere}" if elsewhere >= 0 else "the text is not in the context"
            raise DataError(
                path, f"{spot} (question {qid!r}): answer {text[:60]!r} is not at offset {start} of the context "
                f"(found {found[:60]!r}; {hint})",
            )
        answers.append({"text": text, "start": start})
    return answers


def read_squad(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """Every question of a file of one language (SQuAD ``{train,dev}-v{1.1,2.0}.json``, XQuAD
    ``xquad.<lang>.json``, MLQA ``*-context-<l>-question-<l>.json``)."""
    return squad_examples(path, language)


def read_tydiqa(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """TyDiQA-GoldP: the questions of ``language`` only (the train file holds all languages; each dev file
    one). Ids are kept as in the file, since the official labels use them."""
    if language not in TYDIQA_LANGUAGES:
        raise DataError(path, f"TyDiQA-GoldP has no language {language!r}: {', '.join(TYDIQA_LANGUAGES)}")
    prefix = TYDIQA_LANGUAGES[language] + "-"
    return squad_examples(path, language, keep=lambda qid: qid.startswith(prefix),
                          what=f"questions of language {language!r} (ids starting with {prefix!r})")
