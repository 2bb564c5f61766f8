"""An independent oracle for ``xstilts score`` (XTREME layout): what one (prediction file, label file) pair of a
task should give, written for the tests from the official definitions (google-research/xtreme evaluate.py at
838c13b, its third_party SQuAD v1.1 / MLQA / Mewsli-X scripts, seqeval 0.0.12) and from the scorer's input
contract, without importing any of xstilts' scoring code.

``judge(task, language, prediction_bytes, label_bytes)`` returns a :class:`Verdict`:

- ``error`` set: the input is bad (the official scorer would crash or assert, or would produce a meaningless
  number); the scorer must exit 2 naming the file (``error`` is "prediction" or "label": the bad side).
- else ``metrics``: the official numbers (x100), and ``warn`` when the scorer must say something on stderr
  (a predicted value outside the task's label set, a question without a prediction, a byte order mark).

The contract (the official reader plus the checks the scorer adds): files are UTF-8, read with universal
newlines, a leading UTF-8 byte order mark skipped (the one deliberate difference from the official reader,
which would keep it in the first line). Label files are never empty and hold only the task's labels (a
Tatoeba label is a non-negative integer in canonical form; a BUCC line is ``src<TAB>en``; QA labels follow
the SQuAD structure; a Mewsli-X label is a one-element list of a string). A prediction file has one line per
label line (one sentence per label sentence, one tag per word); its values may leave the label set (the
official scorer counts them as given) but not all of them; JSON prediction files share at least one id with
the labels and give the right JSON types for the label ids.
"""

from __future__ import annotations

import json
import re
import string
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

