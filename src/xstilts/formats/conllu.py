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
from xstilts.formats.common import ascii_int, is_ascii_int, is_blank, text_lines

DEFAULT_PRECEDENCE = tuple("VERB NOUN PROPN PRON ADJ NUM ADV INTJ AUX ADP DET PART CCONJ SCONJ X PUNCT".split())
PRECEDENCE = {
    "es": tuple("VERB AUX PRON ADP DET".split()),
    "fr": tuple("VERB AUX PRON NOUN ADJ ADV ADP DET PART SCONJ CONJ".split()),
    "it": tuple("VERB AUX ADV PRON ADP DET INTJ".split()),
}
COLUMNS = 10
LAYOUT = "ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC"


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
    comments: int = 0  # comment lines before its first token

    def started(self) -> bool:
        return bool(self.words or self.multiword or self.comments)


def _deps_heads(path: Path, number: int, value: str) -> set[int]:
    """The integer heads of DEPS (``3:nsubj|5:obj``); heads like ``5.1`` (empty nodes) are not graph nodes in
    the official tool. Anything that is not ``head:relation`` is an error."""
    if value == "_":
        return set()
    heads = set()
    for pair in value.split("|"):
        head, colon, relation = pair.partition(":")
        whole, dot, fraction = head.partition(".")
        if not colon or not relation or not is_ascii_int(whole) or (dot and not is_ascii_int(fraction)):
            raise DataError(path, f"DEPS must be '_' or 'head:relation' pairs joined by '|', found {value[:60]!r}",
                            number)
        if not dot:
            heads.add(int(whole))
    return heads


def read_conllu(path: Path, upos: frozenset[str] | tuple[str, ...] | None = None) -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file: words (empty nodes ``a.b`` skipped) and multiword ranges, checked against
    what the format promises: 10 columns, word IDs 1, 2, ... in order, multiword ranges just before their first
    word and not overlapping, heads that are words of the sentence (or 0), UPOS among ``upos`` (when given),
    and a blank line after every sentence (the file's last one included: a file that ends inside a sentence
    was cut short)."""
    sentence = Sentence(line=0)
    number = 0
    for number, line in text_lines(path):
        if is_blank(line):
            if sentence.started():
                yield _finished(path, sentence, number)
            sentence = Sentence(line=0)
            continue
        if line.startswith("#"):
            if sentence.words or sentence.multiword:
                raise DataError(path, "a comment line inside a sentence: comments come before its first word "
                                      "line (is a blank line missing?)", number)
            sentence.comments += 1
            continue
        fields = line.split("\t")
        if len(fields) != COLUMNS:
            raise DataError(path, f"expected {COLUMNS} tab-separated CoNLL-U columns ({LAYOUT}), found {len(fields)}",
                            number)
        if not sentence.words and not sentence.multiword:
            sentence.line = number
        _add_line(path, number, fields, sentence, upos)
    if sentence.started():
        raise DataError(path, "the file ends inside a sentence: CoNLL-U ends every sentence with a blank line "
                              "(is the file cut short?)", number)


def _add_line(path: Path, number: int, fields: list[str], sentence: Sentence,
              upos: frozenset[str] | tuple[str, ...] | None) -> None:
    ident = fields[0]
    expected = len(sentence.words) + 1
    if "." in ident:  # an empty node a.b of the enhanced graph: no word
        whole, _, fraction = ident.partition(".")
        if not is_ascii_int(whole) or not is_ascii_int(fraction):
            raise DataError(path, f"ID must be an integer, a range a-b or an empty node a.b, found {ident[:40]!r}",
                            number)
        return
    if "-" in ident:
        first_text, _, last_text = ident.partition("-")
        first = ascii_int(path, number, first_text, "a range start", minimum=1)
        last = ascii_int(path, number, last_text, "a range end", minimum=1)
        if first >= last:
            raise DataError(path, f"multiword range {ident}: the end must be after the start", number)
        if first != expected:
            raise DataError(path, f"multiword range {ident} must come just before word {first}, but the next word "
                                  f"is {expected}", number)
        if sentence.multiword and first <= sentence.multiword[-1][1]:
            raise DataError(path, f"multiword range {ident} overlaps the range "
                                  f"{sentence.multiword[-1][0]}-{sentence.multiword[-1][1]}", number)
        if not fields[1]:
            raise DataError(path, f"multiword range {ident} has an empty FORM", number)
        sentence.multiword.append((first, last, fields[1], number))
        return
    index = ascii_int(path, number, ident, "ID", minimum=1)
    if index != expected:
        raise DataError(path, f"word ID {index} out of order: expected {expected}", number)
    if not fields[1]:
        raise DataError(path, f"word {index} has an empty FORM ('_' stands for an unknown one)", number)
    if upos is not None and fields[3].strip() not in upos:
        raise DataError(path, f"word {index} has UPOS {fields[3][:20]!r}, not one of the 17 universal tags", number)
    head = ascii_int(path, number, fields[6], "HEAD", minimum=0)
    sentence.words.append(Word(index, fields[1], fields[3], {head} | _deps_heads(path, number, fields[8]), number))


def _finished(path: Path, sentence: Sentence, blank: int) -> Sentence:
    """The sentence after its closing blank line, checked as a whole: it has words, its ranges and heads stay
    inside it."""
    if not sentence.words:
        raise DataError(path, "a sentence without word lines (comments or ranges, then a blank line)", blank)
    count = len(sentence.words)
    for first, last, _, number in sentence.multiword:
        if last > count:
            raise DataError(path, f"multiword token {first}-{last} does not cover words of its sentence "
                                  f"(which has {count} words)", number)
    for word in sentence.words:
        outside = sorted(head for head in word.heads if head > count)
        if outside:
            raise DataError(path, f"word {word.index} has head {outside[0]}, but its sentence has {count} words",
                            word.line)
    return sentence


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
