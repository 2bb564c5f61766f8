"""Tatoeba as XTREME uses it: LASER's ``tatoeba.<xxx>-eng.<xxx>`` and ``tatoeba.<xxx>-eng.eng``, 1000
line-aligned sentence pairs per language with ISO 639-3 codes (XTREME maps them to its 2-letter codes).

XTREME queries with the English side: its preprocessing sorts the English file alphabetically (Python's
``sorted`` on the stripped lines, so equal lines keep their order) and keeps the other file as it is; the
official prediction and label for the j-th sorted English sentence is the 0-based line, in the other
language's file, of the sentence retrieved for it / of its translation.

So each line pair becomes one example, in the order of the sorted English file: ``source`` (the query) is the
English sentence, ``target`` (the candidate) the sentence in the language, and the id is the 0-based line
index of the pair. The retrieval family predicts the id of the retrieved candidate: that is the official
prediction line, and the examples' ids in order are the official label lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import text_lines

# XTREME's 2-letter code -> LASER's 3-letter code (facts of utils_preprocess.tatoeba_preprocess).
LASER_CODES = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa", "et": "est",
    "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "id": "ind",
    "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz", "ko": "kor", "ml": "mal", "mr": "mar",
    "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh", "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl",
    "tr": "tur", "ur": "urd", "vi": "vie", "zh": "cmn", "az": "aze", "lt": "lit", "pl": "pol", "uk": "ukr",
    "ro": "ron",
}


def file_name(language: str) -> str:
    code = LASER_CODES[language]
    return f"tatoeba.{code}-eng.{code}"


def english_file(path: Path) -> Path:
    return path.with_name(path.name.rsplit(".", 1)[0] + ".eng")


def _lines(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        raise DataError(path, "missing Tatoeba file (LASER data/tatoeba/v1)")
    return [(number, line.strip()) for number, line in text_lines(path)]


def read_tatoeba(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``path`` is ``tatoeba.<xxx>-eng.<xxx>``; its English side is read from the ``.eng`` file beside it. Every
    line is a sentence (a blank one is an error, at the end of a file too: the files are line-aligned)."""
    english = english_file(path)
    sources = _lines(path)
    targets = _lines(english)
    if len(sources) != len(targets):
        shorter, longer = (path, english) if len(sources) < len(targets) else (english, path)
        count = min(len(sources), len(targets))
        raise DataError(
            shorter, f"has {count} lines but {longer.name} has {max(len(sources), len(targets))}: the files must be "
            f"line-aligned (line {count + 1} has no partner here)", count + 1,
        )
    if not sources:
        raise DataError(path, "the file is empty: expected one sentence per line")
    for (number, other), (_, sentence) in zip(sources, targets, strict=True):
        if not other or not sentence:
            raise DataError(path if not other else english, "empty sentence (every line of the line-aligned files "
                                                           "is one sentence)", number)
    order = sorted(range(len(targets)), key=lambda row: targets[row][1])  # stable: equal lines keep file order
    for row in order:
        number = sources[row][0]
        yield number, {"id": str(number - 1), "source": targets[row][1], "target": sources[row][1]}
