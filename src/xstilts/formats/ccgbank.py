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

from collections import Counter
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import is_blank, text_lines


def _sections(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{s:02d}" for s in range(first, last + 1))


SECTIONS = {"train": _sections(2, 21), "dev": ("00",), "test": ("23",)}
JIANT_SECTIONS = {"train": _sections(0, 18), "dev": _sections(19, 21), "test": _sections(22, 24)}
WHERE_TO_PUT = (
    "CCGbank needs an LDC licence (LDC2005T13) and is never downloaded: copy the release's data/AUTO folder "
    "(sections 00..24 of wsj_*.auto files) to <data_root>/ccg/ccgbank_1_1/data/AUTO"
)


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
    """(line of the derivation, {"id", "tokens", "tags"}) for each sentence of one AUTO file. Each derivation is
    parsed as a tree (not searched for leaves), so a leaf without its five fields, a node with another number of
    daughters than it declares or a cut line is an error, never a sentence with a word less."""
    lines = text_lines(path)
    seen: dict[str, int] = {}
    for number, header in lines:
        if is_blank(header):
            continue
        fields = header.split()
        if not fields[0].startswith("ID=") or len(fields[0]) == len("ID="):
            raise DataError(path, f"expected a sentence header 'ID=... PARSER=... NUMPARSE=...', found {header[:120]!r}",
                            number)
        sentence_id = fields[0][len("ID="):]
        if sentence_id in seen:
            raise DataError(path, f"sentence id {sentence_id} occurs twice (first at line {seen[sentence_id]})", number)
        seen[sentence_id] = number
        following = next(lines, None)
        if following is None:
            raise DataError(path, f"sentence {sentence_id}: the file ends after its header, without the derivation "
                                  "(is the file cut short?)", number)
        number, tree = following
        if not tree.startswith("(<"):
            raise DataError(path, f"sentence {sentence_id}: the header must be followed by its derivation "
                            "'(<T ...' or '(<L ...' on the next line", number)
        leaves = derivation_leaves(path, number, sentence_id, tree)
        yield number, {
            "id": sentence_id,
            "tokens": [leaf[3] for leaf in leaves],
            "tags": [leaf[0] for leaf in leaves],
        }
    if not seen:
        raise DataError(path, "holds no sentences: is the AUTO file empty or cut short?")


def derivation_leaves(path: Path, number: int, sentence_id: str, tree: str) -> list[list[str]]:
    """The leaves (category, modified POS, original POS, word, predicate-argument category) of a derivation,
    in order. Inner nodes ``(<T category head daughters> child ... )`` must have the declared number of
    daughters (1 or 2); the whole line must be one tree. Iterative, so a deep tree cannot overflow the stack."""
    def fail(problem: str) -> DataError:
        return DataError(path, f"sentence {sentence_id}: {problem} in the derivation (truncated or edited line?)",
                         number)

    leaves: list[list[str]] = []
    open_nodes: list[int] = []  # daughters still expected by each open inner node
    position = 0
    while True:
        if tree.startswith("(<L ", position):
            end = tree.find(">)", position)
            if end == -1:
                raise fail(f"an unclosed leaf at character {position + 1}")
            leaf = tree[position + len("(<L "):end].split(" ")
            if len(leaf) != 5 or not all(leaf):
                raise fail(f"a leaf with {len(leaf)} fields (expected '(<L category POS POS word category>)') at "
                           f"character {position + 1}")
            leaves.append(leaf)
            position = end + len(">)")
            if open_nodes:
                open_nodes[-1] -= 1
        elif tree.startswith("(<T ", position):
            end = tree.find(">", position)
            node = tree[position + len("(<T "):end].split(" ") if end != -1 else []
            if len(node) != 3 or node[2] not in ("1", "2") or node[1] not in ("0", "1") or not node[0]:
                raise fail(f"an inner node that is not '(<T category head daughters>' at character {position + 1}")
            if open_nodes:
                open_nodes[-1] -= 1
            open_nodes.append(int(node[2]))
            position = end + 1
        else:
            raise fail(f"{tree[position:position + 20]!r} where a node '(<T' or a leaf '(<L' must start, at "
                       f"character {position + 1}")
        # Close every node whose daughters are all read: " )" after its last daughter.
        while open_nodes and open_nodes[-1] == 0:
            if not tree.startswith(" )", position):
                raise fail(f"no ' )' after the last daughter of a node, at character {position + 1}")
            open_nodes.pop()
            position += len(" )")
        if not open_nodes:
            break
        if open_nodes[-1] < 0 or not tree.startswith(" (<", position):
            raise fail(f"a node with more or fewer daughters than it declares, at character {position + 1}")
        position += 1
    if tree[position:].strip():
        raise fail(f"text after the end of the tree at character {position + 1}")
    return leaves


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
