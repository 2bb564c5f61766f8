"""Mock tasks: one small task per family, in English and one synthetic language, for tests, demos and the quick
start. They are views of the micro-benchmark (``xstilts.micro``), which generates them: the tiny size, the seed
of the registered micro tasks, and two languages only, English and ``qad`` (own words, SOV order,
postpositions, agreement, no articles, Greek script), so that studies on them run in seconds.

Each mock task renders the items of one micro task. Train is English only (zero-shot transfer); dev and test
are parallel in both languages, also for the two tasks whose micro originals are English-only intermediate
tasks (``mock-choice``, ``mock-qa``). ``mock-retrieval`` has ``qad`` dev and test sets only (it is evaluation
only) and ``mock-mlm`` non-parallel corpora in both languages. Files are written the first time a task needs
them, under ``<data_root>/mock/v2/<task>/<split>-<lang>.jsonl``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from xstilts.families import example_texts
from xstilts.micro.tasks import TASKS as MICRO_TASKS
from xstilts.micro.tasks import MicroTask, build
from xstilts.tasks import register_task
from xstilts.tasks.base import Task
from xstilts.tasks.generated import write_missing
from xstilts.tasks.micro import SEED
from xstilts.tasks.readers import read_jsonl

BENCHMARK = "mock"
LANGUAGES = ("en", "qad")
SIZE = "tiny"
# Version 1 was a hand-written English/German generator; the version names the folder, so that no file of
# version 1 left in a data root is taken for a file of version 2.
VERSION = "2"


def _view(key: str) -> MicroTask:
    """Micro task ``key`` without translate-train, with its own head, and with dev and test sets in both
    languages (an intermediate task becomes a target task)."""
    spec = MICRO_TASKS[key]
    role = "target" if spec.role == "intermediate" else spec.role
    return replace(spec, role=role, translatable=False, head=None)


# mock task -> (the micro task whose generator makes it, what it is)
VIEWS: dict[str, tuple[MicroTask, str]] = {
    "mock-nli": (_view("xnli"), "Mock NLI: entailment, neutral or contradiction."),
    "mock-paraphrase": (_view("pawsx"), "Mock paraphrase identification (PAWS-X style: the same words, reordered)."),
    "mock-choice": (_view("socialiqa"), "Mock cause and effect: the cause or result of an event, 3 choices."),
    "mock-qa": (_view("squad2"), "Mock extractive QA (SQuAD 2.0 style): a third of the questions have no answer."),
    "mock-pos": (_view("pos"), "Mock part-of-speech tagging (universal tags)."),
    "mock-ner": (_view("ner"), "Mock named entities (IOB2: PER, LOC, ORG)."),
    "mock-retrieval": (_view("bucc"), "Mock retrieval: the English rendering of each qad sentence, 30% distractors."),
    "mock-mlm": (_view("mlm"), "Mock monolingual corpora (not parallel) for masked language modelling."),
}


def prepare(task: Task, data_root: Path) -> None:
    """Generate the files of a mock task that are missing (existing files are left alone)."""
    spec = VIEWS[task.name][0]
    write_missing(task, data_root, lambda: build(spec, SIZE, SEED, LANGUAGES))


def _register(name: str, spec: MicroTask, what: str) -> Task:
    return register_task(
        Task(
            name=name,
            family=spec.family,
            description=f"{what} Made by micro-{SIZE}-{spec.key}'s generator, in English and qad.",
            splits=spec.splits(LANGUAGES),
            reader=read_jsonl,
            metrics=spec.metrics,
            labels=spec.labels,
            version=VERSION,
            settings=dict(spec.settings),
            data_folder=f"{BENCHMARK}/v{VERSION}/{name}",
            prepare=prepare,
            benchmark=BENCHMARK,
        )
    )


MOCK_TASKS: tuple[Task, ...] = tuple(_register(name, spec, what) for name, (spec, what) in VIEWS.items())


def mock_corpus(data_root: Path) -> Iterator[str]:
    """Every text of every mock task (all splits and languages), e.g. to train a tokenizer that covers them.

    Files are read as they are (not validated through the families, which would import torch)."""
    for task in MOCK_TASKS:
        task.ensure_files(Path(data_root))
        for split, langs in task.splits.items():
            for lang in langs:
                for _, example in read_jsonl(task.path(split, lang, Path(data_root))):
                    yield from example_texts(task.family, example)
