"""Label sets derived from the data, for tasks whose standard label set cannot be shipped (see
``Task.labels_from``).

:class:`FrequentTags` is the usual supertagging recipe (Clark and Curran 2007, and the neural supertaggers
after them): the tags seen at least ``min_count`` times in the training split, plus one unknown tag that every
rarer tag is mapped to, in training and evaluation alike. Mapping evaluation tags too keeps every example
valid for the tagging family; the price, stated here so nobody is surprised, is that predicting the unknown
tag on a word whose gold tag is rare counts as correct (on CCGbank about 0.2-0.5% of the words of a section
have a category outside the 425 frequent ones).

:class:`EveryTag` is jiant's recipe (jiant-v1-legacy's ``scripts/ccg/ccg_to_num.py``, whose table jiant 2's CCG
task reads: 1,363 supertags): every distinct tag of the listed splits, numbered in the order first seen, the
splits read in the order listed (jiant: train, test, dev). Every tag of those splits is a label, so no example
needs mapping and no unknown tag exists; the head is larger and holds tags seen only in dev or test, which is
what jiant trained.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xstilts.errors import DataError

if TYPE_CHECKING:
    from xstilts.tasks.base import Task


def _tags_of(task: Task, split: str, data_root: Path) -> Iterator[list[str]]:
    """The ``tags`` list of every example of a split, in file order."""
    for language in task.languages(split):
        path = task.existing_path(split, language, data_root)
        for line, example in task.reader(path, split, language):
            tags = example.get("tags")
            if not isinstance(tags, list):
                raise DataError(path, "a tagging example needs a 'tags' list", line)
            yield tags


@dataclass(frozen=True)
class FrequentTags:
    """Tags (the ``tags`` lists of tagging examples) seen at least ``min_count`` times in ``split``, sorted by
    their text (so the set and its order depend on the data alone, not on file order), then ``unknown``."""

    min_count: int = 10
    unknown: str = "<unk>"
    split: str = "train"

    @property
    def splits(self) -> tuple[str, ...]:
        return (self.split,)

    def derive(self, task: Task, data_root: Path) -> tuple[str, ...]:
        counts: Counter[str] = Counter()
        for tags in _tags_of(task, self.split, data_root):
            counts.update(tags)
        if self.unknown in counts:
            raise DataError(task.path(self.split, task.languages(self.split)[0], data_root),
                            f"the data has a tag {self.unknown!r}, which this task reserves for rare tags")
        return (*sorted(tag for tag, count in counts.items() if count >= self.min_count), self.unknown)

    def adapt(self, example: dict[str, Any], labels: tuple[str, ...]) -> dict[str, Any]:
        tags = example.get("tags")
        if not isinstance(tags, list):
            return example  # the family's validation reports it
        known = set(labels)
        return {**example, "tags": [tag if tag in known else self.unknown for tag in tags]}

    def describe(self) -> dict[str, Any]:
        return {"rule": "frequent_tags", "min_count": self.min_count, "unknown": self.unknown, "split": self.split}


@dataclass(frozen=True)
class EveryTag:
    """Every distinct tag of ``splits``, in the order first seen (splits in the order given, each read in the
    reader's order). The order is only the head's output order; it is fixed by the data and the reader alone.
    (jiant read the section folders in ``os.listdir`` order, so its numbering is not reproducible; the set is.)"""

    splits: tuple[str, ...] = ("train", "test", "dev")

    def derive(self, task: Task, data_root: Path) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for split in self.splits:
            for tags in _tags_of(task, split, data_root):
                seen.update(dict.fromkeys(tags))
        return tuple(seen)

    def adapt(self, example: dict[str, Any], labels: tuple[str, ...]) -> dict[str, Any]:
        return example  # every tag of the data is a label

    def describe(self) -> dict[str, Any]:
        return {"rule": "every_tag", "splits": list(self.splits), "order": "first_seen"}
