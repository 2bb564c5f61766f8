"""One scorer per XTREME / XTREME-R task: (prediction file, label file, language) -> {metric: value x100}.

Each follows what the official evaluate.py (google-research/xtreme 838c13b) computes, metric keys in the
same order. Label files are checked first (their structure, their label set where the task has one, not
empty): a bad gold value is a DataError naming the file and line (or JSON key path). Where the official code
would fail or silently produce a meaningless number (a sentence with more tags than words, a malformed line,
a prediction file that holds none of the label file's ids or none of the task's labels) we raise DataError
too. A prediction the official code accepts but that is probably a mistake (a value outside the task's label
set, a question without a prediction) is scored as the official code scores it, with a note
(:func:`layout.note`) that the command prints on stderr. QA and Mewsli-X files are read as evaluate.py's
read_squad reads them: ``{"data": X}`` stands for X, for predictions and labels alike.

LAReQA, which evaluate.py cannot score, is our extension: per language, the mean AP@20 of its questions;
per task (:data:`POOLED`), the mean over the questions of all languages together, as LAReQA's own
mean_avg_prec_at_k averages one list of every question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.scoring.metrics import average_precision_at_k, chunk_prf, reciprocal_rank_at_k
from xstilts.scoring.official import layout, qa

Scorer = Callable[[Path, Path, str], dict[str, float]]

MEWSLIX_TOP_K = 20
LAREQA_TOP_K = 20
# A Tatoeba label is the 0-based index of the retrieved sentence, written as Python writes an int.
_INDEX = re.compile(r"0|[1-9][0-9]*")
XCOPA_LABELS = (0, 1)


def _same_count(prediction: Path, label: Path, n_pred: int, n_gold: int, unit: str) -> None:
    if n_pred != n_gold:
        raise DataError(prediction, f"{n_pred} {unit} but the label file {label} has {n_gold}: a prediction "
                                    f"file needs one {unit.rstrip('s')} per label {unit.rstrip('s')}, in order",
                        min(n_pred, n_gold) + 1 if unit == "lines" else None)


def _a(task: str) -> str:
    """The task's name with its article: "an xnli", "a panx"."""
    return f"{'an' if task.startswith('x') else 'a'} {task}"


def _in_label_set(task: str) -> Callable[[str], bool]:
    if task == "tatoeba":
        return lambda value: _INDEX.fullmatch(value) is not None
    allowed = layout.LABEL_SETS[task]
    return lambda value: value in allowed


def _label_set_text(task: str) -> str:
    if task == "tatoeba":
        return "the 0-based index of the retrieved sentence (an integer such as 0 or 17)"
    labels = layout.LABEL_SETS[task]
    return ", ".join(sorted(labels)) if len(labels) <= 7 else f"one of the {len(labels)} UPOS tags ({', '.join(sorted(labels))})"


def _check_gold(task: str, label: Path, values: Sequence[tuple[int, str]], unit: str) -> None:
    """Every gold value is one of the task's labels; the file holds at least one."""
    if not values:
        raise DataError(label, "the label file is empty: it needs " + (
            "one tag per line for each word, a blank line after each sentence" if unit == "tag"
            else f"one {unit} per line for each example"))
    valid = _in_label_set(task)
    for line, value in values:
        if not value:
            raise DataError(label, f"blank line: a label file holds one {unit} per line", line)
        if not valid(value):
            raise DataError(label, f"{value!r:.80} is not {_a(task)} {unit}: expected {_label_set_text(task)}", line)


def _check_predicted(task: str, prediction: Path, values: Sequence[tuple[int, str]], unit: str) -> None:
    """Predicted values outside the task's label set: the official scorer scores them as given (a line never
    equal to its gold label, a tag read by seqeval's rules), so they are scored that way with a note; a file
    none of whose values is a label is the wrong file (another task's, or class indices instead of names) and
    an error."""
    valid = _in_label_set(task)
    outside = [(line, value) for line, value in values if not valid(value)]
    if not outside:
        return
    line, value = outside[0]
    if len(outside) == len(values):
        raise DataError(prediction, f"no {unit} of the file is {_a(task)} {unit} (e.g. line {line}: {value!r:.60}); "
                                    f"expected {_label_set_text(task)}. Is it another task's file?", line)
    verb = "is" if len(outside) == 1 else "are"
    layout.note(prediction, f"{len(outside)} of {len(values)} {unit}s {verb} not {_a(task)} {unit}, e.g. line {line}: "
                            f"{value!r:.60} (expected {_label_set_text(task)}); the official scorer scores them as "
                            f"given, and so does this one")


