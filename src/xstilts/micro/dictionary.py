"""Bilingual dictionaries English -> each synthetic language, from the generator's lexicons, in MUSE format
(``english_word translation`` per line), so micro studies can code-switch offline (``data.code_switch``).

Every inflected form is listed: an English form maps to the synthetic form of the same lexeme and inflection
feature, so ``walked`` maps to the past singular and the past plural where a language tells them apart (two
lines), and an English homograph maps to every lexeme it spells. Names and digits are not listed: they are
shared anchors, written the same (or transliterated by sound) in every language.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.atomic import write_text_atomic
from xstilts.micro.languages import _FEATURES, ENGLISH, SYNTHETIC_CODES, get_language
from xstilts.micro.world import LEXEMES

# Features of a synthetic form that English does not mark (agreeing adjectives): the English form they share.
_ENGLISH_FEATURE = {"pos.pl": "pos", "cmp.pl": "cmp"}


def dictionary_entries(code: str) -> list[tuple[str, str]]:
    """(English word, translation) pairs for one synthetic language, sorted, without duplicates."""
    language = get_language(code)
    if language.is_english:
        raise ValueError("a dictionary translates English into a synthetic language; 'en' is English itself")
    pairs: set[tuple[str, str]] = set()
    for lexeme, entry in LEXEMES.items():
        if not entry.forms:  # synthetic-only particles: no English word to look up
            continue
        for feature in _FEATURES.get(entry.pos, ("",)):
            english = ENGLISH.form(lexeme, _ENGLISH_FEATURE.get(feature, feature)).lower()
            if not english or english == "-" or " " in english:  # no form, or one a MUSE line cannot hold
                continue
            pairs.add((english, language.form(lexeme, feature)))
            if lexeme == "a":  # the grammar writes "an" before a vowel: same word
                pairs.add(("an", language.form(lexeme, feature)))
    return sorted(pairs)


def write_dictionaries(folder: Path, languages: tuple[str, ...] = SYNTHETIC_CODES) -> list[Path]:
    """Write ``en-<code>.txt`` for each language (atomically); returns the paths."""
    paths = []
    for code in languages:
        path = Path(folder) / f"en-{code}.txt"
        write_text_atomic(path, "".join(f"{english} {translation}\n"
                                        for english, translation in dictionary_entries(code)))
        paths.append(path)
    return paths
