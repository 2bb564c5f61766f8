"""Code-switching: English training examples with some words replaced by their translations from bilingual
dictionaries (CoSDA-ML style), as a source option instead of a new data set.

Dictionary files are in MUSE format: one ``source_word target_word`` pair per line, separated by a space or a
tab, several lines per source word allowed (``bank Bank`` and ``bank Ufer``). With a tab, the target may hold
spaces (a multi-word translation); the source is always one word. Blank lines are skipped; any other line
that is not a pair is a :class:`DataError` naming the file and line.

The rule, per example (every draw comes from ``random.Random`` seeded by the seed and the example's id, so
the same example is switched the same way in every run, worker and cache):

1. ``language_choice: example`` (default): one language is drawn for the whole example among the
   dictionaries' languages (no draw when there is one). ``word``: the language is drawn per switched word
   among the languages whose dictionary has that word.
2. The example's text fields are walked in a fixed order (classification: text, text_pair; multiple choice:
   context, then each choice; span QA: question, then context; tagging: tokens; mlm: text), and in each,
   its words (maximal runs of letters, digits and ``_``, inner apostrophes kept: ``don't``) from left to right.
   A word is a *candidate* if the dictionary has it as written or lower-cased. For each candidate, one
   ``random()`` draw: the word is switched if the draw is below ``ratio`` (so ratio 0 switches nothing and
   ratio 1 every candidate). A switched word becomes one of its translations, drawn when there are several,
   written as the dictionary writes it. Everything between words (spaces, punctuation) is kept.
3. Tagging switches tokens one for one, so the tags stay aligned; multi-word translations are skipped there
   (a word with only multi-word translations is no candidate). Span QA never switches a word that overlaps an
   answer span, and shifts each answer's ``start`` by the length changes before it, so every answer's text is
   still found at its ``start`` in the switched context.

A code-switched source trains on target-language words, so results downstream are not zero-shot (an MLM
source stays exempt, as MLM on any language is). The dictionaries' content hashes, the ratio, the seed and
the language choice enter the stage's lineage key and the feature cache key; their paths do not.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.errors import DataError, XstiltsError
from xstilts.families.text_to_text import reported_family
from xstilts.tasks.base import Task, file_digest

# Bump when the switching rule changes (it enters cache and lineage keys).
RULE_VERSION = 1
WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
FAMILIES = ("classification", "multiple_choice", "span_qa", "tagging", "mlm")

Dictionary = dict[str, tuple[str, ...]]


# ------------------------------------------------------------------ dictionaries


def read_dictionary(path: str | Path) -> Dictionary:
    """A MUSE-format dictionary: source word -> its translations in file order (duplicates dropped)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such dictionary file (MUSE format: one 'source_word target_word' per line)")
    entries: dict[str, list[str]] = {}
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                pair = _pair(path, number, line.rstrip("\r\n"))
                if pair is None:
                    continue
                source, target = pair
                known = entries.setdefault(source, [])
                if target not in known:
                    known.append(target)
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text (byte {error.start} of the undecodable chunk): {error.reason}") from None
    if not entries:
        raise DataError(path, "the dictionary holds no entries (MUSE format: one 'source_word target_word' per line)")
    return {source: tuple(targets) for source, targets in entries.items()}


def _pair(path: Path, number: int, line: str) -> tuple[str, str] | None:
    line = line.strip()  # trailing blanks and tabs are not a third field
    if not line:
        return None
    if "\t" in line:
        fields = [field.strip() for field in line.split("\t")]
        if len(fields) != 2 or not all(fields):
            raise DataError(path, f"expected 'source_word<TAB>target_word', found {len(fields)} tab-separated "
                            f"fields in {line[:80]!r}", number)
        if len(fields[0].split()) != 1:
            raise DataError(path, f"the source {fields[0]!r} is not one word: a dictionary maps single words", number)
        return fields[0], " ".join(fields[1].split())
    fields = line.split()
    if len(fields) != 2:
        raise DataError(path, f"expected 'source_word target_word' (2 words separated by a space or a tab), "
                        f"found {len(fields)} in {line[:80]!r}; a multi-word translation needs a tab before it",
                        number)
    return fields[0], fields[1]


_DICTIONARIES: dict[tuple[str, str], Dictionary] = {}


