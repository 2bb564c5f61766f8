"""XTREME and XTREME-R target tasks, read from the official raw files (see ``xstilts.formats``).

Files live under ``<data_root>/<task folder>/`` exactly as the official downloads leave them; each
declaration's description names the expected paths, and a missing file is reported with its full path.

Languages: a task's test split lists every language it has in either benchmark (XTREME-R's lists contain
XTREME's). Which languages each benchmark averages over is kept as data in :data:`XTREME_LANGUAGES` and
:data:`XTREME_R_LANGUAGES`, the official evaluate.py tables (google-research/xtreme @ 838c13b) kept in
``scoring.official.layout``; LAReQA's list there is empty, its 11 XQuAD-R languages are given instead. Training data is English only
(zero-shot); English dev sets are what model selection uses. XNLI and PAWS-X also declare ``translate-train``:
their official machine-translated training data (a source on it is not zero-shot). XCOPA has no English split:
its English training data, SuperGLUE's COPA, is the training-only task ``copa`` (not in the official tables:
the benchmark scores XCOPA).
"""

from __future__ import annotations

from pathlib import Path

from xstilts.errors import XstiltsError
from xstilts.formats import bucc, lareqa, mewslix, panx, pawsx, squad, tatoeba, udpos, xcopa, xnli
from xstilts.scoring.official.layout import TASK_LANGUAGES
from xstilts.tasks import register_task
from xstilts.tasks.base import Task


