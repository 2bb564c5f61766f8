"""Label sets derived from the data, for tasks whose standard label set cannot be shipped (see
``Task.labels_from``).

:class:`FrequentTags` is the usual supertagging recipe (Clark and Curran 2007, and the neural supertaggers
after them): the tags seen at least ``min_count`` times in the training split, plus one unknown tag that every
rarer tag is mapped to, in training and evaluation alike. Mapping evaluation tags too keeps every example
valid for the tagging family; the price, stated here so nobody is surprised, is that predicting the unknown
tag on a word whose gold tag is rare counts as correct (on CCGbank about 0.2-0.5% of the words of a section
have a category outside the 425 frequent ones).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xstilts.errors import DataError

if TYPE_CHECKING:
    from xstilts.tasks.base import Task


@dataclass(frozen=True)
class FrequentTags:
    """Tags (the ``tags`` lists of tagging examples) seen at least ``min_count`` times in ``split``, sorted by
    their text (so the set and its order depend on the data alone, not on file order), then ``unknown``."""

    min_count: int = 10
    unknown: str = "<unk>"
    split: str = "train"

    def derive(self, task: Task, data_root: Path) -> tuple[str, ...]:
        counts: Counter[str] = Counter()
        for language in task.languages(self.split):
            path = task.existing_path(self.split, language, data_root)
            for line, example in task.reader(path, self.split, language):
                tags = example.get("tags")
                if not isinstance(tags, list):
                    raise DataError(path, "a tagging example needs a 'tags' list", line)
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