XNLI = {"entailment", "neutral", "contradiction"}
PAWSX = {"0", "1"}
PANX = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}
UPOS = set("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())
LABELS = {"xnli": XNLI, "pawsx": PAWSX, "panx": PANX, "udpos": UPOS}

# The official report's groups (evaluate.py XTREME_GROUP2TASK) and the metric that stands for each task.
XTREME_GROUPS = {"classification": ["pawsx", "xnli"], "tagging": ["udpos", "panx"],
                 "qa": ["xquad", "mlqa", "tydiqa"], "retrieval": ["bucc2018", "tatoeba"]}
XTREME_TASKS = ["pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba", "xquad", "mlqa", "tydiqa"]


class Bad(Exception):
    def __init__(self, side: str, why: str):
        super().__init__(f"{side}: {why}")
        self.side, self.why = side, why


@dataclass
class Verdict:
    metrics: dict[str, float] = field(default_factory=dict)
    warn: list[str] = field(default_factory=list)
    error: str | None = None
    why: str = ""


# ---------------------------------------------------------------- reading


def text_of(data: bytes, side: str, warn: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        warn.append(f"{side}: byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad(side, "not UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_label(text: str) -> list[str]:
    """evaluate.py read_label: every line of the text file, stripped."""
    return [line.strip() for line in text.split("\n")[: -1 if text.endswith("\n") else None]] if text else []


def read_tag(text: str) -> list[list[str]]:
    """evaluate.py read_tag: a blank line closes an example (even an empty one); a last one without it counts."""
    labels, example = [], []
    for line in read_label(text):
        if line:
            example.append(line)
        else:
            labels.append(example)
            example = []
    if example:
        labels.append(example)
    return labels


def read_squad(text: str, side: str) -> Any:
    """evaluate.py read_squad: json.load, then the value of a "data" key when the object has one."""
    if not text.strip():
        raise Bad(side, "empty JSON file")
    try:
        value = json.loads(text)
    except ValueError:
        raise Bad(side, "invalid JSON") from None
    return value["data"] if isinstance(value, dict) and "data" in value else value


# ---------------------------------------------------------------- metrics as the official scripts define them


def accuracy(labels: list[str], predictions: list[str]) -> dict[str, float]:
    correct = sum(int(p == g) for p, g in zip(predictions, labels))  # noqa: B905 - evaluate.py's zip
    return {"accuracy": float(correct) / len(predictions) * 100}


def bucc_f1(labels: list[str], predictions: list[str]) -> dict[str, float]:
    gold = {tuple(line.split("\t")) for line in labels}
    predicted = {tuple(line.split("\t")) for line in predictions}
    correct = len(gold & predicted)
    if correct > 0:
        precision, recall = correct / len(predicted), correct / len(gold)
        f1 = 2 * precision * recall / (precision + recall)
    else:
        precision = recall = f1 = 0
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    return (prev_tag in ("E", "S") or (prev_tag == "B" and tag in ("B", "S", "O"))
            or (prev_tag == "I" and tag in ("B", "S", "O"))
            or (prev_tag != "O" and prev_tag != "." and prev_type != type_))


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    return (tag in ("B", "S") or (prev_tag in ("E", "S", "O") and tag in ("E", "I"))
            or (tag != "O" and tag != "." and prev_type != type_))


def get_entities(sentences: list[list[str]]) -> set[tuple[str, int, int]]:
    """seqeval 0.0.12 get_entities on a list of sentences: joined with an 'O' after each."""
    seq = [item for sentence in sentences for item in [*sentence, "O"]]
    prev_tag, prev_type, begin, found = "O", "", 0, set()
    for i, chunk in enumerate([*seq, "O"]):
        tag, type_ = chunk[0], chunk.split("-")[-1]
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            found.add((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return found


def seqeval_prf(labels: list[list[str]], predictions: list[list[str]]) -> dict[str, float]:
    gold, predicted = get_entities(labels), get_entities(predictions)
    correct = len(gold & predicted)
    p = correct / len(predicted) if predicted else 0
    r = correct / len(gold) if gold else 0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0
    return {"f1": f1 * 100, "precision": p * 100, "recall": r * 100}


def squad_normalize(s: str) -> str:
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


@cache
def mlqa_punctuation() -> frozenset[str]:
    return frozenset({chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}
                     | set(string.punctuation))


MLQA_ARTICLES = {"en": r"\b(a|an|the)\b", "es": r"\b(un|una|unos|unas|el|la|los|las)\b", "hi": None,
                 "vi": r"\b(của|là|cái|chiếc|những)\b",
                 "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
                 "ar": "\\sال^|ال", "zh": None}


def mlqa_normalize(s: str, lang: str) -> str:
    punct = mlqa_punctuation()
    s = "".join(ch for ch in s.lower() if ch not in punct)
    if MLQA_ARTICLES[lang]:
        s = re.sub(MLQA_ARTICLES[lang], " ", s)
    if lang == "zh":
        tokens, run = [], ""
        for char in s:
            if re.search(r"[\u4e00-\u9fa5]", char) or char in punct:
                tokens.extend(run.split())
                run = ""
                tokens.append(char)
            else:
                run += char
        tokens.extend(run.split())
    else:
        tokens = s.split()
    return " ".join(t for t in tokens if t.strip() != "")


def _f1(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    same = sum((Counter(prediction_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0
    precision, recall = same / len(prediction_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def qa_em_f1(questions: list[tuple[str, list[str]]], predictions: dict[str, Any], normalize) -> dict[str, float]:
    em = f1 = 0.0
    for question_id, golds in questions:
        if question_id not in predictions:
            continue
        prediction = predictions[question_id]
        em += max(float(normalize(prediction) == normalize(g)) for g in golds)
        f1 += max(_f1(normalize(prediction).split(), normalize(g).split()) for g in golds)
    return {"exact_match": 100.0 * em / len(questions), "f1": 100.0 * f1 / len(questions)}


def mewslix_map20(golds: dict[str, list[str]], predictions: dict[str, list[str]]) -> dict[str, float]:
    ranks = []
    for example_id, gold in golds.items():
        hits = [int(p == gold[0].strip()) for p in predictions.get(example_id, [])[:20]]
        ranks.append(next((1.0 / rank for rank, hit in enumerate(hits, start=1) if hit), 0.0))
    return {"map@20": sum(ranks) / len(ranks) * 100}


# ---------------------------------------------------------------- the contract, per task


def _canonical_index(value: str) -> bool:
    return re.fullmatch(r"0|[1-9][0-9]*", value) is not None


def _valid(task: str):
    return _canonical_index if task == "tatoeba" else LABELS[task].__contains__


def _predicted_values(task: str, values: list[str], warn: list[str]) -> None:
    outside = [v for v in values if not _valid(task)(v)]
    if outside and len(outside) == len(values):
        raise Bad("prediction", "no value of the label set")
    if outside:
        warn.append(f"prediction: {len(outside)} values outside the label set")


def _lines_task(task: str, prediction: str, label: str, warn: list[str]) -> dict[str, float]:
    labels = read_label(label)
    if not labels or not all(_valid(task)(v) for v in labels):
        raise Bad("label", "empty, or a value outside the label set")
    predictions = read_label(prediction)
    if len(predictions) != len(labels):
        raise Bad("prediction", "line count")
    _predicted_values(task, predictions, warn)
    return accuracy(labels, predictions)


def _tagging(task: str, prediction: str, label: str, warn: list[str]) -> dict[str, float]:
    labels = read_tag(label)
    tags = [tag for sentence in labels for tag in sentence]
    if not tags or not all(tag in LABELS[task] for tag in tags):
        raise Bad("label", "no tag, or a tag outside the label set")
    predictions = read_tag(prediction)
    if len(predictions) != len(labels) or any(len(p) != len(g) for p, g in zip(predictions, labels)):  # noqa: B905
        raise Bad("prediction", "sentence or tag count")
    _predicted_values(task, [tag for sentence in predictions for tag in sentence], warn)
    return seqeval_prf(labels, predictions)


def _is_pair(line: str) -> bool:
    fields = line.split("\t")
    return len(fields) == 2 and all(fields)


def _bucc(prediction: str, label: str, warn: list[str]) -> dict[str, float]:
    labels = read_label(label)
    if not labels or not all(_is_pair(line) for line in labels):
        raise Bad("label", "empty, or a line that is not src<TAB>en")
    predictions = read_label(prediction)
    pairs = [line for line in predictions if _is_pair(line)]
    if predictions and not pairs:
        raise Bad("prediction", "no pair")
    gold_ids = {i for line in labels for i in line.split("\t")}
    if not {i for line in pairs for i in line.split("\t")} & gold_ids:
        raise Bad("prediction", "no shared id")
    if len(pairs) < len(predictions):
        warn.append("prediction: malformed lines")
    return bucc_f1(labels, predictions)


def squad_questions(articles: Any) -> list[tuple[str, list[str]]]:
    def need(value: Any, kind: type) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Bad("label", "SQuAD structure")
        return value

    questions = []
    for article in need(articles, list):
        for paragraph in need(need(article, dict).get("paragraphs"), list):
            for qa in need(need(paragraph, dict).get("qas"), list):
                need(qa, dict)
                answers = need(qa.get("answers"), list)
                if not answers:
                    raise Bad("label", "no answer")
                golds = []
                for answer in answers:
                    golds.append(need(need(answer, dict).get("text"), str))
                    if "answer_start" in answer:
                        need(answer["answer_start"], int)
                questions.append((need(qa.get("id"), str), golds))
    if not questions:
        raise Bad("label", "no question")
    return questions


def _id_predictions(prediction: str, gold_ids: list[str], warn: list[str]) -> dict[str, Any]:
    predictions = read_squad(prediction, "prediction")
    if not isinstance(predictions, dict) or not set(predictions) & set(gold_ids):
        raise Bad("prediction", "not an object, or no shared id")
    if set(gold_ids) - set(predictions) or set(predictions) - set(gold_ids):
        warn.append("prediction: ids missing or extra")
    return predictions


def _qa(task: str, language: str, prediction: str, label: str, warn: list[str]) -> dict[str, float]:
    questions = squad_questions(read_squad(label, "label"))
    predictions = _id_predictions(prediction, [q for q, _ in questions], warn)
    if not all(isinstance(predictions[q], str) for q, _ in questions if q in predictions):
        raise Bad("prediction", "an answer that is not a string")
    if task == "mlqa":
        return qa_em_f1(questions, predictions, lambda s: mlqa_normalize(s, language))
    return qa_em_f1(questions, predictions, squad_normalize)


def _mewslix(prediction: str, label: str, warn: list[str]) -> dict[str, float]:
    golds = read_squad(label, "label")
    if not isinstance(golds, dict) or not golds or not all(
            isinstance(v, list) and len(v) == 1 and isinstance(v[0], str) for v in golds.values()):
        raise Bad("label", "not {id: [gold id]}")
    predictions = _id_predictions(prediction, list(golds), warn)
    if not all(isinstance(predictions[k], list) and all(isinstance(i, str) for i in predictions[k])
               for k in golds if k in predictions):
        raise Bad("prediction", "a ranking that is not a list of strings")
    return mewslix_map20(golds, predictions)


def judge(task: str, language: str, prediction: bytes, label: bytes) -> Verdict:
    warn: list[str] = []
    try:
        label_text = text_of(label, "label", warn)
        prediction_text = text_of(prediction, "prediction", warn)
        if task in ("xnli", "pawsx", "tatoeba"):
            metrics = _lines_task(task, prediction_text, label_text, warn)
        elif task in ("panx", "udpos"):
            metrics = _tagging(task, prediction_text, label_text, warn)
        elif task == "bucc2018":
            metrics = _bucc(prediction_text, label_text, warn)
        elif task in ("xquad", "mlqa", "tydiqa"):
            metrics = _qa(task, language, prediction_text, label_text, warn)
        elif task == "mewslix":
            metrics = _mewslix(prediction_text, label_text, warn)
        else:
            raise ValueError(task)
    except Bad as bad:
        return Verdict(error=bad.side, why=bad.why)
    return Verdict(metrics=metrics, warn=warn)


def task_score(per_language: dict[str, dict[str, float]], task: str) -> dict[str, Any]:
    """evaluate.py's per-task entry: {metric: {lang: value}}, avg_<metric>, avg_metric."""
    score: dict[str, Any] = {}
    for language, metrics in per_language.items():
        for metric, value in metrics.items():
            score.setdefault(metric, {})[language] = value
    score.update({f"avg_{m}": sum(values.values()) / len(values) for m, values in list(score.items())})
    if task in ("xquad", "mlqa", "tydiqa"):
        score["avg_metric"] = (score["avg_exact_match"] + score["avg_f1"]) / 2
    else:
        score["avg_metric"] = next(score[f"avg_{m}"] for m in ("f1", "accuracy", "map@20") if f"avg_{m}" in score)
    return score


def xtreme_report(detailed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """evaluate.py's report from per-task entries: all_task when all nine tasks are there, then each complete
    group, then the tasks."""
    overall: dict[str, Any] = {}
    if set(detailed) == set(XTREME_TASKS):
        overall["all_task"] = sum(detailed[t]["avg_metric"] for t in XTREME_TASKS) / len(XTREME_TASKS)
    for group, tasks in XTREME_GROUPS.items():
        if set(tasks) <= set(detailed):
            overall[group] = sum(detailed[t]["avg_metric"] for t in tasks) / len(tasks)
    return {**overall, **detailed}
