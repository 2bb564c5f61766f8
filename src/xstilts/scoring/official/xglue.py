"""The XGLUE scorer (microsoft/XGLUE evaluation/xglue_evaluate.py), written from its definition.

Predictions: ``<dir>/<TASK>/<lang>.prediction`` (one line per input line; MLQA a JSON {id: answer}); labels:
the XGLUE data folder itself (``xglue_full_dataset``), read for ``split`` test or dev. Metrics (x100): NER
seqeval F1, POS seqeval chunk *precision* on the raw UPOS tags (the official script calls it accuracy), MLQA
F1 (MLQA normalisation), NC / XNLI / PAWS-X / QADSM / QAM accuracy, WPR nDCG per query (sklearn's
ndcg_score: linear gains, log2 discounts, tied scores averaged; queries with one document skipped).
QG and NTG: sacreBLEU's corpus BLEU with ``lowercase=True`` of the stripped prediction lines against the
references, each the last tab-separated field of its label line (``xglue.<task>.<lang>.tgt.<split>``),
stripped: ``xstilts.scoring.generation.corpus_bleu``. The official script divides BLEU by 100 (0-1, like its
accuracies); this scorer reports every XGLUE score x100, so BLEU stays on its usual 0-100 scale here, and a
task's "avg" is comparable with the official one times 100 for every task alike. A blank prediction line is an
empty hypothesis and a blank reference an empty reference, as in the official script (a note says so).
Per task the plain mean over languages ("avg"). nDCG, chunk P/R/F1, BLEU and the MLQA normalisation are the
code the engine scores with (``xstilts.scoring.metrics``, ``xstilts.scoring.generation``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from xstilts.errors import DataError, XstiltsError
from xstilts.scoring.metrics import chunk_prf, grouped_ndcg, ndcg
from xstilts.scoring.official import layout, qa

__all__ = ["GENERATION", "XGLUE_LANGUAGES", "evaluate", "ndcg"]

XGLUE_LANGUAGES: dict[str, tuple[str, ...]] = {
    "NER": ("de", "en", "es", "nl"),
    "POS": ("pl", "ar", "ru", "bg", "de", "el", "en", "es", "fr", "hi", "it", "nl", "pt", "th", "tr", "ur", "vi", "zh"),
    "NC": ("de", "en", "es", "fr", "ru"),
    "MLQA": ("ar", "de", "en", "es", "hi", "vi", "zh"),
    "XNLI": ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"),
    "PAWSX": ("de", "en", "es", "fr"),
    "QADSM": ("de", "en", "fr"),
    "WPR": ("de", "en", "es", "fr", "it", "pt", "zh"),
    "QAM": ("de", "en", "fr"),
    "QG": ("de", "en", "es", "fr", "it", "pt"),
    "NTG": ("de", "en", "es", "fr", "ru"),
}
# The generation tasks (scored with BLEU; their predictions are generated text, not labels).
GENERATION = ("QG", "NTG")


def _prediction_lines(path: Path) -> list[tuple[int, str]]:
    return layout.read_lines(path)


def _last_column(path: Path, skip_header: bool = False, skip_blank: bool = False) -> list[str]:
    lines = layout.read_lines(path)[1 if skip_header else 0:]
    return [value.split("\t")[-1].strip() for _, value in lines if value or not skip_blank]


def _accuracy(prediction: Path, label: Path, golds: list[str]) -> float:
    if not golds:
        raise DataError(label, "the label file holds no examples")
    if "" in golds:
        raise DataError(label, "an example without a label (its last tab-separated field is empty)")
    predictions = [value for _, value in _prediction_lines(prediction)]
    if len(predictions) != len(golds):
        raise DataError(prediction, f"{len(predictions)} prediction lines for {len(golds)} examples in {label}",
                        min(len(predictions), len(golds)) + 1)
    return 100.0 * sum(p == g for p, g in zip(predictions, golds, strict=True)) / len(golds)


def _tag_sentences(prediction: Path, label: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Official grouping: label sentences end at blank or -DOCSTART- lines (tag = last white-space field);
    a predicted sentence ends at a blank line and is padded with "O" up to its label sentence's length."""
    golds: list[list[str]] = []
    current: list[str] = []
    for _, value in layout.read_lines(label):
        if value and not value.startswith("-DOCSTART-"):
            current.append(value.split()[-1])
        elif current:
            golds.append(current)
            current = []
    if current:
        golds.append(current)
    if not golds:
        raise DataError(label, "the label file holds no sentence (one 'word tag' line per word, a blank line "
                               "after each sentence)")
    predicted: list[tuple[int, list[str]]] = []
    current, start = [], 1
    for line, value in _prediction_lines(prediction):
        if not value:
            if not current:
                raise DataError(prediction, "an empty sentence (two blank lines in a row, or a leading blank "
                                            "line): the official scorer would read an empty tag", line)
            predicted.append((start, current))
            current = []
            continue
        if not current:
            start = line
        current.append(value)
    if current:
        predicted.append((start, current))
    if len(predicted) != len(golds):
        raise DataError(prediction, f"{len(predicted)} sentences for {len(golds)} in {label}")
    padded = []
    for number, ((line, tags), gold) in enumerate(zip(predicted, golds, strict=True), start=1):
        if len(tags) > len(gold):
            raise DataError(prediction, f"sentence {number} has {len(tags)} tags for {len(gold)} words", line)
        padded.append(tags + ["O"] * (len(gold) - len(tags)))
    return padded, golds


