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
    seen: set[str] = set()
    paragraph_number = 0
    for a, article in enumerate(articles):
        for p, paragraph in enumerate(require(path, article, "paragraphs", list, f"data[{a}]")):
            paragraph_number += 1
            _read_paragraph(path, f"data[{a}].paragraphs[{p}]", paragraph, f"{language}_{paragraph_number}", pool,
                            questions, seen)
    if not questions:
        raise DataError(path, "holds no question whose answer lies in a sentence: the language would silently "
                              "leave the pool (an empty or damaged file?)")


def _sentences(path: Path, where: str, paragraph: dict[str, Any], context: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each sentence: ``sentence_breaks`` must be ordered, non-overlapping, non-empty
    spans of the context, and the ``sentences`` the file may carry beside them must be those spans' text."""
    breaks = require(path, paragraph, "sentence_breaks", list, where)
    if not breaks:
        raise DataError(path, f"{where}.sentence_breaks: empty; every paragraph has at least one sentence")
    sentences = []
    previous_end = 0
    for b, pair in enumerate(breaks):
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
                or not previous_end <= pair[0] < pair[1] <= len(context)):
            raise DataError(path, f"{where}.sentence_breaks[{b}]: expected [start, end] offsets into the context "
                                  f"({len(context)} characters) after the previous sentence's end {previous_end}, "
                                  f"got {pair!r:.60}")
        previous_end = pair[1]
        sentences.append((pair[0], pair[1], context[pair[0]:pair[1]]))
    if "sentences" in paragraph:
        texts = require(path, paragraph, "sentences", list, where)
        if texts != [text for _, _, text in sentences]:
            raise DataError(path, f"{where}.sentences: not the text of the sentence_breaks spans of the context "
                                  f"({len(texts)} sentences for {len(sentences)} spans)")
    return sentences


def _read_paragraph(path: Path, where: str, paragraph: dict[str, Any], prefix: str, pool: Pool,
                    questions: list[tuple[str, str]], seen: set[str]) -> None:
    context = require(path, paragraph, "context", str, where)
    sentences = _sentences(path, where, paragraph, context)
    ids = [f"{prefix}_{position}" for position in range(len(sentences))]
    kept = 0
    for q, qa in enumerate(require(path, paragraph, "qas", list, where)):
        question_where = f"{where}.qas[{q}]"
        question_id = require(path, qa, "id", str, question_where)
        question = require(path, qa, "question", str, question_where)
        answers = require(path, qa, "answers", list, question_where)
        if len(answers) != 1:
            raise DataError(path, f"{question_where}: XQuAD-R has one answer per question, found {len(answers)}")
        answer_where = f"{question_where}.answers[0]"
        start = require(path, answers[0], "answer_start", int, answer_where)
        text = require(path, answers[0], "text", str, answer_where)
        if not text or not 0 <= start < len(context) or context[start:start + len(text)] != text:
            raise DataError(path, f"{answer_where} (question {question_id!r}): answer {text[:40]!r} is not at offset "
                                  f"{start} of the context ({len(context)} characters, found "
                                  f"{context[max(start, 0):max(start, 0) + len(text)][:40]!r})")
        answer = next((sentence for begin, end, sentence in sentences if begin <= start < end), None)
        if answer is None:
            continue  # no sentence holds the answer start: LAReQA's loader drops the question
        if question_id in seen:
            raise DataError(path, f"{question_where}: question id {question_id!r} occurs twice in the file")
        kept += 1
        seen.add(question_id)
        questions.append((question_id, question))
        relevant = pool.relevant.setdefault(question_id, [])
        relevant.extend(i for i, (_, _, sentence) in zip(ids, sentences, strict=True)
                        if sentence == answer and i not in relevant)
    if kept:
        pool.candidates.extend((i, candidate_text(sentence, context))
                               for i, (_, _, sentence) in zip(ids, sentences, strict=True))


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
