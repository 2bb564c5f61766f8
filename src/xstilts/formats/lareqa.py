"""LAReQA on XQuAD-R (google-research-datasets/lareqa ``xquad-r/<lang>.json``): SQuAD JSON whose paragraphs
also carry ``sentence_breaks`` (``[[start, end], ...]`` character offsets into ``context``).

The task, as LAReQA's own loader defines it (XTREME's third_party/utils_lareqa.py): every sentence of a
paragraph, in all 11 languages, is one candidate of ONE pooled set; a question's relevant candidates are the
sentence that contains its answer start in each language where the question (same id in every language) has
such a sentence, and any sentence of that paragraph with the same text. A question whose answer start lies in
no sentence is skipped (the loader warns and drops it), and a paragraph none of whose questions is kept gives
no candidates (the loader adds a paragraph's sentences while it reads a kept question). Candidate ids are the
loader's: ``<lang>_<paragraph number, from 1 per file>_<sentence index>``.

So the reader for one language yields that language's questions (``source``, with ``gold_targets``) and then
the candidates of every language (``target`` only): the set a language is scored on is the whole pool.

Candidate text: the sentence immediately followed by its whole paragraph, with no separator and every
``\n`` removed, as XTREME's evaluate_retrieval.py encodes a candidate (``sentence + context``); the ends are
stripped, as that script's reading back of its own text file strips each line before tokenizing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import load_json, require

# XQuAD-R's languages: the pool is always all of them.
POOL_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


@dataclass
class Pool:
    """Questions per language, candidates in file order, and relevant candidate ids per question id."""

    questions: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # lang -> [(question id, text)]
    candidates: list[tuple[str, str]] = field(default_factory=list)  # [(candidate id, text to encode)]
    relevant: dict[str, list[str]] = field(default_factory=dict)  # question id -> candidate ids


def language_file(folder: Path, language: str) -> Path:
    return folder / f"{language}.json"


def candidate_text(sentence: str, context: str) -> str:
    """What the official evaluation encodes for a candidate (see the module docstring)."""
    return (sentence + context).replace("\n", "").strip()


def _read_language(path: Path, language: str, pool: Pool) -> None:
    if not path.exists():
        raise DataError(path, "missing XQuAD-R file: LAReQA pools the candidates of all 11 languages, so every "
                              f"{{{','.join(POOL_LANGUAGES)}}}.json of the lareqa repository's xquad-r/ must be here")
    document = load_json(path)
    articles = require(path, document, "data", list, "top level")
    questions = pool.questions.setdefault(language, [])
    paragraph_number = 0
    for a, article in enumerate(articles):
        for p, paragraph in enumerate(require(path, article, "paragraphs", list, f"data[{a}]")):
            where = f"data[{a}].paragraphs[{p}]"
            paragraph_number += 1
            context = require(path, paragraph, "context", str, where)
            breaks = require(path, paragraph, "sentence_breaks", list, where)
            sentences = []
            for b, pair in enumerate(breaks):
                if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(x, int) for x in pair)
                        or not 0 <= pair[0] < pair[1] <= len(context)):
                    raise DataError(path, f"{where}.sentence_breaks[{b}]: expected [start, end] offsets into the "
                                          f"context ({len(context)} characters), got {pair!r:.60}")
                sentences.append((pair[0], pair[1], context[pair[0]:pair[1]]))
            ids = [f"{language}_{paragraph_number}_{position}" for position in range(len(sentences))]
            kept = 0
            for q, qa in enumerate(require(path, paragraph, "qas", list, where)):
                question_where = f"{where}.qas[{q}]"
                question_id = require(path, qa, "id", str, question_where)
                answers = require(path, qa, "answers", list, question_where)
                if len(answers) != 1:
                    raise DataError(path, f"{question_where}: XQuAD-R has one answer per question, found "
                                          f"{len(answers)}")
                start = require(path, answers[0], "answer_start", int, f"{question_where}.answers[0]")
                answer = next((text for begin, end, text in sentences if begin <= start < end), None)
                if answer is None:
                    continue  # no sentence holds the answer start: LAReQA's loader drops the question
                kept += 1
                questions.append((question_id, require(path, qa, "question", str, question_where)))
                relevant = pool.relevant.setdefault(question_id, [])
                relevant.extend(i for i, (_, _, text) in zip(ids, sentences, strict=True)
                                if text == answer and i not in relevant)
            if kept:
                pool.candidates.extend((i, candidate_text(text, context))
                                       for i, (_, _, text) in zip(ids, sentences, strict=True))


def read_pool(folder: Path, languages: Sequence[str] = POOL_LANGUAGES) -> Pool:
    pool = Pool()
    for language in languages:
        _read_language(language_file(folder, language), language, pool)
    return pool


def pool_examples(pool: Pool, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The questions of ``language`` (numbered from 1), then every candidate of the pool."""
    number = 0
    for question_id, question in pool.questions.get(language, []):
        number += 1
        yield number, {"id": question_id, "source": question, "target": None,
                       "gold_targets": list(pool.relevant[question_id])}
    for candidate_id, sentence in pool.candidates:
        number += 1
        yield number, {"id": candidate_id, "source": None, "target": sentence}


def read_lareqa(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``path`` is the ``xquad-r`` folder."""
    if language not in POOL_LANGUAGES:
        raise DataError(path, f"XQuAD-R has no language {language!r}: {', '.join(POOL_LANGUAGES)}")
    yield from pool_examples(read_pool(path), language)
