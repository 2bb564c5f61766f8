"""CCGbank AUTO files (CCG supertagging). CCGbank (LDC2005T13) needs an LDC licence, so it is never
downloaded: put the release's ``data/AUTO`` folder (sections ``00``..``24``, files ``wsj_SSNN.auto``) under
``<data_root>/ccg/ccgbank_1_1/data/AUTO`` or point the reader at it.

Each sentence takes two lines: ``ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1`` and its derivation on one line, a
bracketed tree whose leaves are ``(<L category modified_POS original_POS word predicate_argument_category>)``
and inner nodes ``(<T category head daughters> ...)``. A word's supertag is its leaf's category.

Standard splits (Clark and Curran 2007): train = sections 02-21, dev = 00, test = 23. jiant's CCG task (the
X-STILTs intermediate task; jiant-v1-legacy's ``scripts/ccg/ccg_proc.py``) split every section instead:
train = 00-18, dev = 19-21, test = 22-24 (:data:`JIANT_SECTIONS`, read by :func:`read_ccgbank_jiant`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from xstilts.errors import DataError


def _sections(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{s:02d}" for s in range(first, last + 1))


SECTIONS = {"train": _sections(2, 21), "dev": ("00",), "test": ("23",)}
JIANT_SECTIONS = {"train": _sections(0, 18), "dev": _sections(19, 21), "test": _sections(22, 24)}
WHERE_TO_PUT = (
    "CCGbank needs an LDC licence (LDC2005T13) and is never downloaded: copy the release's data/AUTO folder "
    "(sections 00..24 of wsj_*.auto files) to <data_root>/ccg/ccgbank_1_1/data/AUTO"
)
# A leaf: category, modified POS, original POS, word, predicate-argument category; none contains a space.
_LEAF = re.compile(r"\(<L (\S+) (\S+) (\S+) (\S+) (\S+)>\)")


def auto_files(path: Path, split: str, sections: Mapping[str, tuple[str, ...]] = SECTIONS) -> list[Path]:
    """The AUTO files of a split: ``path`` itself when it is a file, else the split's sections under the
    AUTO folder (``sections``: split -> section folders), in sorted order."""
    if path.is_file():
        return [path]
    if split not in sections:
        raise DataError(path, f"CCGbank has no split {split!r}; choose one of {', '.join(sections)}")
    if not path.is_dir():
        raise DataError(path, f"missing. {WHERE_TO_PUT}")
    files = []
    for section in sections[split]:
        folder = path / section
        found = sorted(folder.glob("wsj_*.auto")) if folder.is_dir() else []
        if not found:
            raise DataError(folder, f"no wsj_*.auto files for section {section} of the {split} split. {WHERE_TO_PUT}")
        files.extend(found)
    return files


def read_auto_file(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line of the derivation, {"id", "tokens", "tags"}) for each sentence of one AUTO file."""
    with open(path, encoding="utf-8", errors="strict") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    number = 0
    while number < len(lines):
        header = lines[number]
        number += 1
        if not header.strip():
            continue
        if not header.startswith("ID="):
            raise DataError(path, f"expected a sentence header 'ID=... PARSER=... NUMPARSE=...', found {header[:120]!r}",
                            number)
        sentence_id = header.split()[0][len("ID="):]
        if number >= len(lines) or not lines[number].startswith("(<"):
            raise DataError(path, f"sentence {sentence_id}: the header must be followed by its derivation "
                            "'(<T ...' or '(<L ...' on the next line", number + 1)
        tree = lines[number]
        number += 1
        leaves = _LEAF.findall(tree)
        if not leaves:
            raise DataError(path, f"sentence {sentence_id}: the derivation has no leaves '(<L cat pos pos word cat>)'",
                            number)
        if tree.count("(") != tree.count(")") - _unbalanced_in_leaves(leaves):
            raise DataError(path, f"sentence {sentence_id}: unbalanced brackets in the derivation (truncated line?)",
                            number)
        yield number, {
            "id": sentence_id,
            "tokens": [leaf[3] for leaf in leaves],
            "tags": [leaf[0] for leaf in leaves],
        }


def _unbalanced_in_leaves(leaves: list[tuple[str, ...]]) -> int:
    """Closing minus opening brackets inside the leaves' fields (categories such as (S\\NP)/NP balance; a
    word or tag like '-RRB-' has none, but a raw ')' word would). Used to check the tree's own brackets."""
    return sum(field.count(")") - field.count("(") for leaf in leaves for field in leaf)


def read_ccgbank(path: Path, split: str, language: str = "en",
                 sections: Mapping[str, tuple[str, ...]] = SECTIONS) -> Iterator[tuple[int, dict[str, Any]]]:
    """Tagging examples of a split: from the AUTO folder (the split's sections, standard ones by default) or
    one AUTO file. The line number is the derivation's line in its own file; errors name that file."""
    for file in auto_files(path, split, sections):
        yield from read_auto_file(file)


# jiant's CCG data: the same words and tags (ccg_proc.py takes fields 4 and 1 of each '<L ...' leaf, 'L' being
# field 0: the word and the category read here), from other sections per split.
read_ccgbank_jiant = partial(read_ccgbank, sections=JIANT_SECTIONS)


def supertag_counts(path: Path, split: str = "train",
                    sections: Mapping[str, tuple[str, ...]] = SECTIONS) -> Counter[str]:
    """How often each category is a word's supertag in a split (the usual label set is the categories seen at
    least 10 times in sections 02-21: 425 of them)."""
    counts: Counter[str] = Counter()
    for _, example in read_ccgbank(path, split, sections=sections):
        counts.update(example["tags"])
    return counts
