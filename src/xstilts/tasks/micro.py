"""Micro-benchmark tasks: the offline stand-in for XTREME, generated in code (``xstilts.micro``).

Every micro task is registered twice, once per size, so that the size is part of the name and never hidden
state: ``micro-<task>`` (default size, benchmark "micro") and ``micro-tiny-<task>`` (tiny size, for tests,
benchmark "micro-tiny"). Files are written the first time a task needs them, under
``<data_root>/micro/<size>/<task>/<split>-<lang>.jsonl`` (e.g. ``micro/tiny/xnli/test-qae.jsonl``).

Languages: English ("en") and the synthetic languages ``qaa`` ... ``qae`` (ISO 639 private-use codes,
registered by ``xstilts.micro.languages``). Intermediate tasks are English only; target tasks train on English
and have dev and test sets in every language; retrieval tasks are evaluation only, in the synthetic languages.

The generation tasks ``micro-qg`` and ``micro-ntg`` (family ``generation``, metric ``bleu``) are declared like
the others but registered only where the ``generation`` family is (it comes with the encoder-decoder work); their
files are written either way (``MICRO_TASK_DECLARATIONS``, ``xstilts micro generate``).
``copy_baseline_bleu`` scores their trivial baseline, the source's first words. ``micro-denoise`` (family
``denoising``) reads the files of ``micro-mlm``.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.errors import XstiltsError
from xstilts.families import FAMILY_MODULES
from xstilts.micro.tasks import TASKS as MICRO_TASKS
from xstilts.micro.tasks import build
from xstilts.scoring.generation import corpus_bleu
from xstilts.tasks import register_task
from xstilts.tasks.base import Task
from xstilts.tasks.generated import write_missing
from xstilts.tasks.readers import read_jsonl

SEED = 0  # the registered tasks' data; changing it changes every file (and so every fingerprint)
BENCHMARKS = {"default": "micro", "tiny": "micro-tiny"}
# declared name -> (micro task key, size)
_SOURCES: dict[str, tuple[str, str]] = {}


def task_name(key: str, size: str) -> str:
    return f"micro-{key}" if size == "default" else f"micro-{size}-{key}"


def prepare(task: Task, data_root: Path) -> None:
    """Generate the files of a micro task that are missing (existing files are left alone)."""
    key, size = _SOURCES[task.name]
    write_missing(task, data_root, lambda: build(key, size, seed=SEED))


def _declare(key: str, size: str) -> Task:
    spec = MICRO_TASKS[key]
    name = task_name(key, size)
    _SOURCES[name] = (key, size)
    return Task(
        name=name,
        family=spec.family,
        description=spec.description + ("" if size == "default" else f" ({size} size)"),
        splits=spec.splits(),
        reader=read_jsonl,
        metrics=spec.metrics,
        labels=spec.labels,
        version="1",
        settings=dict(spec.settings),
        head=None if spec.head is None else task_name(spec.head, size),
        data_folder=f"micro/{size}/{spec.files or key}",
        prepare=prepare,
        benchmark=BENCHMARKS[size],
    )


# Every micro task, registered or not: `xstilts micro generate` writes the files of all of them.
MICRO_TASK_DECLARATIONS: tuple[Task, ...] = tuple(_declare(key, size) for size in BENCHMARKS for key in MICRO_TASKS)
# A task whose family this build does not have (generation before the encoder-decoder work) stays unregistered.
REGISTERED: tuple[Task, ...] = tuple(
    register_task(task) for task in MICRO_TASK_DECLARATIONS if task.family in FAMILY_MODULES
)


# ------------------------------------------------------------------ the trivial baseline of generation tasks


def first_words(text: str, count: int) -> str:
    return " ".join(text.split()[:count])


def copy_baseline_bleu(task: Task, data_root: Path, split: str = "test") -> dict[str, tuple[int, float]]:
    """Per language of ``split``: (word count, BLEU) of the baseline that copies the source's first words, as
    many as the references' mean length in words (rounded), scored like the task (XGLUE's corpus BLEU).

    A generation model must beat it by far before its scores say anything: it is what a model gets that learnt
    only to echo its input."""
    if task.family != "generation":
        raise XstiltsError(f"task {task.name!r} is a {task.family} task: the copy baseline scores generation tasks")
    out: dict[str, tuple[int, float]] = {}
    for language in task.languages(split):
        path = task.existing_path(split, language, data_root)
        examples = [example for _, example in task.reader(path, split, language)]
        if not examples:
            raise XstiltsError(f"task {task.name!r}: {path} has no examples to score the copy baseline on")
        references = [example["target"] for example in examples]
        count = max(1, round(sum(len(r.split()) for r in references) / len(references)))
        hypotheses = [first_words(example["source"], count) for example in examples]
        out[language] = (count, corpus_bleu(hypotheses, references))
    return out
