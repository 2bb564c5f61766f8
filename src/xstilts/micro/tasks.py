"""The micro-benchmark's tasks: what each one is, and the builder that makes its files.

Intermediate tasks (English only, train and dev) mirror MNLI, QQP, SQuAD 1.1/2.0, HellaSwag/CosmosQA,
SocialIQa (which shares micro-copa's head, as SocialIQa shares XCOPA's) and CCGbank; target tasks (English
train, dev and test in every language, parallel) mirror XNLI, PAWS-X, UD-POS, PAN-X, XQuAD and XCOPA, and
XGLUE's generation tasks QG and NTG (``{"source", "target"}`` texts; ``micro.generation``);
retrieval tasks (Tatoeba, BUCC) are test sets in the synthetic languages, and ``mlm`` holds the monolingual,
non-parallel corpora, which ``denoise`` (span corruption for an encoder-decoder) reads too.

``build(key, size, seed)`` returns every file of a task as ``{(split, language): [example, ...]}``. Items
are drawn once and rendered in each language, so parallel files share ids and meaning; no dev or test item
repeats a training item (by its English rendering); labels come in a cycle, so classes are balanced.

Intermediate and target tasks also have a ``translate-train`` split in every synthetic language: the English
training items rendered in that language from the same facts (same ids, same labels, other text), the micro
twin of XNLI-MT and PAWS-X's ``translated_train``. The items are drawn once for ``train``; rendering them in
more languages draws nothing from the random stream, so the English files are the same bytes as without the
split. (Micro CCG has none: its supertags are categories of the English grammar.)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xstilts.errors import XstiltsError
from xstilts.micro.choice import copa_meaning, story_meaning
from xstilts.micro.corpora import corpus, derived_seed
from xstilts.micro.generation import asks_for_a_person, news_meaning
from xstilts.micro.grammar import Sentence, join, realize, surface
from xstilts.micro.languages import LANGUAGE_CODES, get_language
from xstilts.micro.pairs import PAWS_LABELS, QQP_LABELS, nli_meaning, paraphrase_meaning
from xstilts.micro.phrasing import any_sentence, entity_sentence
from xstilts.micro.qa import ANSWER, qa_meaning
from xstilts.micro.world import NLI_LABELS

Example = dict[str, Any]
Parallel = dict[str, Example]  # language -> one item rendered in that language (no id yet)
Maker = Callable[[random.Random, int, tuple[str, ...]], Parallel]
Files = dict[tuple[str, str], list[Example]]


@dataclass(frozen=True)
class Size:
    """Examples per split (per language where a split has several) and MLM sentences per language."""

    train: int
    dev: int
    test: int
    corpus: int
    mlm_dev: int


SIZES: dict[str, Size] = {
    "tiny": Size(train=200, dev=100, test=100, corpus=1000, mlm_dev=100),
    "default": Size(train=2000, dev=500, test=500, corpus=20000, mlm_dev=1000),
}
SENTENCES_PER_MLM_EXAMPLE = 4
# The split of machine-translated training data (XNLI-MT, PAWS-X translated_train); not zero-shot.
TRANSLATE_TRAIN = "translate-train"
BUCC_DISTRACTORS = 0.3

# ------------------------------------------------------------------ rendering


def text(sentences: Sentence | tuple[Sentence, ...] | list[Sentence], language: str) -> str:
    if isinstance(sentences, Sentence):
        sentences = (sentences,)
    lang = get_language(language)
    return " ".join(surface(realize(s, lang)) for s in sentences)


def text_with_answer(sentences: tuple[Sentence, ...], language: str) -> tuple[str, tuple[int, int] | None]:
    """The text of several sentences and the character span of the marked answer, if one is marked."""
    lang = get_language(language)
    pieces: list[str] = []
    span = None
    offset = 0
    for sentence in sentences:
        piece, marks = join(realize(sentence, lang))
        if ANSWER in marks:
            start, end = marks[ANSWER]
            span = (offset + start, offset + end)
        pieces.append(piece)
        offset += len(piece) + 1
    return " ".join(pieces), span


# ------------------------------------------------------------------ item makers per family


def _pair_maker(meaning: Callable[[random.Random, int], tuple[Any, Any, str]]) -> Maker:
    def make(rng: random.Random, slot: int, langs: tuple[str, ...]) -> Parallel:
        first, second, label = meaning(rng, slot)
        return {lang: {"text": text(first, lang), "text_pair": text(second, lang), "label": label} for lang in langs}

    return make


def _choice_maker(meaning: Callable[[random.Random, int], tuple[Any, list[Sentence], int]]) -> Maker:
    def make(rng: random.Random, slot: int, langs: tuple[str, ...]) -> Parallel:
        context, choices, label = meaning(rng, slot)
        return {lang: {"context": text(context, lang), "choices": [text(c, lang) for c in choices], "label": label}
                for lang in langs}

    return make


def _qa_maker(negatives: bool) -> Maker:
    def make(rng: random.Random, slot: int, langs: tuple[str, ...]) -> Parallel:
        sentences, question, answerable = qa_meaning(rng, slot, negatives)
        out = {}
        for lang in langs:
            context, span = text_with_answer(sentences, lang)
            if answerable != (span is not None):
                raise AssertionError(f"QA item in {lang}: answerable={answerable} but span={span}")
            answers = [{"text": context[span[0]:span[1]], "start": span[0]}] if span else []
            out[lang] = {"question": text(question, lang), "context": context, "answers": answers}
        return out

    return make


# Between the answer and the passage of a question-generation source: a sign no language of the world writes.
ANSWER_SEPARATOR = " | "


def headline(sentence: Sentence, language: str) -> str:
    """A sentence without its final full stop, as titles are written."""
    tokens = realize(sentence, get_language(language))
    if tokens[-1][0] == ".":
        tokens = tokens[:-1]
    return surface(tokens)


def _qg_make(rng: random.Random, slot: int, langs: tuple[str, ...]) -> Parallel:
    while True:
        sentences, question, _ = qa_meaning(rng, slot, negatives=False)
        passage, span = text_with_answer(sentences, "en")
        if span is None:
            raise AssertionError("QG item: qa_meaning without negatives marked no answer")
        # A value the passage states twice (home and workplace in one city) would make two questions right.
        if asks_for_a_person(question) or passage.count(passage[span[0]:span[1]]) == 1:
            break
    out = {}
    for lang in langs:
        context, span = text_with_answer(sentences, lang)
        if span is None:
            raise AssertionError(f"QG item in {lang}: the answer is not marked")
        out[lang] = {"source": context[span[0]:span[1]] + ANSWER_SEPARATOR + context, "target": text(question, lang)}
    return out


def _ntg_make(rng: random.Random, slot: int, langs: tuple[str, ...]) -> Parallel:
    sentences, title = news_meaning(rng, slot)
    return {lang: {"source": text(sentences, lang), "target": headline(title, lang)} for lang in langs}


_TAG_COLUMN = {"pos": 1, "ner": 2, "ccg": 3}


def _tagging_maker(column: str, sentence: Callable[[random.Random], Sentence]) -> Maker:
    index = _TAG_COLUMN[column]

    def make(rng: random.Random, slot: int, langs: tuple[str, ...]) -> Parallel:
        tree = sentence(rng)
        out = {}
        for lang in langs:
            tokens = realize(tree, get_language(lang))
            out[lang] = {"tokens": [tok[0] for tok in tokens], "tags": [tok[index] for tok in tokens]}
        return out

    return make


def _ner_sentence(rng: random.Random) -> Sentence:
    return entity_sentence(rng) if rng.random() < 0.85 else any_sentence(rng)


# ------------------------------------------------------------------ task declarations

UPOS_LABELS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
               "SCONJ", "VERB")
NER_LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
# Every supertag the English grammar produces (a test checks the generated files against this list).
CCG_LABELS = (
    ",", ".", "(NP\\NP)/(S[dcl]/NP)", "(NP\\NP)/(S[dcl]\\NP)", "(NP\\NP)/NP", "((S\\NP)\\(S\\NP))/NP",
    "((S\\NP)\\(S\\NP))/S[dcl]", "((S[b]\\NP)/NP)/NP", "((S[b]\\NP)/PP)/NP", "((S[dcl]\\NP)/(S[adj]\\NP))/NP",
    "((S[dcl]\\NP)/NP)/NP", "((S[dcl]\\NP)/PP)/NP", "(S[b]\\NP)/NP", "(S[b]\\NP)/PP",
    "(S[dcl]\\NP)/(S[adj]\\NP)", "(S[dcl]\\NP)/(S[b]\\NP)", "(S[dcl]\\NP)/(S[pss]\\NP)", "(S[dcl]\\NP)/NP",
    "(S[dcl]\\NP)/PP", "(S[pss]\\NP)/PP", "(S[q]/(S[adj]\\NP))/NP", "(S[q]/(S[b]\\NP))/NP",
    "(S[q]/(S[pss]\\NP))/NP", "(S[wq]/(S[q]/(S[adj]\\NP)))/(S[adj]\\NP)",
    "(S[wq]/(S[q]/NP))/N", "(S[adj]\\NP)/PP", "(S[adj]\\NP)\\NP", "(S\\NP)/(S\\NP)", "(S\\NP)\\(S\\NP)",
    "N", "N/N", "NP", "NP[nb]/N", "PP/NP", "S/S", "S[adj]\\NP", "S[b]\\NP", "S[dcl]\\NP", "S[pss]\\NP",
    "S[wq]/(S[dcl]\\NP)", "S[wq]/(S[q]/NP)", "S[wq]/S[q]", "conj",
)


@dataclass(frozen=True)
class MicroTask:
    key: str  # registered as micro-<key> (default size) and micro-tiny-<key>
    family: str
    role: str  # intermediate, target, retrieval or mlm
    description: str
    make: Maker | None = None
    labels: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ("accuracy",)
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Has a translate-train split (the training items rendered in every synthetic language).
    translatable: bool = True
    # The key of the micro task whose head this one trains (as SocialIQa trains XCOPA's); None: its own.
    head: str | None = None
    # The key of the micro task whose files this one reads (denoising reads the MLM corpora); None: its own.
    files: str | None = None

    def splits(self, languages: tuple[str, ...] = LANGUAGE_CODES) -> dict[str, tuple[str, ...]]:
        synthetic = tuple(code for code in languages if code != "en")
        translated = {TRANSLATE_TRAIN: synthetic} if self.translatable and synthetic else {}
        if self.role == "intermediate":
            return {"train": ("en",), **translated, "dev": ("en",)}
        if self.role == "target":
            return {"train": ("en",), **translated, "dev": languages, "test": languages}
        if self.role == "mlm":
            return {"train": languages, "dev": languages}
        if self.key == "tatoeba":
            return {"test": synthetic}
        return {"dev": synthetic, "test": synthetic}


_RETRIEVAL_SETTINGS = {"layer": -1, "pooling": "mean"}
_QA_SETTINGS = {"doc_stride": 64}  # short texts; answers are a few words (span_qa's default max_answer_length)

TASKS: dict[str, MicroTask] = {task.key: task for task in (
    MicroTask("nli", "classification", "intermediate",
              "Micro NLI (MNLI role): does a short text of facts entail, contradict or leave open a hypothesis? "
              "Labels follow from a small logic (taxonomy, functional facts, negation).",
              _pair_maker(nli_meaning), NLI_LABELS),
    MicroTask("paraphrase", "classification", "intermediate",
              "Micro paraphrase (QQP role): are two sentences or questions duplicates? Rewordings vs changed "
              "words and swapped roles.",
              _pair_maker(lambda rng, slot: paraphrase_meaning(rng, slot, "qqp")), QQP_LABELS),
    MicroTask("squad", "span_qa", "intermediate",
              "Micro SQuAD 1.1: questions about a short text on two people; always answerable.",
              _qa_maker(negatives=False), metrics=("f1", "exact_match"),
              settings={**_QA_SETTINGS, "with_negative": False}),
    MicroTask("squad2", "span_qa", "intermediate",
              "Micro SQuAD 2.0: like micro-squad, but a third of the questions ask for facts the text does not "
              "state (about the other person, the other direction or a stranger).",
              _qa_maker(negatives=True), metrics=("f1", "exact_match"),
              settings={**_QA_SETTINGS, "with_negative": True}),
    MicroTask("choice", "multiple_choice", "intermediate",
              "Micro HellaSwag/CosmosQA: pick the cause or result of one or two events among 4 near misses.",
              _choice_maker(story_meaning), settings={"num_choices": 4}),
    MicroTask("socialiqa", "multiple_choice", "intermediate",
              "Micro SocialIQa (its role in XTREME-R: trained before COPA): the cause or the result of an event "
              "among 3 choices. It trains micro-copa's head, so a copa stage with keep_heads continues it.",
              _choice_maker(lambda rng, slot: copa_meaning(rng, slot, 3)), settings={"num_choices": 3},
              head="copa"),
    MicroTask("ccg", "tagging", "intermediate",
              "Micro CCG supertagging: CCGbank-style categories of the English grammar's words.",
              _tagging_maker("ccg", any_sentence), CCG_LABELS, metrics=("accuracy",), translatable=False),
    MicroTask("xnli", "classification", "target",
              "Micro XNLI: micro NLI with English training data and parallel test sets in every language.",
              _pair_maker(nli_meaning), NLI_LABELS),
    MicroTask("pawsx", "classification", "target",
              "Micro PAWS-X: paraphrase pairs with the same words, where swapped roles change the meaning and "
              "reorderings (dative shift, passive, symmetric verbs) do not.",
              _pair_maker(lambda rng, slot: paraphrase_meaning(rng, slot, "paws")), PAWS_LABELS),
    MicroTask("pos", "tagging", "target", "Micro UD-POS: universal part-of-speech tags in every language.",
              _tagging_maker("pos", any_sentence), UPOS_LABELS, metrics=("accuracy", "f1")),
    MicroTask("ner", "tagging", "target",
              "Micro PAN-X: named entities (IOB2: PER, LOC, ORG), multi-word names, names that are also "
              "places or part of company names.",
              _tagging_maker("ner", _ner_sentence), NER_LABELS, metrics=("f1", "precision", "recall")),
    MicroTask("qa", "span_qa", "target",
              "Micro XQuAD: micro SQuAD 1.1 with parallel test sets in every language.",
              _qa_maker(negatives=False), metrics=("f1", "exact_match"),
              settings={**_QA_SETTINGS, "with_negative": False}),
    MicroTask("copa", "multiple_choice", "target",
              "Micro XCOPA: the cause or the result of an event, between 2 choices.",
              _choice_maker(lambda rng, slot: copa_meaning(rng, slot, 2)), settings={"num_choices": 2}),
    MicroTask("qg", "generation", "target",
              "Micro XGLUE QG: the question that an answer of a short passage answers (source: the answer, ' | ', "
              "the passage), in the passage's language.",
              _qg_make, metrics=("bleu",)),
    MicroTask("ntg", "generation", "target",
              "Micro XGLUE NTG: the title of a short news text: its one event among background facts, as a "
              "headline (present tense, no articles, no time, full names).",
              _ntg_make, metrics=("bleu",)),
    MicroTask("tatoeba", "retrieval", "retrieval",
              "Micro Tatoeba: find the English rendering of each sentence of a synthetic language.",
              settings=_RETRIEVAL_SETTINGS),
    MicroTask("bucc", "retrieval", "retrieval",
              "Micro BUCC: like micro-tatoeba, with 30% English distractors that translate no source.",
              settings=_RETRIEVAL_SETTINGS),
    MicroTask("mlm", "mlm", "mlm",
              "Micro monolingual corpora (every language, not parallel) for masked language modelling.",
              metrics=("accuracy",)),
    MicroTask("denoise", "denoising", "mlm",
              "The micro MLM corpora for T5-style span-corruption pretraining of an encoder-decoder.",
              metrics=("accuracy",), files="mlm"),
)}


def get_micro_task(key: str) -> MicroTask:
    if key not in TASKS:
        raise XstiltsError(f"the micro-benchmark has no task {key!r}: choose one of {', '.join(TASKS)}")
    return TASKS[key]


def get_size(size: str | Size) -> Size:
    if isinstance(size, Size):
        return size
    if size not in SIZES:
        raise XstiltsError(f"unknown micro-benchmark size {size!r}: choose one of {', '.join(SIZES)}")
    return SIZES[size]


# ------------------------------------------------------------------ building files


def _with_ids(split: str, examples: list[Example]) -> list[Example]:
    return [{"id": f"{split}-{index:05d}", **example} for index, example in enumerate(examples)]


def _draw(rng: random.Random, make: Maker, count: int, seen: set[str], langs: tuple[str, ...]) -> list[Parallel]:
    """``count`` items whose English rendering was not drawn before in any split."""
    items: list[Parallel] = []
    attempts = 0
    needed = langs if "en" in langs else ("en", *langs)
    while len(items) < count:
        attempts += 1
        if attempts > 20 * count + 1000:
            raise RuntimeError(f"cannot draw {count} distinct items: the grammar is too small for this size")
        item = make(rng, len(items), needed)
        key = repr(sorted(item["en"].items()))
        if key in seen:
            continue
        seen.add(key)
        items.append({lang: item[lang] for lang in langs})
    rng.shuffle(items)  # labels were drawn in a cycle; shuffled so files are not ordered by label
    return items


def build(key: str | MicroTask, size: str | Size = "default", seed: int = 0,
          languages: tuple[str, ...] = LANGUAGE_CODES) -> Files:
    """Every file of micro task ``key``, or of a variant of one (``xstilts.tasks.mock``): {(split, language):
    examples with ids}. The items drawn depend on the key, size, seed and splits, not on the languages."""
    task = key if isinstance(key, MicroTask) else get_micro_task(key)
    sizes = get_size(size)
    for code in languages:
        get_language(code)
    if task.role == "mlm":
        return _build_mlm(sizes, seed, languages)
    if task.role == "retrieval":
        return _build_retrieval(task, sizes, seed, languages)
    assert task.make is not None
    rng = random.Random(derived_seed("task", task.key, seed))
    seen: set[str] = set()
    files: Files = {}
    splits = task.splits(languages)
    translated = splits.pop(TRANSLATE_TRAIN, ())
    for split, langs in splits.items():
        # translate-train: the train items, rendered in more languages (rendering draws nothing at random)
        drawn = (*langs, *translated) if split == "train" else langs
        items = _draw(rng, task.make, getattr(sizes, split), seen, drawn)
        for lang in langs:
            files[(split, lang)] = _with_ids(split, [item[lang] for item in items])
        if split == "train":
            for lang in translated:
                files[(TRANSLATE_TRAIN, lang)] = _with_ids("train", [item[lang] for item in items])
    return files


def _build_retrieval(task: MicroTask, sizes: Size, seed: int, languages: tuple[str, ...]) -> Files:
    rng = random.Random(derived_seed("task", task.key, seed))
    all_langs = ("en", *(code for code in languages if code != "en"))
    seen: dict[str, set[str]] = {code: set() for code in all_langs}
    files: Files = {}
    for split, langs in task.splits(languages).items():
        count = getattr(sizes, split)
        rows: list[dict[str, str]] = []
        while len(rows) < count:
            tree = any_sentence(rng)
            row = {code: text(tree, code) for code in all_langs}
            # Sources must be unique in every language, or a source would have two right targets.
            if any(row[code] in seen[code] for code in all_langs):
                continue
            for code in all_langs:
                seen[code].add(row[code])
            rows.append(row)
        distractors = set(rng.sample(range(count), round(count * BUCC_DISTRACTORS))) if task.key == "bucc" else set()
        for lang in langs:
            examples = [{"source": None if index in distractors else row[lang], "target": row["en"]}
                        for index, row in enumerate(rows)]
            files[(split, lang)] = _with_ids(split, examples)
    return files


def _build_mlm(sizes: Size, seed: int, languages: tuple[str, ...]) -> Files:
    files: Files = {}
    step = SENTENCES_PER_MLM_EXAMPLE
    for lang in languages:
        sentences = corpus(lang, sizes.corpus + sizes.mlm_dev, seed)
        for split, part in (("train", sentences[: sizes.corpus]), ("dev", sentences[sizes.corpus:])):
            texts = [" ".join(part[i:i + step]) for i in range(0, len(part), step)]
            files[(split, lang)] = _with_ids(split, [{"text": t} for t in texts])
    return files
