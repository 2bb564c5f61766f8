"""Tatoeba as XTREME uses it: LASER's ``tatoeba.<xxx>-eng.<xxx>`` and ``tatoeba.<xxx>-eng.eng``, 1000
line-aligned sentence pairs per language with ISO 639-3 codes (XTREME maps them to its 2-letter codes).

Each line pair becomes one example: ``source`` is the sentence in the language, ``target`` its English
translation, and the id is the 0-based line index (the official labels are such indices).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.data.formats.common import text_lines
from xstilts.errors import DataError

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
    """``path`` is ``tatoeba.<xxx>-eng.<xxx>``; its English side is read from the ``.eng`` file beside it."""
    sources = _lines(path)
    targets = _lines(english_file(path))
    if len(sources) != len(targets):
        raise DataError(
            path, f"{len(sources)} lines but {english_file(path).name} has {len(targets)}: the files must be line-aligned"
        )
    for (number, source), (_, target) in zip(sources, targets, strict=True):
        if not source or not target:
            raise DataError(path if not source else english_file(path), "empty sentence", number)
        yield number, {"id": str(number - 1), "source": source, "target": target}
