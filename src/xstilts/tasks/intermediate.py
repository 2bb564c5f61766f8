"""The English intermediate tasks of X-STILTs (Phang et al., 2020), plus SocialIQA (XTREME-R trains it, then
English COPA, before XCOPA; the three share its head). English only; train and dev splits (test where the release
labels it).

Files live under ``<data_root>/<task folder>/`` exactly as the official releases extract (paths in each
description). ANLI+ is not one file but a mixture: put ``anli-r1``, ``anli-r2``, ``anli-r3``, ``mnli`` and
``snli`` in one stage; they declare the same head (``nli``) and the same label order, so they train one NLI
head together, as the paper did.

CCG supertagging (``ccg``): CCGbank needs an LDC licence, so its AUTO files are read from a local copy, and
the standard supertag set (the categories seen at least 10 times in sections 02-21: 425 of them) can only
come from that data. The task's labels are therefore derived from the training sections when the data is
present (``labels_from``: the categories seen 10 or more times, sorted, plus ``<unk>`` for every rarer one;
see ``xstilts.tasks.labels``); the rule and the resulting labels enter the cache keys through the task's
description. ``ccg-jiant`` reads the same AUTO files as jiant (the X-STILTs code) prepared them: its own
sections per split (train 00-18, dev 19-21, test 22-24) and every tag of the three splits as a label (jiant
counted 1,363; no unknown tag), the rule ``EveryTag``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xstilts.formats.ccgbank import read_ccgbank, read_ccgbank_jiant
from xstilts.formats.multiple_choice import (
    read_commonsenseqa,
    read_cosmosqa,
    read_hellaswag,
    read_socialiqa,
)
from xstilts.formats.nli import NLI_LABELS, read_anli, read_mnli, read_snli
from xstilts.formats.qqp import QQP_LABELS, read_qqp
from xstilts.formats.squad import read_squad
from xstilts.tasks import register_task
from xstilts.tasks.base import Task
from xstilts.tasks.labels import EveryTag, FrequentTags

BENCHMARK = "intermediate"
NLI_HEAD = "nli"
ENGLISH = ("en",)

FileFor = Callable[[Task, str, str, Path], Path]


def _files(names: dict[str, Sequence[str]]) -> FileFor:
    """split -> candidate paths below the task folder; the first that exists is read (a task whose release
    comes in two formats, e.g. MNLI as GLUE tsv or MultiNLI jsonl). When none exists the first is named in
    the missing-file error, and the description lists all of them."""

    def file_for(task: Task, split: str, language: str, data_root: Path) -> Path:
        candidates = [data_root / task.data_dir / name for name in names[split]]
        return next((path for path in candidates if path.exists()), candidates[0])

    return file_for


def _task(name: str, family: str, description: str, files: dict[str, Sequence[str]], **fields: Any) -> Task:
    return register_task(
        Task(
            name=name,
            family=family,
            description=description,
            splits={split: ENGLISH for split in files},
            file_for=_files(files),
            version="1",
            benchmark=BENCHMARK,
            **fields,
        )
    )


def _anli_round(number: int) -> Task:
    return _task(
        f"anli-r{number}", "classification",
        f"Adversarial NLI round {number}: anli/anli_v1.0/R{number}/{{train,dev,test}}.jsonl "
        "(labels e/n/c). Part of ANLI+ (shared head 'nli').",
        {split: (f"anli_v1.0/R{number}/{split}.jsonl",) for split in ("train", "dev", "test")},
        reader=read_anli, labels=NLI_LABELS, metrics=("accuracy",), head=NLI_HEAD, data_folder="anli",
    )


INTERMEDIATE_TASKS: tuple[Task, ...] = (
    *(_anli_round(number) for number in (1, 2, 3)),
    _task(
        "mnli", "classification",
        "MultiNLI: mnli/MNLI/{train,dev_matched,dev_mismatched}.tsv (GLUE) or "
        "mnli/multinli_1.0/multinli_1.0_{train,dev_matched,dev_mismatched}.jsonl. Part of ANLI+ (head 'nli').",
        {
            "train": ("MNLI/train.tsv", "multinli_1.0/multinli_1.0_train.jsonl"),
            "dev": ("MNLI/dev_matched.tsv", "multinli_1.0/multinli_1.0_dev_matched.jsonl"),
            "dev-mismatched": ("MNLI/dev_mismatched.tsv", "multinli_1.0/multinli_1.0_dev_mismatched.jsonl"),
        },
        reader=read_mnli, labels=NLI_LABELS, metrics=("accuracy",), head=NLI_HEAD,
    ),
    _task(
        "snli", "classification",
        "Stanford NLI: snli/snli_1.0/snli_1.0_{train,dev,test}.jsonl; pairs without a majority label ('-') "
        "are left out. Part of ANLI+ (head 'nli').",
        {split: (f"snli_1.0/snli_1.0_{split}.jsonl",) for split in ("train", "dev", "test")},
        reader=read_snli, labels=NLI_LABELS, metrics=("accuracy",), head=NLI_HEAD,
    ),
    _task(
        "qqp", "classification",
        "Quora Question Pairs (GLUE): qqp/QQP/{train,dev}.tsv; duplicate (1) or not (0).",
        {"train": ("QQP/train.tsv",), "dev": ("QQP/dev.tsv",)},
        reader=read_qqp, labels=QQP_LABELS, metrics=("accuracy",),
    ),
    _task(
        "squad", "span_qa",
        "SQuAD v1.1: squad/train-v1.1.json, squad/dev-v1.1.json.",
        {"train": ("train-v1.1.json",), "dev": ("dev-v1.1.json",)},
        reader=read_squad, metrics=("f1", "exact_match"), settings={"max_answer_length": 30, "doc_stride": 128},
    ),
    _task(
        "squad2", "span_qa",
        "SQuAD v2.0 (with unanswerable questions): squad/train-v2.0.json, squad/dev-v2.0.json.",
        {"train": ("train-v2.0.json",), "dev": ("dev-v2.0.json",)},
        reader=read_squad, metrics=("f1", "exact_match"), data_folder="squad",
        settings={"max_answer_length": 30, "doc_stride": 128, "with_negative": True},
    ),
    _task(
        "hellaswag", "multiple_choice",
        "HellaSwag: hellaswag/hellaswag_{train,val}.jsonl (the test file is unlabelled); 4 endings.",
        {"train": ("hellaswag_train.jsonl",), "dev": ("hellaswag_val.jsonl",)},
        reader=read_hellaswag, metrics=("accuracy",), settings={"num_choices": 4},
    ),
    _task(
        "commonsenseqa", "multiple_choice",
        "CommonsenseQA: commonsenseqa/{train,dev}_rand_split.jsonl (the test file is unlabelled); 5 choices.",
        {"train": ("train_rand_split.jsonl",), "dev": ("dev_rand_split.jsonl",)},
        reader=read_commonsenseqa, metrics=("accuracy",), settings={"num_choices": 5},
    ),
    _task(
        "cosmosqa", "multiple_choice",
        "Cosmos QA: cosmosqa/{train,valid}.csv (or .jsonl with the same keys); 4 answers.",
        {"train": ("train.csv", "train.jsonl"), "dev": ("valid.csv", "valid.jsonl")},
        reader=read_cosmosqa, metrics=("accuracy",), settings={"num_choices": 4},
    ),
    _task(
        "socialiqa", "multiple_choice",
        "Social IQa: socialiqa/socialiqa-train-dev/{train,dev}.jsonl with {train,dev}-labels.lst beside them; "
        "3 answers. XTREME-R's first stage for XCOPA: its head ('socialiqa') is shared with copa and xcopa.",
        {"train": ("socialiqa-train-dev/train.jsonl",), "dev": ("socialiqa-train-dev/dev.jsonl",)},
        reader=read_socialiqa, metrics=("accuracy",), settings={"num_choices": 3},
    ),
    _task(
        "ccg", "tagging",
        "CCG supertagging on CCGbank (LDC2005T13, licensed: never downloaded): copy the release's data/AUTO "
        "folder to ccg/ccgbank_1_1/data/AUTO (sections 00..24 of wsj_*.auto). train = sections 02-21, dev = 00, "
        "test = 23; labels = the categories seen at least 10 times in 02-21 plus <unk> for rarer ones.",
        {split: ("ccgbank_1_1/data/AUTO",) for split in ("train", "dev", "test")},
        reader=read_ccgbank, metrics=("accuracy",), labels_from=FrequentTags(min_count=10, unknown="<unk>"),
    ),
    _task(
        "ccg-jiant", "tagging",
        "CCG supertagging as jiant (X-STILTs) prepared it, from the same AUTO folder as 'ccg' "
        "(ccg/ccgbank_1_1/data/AUTO): train = sections 00-18, dev = 19-21, test = 22-24; labels = every "
        "category seen in train, test and dev (jiant counted 1,363), so no unknown tag.",
        {split: ("ccgbank_1_1/data/AUTO",) for split in ("train", "dev", "test")},
        reader=read_ccgbank_jiant, metrics=("accuracy",), labels_from=EveryTag(("train", "test", "dev")),
        data_folder="ccg",
    ),
)
