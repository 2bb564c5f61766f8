"""Mock tasks: one small generated task per family, in English and German, shipped with the package for tests,
demos and the quick start. No download: the data is generated in code (``mock_data``) and written as JSON
lines under ``<data_root>/mock/<task>/<split>-<lang>.jsonl`` the first time a task needs it.

Train is English only (zero-shot transfer); dev and test have English and parallel German. Retrieval has
German dev and test sets only (it is evaluation only) and MLM has non-parallel corpora in both languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.tasks import register_task
from xstilts.tasks.base import Task
from xstilts.tasks.generated import write_missing
from xstilts.tasks.mock_data import NER_LABELS, NLI_LABELS, POS_LABELS, SENTIMENT_LABELS, generate
from xstilts.tasks.readers import read_jsonl

BENCHMARK = "mock"
TRANSFER_SPLITS = {"train": ("en",), "dev": ("en", "de"), "test": ("en", "de")}


def prepare(task: Task, data_root: Path) -> None:
    """Generate the files of a mock task that are missing (existing files are left alone)."""
    write_missing(task, data_root, lambda: generate(task.name))


def _mock_task(name: str, family: str, description: str, **fields: Any) -> Task:
    fields.setdefault("splits", dict(TRANSFER_SPLITS))
    return register_task(
        Task(
            name=name,
            family=family,
            description=description,
            reader=read_jsonl,
            version="1",
            data_folder=f"mock/{name}",
            prepare=prepare,
            benchmark=BENCHMARK,
            **fields,
        )
    )


MOCK_TASKS: tuple[Task, ...] = (
    _mock_task(
        "mock-nli", "classification",
        "Mock NLI: does a sentence of simple facts (home, employer, possessions) entail the hypothesis?",
        labels=NLI_LABELS, metrics=("accuracy",), head="mock-nli",
    ),
    _mock_task(
        "mock-sentiment", "classification",
        "Mock sentiment: short reviews with negation and contrast ('good, but ...'); the last clause decides.",
        labels=SENTIMENT_LABELS, metrics=("accuracy",),
    ),
    _mock_task(
        "mock-choice", "multiple_choice",
        "Mock cause and effect (XCOPA style): pick the cause or the result of an event among 3 choices.",
        metrics=("accuracy",), settings={"num_choices": 3},
    ),
    _mock_task(
        "mock-qa", "span_qa",
        "Mock extractive QA (SQuAD 2.0 style): short texts about people; a third of the questions have no answer.",
        metrics=("f1", "exact_match"), settings={"with_negative": True, "max_answer_length": 10, "doc_stride": 32},
    ),
    _mock_task(
        "mock-pos", "tagging",
        "Mock part-of-speech tagging with UPOS tags; German word order differs (verb second, participle last).",
        labels=POS_LABELS, metrics=("accuracy", "f1"),
    ),
    _mock_task(
        "mock-ner", "tagging",
        "Mock named entities (IOB2: PER, LOC, ORG), multi-word names included ('New York', 'Hugo Boss').",
        labels=NER_LABELS, metrics=("f1", "precision", "recall"),
    ),
    _mock_task(
        "mock-retrieval", "retrieval",
        "Mock sentence retrieval: find the English translation of each German sentence; 20% distractors.",
        splits={"dev": ("de",), "test": ("de",)}, metrics=("accuracy",), settings={"layer": -1, "pooling": "mean"},
    ),
    _mock_task(
        "mock-mlm", "mlm",
        "Mock monolingual corpora (English and German, not parallel) for masked language modelling.",
        splits={"train": ("en", "de"), "dev": ("en", "de")}, metrics=("accuracy",),
    ),
)


def _texts(family: str, example: dict[str, Any]) -> Iterator[str]:
    if family == "classification":
        yield example["text"]
        if example.get("text_pair") is not None:
            yield example["text_pair"]
    elif family == "multiple_choice":
        yield example["context"]
        yield from example["choices"]
    elif family == "span_qa":
        yield example["question"]
        yield example["context"]
    elif family == "tagging":
        yield " ".join(example["tokens"])
    elif family == "retrieval":
        yield from (example[side] for side in ("source", "target") if example.get(side) is not None)
    else:
        yield example["text"]


def mock_corpus(data_root: Path) -> Iterator[str]:
    """Every text of every mock task (all splits and languages), e.g. to train a tokenizer that covers them.

    Files are read as they are (not validated through the families, which would import torch)."""
    for task in MOCK_TASKS:
        task.ensure_files(Path(data_root))
        for split, langs in task.splits.items():
            for lang in langs:
                for _, example in read_jsonl(task.path(split, lang, Path(data_root))):
                    yield from _texts(task.family, example)
