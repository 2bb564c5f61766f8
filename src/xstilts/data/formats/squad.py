"""SQuAD JSON (v1.1 and v2.0): SQuAD itself, and MLQA/XQuAD-style files that share the layout.

``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
"answer_start"}], "is_impossible" (v2.0)}]}]}]}``. A v2.0 question with ``is_impossible: true`` has no answers
(its ``plausible_answers`` are not gold answers and are dropped); in files without the flag an empty answer
list means the same.

A JSON file has no useful line numbers (SQuAD files are one line), so the number yielded with an example is
the question's position in the file (1-based), and errors name the JSON key path of the bad item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError


def load_json(path: Path) -> Any:
    """The parsed file; bad JSON is an error with the line and column the parser stopped at."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DataError(
            path, f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); is the file "
            "complete?", error.lineno,
        ) from None
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None


def _need(path: Path, where: str, value: Any, kind: Any, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        found = "nothing" if value is None else f"{type(value).__name__} {str(value)[:80]!r}"
        raise DataError(path, f"{where}: expected {what}, found {found}")
    return value


def read_squad(path: Path, split: str = "", language: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """Every question of a SQuAD-format file as a span_qa example
    ``{"id", "question", "context", "answers": [{"text", "start"}]}``."""
    document = load_json(path)
    data = _need(path, "top level", document, dict, 'an object with "data"').get("data")
    articles = _need(path, "data", data, list, "a list of articles")
    number = 0
    for a, article in enumerate(articles):
        where = f"data[{a}]"
        paragraphs = _need(path, f"{where}.paragraphs", _need(path, where, article, dict, "an article object")
                           .get("paragraphs"), list, "a list of paragraphs")
        for p, paragraph in enumerate(paragraphs):
            here = f"{where}.paragraphs[{p}]"
            paragraph = _need(path, here, paragraph, dict, "a paragraph object")
            context = _need(path, f"{here}.context", paragraph.get("context"), str, "the context text")
            questions = _need(path, f"{here}.qas", paragraph.get("qas"), list, "a list of questions")
            for q, qa in enumerate(questions):
                spot = f"{here}.qas[{q}]"
                qa = _need(path, spot, qa, dict, "a question object")
                number += 1
                yield number, {
                    "id": str(_need(path, f"{spot}.id", qa.get("id"), str | int, "the question id")),
                    "question": _need(path, f"{spot}.question", qa.get("question"), str, "the question text"),
                    "context": context,
                    "answers": _answers(path, spot, qa),
                }


def _answers(path: Path, spot: str, qa: dict[str, Any]) -> list[dict[str, Any]]:
    if qa.get("is_impossible") is True:
        return []
    answers = _need(path, f"{spot}.answers", qa.get("answers"), list, "a list of answers")
    out = []
    for n, answer in enumerate(answers):
        where = f"{spot}.answers[{n}]"
        answer = _need(path, where, answer, dict, 'an answer object with "text" and "answer_start"')
        out.append(
            {
                "text": _need(path, f"{where}.text", answer.get("text"), str, "the answer text"),
                "start": _need(path, f"{where}.answer_start", answer.get("answer_start"), int,
                               "an integer character offset"),
            }
        )
    return out
