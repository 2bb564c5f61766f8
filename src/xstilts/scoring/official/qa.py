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

__all__ = ["MLQA_LANGUAGES", "mlqa", "mlqa_normalize", "score_answers", "squad_normalize", "squad_v11"]


def score_answers(
    articles: list[dict[str, Any]], predictions: dict[str, Any], normalize: Normalizer, label_path: Path,
    prediction_path: Path,
) -> dict[str, float]:
    """EM and F1 (x100) of ``predictions`` ({question id: answer text}) over every question of ``articles``."""
    exact_match = f1 = 0.0
    question_ids: list[str] = []
    for a, article in enumerate(articles):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(label_path, f"article {a} has no 'paragraphs' list")
        for paragraph in paragraphs:
            for qa in paragraph.get("qas", []) if isinstance(paragraph, dict) else []:
                if not isinstance(qa, dict) or "id" not in qa or not isinstance(qa.get("answers"), list):
                    raise DataError(label_path, f"article {a}: a question needs 'id' and an 'answers' list: {qa!r:.80}")
                question_ids.append(qa["id"])
                if qa["id"] not in predictions:
                    continue  # the official scripts count it with score 0
                prediction = predictions[qa["id"]]
                if not isinstance(prediction, str):
                    raise DataError(prediction_path, f"question {qa['id']!r}: the prediction must be the answer "
                                                     f"text (a string), got {prediction!r:.60}")
                golds = [answer["text"] for answer in qa["answers"]]
                if not golds:
                    raise DataError(label_path, f"question {qa['id']!r} has no gold answer")
                question_em, question_f1 = best_em_f1(prediction, golds, normalize, null_match=False)
                exact_match, f1 = exact_match + question_em, f1 + question_f1
    if not question_ids:
        raise DataError(label_path, "the label file holds no questions")
    layout.require_shared_ids(prediction_path, label_path, predictions, question_ids)
    total = len(question_ids)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def squad_v11(articles: list[dict[str, Any]], predictions: dict[str, Any], label_path: Path,
              prediction_path: Path) -> dict[str, float]:
    return score_answers(articles, predictions, squad_normalize, label_path, prediction_path)


def mlqa(articles: list[dict[str, Any]], predictions: dict[str, Any], language: str, label_path: Path,
         prediction_path: Path) -> dict[str, float]:
    if language not in MLQA_LANGUAGES:
        raise DataError(label_path, f"MLQA has no normalisation for language {language!r}; "
                                    f"it has {', '.join(MLQA_LANGUAGES)}")
    return score_answers(articles, predictions, mlqa_normalizer(language), label_path, prediction_path)
