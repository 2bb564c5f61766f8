"""Published split sizes: examples per task, split and language, so that ``xstilts plan`` can estimate a study
before its data is downloaded. No torch, no data files.

Every number below names where it is published. Most are the ``num_examples`` of the Hugging Face dataset
builders (``huggingface/datasets`` at d7dfbc83, the last commit that kept the scripts in the repository:
``datasets/<name>/dataset_infos.json``), which read the same official files as our readers and count the same
unit (a pair, a sentence, a question: one example of the task). A builder is only used where it counts what our
reader yields:

- PAWS-X: the ``paws-x`` builder (a plain tab split, as our reader), not the ``xtreme`` one (CSV quoting merges
  lines there: 1,999 test pairs for ko).
- XNLI-MT: each language's ``multinli.train.<lang>.tsv`` has MNLI's 392,702 pairs (the ``xnli`` builder's train).
- PAN-X: the ``xtreme`` builder's ``PAN-X.<lang>`` (panx_dataset, the Rahimi et al. split); XTREME-R's
  added languages from the ``wikiann`` builder, which reads the same panx_dataset archive. Our reader also
  counts an empty sentence for a doubled blank line, which the builder skips; the released files have none
  that we know of.
- Tatoeba: the ``xtreme`` builder's ``tatoeba.<xxx>`` (LASER's line-aligned files); one example is an English
  sentence and its translation, two encoder inputs.

Left out because no published number counts what our reader yields (the plan keeps "unknown" for them and says
which): UD-POS (the ``xtreme`` builder reads UD v2.5 without XTREME's preprocessing: it keeps any sentence
with one written word, skips Arabic-NYUAD, and joins treebanks by English language name), TyDiQA-GoldP
(published per language nowhere we could read; the builder's 49,881 / 5,077 mix all languages), BUCC 2018
(sentences per side of the sample and training parts: the builder holds only the gold pairs), SNLI (our
reader leaves out the pairs without a majority label; the builder's 550,152 keeps them), CCGbank (licensed;
no count of jiant's sections was found), Mewsli-X and LAReQA, and XTREME-R's Tatoeba additions.
"""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.scoring.official.layout import TASK_LANGUAGES

HF_DATASETS = "huggingface/datasets@d7dfbc83 datasets/{name}/dataset_infos.json"


@dataclass(frozen=True)
class PublishedSize:
    """Examples of one split in one language, and where that number is published. ``inputs`` is the number of
    encoder inputs one example has when it is not 1 for its family (a Tatoeba pair: 2); a multiple-choice
    example has one per choice, which the task's ``num_choices`` says."""

    examples: int
    source: str
    inputs: int | None = None


def _hf(name: str, config: str, split: str) -> str:
    return f"{HF_DATASETS.format(name=name)}: {config} / {split}"


def _per_language(counts: dict[str, int], name: str, config: str, split: str,
                  inputs: int | None = None) -> dict[str, PublishedSize]:
    """{language: size} for counts of one builder; ``config`` is formatted with the language (and its
    ``code`` where the builder names languages otherwise)."""
    return {language: PublishedSize(count, _hf(name, config.format(language=language, code=_CODES.get(language)),
                                               split), inputs)
            for language, count in counts.items()}


def _same(languages: tuple[str, ...], count: int, name: str, config: str, split: str) -> dict[str, PublishedSize]:
    return _per_language(dict.fromkeys(languages, count), name, config, split)


def _english(count: int, name: str, config: str, split: str) -> dict[str, PublishedSize]:
    return {"en": PublishedSize(count, _hf(name, config, split))}


# LASER's 3-letter codes, as the xtreme builder names its Tatoeba configs (formats.tatoeba.LASER_CODES).
_CODES = {"af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa", "et": "est",
          "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "id": "ind",
          "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz", "ko": "kor", "ml": "mal", "mr": "mar",
          "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh", "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl",
          "tr": "tur", "ur": "urd", "vi": "vie", "zh": "cmn"}

_XNLI = TASK_LANGUAGES["xtreme"]["xnli"]
_PAWSX = TASK_LANGUAGES["xtreme"]["pawsx"]
_XQUAD = TASK_LANGUAGES["xtreme-r"]["xquad"]  # XTREME's 11 and ro
_XCOPA = TASK_LANGUAGES["xtreme-r"]["xcopa"]

# Sentences per language of the Rahimi et al. split (xtreme builder, PAN-X.<lang>): test and dev have the same size.
_PANX_TEST = {
    "ar": 10000, "he": 10000, "vi": 10000, "id": 10000, "jv": 100, "ms": 1000, "tl": 1000, "eu": 10000,
    "ml": 1000, "ta": 1000, "te": 1000, "af": 1000, "nl": 10000, "en": 10000, "de": 10000, "el": 10000,
    "bn": 1000, "hi": 1000, "mr": 1000, "ur": 1000, "fa": 10000, "fr": 10000, "it": 10000, "pt": 10000,
    "es": 10000, "bg": 10000, "ru": 10000, "ja": 10000, "ka": 10000, "ko": 10000, "th": 10000, "sw": 1000,
    "yo": 100, "my": 100, "zh": 10000, "kk": 1000, "tr": 10000, "et": 10000, "fi": 10000, "hu": 10000,
}
# XTREME-R's added PAN-X languages (wikiann builder, <lang> config: the same panx_dataset archive).
_PANX_R_TEST = {"qu": 100, "pl": 10000, "uk": 10000, "az": 1000, "lt": 10000, "pa": 100, "gu": 100, "ro": 10000}