# ---------------------------------------------------------------- line-per-example tasks


def accuracy_lines(task: str) -> Scorer:
    """XNLI, PAWS-X, Tatoeba: accuracy over exact equality of stripped lines."""

    def score(prediction: Path, label: Path, language: str) -> dict[str, float]:
        labels = layout.read_lines(label)
        _check_gold(task, label, labels, "label")
        predictions = layout.read_lines(prediction)
        _same_count(prediction, label, len(predictions), len(labels), "lines")
        _check_predicted(task, prediction, predictions, "label")
        correct = sum(int(p == g) for (_, p), (_, g) in zip(predictions, labels, strict=True))
        return {"accuracy": float(correct) / len(predictions) * 100}

    return score


def xcopa(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """Accuracy on the integer ``label`` of each jsonl line."""

    def labels_of(path: Path) -> list[tuple[int, int]]:
        out = []
        for line, row in layout.read_jsonl(path):
            if not isinstance(row, dict) or "label" not in row:
                raise DataError(path, f"expected a JSON object with an integer 'label' (0 or 1), got "
                                      f"{layout.describe(row)}", line)
            value = row["label"]
            if not isinstance(value, int) or isinstance(value, bool):
                raise DataError(path, f"label: expected an integer (0 or 1), got {layout.describe(value)}", line)
            out.append((line, value))
        return out

    labels = labels_of(label)
    if not labels:
        raise DataError(label, "the label file is empty: it needs one {\"label\": 0 or 1} line per example")
    for line, value in labels:
        if value not in XCOPA_LABELS:
            raise DataError(label, f"label: {value} is not an XCOPA label: expected 0 or 1", line)
    predictions = labels_of(prediction)
    _same_count(prediction, label, len(predictions), len(labels), "lines")
    outside = [(line, value) for line, value in predictions if value not in XCOPA_LABELS]
    if outside and len(outside) == len(predictions):
        raise DataError(prediction, f"label: no line holds an XCOPA label (0 or 1), e.g. {outside[0][1]}",
                        outside[0][0])
    if outside:
        layout.note(prediction, f"{len(outside)} of {len(predictions)} labels are not 0 or 1, e.g. line "
                                f"{outside[0][0]}: {outside[0][1]}; the official scorer counts them as wrong, and "
                                f"so does this one")
    correct = sum(int(p == g) for (_, p), (_, g) in zip(predictions, labels, strict=True))
    return {"accuracy": float(correct) / len(predictions) * 100}


def _pair(value: str) -> tuple[str, ...]:
    return tuple(value.split("\t"))


def _is_pair(fields: tuple[str, ...]) -> bool:
    return len(fields) == 2 and all(fields)


def bucc(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """Set-based P/R/F1 over ``src_id<TAB>en_id`` lines (duplicates count once)."""
    gold: set[tuple[str, ...]] = set()
    for line, value in layout.read_lines(label):
        if not value:
            raise DataError(label, "blank line: a label file holds one 'src_id<TAB>en_id' pair per line", line)
        fields = _pair(value)
        if not _is_pair(fields):
            raise DataError(label, f"expected 'src_id<TAB>en_id', got {value!r:.80}", line)
        gold.add(fields)
    if not gold:
        raise DataError(label, "the label file is empty: it needs one 'src_id<TAB>en_id' line per gold pair")
    lines = layout.read_lines(prediction)
    # As the official reader: every stripped line is a predicted tuple, a malformed one too (it never matches).
    predicted = {_pair(value) for _, value in lines}
    malformed = [(line, value) for line, value in lines if not _is_pair(_pair(value))]
    if lines and len(malformed) == len(lines):
        raise DataError(prediction, f"no line is a pair 'src_id<TAB>en_id', e.g. {malformed[0][1]!r:.60}",
                        malformed[0][0])
    pairs = [_pair(value) for _, value in lines if _is_pair(_pair(value))]
    layout.require_shared_ids(prediction, label, [i for fields in pairs for i in fields],
                              [i for fields in sorted(gold) for i in fields], "sentence ids")
    if malformed:
        layout.note(prediction, f"{len(malformed)} of {len(lines)} lines are not 'src_id<TAB>en_id', e.g. line "
                                f"{malformed[0][0]}: {malformed[0][1]!r:.60}; the official scorer counts each as a "
                                f"predicted (wrong) pair, and so does this one")
    correct = len(gold & predicted)
    if correct > 0:
        precision = correct / len(predicted)
        recall = correct / len(gold)
        f1 = 2 * precision * recall / (precision + recall)
    else:
        precision = recall = f1 = 0
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


# ---------------------------------------------------------------- tagging


def _tags(sentences: list[tuple[int, list[str]]]) -> list[tuple[int, str]]:
    """(line, tag) of every tag: a sentence's tags are on consecutive lines from its first line."""
    return [(line + offset, tag) for line, tags in sentences for offset, tag in enumerate(tags)]


def tagging(task: str) -> Scorer:
    """PAN-X and UD-POS: seqeval 0.0.12 micro P/R/F1 over chunks of the raw tags (UPOS included)."""

    def score(prediction: Path, label: Path, language: str) -> dict[str, float]:
        gold = layout.read_sentences(label)
        _check_gold(task, label, _tags(gold), "tag")
        predicted = layout.read_sentences(prediction)
        _same_count(prediction, label, len(predicted), len(gold), "sentences")
        for number, ((line, tags), (gold_line, gold_tags)) in enumerate(zip(predicted, gold, strict=True), 1):
            if len(tags) != len(gold_tags):
                raise DataError(prediction, f"sentence {number} has {len(tags)} tags but sentence {number} of "
                                            f"{label} (line {gold_line}) has {len(gold_tags)} words", line)
        _check_predicted(task, prediction, _tags(predicted), "tag")
        prf = chunk_prf([tags for _, tags in predicted], [tags for _, tags in gold])
        return {"f1": prf["f1"], "precision": prf["precision"], "recall": prf["recall"]}

    return score


# ---------------------------------------------------------------- QA


def squad(prediction: Path, label: Path, language: str) -> dict[str, float]:
    articles, root = layout.squad_articles(label)
    predictions, prediction_root = layout.id_map(prediction, "{question_id: answer}")
    return qa.squad_v11(articles, predictions, label, prediction, root, prediction_root)


def mlqa(prediction: Path, label: Path, language: str) -> dict[str, float]:
    articles, root = layout.squad_articles(label)
    predictions, prediction_root = layout.id_map(prediction, "{question_id: answer}")
    return qa.mlqa(articles, predictions, language, label, prediction, root, prediction_root)


# ---------------------------------------------------------------- ranked retrieval


def _ids(path: Path, root: str, key: str, value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(path, f"{layout.id_path(root, key)}: expected {what}, got {layout.describe(value)}")
    return value


def _ranked_files(prediction: Path, label: Path, unit: str, single: bool
                  ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The label file's {id: [gold ids]} (checked: a one-element list of a string with ``single`` (Mewsli-X),
    else a non-empty list of strings; at least one example) and the prediction file's rankings of the label
    ids (lists of strings; other ids are ignored, as the official code ignores them)."""
    what = "a one-element list with the gold entity id" if single else "a non-empty list of relevant candidate ids"
    golds, root = layout.id_map(label, f"{{{unit}_id: [{'gold entity id' if single else 'relevant ids'}]}}")
    if not golds:
        raise DataError(label, f"{layout.key_path(root)}: the label file holds no {unit}s")
    for key, value in golds.items():
        _ids(label, root, key, value, what)
        if (len(value) != 1) if single else not value:
            raise DataError(label, f"{layout.id_path(root, key)}: expected {what}, got {layout.describe(value)}")
    predictions, prediction_root = layout.id_map(prediction, f"{{{unit}_id: [candidate ids, best first]}}")
    layout.require_shared_ids(prediction, label, predictions, list(golds), f"{unit} ids")
    layout.note_coverage(prediction, label, predictions, list(golds), unit)
    ranked = {key: _ids(prediction, prediction_root, key, predictions[key], "a list of ids, best first")
              for key in golds if key in predictions}
    return golds, ranked


def mewslix(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """map@20 as the official Mewsli-X code computes it: the reciprocal rank of the gold entity among the
    top 20 predicted ids (0 if absent or if the example has no prediction), averaged over gold examples."""
    golds, predictions = _ranked_files(prediction, label, "example", single=True)
    total = sum(reciprocal_rank_at_k(gold[0].strip(), predictions.get(example_id, []), k=MEWSLIX_TOP_K)
                for example_id, gold in golds.items())
    return {"map@20": total / len(golds) * 100}


def lareqa_question_scores(prediction: Path, label: Path) -> list[float]:
    """AP@20 (0-1) of every question of the label file, in its order, each ranked against ONE candidate pool
    of all 11 languages (the answer sentence in every language is relevant); a question without a
    prediction scores 0."""
    golds, predictions = _ranked_files(prediction, label, "question", single=False)
    return [average_precision_at_k(set(relevant), predictions.get(question_id, []), k=LAREQA_TOP_K)
            for question_id, relevant in golds.items()]


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
