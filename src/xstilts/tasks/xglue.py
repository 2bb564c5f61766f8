"""XGLUE (Liang et al., 2020): the understanding tasks, English training data only, zero-shot evaluation in
the languages of each task's dev and test sets.

Files are read from ``<data_root>/xglue/xglue_full_dataset/`` as the official archive extracts them (paths
below). Languages per task and metrics are those of XGLUE's scorer ``evaluation/xglue_evaluate.py``
(``task2lg``); 19 languages in all. Task names carry an ``xglue-`` prefix so that they never clash with
XTREME's ``xnli``/``pawsx`` (XGLUE ships its own copies of those files, in another layout).

Metrics as XGLUE scores them: NER seqeval F1; POS "accuracy", which the scorer computes as seqeval's chunk
*precision* on raw UPOS tags (declared here as "precision", main metric, with honest word accuracy beside
it); NC, XNLI, PAWS-X, QADSM, QAM accuracy; WPR nDCG per query (consecutive lines sharing a query), mean
over queries with 2 or more pages, ties in the predicted grades averaged (sklearn's ``ndcg_score``).

MLQA: XGLUE reports the MLQA script's F1, which normalises answers per language (Unicode punctuation, each
language's articles, CJK characters as tokens for zh); ``xglue-mlqa`` reports ``mlqa_f1`` (main) and
``mlqa_exact_match``, computed with that normalisation (the same code as ``xstilts score --benchmark xglue``).

QG and NTG (``xglue-qg``, ``xglue-ntg``): the ``generation`` family on an encoder-decoder; English training
(``en`` train split), zero-shot generation in every dev/test language; ``bleu`` as XGLUE's scorer computes it
(``xstilts.scoring.generation.corpus_bleu``: lower-cased corpus BLEU on stripped lines, x100 like every score
here). Their declarations are registered once the ``generation`` family exists in this build
(``families.FAMILY_MODULES``); until then the names say why they cannot be used (``TASKS.declare_unsupported``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.families import FAMILY_MODULES
from xstilts.formats import xglue as formats
from xstilts.formats.squad import read_squad
from xstilts.scoring.official.xglue import XGLUE_LANGUAGES
from xstilts.tasks import TASKS, register_task
from xstilts.tasks.base import Task

BENCHMARK = "xglue"
ROOT = "xglue/xglue_full_dataset"  # below the data root

# xglue_evaluate.py's task2lg (dev and test languages), kept with the official scorer.
LANGUAGES: dict[str, tuple[str, ...]] = XGLUE_LANGUAGES
ALL_LANGUAGES = tuple(sorted({lang for langs in LANGUAGES.values() for lang in langs}))

FileFor = Callable[[Task, str, str, Path], Path]


def _files(pattern: str, train: str | None = None) -> FileFor:
    """Paths from a pattern with {split} and {lang} (below ``ROOT``); ``train`` is the English training
    file when its name does not follow the pattern."""

    def file_for(task: Task, split: str, language: str, data_root: Path) -> Path:
        relative = train if split == "train" and train else pattern.format(split=split, lang=language)
        return data_root / ROOT / relative

    return file_for


def _pawsx_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    name = {"train": "train.tsv", "translate-train": "translated_train.tsv", "dev": "dev_2k.tsv",
            "test": "test_2k.tsv"}[split]
    return data_root / ROOT / "PAWSX" / language / name


def _splits(key: str) -> dict[str, tuple[str, ...]]:
    return {"train": ("en",), "dev": LANGUAGES[key], "test": LANGUAGES[key]}


def _xglue_task(name: str, key: str, family: str, description: str, files: FileFor, **fields: Any) -> Task:
    fields.setdefault("splits", _splits(key))
    return register_task(
        Task(
            name=name,
            family=family,
            description=description,
            file_for=files,
            data_folder=ROOT,
            version="1",
            benchmark=BENCHMARK,
            **fields,
        )
    )


XGLUE_TASKS: tuple[Task, ...] = (
    _xglue_task(
        "xglue-ner", "NER", "tagging",
        "XGLUE NER (CoNLL-2002/2003, IOB2 PER/ORG/LOC/MISC): NER/<lang>.<split>, 'word label' lines. "
        "Scored with seqeval F1.",
        _files("NER/{lang}.{split}"),
        reader=formats.read_xglue_ner, labels=formats.NER_LABELS, metrics=("f1", "precision", "recall"),
    ),
    _xglue_task(
        "xglue-pos", "POS", "tagging",
        "XGLUE POS (UD UPOS tags): POS/<lang>.<split>, 'word label' lines. XGLUE's score is seqeval chunk "
        "precision on the raw tags ('precision' here); word accuracy is given beside it.",
        _files("POS/{lang}.{split}"),
        reader=formats.read_xglue_pos, labels=formats.POS_LABELS, metrics=("precision", "accuracy"),
    ),
    _xglue_task(
        "xglue-mlqa", "MLQA", "span_qa",
        "XGLUE MLQA: train on SQuAD 1.1 (MLQA/squad1.1/train-v1.1.json), evaluate on "
        "MLQA/MLQA_V1/<split>/<split>-context-<lang>-question-<lang>.json. Scored as XGLUE does: F1 with the MLQA "
        "script's per-language answer normalisation (mlqa_f1).",
        _files("MLQA/MLQA_V1/{split}/{split}-context-{lang}-question-{lang}.json", train="MLQA/squad1.1/train-v1.1.json"),
        reader=read_squad, metrics=("mlqa_f1", "mlqa_exact_match"),
        settings={"max_answer_length": 30, "doc_stride": 128},
    ),
    _xglue_task(
        "xglue-nc", "NC", "classification",
        "XGLUE news classification (10 categories): NC/xglue.nc.<lang>.<split>, title<TAB>body<TAB>category "
        "(Data_Format.txt's query column does not exist). Accuracy.",
        _files("NC/xglue.nc.{lang}.{split}"),
        reader=formats.read_xglue_nc, labels=formats.NC_LABELS, metrics=("accuracy",),
    ),
    _xglue_task(
        "xglue-xnli", "XNLI", "classification",
        "XGLUE XNLI: train XNLI/multinli.train.en.tsv (XNLI-MT English MNLI), dev/test XNLI/<lang>.<split> "
        "(premise<TAB>hypothesis<TAB>label). Accuracy.",
        _files("XNLI/{lang}.{split}", train="XNLI/multinli.train.en.tsv"),
        reader=formats.read_xglue_xnli, labels=formats.NLI_LABELS, metrics=("accuracy",),
    ),
    _xglue_task(
        "xglue-pawsx", "PAWSX", "classification",
        "XGLUE PAWS-X: PAWSX/en/train.tsv, PAWSX/<lang>/{dev_2k,test_2k}.tsv, and machine-translated training "
        "data PAWSX/<lang>/translated_train.tsv (split translate-train; not zero-shot). Accuracy.",
        _pawsx_file,
        reader=formats.read_xglue_pawsx, labels=formats.BINARY_LABELS, metrics=("accuracy",),
        splits={**_splits("PAWSX"), "translate-train": ("de", "es", "fr")},
    ),
    _xglue_task(
        "xglue-qadsm", "QADSM", "classification",
        "XGLUE query-ad matching: QADSM/xglue.qadsm.<lang>.<split>, query<TAB>ad title<TAB>ad description"
        "<TAB>Good|Bad; encoded as (query, title + description). Accuracy.",
        _files("QADSM/xglue.qadsm.{lang}.{split}"),
        reader=formats.read_xglue_qadsm, labels=formats.QADSM_LABELS, metrics=("accuracy",),
    ),
    _xglue_task(
        "xglue-wpr", "WPR", "classification",
        "XGLUE web page ranking: WPR/xglue.wpr.<lang>.<split>, query<TAB>title<TAB>snippet<TAB>relevance 0-4; "
        "trained as 5-way classification, scored as nDCG per query of the predicted grades.",
        _files("WPR/xglue.wpr.{lang}.{split}"),
        reader=formats.read_xglue_wpr, labels=formats.WPR_LABELS, metrics=("ndcg", "accuracy"),
    ),
    _xglue_task(
        "xglue-qam", "QAM", "classification",
        "XGLUE question-answer matching: QAM/xglue.qam.<lang>.<split>, question<TAB>passage<TAB>0|1. Accuracy.",
        _files("QAM/xglue.qam.{lang}.{split}"),
        reader=formats.read_xglue_qam, labels=formats.BINARY_LABELS, metrics=("accuracy",),
    ),
)

# The generation tasks: declared here, registered only where the family that runs them exists (a build
# without it keeps the names known, with the reason, instead of "unknown task").
GENERATION_FAMILY = "generation"
GENERATION_TASKS: tuple[Task, ...] = tuple(
    Task(
        name=name,
        family=GENERATION_FAMILY,
        description=description,
        file_for=_files(pattern),
        data_folder=ROOT,
        version="1",
        benchmark=BENCHMARK,
        splits=_splits(key),
        reader=reader,
        # off_target beside BLEU: the share of outputs not in the evaluated language (answering in English)
        metrics=("bleu", "off_target"),
    )
    for name, key, description, pattern, reader in (
        ("xglue-qg", "QG",
         "XGLUE question generation: QG/xglue.qg.<lang>.{src,tgt}.<split>, the answer passage (src line) -> the "
         "question a user asked (tgt line). Scored with XGLUE's BLEU (lower-cased, stripped).",
         "QG/xglue.qg.{lang}.src.{split}", formats.read_xglue_qg),
        ("xglue-ntg", "NTG",
         "XGLUE news title generation: NTG/xglue.ntg.<lang>.{src,tgt}.<split>, the news body (src line) -> its "
         "title (tgt line). Scored with XGLUE's BLEU (lower-cased, stripped).",
         "NTG/xglue.ntg.{lang}.src.{split}", formats.read_xglue_ntg),
    )
)

if GENERATION_FAMILY in FAMILY_MODULES:
    for _task in GENERATION_TASKS:
        register_task(_task)
else:
    for _task in GENERATION_TASKS:
        TASKS.declare_unsupported(
            _task.name, f"{_task.description} It needs the {GENERATION_FAMILY!r} family (an encoder-decoder "
            "model), which this build of xstilts does not have.")