# Sentence pairs per language (xtreme builder, tatoeba.<xxx> "validation": LASER's only split).
_TATOEBA = {
    "ar": 1000, "he": 1000, "vi": 1000, "id": 1000, "jv": 205, "tl": 1000, "eu": 1000, "ml": 687, "ta": 307,
    "te": 234, "af": 1000, "nl": 1000, "de": 1000, "el": 1000, "bn": 1000, "hi": 1000, "mr": 1000, "ur": 1000,
    "fa": 1000, "fr": 1000, "it": 1000, "pt": 1000, "es": 1000, "bg": 1000, "ru": 1000, "ja": 1000, "ka": 746,
    "ko": 1000, "th": 548, "sw": 390, "zh": 1000, "kk": 575, "tr": 1000, "et": 1000, "fi": 1000, "hu": 1000,
}

# Questions per language, context and question in the same language (mlqa builder, mlqa.<l>.<l>).
_MLQA_TEST = {"en": 11590, "es": 5253, "de": 4517, "ar": 5335, "hi": 4918, "vi": 5495, "zh": 5137}
_MLQA_DEV = {"en": 1148, "es": 500, "de": 512, "ar": 517, "hi": 507, "vi": 511, "zh": 504}

# task -> split -> language -> size. Splits are ours (dev is the builders' "validation").
PUBLISHED_SIZES: dict[str, dict[str, dict[str, PublishedSize]]] = {
    # ------------------------------------------------------------------ XTREME and XTREME-R
    "xnli": {
        "train": _english(392702, "xnli", "en", "train"),
        "translate-train": _same(tuple(x for x in _XNLI if x != "en"), 392702, "xnli", "{language}", "train"),
        "dev": _same(_XNLI, 2490, "xnli", "{language}", "validation"),
        "test": _same(_XNLI, 5010, "xnli", "{language}", "test"),
    },
    "pawsx": {
        "train": _english(49401, "paws-x", "en", "train"),
        "translate-train": _same(tuple(x for x in _PAWSX if x != "en"), 49401, "paws-x", "{language}", "train"),
        "dev": _same(_PAWSX, 2000, "paws-x", "{language}", "validation"),
        "test": _same(_PAWSX, 2000, "paws-x", "{language}", "test"),
    },
    "panx": {
        "train": _english(20000, "xtreme", "PAN-X.en", "train"),
        "dev": _english(10000, "xtreme", "PAN-X.en", "validation"),
        "test": {**_per_language(_PANX_TEST, "xtreme", "PAN-X.{language}", "test"),
                 **_per_language(_PANX_R_TEST, "wikiann", "{language}", "test")},
    },
    "xquad": {"test": _same(_XQUAD, 1190, "xquad", "xquad.{language}", "validation")},
    "mlqa": {
        "dev": _per_language(_MLQA_DEV, "mlqa", "mlqa.{language}.{language}", "validation"),
        "test": _per_language(_MLQA_TEST, "mlqa", "mlqa.{language}.{language}", "test"),
    },
    "tatoeba": {"test": _per_language(_TATOEBA, "xtreme", "tatoeba.{code}", "validation", inputs=2)},
    "xcopa": {
        "dev": _same(_XCOPA, 100, "xcopa", "{language}", "validation"),
        "test": _same(_XCOPA, 500, "xcopa", "{language}", "test"),
    },
    "copa": {
        "train": _english(400, "super_glue", "copa", "train"),
        "dev": _english(100, "super_glue", "copa", "validation"),
    },
    # ------------------------------------------------------------------ English intermediate tasks
    "mnli": {
        "train": _english(392702, "glue", "mnli", "train"),
        "dev": _english(9815, "glue", "mnli", "validation_matched"),
        "dev-mismatched": _english(9832, "glue", "mnli", "validation_mismatched"),
    },
    "qqp": {"train": _english(363846, "glue", "qqp", "train"), "dev": _english(40430, "glue", "qqp", "validation")},
    **{f"anli-r{number}": {
        "train": _english(train, "anli", "plain_text", f"train_r{number}"),
        "dev": _english(held_out, "anli", "plain_text", f"dev_r{number}"),
        "test": _english(held_out, "anli", "plain_text", f"test_r{number}"),
    } for number, train, held_out in ((1, 16946, 1000), (2, 45460, 1000), (3, 100459, 1200))},
    "squad": {"train": _english(87599, "squad", "plain_text", "train"),
              "dev": _english(10570, "squad", "plain_text", "validation")},
    "squad2": {"train": _english(130319, "squad_v2", "squad_v2", "train"),
               "dev": _english(11873, "squad_v2", "squad_v2", "validation")},
    "hellaswag": {"train": _english(39905, "hellaswag", "default", "train"),
                  "dev": _english(10042, "hellaswag", "default", "validation")},
    "commonsenseqa": {"train": _english(9741, "commonsense_qa", "default", "train"),
                      "dev": _english(1221, "commonsense_qa", "default", "validation")},
    "cosmosqa": {"train": _english(25262, "cosmos_qa", "default", "train"),
                 "dev": _english(2985, "cosmos_qa", "default", "validation")},
    "socialiqa": {"train": _english(33410, "social_i_qa", "default", "train"),
                  "dev": _english(1954, "social_i_qa", "default", "validation")},
}


def published_size(task: str, split: str, language: str) -> PublishedSize | None:
    """The published size of one split in one language, or None when none is known (see the module docstring
    for what is left out and why)."""
    return PUBLISHED_SIZES.get(task, {}).get(split, {}).get(language)
