"""One scorer per XTREME / XTREME-R task: (prediction file, label file, language) -> {metric: value x100}.

Each follows what the official evaluate.py (google-research/xtreme 838c13b) computes, metric keys in the
same order; where the official code would silently produce a meaningless number (a sentence with more tags
than words, a label that does not exist, a malformed line, a QA / Mewsli-X / LAReQA prediction file that
holds none of the label file's ids) we raise DataError naming the file and line. QA and Mewsli-X files are
read as evaluate.py's read_squad reads them: ``{"data": X}`` stands for X, for predictions and labels alike.

LAReQA, which evaluate.py cannot score, is our extension: per language, the mean AP@20 of its questions;
per task (:data:`POOLED`), the mean over the questions of all languages together, as LAReQA's own
mean_avg_prec_at_k averages one list of every question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.scoring.metrics import average_precision_at_k, chunk_prf, reciprocal_rank_at_k
from xstilts.scoring.official import layout, qa

Scorer = Callable[[Path, Path, str], dict[str, float]]

MEWSLIX_TOP_K = 20
LAREQA_TOP_K = 20
_INTEGER = re.compile(r"\d+")


def _same_count(prediction: Path, label: Path, n_pred: int, n_gold: int, unit: str) -> None:
    if n_pred != n_gold:
        raise DataError(prediction, f"{n_pred} {unit} but the label file {label} has {n_gold}: a prediction "
                                    f"file needs one {unit.rstrip('s')} per label {unit.rstrip('s')}, in order",
                        min(n_pred, n_gold) + 1 if unit == "lines" else None)


def _check_label(task: str, prediction: Path, line: int, value: str, seen: set[str]) -> None:
    allowed = layout.LABEL_SETS.get(task)
    if allowed is not None and value not in allowed and value not in seen:
        raise DataError(prediction, f"unknown {task} label {value!r}; the labels are "
                                    f"{', '.join(sorted(allowed | seen))}", line)


# ---------------------------------------------------------------- line-per-example tasks


def accuracy_lines(task: str) -> Scorer:
    """XNLI, PAWS-X, Tatoeba: accuracy over exact equality of stripped lines."""

    def score(prediction: Path, label: Path, language: str) -> dict[str, float]:
        predictions, labels = layout.read_lines(prediction), layout.read_lines(label)
        _same_count(prediction, label, len(predictions), len(labels), "lines")
        if not labels:
            raise DataError(label, "the label file is empty")
        seen = {value for _, value in labels}
        for (line, value), (_, gold) in zip(predictions, labels, strict=True):
            if not value and gold:
                raise DataError(prediction, "blank prediction line", line)
            if task == "tatoeba" and value and not _INTEGER.fullmatch(value):
                raise DataError(prediction, f"a Tatoeba prediction is the index of the retrieved sentence "
                                            f"(an integer), got {value!r}", line)
            _check_label(task, prediction, line, value, seen)
        correct = sum(int(p == g) for (_, p), (_, g) in zip(predictions, labels, strict=True))
        return {"accuracy": float(correct) / len(predictions) * 100}

    return score


def xcopa(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """Accuracy on the integer ``label`` of each jsonl line."""

    def labels_of(path: Path) -> list[tuple[int, int]]:
        out = []
        for line, row in layout.read_jsonl(path):
            value = row.get("label") if isinstance(row, dict) else None
            if not isinstance(value, int) or isinstance(value, bool):
                raise DataError(path, f"each line needs an integer 'label' (0 or 1), got {row!r:.80}", line)
            out.append((line, value))
        return out

    predictions, labels = labels_of(prediction), labels_of(label)
    _same_count(prediction, label, len(predictions), len(labels), "lines")
    if not labels:
        raise DataError(label, "the label file is empty")
    correct = sum(int(p == g) for (_, p), (_, g) in zip(predictions, labels, strict=True))
    return {"accuracy": float(correct) / len(predictions) * 100}


def bucc(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """Set-based P/R/F1 over ``src_id<TAB>en_id`` lines (duplicates count once)."""

    def pairs(path: Path) -> set[tuple[str, ...]]:
        found = set()
        for line, value in layout.read_lines(path):
            fields = tuple(value.split("\t"))
            if len(fields) != 2 or not all(fields):
                raise DataError(path, f"expected 'src_id<TAB>en_id', got {value!r:.80}", line)
            found.add(fields)
        return found

    predicted, gold = pairs(prediction), pairs(label)
    correct = len(gold & predicted)
    if correct > 0:
        precision = correct / len(predicted)
        recall = correct / len(gold)
        f1 = 2 * precision * recall / (precision + recall)
    else:
        precision = recall = f1 = 0
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


# ---------------------------------------------------------------- tagging


def tagging(task: str) -> Scorer:
    """PAN-X and UD-POS: seqeval 0.0.12 micro P/R/F1 over chunks of the raw tags (UPOS included)."""

    def score(prediction: Path, label: Path, language: str) -> dict[str, float]:
        predicted, gold = layout.read_sentences(prediction), layout.read_sentences(label)
        _same_count(prediction, label, len(predicted), len(gold), "sentences")
        seen = {tag for _, tags in gold for tag in tags}
        for number, ((line, tags), (gold_line, gold_tags)) in enumerate(zip(predicted, gold, strict=True), 1):
            if len(tags) != len(gold_tags):
                raise DataError(prediction, f"sentence {number} has {len(tags)} tags but sentence {number} of "
                                            f"{label} (line {gold_line}) has {len(gold_tags)} words", line)
            for offset, tag in enumerate(tags):
                _check_label(task, prediction, line + offset, tag, seen)
        prf = chunk_prf([tags for _, tags in predicted], [tags for _, tags in gold])
        return {"f1": prf["f1"], "precision": prf["precision"], "recall": prf["recall"]}

    return score


# ---------------------------------------------------------------- QA


def squad(prediction: Path, label: Path, language: str) -> dict[str, float]:
    return qa.squad_v11(layout.squad_articles(label), layout.id_map(prediction, "{question_id: answer}"),
                        label, prediction)


def mlqa(prediction: Path, label: Path, language: str) -> dict[str, float]:
    return qa.mlqa(layout.squad_articles(label), layout.id_map(prediction, "{question_id: answer}"),
                   language, label, prediction)


# ---------------------------------------------------------------- ranked retrieval


def _ranked(path: Path, values: dict[str, Any], key: str) -> list[str]:
    value = values.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(path, f"example {key!r}: expected a list of ids, best first, got {value!r:.80}")
    return value


def mewslix(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """map@20 as the official Mewsli-X code computes it: the reciprocal rank of the gold entity among the
    top 20 predicted ids (0 if absent or if the example has no prediction), averaged over gold examples."""
    golds = layout.id_map(label, "{example_id: [gold entity id]}")
    predictions = layout.id_map(prediction, "{example_id: [entity ids, best first]}")
    if not golds:
        raise DataError(label, "the label file holds no examples")
    layout.require_shared_ids(prediction, label, predictions, golds)
    total = 0.0
    for example_id, gold_list in golds.items():
        gold_ids = _ranked(label, golds, example_id)
        if len(gold_ids) != 1:
            raise DataError(label, f"example {example_id!r}: expected a single-element list with the gold "
                                   f"entity id, got {gold_list!r:.80}")
        gold = gold_ids[0].strip()
        total += reciprocal_rank_at_k(gold, _ranked(prediction, predictions, example_id), k=MEWSLIX_TOP_K)
    return {"map@20": total / len(golds) * 100}


def lareqa_question_scores(prediction: Path, label: Path) -> list[float]:
    """AP@20 (0-1) of every question of the label file, in its order, each ranked against ONE candidate pool
    of all 11 languages (the answer sentence in every language is relevant); a question without a
    prediction scores 0."""
    golds = layout.id_map(label, "{question_id: [relevant candidate ids]}")
    predictions = layout.id_map(prediction, "{question_id: [candidate ids, best first]}")
    if not golds:
        raise DataError(label, "the label file holds no questions")
    layout.require_shared_ids(prediction, label, predictions, golds)
    scores = []
    for question_id in golds:
        relevant = set(_ranked(label, golds, question_id))
        if not relevant:
            raise DataError(label, f"question {question_id!r} has no relevant candidate")
        scores.append(average_precision_at_k(relevant, _ranked(prediction, predictions, question_id), k=LAREQA_TOP_K))
    return scores


def lareqa(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """mAP@20 of the questions of one language (the task score pools all languages' questions: POOLED)."""
    scores = lareqa_question_scores(prediction, label)
    return {"map@20": sum(scores) / len(scores) * 100}


@dataclass(frozen=True)
class Pooled:
    """A task whose task-level ``avg_<metric>`` is the mean over the questions of all its languages together
    (not the mean of the per-language means): ``scores`` gives a language's per-question scores (0-1)."""

    metric: str
    scores: Callable[[Path, Path], list[float]]


POOLED: dict[str, Pooled] = {"lareqa": Pooled("map@20", lareqa_question_scores)}

SCORERS: dict[str, Scorer] = {
    "pawsx": accuracy_lines("pawsx"),
    "xnli": accuracy_lines("xnli"),
    "tatoeba": accuracy_lines("tatoeba"),
    "panx": tagging("panx"),
    "udpos": tagging("udpos"),
    "bucc2018": bucc,
    "xquad": squad,
    "tydiqa": squad,
    "mlqa": mlqa,
    "mewslix": mewslix,
    "xcopa": xcopa,
    "lareqa": lareqa,
}
