"""BUCC 2018 parallel-sentence mining, as released: per language pair ``<l>-en/<l>-en.<part>.<l>``,
``<l>-en.<part>.en`` (``<id><TAB><sentence>`` lines, ids ``<lang>-<9 digits>``) and ``<l>-en.<part>.gold``
(``<src id><TAB><en id>`` lines). XTREME calls BUCC's ``sample`` part dev and its ``training`` part test
(the real test gold is not public).

A mining set is every sentence of both sides: source sentences become examples with a ``source`` and the
ids of their gold translations in ``gold_targets`` (empty for most); English sentences become examples with
a ``target`` only. Ids are the release's own, so mined pairs print as the official ``src_id<TAB>en_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import tab_fields, text_lines

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
    seen: set[str] = set()
    for number, line in text_lines(path):
        if not line.strip():
            continue
        ident, sentence = tab_fields(path, number, line, 2, "sentence id, sentence")
        ident = ident.strip()
        if not ident.startswith(prefix):
            raise DataError(path, f"sentence id {ident!r} does not start with {prefix!r}", number)
        if ident in seen:
            raise DataError(path, f"sentence id {ident!r} occurs twice", number)
        seen.add(ident)
        yield number, ident, sentence.strip()


def read_gold(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        raise DataError(path, "missing BUCC gold file (src_id<TAB>en_id lines)")
    pairs = []
    for number, line in text_lines(path):
        if line.strip():
            source, target = tab_fields(path, number, line.strip(), 2, "source id, English id")
            pairs.append((source.strip(), target.strip()))
    return pairs


def read_bucc(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``path`` is the ``<l>-en`` folder. Sources first (file order), then English sentences."""
    source_file, english_file, gold_file = part_files(path, split, language)
    gold: dict[str, list[str]] = {}
    for source, target in read_gold(gold_file):
        gold.setdefault(source, []).append(target)
    sources = list(_sentences(source_file, f"{language}-"))
    targets = list(_sentences(english_file, "en-"))
    known_sources = {ident for _, ident, _ in sources}
    known_targets = {ident for _, ident, _ in targets}
    for source, found in gold.items():
        missing = [target for target in found if target not in known_targets]
        if source not in known_sources or missing:
            raise DataError(
                gold_file, f"gold pair {source} -> {', '.join(found)} names a sentence that is not in "
                f"{source_file.name if source not in known_sources else english_file.name}",
            )
    for number, ident, sentence in sources:
        yield number, {"id": ident, "source": sentence, "target": None, "gold_targets": gold.get(ident, [])}
    for number, ident, sentence in targets:
        yield number, {"id": ident, "source": None, "target": sentence}
