"""Extractive QA as the official scripts score it: the SQuAD v1.1 script (XQuAD, TyDiQA-GoldP) and the MLQA
script (per-language normalisation). Written from their definitions (see shared docs: benchmarks.md); the
normalisations and the per-answer EM/F1 are those of ``xstilts.scoring.metrics``, which the span_qa family
scores studies with, so a study's numbers and the official scorer's cannot drift apart.

Both scripts: EM and token F1 of the prediction against each gold answer, the max over gold answers, the mean
over every question of the label file (a question without a prediction scores 0), x100. v1.1's F1 is 0 when
no token is shared, also when both sides normalise to nothing (unlike SQuAD 2.0's rule). A prediction file
that answers none of the questions is a DataError rather than a silent 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.scoring.metrics import (
    MLQA_LANGUAGES,
    Normalizer,
    best_em_f1,
    mlqa_normalize,
    mlqa_normalizer,
    squad_normalize,
)
from xstilts.scoring.official import layout

__all__ = ["MLQA_LANGUAGES", "mlqa", "mlqa_normalize", "questions", "score_answers", "squad_normalize", "squad_v11"]


def questions(articles: Any, label_path: Path, root: str = "data") -> list[tuple[str, list[str]]]:
    """(question id, gold answer texts) of every question of a SQuAD-format article list, in file order, after
    checking the structure the official scripts read (``articles[].paragraphs[].qas[]`` with a string ``id``
    and a non-empty ``answers`` list of ``{"text": str, "answer_start": int}``; the scripts never read
    ``answer_start``, so it may be absent, but not of another type). A problem is a DataError naming the JSON
    key path; a repeated question id is a note (the official scripts count each occurrence)."""

    def fail(keys: tuple[str | int, ...], message: str) -> DataError:
        return DataError(label_path, f"{layout.key_path(root, *keys)}: {message}")

    def need(value: Any, kind: type, keys: tuple[str | int, ...], what: str) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool):
            raise fail(keys, f"expected {what}, got {layout.describe(value)}")
        return value

    def field(value: dict[str, Any], keys: tuple[str | int, ...], key: str, kind: type, what: str) -> Any:
        if key not in value:
            raise fail(keys, f"missing key {key!r} ({what})")
        return need(value[key], kind, (*keys, key), what)

    found: list[tuple[str, list[str]]] = []
    first_at: dict[str, str] = {}
    for a, article in enumerate(need(articles, list, (), "a list of articles")):
        need(article, dict, (a,), 'an article object {"paragraphs": [...]}')
        paragraphs = field(article, (a,), "paragraphs", list, "a list of paragraphs")
        for p, paragraph in enumerate(paragraphs):
            keys: tuple[str | int, ...] = (a, "paragraphs", p)
            need(paragraph, dict, keys, 'a paragraph object {"context": ..., "qas": [...]}')
            for q, qa in enumerate(field(paragraph, keys, "qas", list, "a list of questions")):
                at = (*keys, "qas", q)
                need(qa, dict, at, 'a question object {"id": ..., "answers": [...]}')
                question_id = field(qa, at, "id", str, "the question id, a string")
                answers = field(qa, at, "answers", list, "a list of gold answers")
                if not answers:
                    raise fail((*at, "answers"), f"question {question_id!r} has no gold answer")
                golds = []
                for n, answer in enumerate(answers):
                    where = (*at, "answers", n)
                    need(answer, dict, where, 'an answer object {"text": ..., "answer_start": ...}')
                    golds.append(field(answer, where, "text", str, "the answer text, a string"))
                    if "answer_start" in answer:
                        need(answer["answer_start"], int, (*where, "answer_start"), "a character offset (an integer)")
                if question_id in first_at:
                    layout.note(label_path, f"{layout.key_path(root, *at, 'id')}: question id {question_id!r} was "
                                            f"already used at {first_at[question_id]}; the official scripts count "
                                            f"each occurrence, and so does this scorer")
                first_at.setdefault(question_id, layout.key_path(root, *at))
                found.append((question_id, golds))
    if not found:
        raise DataError(label_path, f"{layout.key_path(root)}: the label file holds no questions")
    return found


def score_answers(
    articles: Any, predictions: dict[str, Any], normalize: Normalizer, label_path: Path, prediction_path: Path,
    root: str = "data", prediction_root: str = "",
) -> dict[str, float]:
    """EM and F1 (x100) of ``predictions`` ({question id: answer text}) over every question of ``articles``."""
    gold = questions(articles, label_path, root)
    ids = [question_id for question_id, _ in gold]
    layout.require_shared_ids(prediction_path, label_path, predictions, ids)
    layout.note_coverage(prediction_path, label_path, predictions, ids, "question")
    exact_match = f1 = 0.0
    for question_id, golds in gold:
        if question_id not in predictions:
            continue  # the official scripts count it with score 0
        prediction = predictions[question_id]
        if not isinstance(prediction, str):
            raise DataError(prediction_path, f"{layout.id_path(prediction_root, question_id)}: the prediction must "
                                             f"be the answer text (a string), got {layout.describe(prediction)}")
        question_em, question_f1 = best_em_f1(prediction, golds, normalize, null_match=False)
        exact_match, f1 = exact_match + question_em, f1 + question_f1
    total = len(gold)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def squad_v11(articles: Any, predictions: dict[str, Any], label_path: Path, prediction_path: Path,
              root: str = "data", prediction_root: str = "") -> dict[str, float]:
    return score_answers(articles, predictions, squad_normalize, label_path, prediction_path, root, prediction_root)


def mlqa(articles: Any, predictions: dict[str, Any], language: str, label_path: Path, prediction_path: Path,
         root: str = "data", prediction_root: str = "") -> dict[str, float]:
    if language not in MLQA_LANGUAGES:
        raise DataError(label_path, f"MLQA has no normalisation for language {language!r}; "
                                    f"it has {', '.join(MLQA_LANGUAGES)}")
    return score_answers(articles, predictions, mlqa_normalizer(language), label_path, prediction_path, root,
                         prediction_root)
