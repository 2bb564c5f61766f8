"""Extractive QA as the official scripts score it: the SQuAD v1.1 script (XQuAD, TyDiQA-GoldP) and the MLQA
script (per-language normalisation). Written from their definitions (see shared docs: benchmarks.md).

Both scripts: EM and token F1 of the prediction against each gold answer, the max over gold answers, the mean
over every question of the label file (a question without a prediction scores 0), x100. v1.1's F1 is 0 when
no token is shared, also when both sides normalise to nothing (unlike SQuAD 2.0's rule).
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.evaluation.metrics import squad_normalize

# ---------------------------------------------------------------- MLQA normalisation



@functools.cache
def mlqa_punctuation() -> frozenset[str]:
    """Every code point of a Unicode punctuation category (P*) below sys.maxunicode, plus ASCII punctuation
    (which adds symbols such as $ + < = > ^ ` | ~). Built on first use: it scans all of Unicode."""
    return frozenset(
        {chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}
        | set(string.punctuation)
    )

_MLQA_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    # Every "ال" is replaced by a space, even inside a word (the official pattern's other branch never matches).
    "ar": re.compile("ال"),
}
_WHITESPACE_LANGUAGES = frozenset({"en", "es", "hi", "vi", "de", "ar"})
_CJK = re.compile("[\u4e00-\u9fa5]")
MLQA_LANGUAGES = ("en", "es", "de", "ar", "hi", "vi", "zh")


def _mixed_segmentation(text: str) -> list[str]:
    """zh: each character in U+4E00..U+9FA5 and each punctuation mark is a token; other runs split on white
    space."""
    punctuation = mlqa_punctuation()
    tokens: list[str] = []
    pending = ""
    for char in text:
        if _CJK.match(char) or char in punctuation:
            tokens.extend(pending.split())
            pending = ""
            tokens.append(char)
        else:
            pending += char
    tokens.extend(pending.split())
    return tokens


def mlqa_normalize(text: str, language: str) -> str:
    """Lower-case, drop Unicode and ASCII punctuation, drop the language's articles, re-join tokens."""
    if language not in MLQA_LANGUAGES:
        raise ValueError(f"MLQA has no normalisation for language {language!r}; it has {', '.join(MLQA_LANGUAGES)}")
    punctuation = mlqa_punctuation()
    text = "".join(ch for ch in text.lower() if ch not in punctuation)
    if language in _MLQA_ARTICLES:
        text = _MLQA_ARTICLES[language].sub(" ", text)
    tokens = text.split() if language in _WHITESPACE_LANGUAGES else _mixed_segmentation(text)
    return " ".join(t for t in tokens if t.strip())


# ---------------------------------------------------------------- EM / F1 over a label file

Normalizer = Callable[[str], str]


def _f1(prediction: str, gold: str, normalize: Normalizer) -> float:
    pred_tokens, gold_tokens = normalize(prediction).split(), normalize(gold).split()
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0
    precision = 1.0 * same / len(pred_tokens)
    recall = 1.0 * same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def _exact(prediction: str, gold: str, normalize: Normalizer) -> bool:
    return normalize(prediction) == normalize(gold)


def score_answers(
    articles: list[dict[str, Any]], predictions: dict[str, Any], normalize: Normalizer, label_path: Path,
    prediction_path: Path,
) -> dict[str, float]:
    """EM and F1 (x100) of ``predictions`` ({question id: answer text}) over every question of ``articles``."""
    exact_match = f1 = 0.0
    total = 0
    for a, article in enumerate(articles):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(label_path, f"article {a} has no 'paragraphs' list")
        for paragraph in paragraphs:
            for qa in paragraph.get("qas", []) if isinstance(paragraph, dict) else []:
                if not isinstance(qa, dict) or "id" not in qa or not isinstance(qa.get("answers"), list):
                    raise DataError(label_path, f"article {a}: a question needs 'id' and an 'answers' list: {qa!r:.80}")
                total += 1
                if qa["id"] not in predictions:
                    continue  # the official scripts count it with score 0
                prediction = predictions[qa["id"]]
                if not isinstance(prediction, str):
                    raise DataError(prediction_path, f"question {qa['id']!r}: the prediction must be the answer "
                                                     f"text (a string), got {prediction!r:.60}")
                golds = [answer["text"] for answer in qa["answers"]]
                if not golds:
                    raise DataError(label_path, f"question {qa['id']!r} has no gold answer")
                exact_match += max(_exact(prediction, gold, normalize) for gold in golds)
                f1 += max(_f1(prediction, gold, normalize) for gold in golds)
    if total == 0:
        raise DataError(label_path, "the label file holds no questions")
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def squad_v11(articles: list[dict[str, Any]], predictions: dict[str, Any], label_path: Path,
              prediction_path: Path) -> dict[str, float]:
    return score_answers(articles, predictions, squad_normalize, label_path, prediction_path)


def mlqa(articles: list[dict[str, Any]], predictions: dict[str, Any], language: str, label_path: Path,
         prediction_path: Path) -> dict[str, float]:
    if language not in MLQA_LANGUAGES:
        raise DataError(label_path, f"MLQA has no normalisation for language {language!r}; "
                                    f"it has {', '.join(MLQA_LANGUAGES)}")
    return score_answers(articles, predictions, lambda text: mlqa_normalize(text, language), label_path,
                         prediction_path)