def load_dictionary(path: str | Path) -> tuple[Dictionary, str]:
    """The dictionary and its content hash, read once per content."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such dictionary file (MUSE format: one 'source_word target_word' per line)")
    digest = file_digest(path)
    key = (str(path.resolve()), digest)
    if key not in _DICTIONARIES:
        _DICTIONARIES[key] = read_dictionary(path)
    return _DICTIONARIES[key], digest


# ------------------------------------------------------------------ the switcher


@dataclass(frozen=True)
class CodeSwitch:
    """A task's examples transform (``Task.transform``): switches words of every example it loads."""

    dictionaries: Mapping[str, Dictionary]  # language -> dictionary
    digests: Mapping[str, str]  # language -> content hash of its file
    ratio: float
    seed: int
    language_choice: str = "example"

    def describe(self) -> dict[str, Any]:
        return {"code_switch": {"rule": RULE_VERSION, "dictionaries": dict(sorted(self.digests.items())),
                                "ratio": self.ratio, "seed": self.seed, "language_choice": self.language_choice}}

    def apply(self, task: Task, examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A task run text to text on an encoder-decoder keeps its encoder family's examples: switch them alike.
        switch = _SWITCHERS.get(reported_family(task.family))
        if switch is None:
            raise XstiltsError(f"task {task.name!r} is a {task.family} task: code-switching works on "
                               f"{', '.join(FAMILIES)} tasks")
        return [switch(example, _ExampleSwitch(self, str(example["id"]))) for example in examples]


def example_seed(seed: int, example_id: str) -> int:
    """The seed of one example's draws: the same on every machine and Python run (no ``hash()``)."""
    digest = hashlib.sha256(f"code-switch\x1f{seed}\x1f{example_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class _ExampleSwitch:
    """The draws of one example, in the documented order."""

    def __init__(self, config: CodeSwitch, example_id: str):
        self.config = config
        self.languages = sorted(config.dictionaries)
        self.rng = random.Random(example_seed(config.seed, example_id))
        self.language = None
        if config.language_choice == "example":
            self.language = self._pick(self.languages)

    def _pick(self, options: list[str] | tuple[str, ...]) -> str:
        return options[0] if len(options) == 1 else self.rng.choice(options)

    def _translations(self, language: str, word: str, single_word: bool) -> tuple[str, ...]:
        dictionary = self.config.dictionaries[language]
        found = dictionary.get(word) or dictionary.get(word.lower()) or ()
        return tuple(t for t in found if " " not in t) if single_word else found

    def word(self, word: str, single_word: bool = False) -> str | None:
        """The replacement of one word, or None to keep it."""
        languages = [self.language] if self.language is not None else self.languages
        options = {lang: found for lang in languages if (found := self._translations(lang, word, single_word))}
        if not options or self.rng.random() >= self.config.ratio:
            return None
        language = self._pick(sorted(options))
        return self._pick(options[language])

    def text(self, text: str, protected: list[tuple[int, int]] = ()) -> tuple[str, list[tuple[int, int, int]]]:
        """The switched text and its edits ``(start, end, length change)`` in the original's offsets; words
        overlapping a ``protected`` span ``(start, end)`` are kept."""
        pieces, edits, last = [], [], 0
        for match in WORD.finditer(text):
            start, end = match.span()
            if any(start < p_end and p_start < end for p_start, p_end in protected):
                continue
            replacement = self.word(match.group())
            if replacement is None:
                continue
            pieces += [text[last:start], replacement]
            edits.append((start, end, len(replacement) - (end - start)))
            last = end
        pieces.append(text[last:])
        return "".join(pieces), edits


# ------------------------------------------------------------------ per family


def _classification(example: dict[str, Any], switch: _ExampleSwitch) -> dict[str, Any]:
    out = dict(example, text=switch.text(example["text"])[0])
    if example.get("text_pair") is not None:
        out["text_pair"] = switch.text(example["text_pair"])[0]
    return out


def _multiple_choice(example: dict[str, Any], switch: _ExampleSwitch) -> dict[str, Any]:
    context = switch.text(example["context"])[0]
    return dict(example, context=context, choices=[switch.text(choice)[0] for choice in example["choices"]])


def _span_qa(example: dict[str, Any], switch: _ExampleSwitch) -> dict[str, Any]:
    question = switch.text(example["question"])[0]
    answers = example["answers"]
    spans = [(a["start"], a["start"] + len(a["text"])) for a in answers]
    context, edits = switch.text(example["context"], spans)
    # No edit overlaps an answer: each one before an answer moves it by its length change.
    moved = [dict(a, start=a["start"] + sum(delta for _, end, delta in edits if end <= a["start"]))
             for a in answers]
    return dict(example, question=question, context=context, answers=moved)


def _tagging(example: dict[str, Any], switch: _ExampleSwitch) -> dict[str, Any]:
    tokens = [switch.word(token, single_word=True) or token if WORD.fullmatch(token) else token
              for token in example["tokens"]]
    return dict(example, tokens=tokens)


def _mlm(example: dict[str, Any], switch: _ExampleSwitch) -> dict[str, Any]:
    return dict(example, text=switch.text(example["text"])[0])


_SWITCHERS = {"classification": _classification, "multiple_choice": _multiple_choice, "span_qa": _span_qa,
              "tagging": _tagging, "mlm": _mlm}


# ------------------------------------------------------------------ from the config


def code_switch_from(config) -> CodeSwitch:
    """The transform a source's ``code_switch`` config describes (dictionary paths already resolved)."""
    dictionaries, digests = {}, {}
    for language, path in config.dictionaries.items():
        dictionaries[language], digests[language] = load_dictionary(path)
    return CodeSwitch(dictionaries, digests, config.ratio, config.seed, config.language_choice)


def dictionary_digests(config) -> dict[str, str]:
    """Content hashes of a ``code_switch`` config's dictionary files (for lineage keys)."""
    for path in config.dictionaries.values():
        if not Path(path).is_file():
            raise DataError(Path(path), "no such dictionary file (MUSE format: one 'source_word target_word' per "
                            "line); put it there or fix `code_switch.dictionaries`")
    return {language: file_digest(Path(path)) for language, path in sorted(config.dictionaries.items())}


def with_code_switch(task: Task, config) -> Task:
    """``task`` whose loaded examples are code-switched as ``config`` says (None: the task itself)."""
    from dataclasses import replace

    if config is None:
        return task
    return replace(task, transform=code_switch_from(config))