def _langs(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


# The official tables live with the official scorer (one copy: declarations and scoring cannot disagree).
XTREME_LANGUAGES: dict[str, tuple[str, ...]] = TASK_LANGUAGES["xtreme"]
XTREME_R_LANGUAGES: dict[str, tuple[str, ...]] = TASK_LANGUAGES["xtreme-r"]

BENCHMARK_LANGUAGES = {"xtreme": XTREME_LANGUAGES, "xtreme-r": XTREME_R_LANGUAGES}


def benchmark_languages(benchmark: str, task: str) -> tuple[str, ...]:
    """The languages a benchmark's score averages over for one task (the official tables)."""
    if benchmark not in BENCHMARK_LANGUAGES:
        raise XstiltsError(f"unknown benchmark {benchmark!r}: choose xtreme or xtreme-r")
    table = BENCHMARK_LANGUAGES[benchmark]
    if task not in table:
        raise XstiltsError(f"{benchmark} has no task {task!r}: its tasks are {', '.join(table)}")
    return table[task]


def _all_languages(task: str) -> tuple[str, ...]:
    """XTREME's list, then XTREME-R's additions, in the official order."""
    merged = dict.fromkeys(XTREME_LANGUAGES.get(task, ()) + XTREME_R_LANGUAGES.get(task, ()))
    return tuple(merged)


# ------------------------------------------------------------------ file locations (the data layout)

# English trains on train.tsv; the other languages' machine-translated training data (translated_train.tsv)
# is the translate-train split, which is not zero-shot.
TRANSLATE_TRAIN = "translate-train"
PAWSX_FILES = {"train": "train.tsv", TRANSLATE_TRAIN: "translated_train.tsv", "dev": "dev_2k.tsv",
               "test": "test_2k.tsv"}


def _translated(task: str) -> tuple[str, ...]:
    """The languages with official machine-translated training data: every language but English."""
    return tuple(lang for lang in _all_languages(task) if lang != "en")


def _xnli_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    root = data_root / task.data_dir
    if split in ("train", TRANSLATE_TRAIN):  # XNLI-MT: MNLI's training set and its machine translations
        return root / "XNLI-MT-1.0" / "multinli" / f"multinli.train.{language}.tsv"
    return root / "XNLI-1.0" / f"xnli.{split}.tsv"


def _pawsx_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / "x-final" / language / PAWSX_FILES[split]


def _udpos_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return udpos.release_folder(data_root / task.data_dir, language)


def _panx_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / language / split


def _xquad_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / f"xquad.{language}.json"


def _mlqa_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / "MLQA_V1" / split / f"{split}-context-{language}-question-{language}.json"


def _tydiqa_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    root = data_root / task.data_dir
    if split == "train":
        return root / "tydiqa-goldp-v1.1-train.json"
    return root / "tydiqa-goldp-v1.1-dev" / f"tydiqa-goldp-dev-{squad.TYDIQA_LANGUAGES[language]}.json"


def _bucc_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / "bucc2018" / f"{language}-en"


def _tatoeba_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / tatoeba.file_name(language)


def _lareqa_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    # The folder: one language's set is the pool of all 11 files (and its digest covers them all).
    return data_root / task.data_dir / "xquad-r"


def _mewslix_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return mewslix.mentions_file(data_root / task.data_dir, split)


def _xcopa_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / "data" / language / f"{xcopa.SPLIT_FILES[split]}.{language}.jsonl"


def _copa_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    # SuperGLUE's COPA.zip extracted as-is into the xcopa folder (the official script renames the files
    # to {train,val}-en.jsonl; the archive's own names keep the download verifiable).
    return data_root / task.data_dir / "COPA" / f"{xcopa.SPLIT_FILES[split]}.jsonl"


# ------------------------------------------------------------------ declarations


def _declare(name: str, benchmark: str, version: str = "1", **fields) -> Task:
    return register_task(Task(name=name, benchmark=benchmark, version=version, **fields))


XTREME_TASKS: tuple[Task, ...] = (
    _declare(
        "xnli", "xtreme", family="classification",
        description="XNLI: natural language inference in 15 languages; English training data is MNLI from "
        "XNLI-MT, whose machine translations into the 14 other languages are the translate-train split. "
        "Files: xnli/XNLI-MT-1.0/multinli/multinli.train.<lang>.tsv, xnli/XNLI-1.0/xnli.{dev,test}.tsv. "
        "Head 'nli', shared with MNLI: a stage that trains mnli is evaluated on xnli, as in jiant (X-STILTs).",
        splits={"train": ("en",), TRANSLATE_TRAIN: _translated("xnli"), "dev": _all_languages("xnli"),
                "test": _all_languages("xnli")},
        reader=xnli.read_xnli, labels=xnli.LABELS, metrics=("accuracy",), file_for=_xnli_file,
        # The head of MNLI, ANLI and SNLI (tasks.intermediate.NLI_HEAD), with their label order: a stage that
        # trains MNLI can be evaluated on XNLI, as jiant (the X-STILTs code) trained and evaluated XNLI.
        head="nli",
    ),
    _declare(
        "pawsx", "xtreme", family="classification",
        description="PAWS-X: paraphrase identification in 7 languages (XTREME only); the translate-train split "
        "is the official machine-translated training data of the 6 other languages. "
        "Files: pawsx/x-final/<lang>/{train.tsv,translated_train.tsv,dev_2k.tsv,test_2k.tsv}.",
        splits={"train": ("en",), TRANSLATE_TRAIN: _translated("pawsx"), "dev": _all_languages("pawsx"),
                "test": _all_languages("pawsx")},
        reader=pawsx.read_pawsx, labels=pawsx.LABELS, metrics=("accuracy",), file_for=_pawsx_file,
    ),
    _declare(
        "udpos", "xtreme", family="tagging",
        description="UD-POS: universal part-of-speech tags, XTREME's preprocessing (fused multiword tokens, "
        "treebanks of a language concatenated). Files: udpos/ud-treebanks-v2.5/UD_*/<lang>_*-ud-<split>.conllu "
        "(udpos/ud-treebanks-v2.7/ for lt, pl, uk, wo, ro). Main metric: the official seqeval chunk F1 over UPOS.",
        splits={"train": ("en",), "dev": ("en",), "test": _all_languages("udpos")},
        reader=udpos.read_udpos, labels=udpos.UPOS_TAGS, metrics=("f1", "accuracy", "precision", "recall"),
        file_for=_udpos_file,
    ),
    _declare(
        # 2: the reader keeps the official sentence sequence, empty sentences included.
        "panx", "xtreme", version="2", family="tagging",
        description="PAN-X (WikiANN): named entities PER/ORG/LOC in IOB2. "
        "Files: panx/<lang>/{train,dev,test} (each <lang>.tar.gz of panx_dataset extracted into panx/<lang>/).",
        splits={"train": ("en",), "dev": ("en",), "test": _all_languages("panx")},
        reader=panx.read_panx, labels=panx.LABELS, metrics=("f1", "precision", "recall"), file_for=_panx_file,
    ),
    _declare(
        "xquad", "xtreme", family="span_qa",
        description="XQuAD: SQuAD v1.1 dev translated into 11 languages (+ro in XTREME-R); trained on SQuAD "
        "v1.1 (shares the head 'squad': a stage training `squad` is its target stage). "
        "Files: xquad/xquad.<lang>.json.",
        splits={"test": _all_languages("xquad")},
        reader=squad.read_squad, metrics=("f1", "exact_match"), file_for=_xquad_file, head="squad",
    ),
    _declare(
        "mlqa", "xtreme", family="span_qa",
        description="MLQA: extractive QA in 7 languages (context and question in the same language); trained "
        "on SQuAD v1.1 (head 'squad', like xquad); scored with the MLQA script's per-language answer normalisation "
        "(mlqa_f1, mlqa_exact_match). Files: mlqa/MLQA_V1/{dev,test}/{dev,test}-context-<l>-question-<l>.json.",
        splits={"dev": _all_languages("mlqa"), "test": _all_languages("mlqa")},
        reader=squad.read_squad, metrics=("mlqa_f1", "mlqa_exact_match"), file_for=_mlqa_file, head="squad",
    ),
    _declare(
        "tydiqa", "xtreme", family="span_qa",
        description="TyDiQA-GoldP: QA in 9 languages; train is the English part of the official train file "
        "(ids english-...), test is GoldP dev. Files: tydiqa/tydiqa-goldp-v1.1-train.json, "
        "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-<language name>.json.",
        splits={"train": ("en",), "test": _all_languages("tydiqa")},
        reader=squad.read_tydiqa, metrics=("f1", "exact_match"), file_for=_tydiqa_file,
    ),
    _declare(
        "bucc2018", "xtreme", family="retrieval",
        description="BUCC 2018: mine parallel sentences (de/fr/ru/zh-en) with ratio margin; the threshold is "
        "chosen on dev (BUCC 'sample') and applied on test (BUCC 'training'). Files: bucc2018/bucc2018/<l>-en/<l>-en.{sample,training}.{<l>,en,gold}.",
        splits={"dev": _all_languages("bucc2018"), "test": _all_languages("bucc2018")},
        reader=bucc.read_bucc, metrics=("f1", "precision", "recall"), file_for=_bucc_file,
        settings={"protocol": "mining", "similarity": "margin", "margin_k": 4, "threshold_split": "dev"},
    ),
    _declare(
        "tatoeba", "xtreme", family="retrieval",
        description="Tatoeba: for each English sentence (in sorted order, as XTREME's labels count them), find "
        "its translation by cosine (1000 pairs per language). "
        "Files: tatoeba/tatoeba.<xxx>-eng.{<xxx>,eng} (LASER data/tatoeba/v1, 3-letter codes).",
        splits={"test": _all_languages("tatoeba")},
        reader=tatoeba.read_tatoeba, metrics=("accuracy",), file_for=_tatoeba_file,
        settings={"protocol": "nearest", "similarity": "cosine"},
    ),
    _declare(
        "xcopa", "xtreme-r", family="multiple_choice",
        description="XCOPA: causal commonsense reasoning in 11 languages, 2 choices (XTREME-R). Its English "
        "training data is the task `copa`: XTREME-R trains SocialIQa, continues the same model on English COPA "
        "and evaluates XCOPA, so socialiqa, copa and xcopa share one head ('socialiqa'). "
        "Files: xcopa/data/<lang>/{val,test}.<lang>.jsonl.",
        splits={"dev": _all_languages("xcopa"), "test": _all_languages("xcopa")},
        reader=xcopa.read_xcopa, metrics=("accuracy",), file_for=_xcopa_file, settings={"num_choices": 2},
        head="socialiqa",
    ),
    _declare(
        "copa", "xtreme-r", family="multiple_choice",
        description="COPA (SuperGLUE v2): English causal commonsense reasoning, 2 choices; XCOPA's English "
        "training (400) and dev (val, 100) data. Head 'socialiqa', shared with socialiqa and xcopa: a copa stage "
        "with `keep_heads: true` after a socialiqa stage continues that head, as XTREME-R continues the "
        "SocialIQa-trained model. Files: xcopa/COPA/{train,val}.jsonl (SuperGLUE's COPA.zip extracted as-is).",
        splits={"train": ("en",), "dev": ("en",)},
        reader=xcopa.read_xcopa, metrics=("accuracy",), file_for=_copa_file, settings={"num_choices": 2},
        head="socialiqa", data_folder="xcopa",
    ),
    _declare(
        # 2: candidates are the sentence followed by its paragraph, as the official encoding.
        "lareqa", "xtreme-r", version="2", family="retrieval",
        description="LAReQA (XQuAD-R): rank the answer sentences of one pool of all 11 languages for each question; "
        "relevant: the answer's sentence in every language. Main metric mAP@20. "
        "Files: lareqa/xquad-r/<lang>.json for ar,de,el,en,es,hi,ru,th,tr,vi,zh (all needed: one pool).",
        splits={"test": lareqa.POOL_LANGUAGES}, reader=lareqa.read_lareqa, metrics=("map@20",),
        file_for=_lareqa_file, settings={"protocol": "ranking", "similarity": "cosine"},
    ),
    _declare(
        # 2: query and candidate texts of the official preprocessing.
        "mewslix", "xtreme-r", version="2", family="retrieval",
        description="Mewsli-X: rank the entities of the candidate set for each WikiNews mention; main metric "
        "MRR@20 (the official 'map@20'). Files: mewslix/wikinews_mentions-{dev,test}.jsonl and "
        "mewslix/candidate_set_entities.jsonl (from get-mewsli-x.sh).",
        splits={"dev": mewslix.LANGUAGES, "test": mewslix.LANGUAGES}, reader=mewslix.read_mewslix,
        metrics=("mrr@20",), file_for=_mewslix_file, settings={"protocol": "ranking", "similarity": "cosine"},
    ),
)
