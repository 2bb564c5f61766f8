"""CoNLL-U sentences, and multiword tokens collapsed the way XTREME's UD-POS data has them.

XTREME converts every treebank with ``conllu_to_conll.py --replace_subtokens_with_fused_forms`` (from the
ud-conversion-tools it ships): each multiword token (ID range ``a-b``, e.g. Spanish ``del`` = ``de`` + ``el``)
becomes ONE word, its fused surface form, carrying the UPOS of the span's head. The head is the span word
with the fewest ancestors in the dependency graph (basic heads plus the integer heads of the enhanced DEPS
column, as the tool's graph holds both); a tie goes to the word whose UPOS comes first in a precedence list,
which has language-specific variants for es, fr and it. These are facts of the official tool, re-implemented
here.

One deliberate difference: where a tied UPOS is missing from the precedence list the official tool crashes
(``list.index``); here such a tag ranks after every listed one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from xstilts.errors import DataError
from xstilts.formats.common import text_lines

DEFAULT_PRECEDENCE = tuple("VERB NOUN PROPN PRON ADJ NUM ADV INTJ AUX ADP DET PART CCONJ SCONJ X PUNCT".split())
PRECEDENCE = {
    "es": tuple("VERB AUX PRON ADP DET".split()),
    "fr": tuple("VERB AUX PRON NOUN ADJ ADV ADP DET PART SCONJ CONJ".split()),
    "it": tuple("VERB AUX ADV PRON ADP DET INTJ".split()),
}
COLUMNS = 10


def precedence_for(language: str) -> tuple[str, ...]:
    return PRECEDENCE.get(language, DEFAULT_PRECEDENCE)


@dataclass
class Word:
    index: int
    form: str
    upos: str
    heads: set[int]  # the basic head and the integer heads of DEPS
    line: int


@dataclass
class Sentence:
    line: int  # line of its first token
    words: list[Word] = field(default_factory=list)
    # (first ID, last ID, fused form, line) of every multiword token
    multiword: list[tuple[int, int, str, int]] = field(default_factory=list)


def _int(path: Path, number: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataError(path, f"{what} must be an integer, found {value!r}", number) from None


def _deps_heads(value: str) -> set[int]:
    # "3:nsubj|5:obj"; heads like "5.1" (empty nodes) are not graph nodes in the official tool.
    if value == "_":
        return set()
    return {int(pair.split(":")[0]) for pair in value.split("|") if pair.split(":")[0].isdigit()}


def read_conllu(path: Path) -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file: words (empty nodes ``a.b`` skipped) and multiword ranges."""
    sentence = Sentence(line=0)
    for number, line in text_lines(path):
        if not line.strip():
            if sentence.words:
                yield sentence
            sentence = Sentence(line=0)
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != COLUMNS:
            raise DataError(
                path, f"expected {COLUMNS} tab-separated CoNLL-U columns (ID FORM LEMMA UPOS XPOS FEATS HEAD "
                f"DEPREL DEPS MISC), found {len(fields)}", number,
            )
        ident = fields[0]
        if not sentence.words and not sentence.multiword:
            sentence.line = number
        if "." in ident:
            continue
        if "-" in ident:
            first, _, last = ident.partition("-")
            sentence.multiword.append(
                (_int(path, number, first, "a range start"), _int(path, number, last, "a range end"), fields[1], number)
            )
            continue
        index = _int(path, number, ident, "ID")
        if index != len(sentence.words) + 1:
            raise DataError(path, f"word ID {index} out of order: expected {len(sentence.words) + 1}", number)
        head = _int(path, number, fields[6], "HEAD")
        sentence.words.append(Word(index, fields[1], fields[3], {head} | _deps_heads(fields[8]), number))
    if sentence.words:
        yield sentence


def _ancestor_count(sentence: Sentence, index: int) -> int:
    """How many graph nodes lie above a word (the root node 0 included), over basic and enhanced heads."""
    parents = {word.index: word.heads for word in sentence.words}
    seen: set[int] = set()
    stack = list(parents.get(index, ()))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(parents.get(node, ()))
    seen.discard(index)  # a cycle through the word itself does not make it its own ancestor
    return len(seen)


def span_head(sentence: Sentence, first: int, last: int, precedence: tuple[str, ...]) -> int:
    """The ID of the word that stands for a multiword span (see the module docstring)."""
    span = list(range(first, last + 1))
    depths = [_ancestor_count(sentence, index) for index in span]
    highest = min(depths)
    candidates = [index for index, depth in zip(span, depths, strict=True) if depth == highest]
    if len(candidates) == 1:
        return candidates[0]

    def rank(index: int) -> int:
        upos = sentence.words[index - 1].upos
        return precedence.index(upos) if upos in precedence else len(precedence)

    # min() keeps the first of equal ranks, as the official strict "<" comparison does.
    return min(candidates, key=rank)


def collapse_multiword(path: Path, sentence: Sentence, language: str) -> list[tuple[str, str]]:
    """(form, UPOS) of each word after replacing every multiword span by its fused form."""
    precedence = precedence_for(language)
    replaced: dict[int, str] = {}
    dropped: set[int] = set()
    for first, last, fused, number in sentence.multiword:
        if not 1 <= first <= last <= len(sentence.words):
            raise DataError(
                path, f"multiword token {first}-{last} does not cover words of its sentence "
                f"(which has {len(sentence.words)} words)", number,
            )
        head = span_head(sentence, first, last, precedence)
        replaced[head] = fused
        dropped.update(index for index in range(first, last + 1) if index != head)
    return [
        (replaced.get(word.index, word.form), word.upos) for word in sentence.words if word.index not in dropped
    ]