def _wpr(prediction: Path, label: Path) -> float:
    rows = layout.read_lines(label)
    predictions = _prediction_lines(prediction)
    if len(predictions) != len(rows):
        raise DataError(prediction, f"{len(predictions)} prediction lines for {len(rows)} rows in {label}",
                        min(len(predictions), len(rows)) + 1)
    gains, scores, groups = [], [], []
    query_id, last = 0, ""
    for (line, row), (pred_line, value) in zip(rows, predictions, strict=True):
        query = row.split("\t")[0]
        if query != last and last:
            query_id += 1
        last = query
        try:
            gain = float(row.split("\t")[-1])
        except ValueError:
            raise DataError(label, f"expected a numeric rating in the last column, got {row!r:.80}", line) from None
        try:
            score = float(value)
        except ValueError:
            raise DataError(prediction, f"expected a numeric rating, got {value!r:.60}", pred_line) from None
        if not math.isfinite(score) or not math.isfinite(gain):
            where, at, what = (prediction, pred_line, value) if not math.isfinite(score) else (label, line, row)
            raise DataError(where, f"expected a finite number, got {what!r:.60} (the official scorer's sklearn "
                                   "ndcg_score refuses NaN and infinity)", at)
        gains.append(gain)
        scores.append(score)
        groups.append(str(query_id))
    try:
        return grouped_ndcg(scores, gains, groups)
    except ValueError:
        raise DataError(label, "no query with two or more documents") from None


def _bleu(prediction: Path, label: Path) -> float:
    """XGLUE's BLEU (x100) of one language: every line of both files counts, blank ones too."""
    from xstilts.scoring.generation import corpus_bleu

    references = [(line, value.split("\t")[-1].strip()) for line, value in layout.read_lines(label, strip=False)]
    if not references:
        raise DataError(label, "the label file is empty: it needs one reference text per line, one line per "
                               "example of the source file")
    hypotheses = _prediction_lines(prediction)
    if len(hypotheses) != len(references):
        raise DataError(prediction, f"{len(hypotheses)} prediction lines for {len(references)} reference lines in "
                                    f"{label}: a prediction file holds one generated text per line of the label "
                                    "file, in order (a line break inside a generated text must be replaced)",
                        min(len(hypotheses), len(references)) + 1)
    blank = [line for line, value in references if not value]
    if blank:
        layout.note(label, f"{len(blank)} of {len(references)} references are blank (first at line {blank[0]}); the "
                           "official scorer scores them as empty references, and so does this one")
    if all(not value for _, value in hypotheses):
        layout.note(prediction, "every prediction line is blank: BLEU 0 (is it the right file?)")
    return corpus_bleu([value for _, value in hypotheses], [value for _, value in references])


def _score(task: str, language: str, prediction: Path, truth: Path, split: str) -> float:
    if task in GENERATION:
        label = layout.require(truth / task / f"xglue.{task.lower()}.{language}.tgt.{split}")
        return _bleu(prediction, label)
    if task == "MLQA":
        label = truth / "MLQA" / "MLQA_V1" / split / f"{split}-context-{language}-question-{language}.json"
        articles, root = layout.squad_articles(label)
        answers = layout.string_map(prediction, "{question_id: answer}")
        return qa.mlqa(articles, answers, language, label, prediction, root)["f1"]
    if task in ("NER", "POS"):
        label = layout.require(truth / task / f"{language}.{split}")
        predicted, golds = _tag_sentences(prediction, label)
        return chunk_prf(predicted, golds)["f1" if task == "NER" else "precision"]
    if task == "XNLI":
        label = layout.require(truth / task / f"{language}.{split}")
        return _accuracy(prediction, label, _last_column(label))
    if task == "PAWSX":
        label = layout.require(truth / task / language / f"{split}_2k.tsv")
        return _accuracy(prediction, label, _last_column(label, skip_header=True, skip_blank=True))
    label = layout.require(truth / task / f"xglue.{task.lower()}.{language}.{split}")
    if task == "WPR":
        return _wpr(prediction, label)
    return _accuracy(prediction, label, _last_column(label))


def evaluate(predictions: Path, truth: Path, split: str = "test", notes: list[str] | None = None) -> dict[str, Any]:
    """{TASK: {language: score, "avg": mean}} for every XGLUE task folder in ``predictions``. Notes (ignored
    folders, byte order marks) are appended to ``notes``, or become Python warnings without it."""
    with layout.collecting_notes() as collected:
        report = _evaluate(Path(predictions), Path(truth), split)
    layout.deliver_notes(collected, notes)
    return report


def _evaluate(predictions: Path, truth: Path, split: str) -> dict[str, Any]:
    if split not in ("test", "dev"):
        raise XstiltsError(f"--split {split!r}: choose test or dev")
    if not predictions.is_dir():
        raise XstiltsError(f"prediction folder {predictions} does not exist")
    if not truth.is_dir():
        raise XstiltsError(f"label folder {truth} does not exist (XGLUE: the xglue_full_dataset folder)")
    tasks = [t for t in XGLUE_LANGUAGES if (predictions / t).is_dir()]
    for entry in sorted(predictions.iterdir()):
        if entry.is_dir() and entry.name not in XGLUE_LANGUAGES and not entry.name.startswith((".", "__")):
            layout.note(entry, f"ignored folder: not an XGLUE task folder; "
                               f"{layout.folder_hint(entry.name, XGLUE_LANGUAGES)}")
    if not tasks:
        raise XstiltsError(f"no XGLUE task folder ({', '.join(XGLUE_LANGUAGES)}) in {predictions}")
    report: dict[str, Any] = {}
    for task in tasks:
        scores: dict[str, float] = {}
        for language in XGLUE_LANGUAGES[task]:
            prediction = layout.require(predictions / task / f"{language}.prediction")
            scores[language] = _score(task, language, prediction, truth, split)
        scores["avg"] = sum(scores.values()) / len(scores)
        report[task] = scores
    return report
