"""BUCC 2018 parallel-sentence mining, as released: per language pair ``<l>-en/<l>-en.<part>.<l>``,
``<l>-en.<part>.en`` (``<id><TAB><sentence>`` lines, ids ``<lang>-<9 digits>``) and ``<l>-en.<part>.gold``
(``<src id><TAB><en id>`` lines). XTREME calls BUCC's ``sample`` part dev and its ``training`` part test
(the real test gold is not public).

A mining set is every sentence of both sides: source sentences become examples with a ``source`` and the
ids of their gold translations in ``gold_targets`` (empty for most); English sentences become examples with
a ``target`` only. Ids are the release's own, so mined pairs print as the official ``src_id<TAB>en_id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import at_least_one, rows_without_gaps, tab_fields, text_lines

PARTS = {"dev": "sample", "test": "training"}


def part_files(folder: Path, split: str, language: str) -> tuple[Path, Path, Path]:
    """(source, English, gold) files of one split in a ``<l>-en`` folder."""
    if split not in PARTS:
        raise DataError(folder, f"BUCC 2018 has no split {split!r}: dev (BUCC 'sample') and test (BUCC 'training')")
    stem = f"{language}-en.{PARTS[split]}"
    return folder / f"{stem}.{language}", folder / f"{stem}.en", folder / f"{stem}.gold"


def _sentences(path: Path, prefix: str) -> Iterator[tuple[int, str, str]]:
    if not path.exists():
        raise DataError(path, "missing BUCC file: extract the official bucc2018-<l>-en.{sample,training}-gold archives here")
    pattern = re.compile(re.escape(prefix) + "[0-9]{9}")
    seen: dict[str, int] = {}
    for number, line in at_least_one(path, rows_without_gaps(path, text_lines(path)), "sentences"):
        ident, sentence = tab_fields(path, number, line, 2, "sentence id, sentence")
        ident = ident.strip()
        if not pattern.fullmatch(ident):
            raise DataError(path, f"sentence id {ident[:40]!r} is not {prefix}<9 digits>", number)
        if ident in seen:
            raise DataError(path, f"sentence id {ident!r} occurs twice (first at line {seen[ident]})", number)
        seen[ident] = number
        if not sentence.strip():
            raise DataError(path, f"sentence {ident} is empty", number)
        yield number, ident, sentence.strip()


def read_gold(path: Path) -> list[tuple[int, str, str]]:
    """(line, source id, English id) of every gold pair; a pair listed twice is an error."""
    if not path.exists():
        raise DataError(path, "missing BUCC gold file (src_id<TAB>en_id lines)")
    pairs = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in at_least_one(path, rows_without_gaps(path, text_lines(path)), "gold pairs"):
        source, target = (field.strip() for field in tab_fields(path, number, line.strip(), 2, "source id, English id"))
        if (source, target) in seen:
            raise DataError(path, f"gold pair {source} -> {target} occurs twice (first at line {seen[source, target]})",
                            number)
        seen[source, target] = number
        pairs.append((number, source, target))
    return pairs


def read_bucc(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``path`` is the ``<l>-en`` folder. Sources first (file order), then English sentences."""
    source_file, english_file, gold_file = part_files(path, split, language)
    sources = list(_sentences(source_file, f"{language}-"))
    targets = list(_sentences(english_file, "en-"))
    known_sources = {ident for _, ident, _ in sources}
    known_targets = {ident for _, ident, _ in targets}
    gold: dict[str, list[str]] = {}
    for number, source, target in read_gold(gold_file):
        if source not in known_sources or target not in known_targets:
            missing, where = (source, source_file) if source not in known_sources else (target, english_file)
            raise DataError(gold_file, f"gold pair {source} -> {target}: {missing} is not in {where.name}",
                            number)
        gold.setdefault(source, []).append(target)
    for number, ident, sentence in sources:
        yield number, {"id": ident, "source": sentence, "target": None, "gold_targets": gold.get(ident, [])}
    for number, ident, sentence in targets:
        yield number, {"id": ident, "source": None, "target": sentence}
