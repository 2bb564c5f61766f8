"""Task declarations: what a task is, as data.

A task names its family, the languages of each split, its label set, how its files are found and read,
its metrics (the first is the main score) and a version that enters every cache key. It holds no training
logic: that belongs to the family (``xstilts.families``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from xstilts.errors import DataError, XstiltsError
from xstilts.registry import did_you_mean

# A reader turns one file into (line number, example) pairs; it raises DataError for malformed input. It is
# called as ``reader(path, split, language)``: some official files hold every language of a split (XNLI's
# test tsv) or a mix that must be filtered (TyDiQA's train file), so a reader may select by language.
Reader = Callable[[Path, str, str], Iterable[tuple[int, dict[str, Any]]]]


class DerivedLabels(Protocol):
    """A label set that can only come from the data (CCG supertags: the standard set is whatever CCGbank's
    training sections hold, and CCGbank is licensed, so it cannot be shipped). ``derive`` reads it from the
    data, deterministically; ``adapt`` maps an example into it (a rare tag to the unknown tag); ``describe``
    is the rule as data, for cache keys; ``splits`` are the splits ``derive`` reads (their files' content
    hashes key the memo of derived labels)."""

    @property
    def splits(self) -> tuple[str, ...]: ...

    def derive(self, task: Task, data_root: Path) -> tuple[str, ...]: ...

    def adapt(self, example: dict[str, Any], labels: tuple[str, ...]) -> dict[str, Any]: ...

    def describe(self) -> dict[str, Any]: ...


class ExampleTransform(Protocol):
    """A rewrite of a task's loaded examples that keeps their schema (code-switching: ``data.code_switch``).
    ``describe`` is the rewrite as data: it enters the task's ``describe`` and so every cache key."""

    def apply(self, task: Task, examples: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def describe(self) -> dict[str, Any]: ...


def default_file(task: Task, split: str, language: str, data_root: Path) -> Path:
    return data_root / task.data_dir / f"{split}-{language}.jsonl"


@dataclass(frozen=True)
class Task:
    name: str
    family: str
    description: str
    # split -> languages that split has, e.g. {"train": ("en",), "test": ("en", "de", "fr")}
    splits: Mapping[str, tuple[str, ...]]
    reader: Reader
    metrics: tuple[str, ...] = ("accuracy",)
    labels: tuple[str, ...] = ()
    version: str = "1"
    # Tasks that name the same head share it (ANLI+ = ANLI, MNLI and SNLI through one NLI head).
    head: str | None = None
    # Family settings: keys, types, defaults and ranges are the family's spec (families/<family>_settings.py).
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Folder below the data root holding this task's files; defaults to the task name.
    data_folder: str | None = None
    file_for: Callable[[Task, str, str, Path], Path] = default_file
    # Makes the files when they are generated in code (mock and micro tasks); None for downloaded data.
    prepare: Callable[[Task, Path], None] | None = None
    benchmark: str = ""
    # Labels taken from the data when it is present (``labels`` stays empty in the declaration); see
    # ``with_data``. None for tasks whose labels are declared.
    labels_from: DerivedLabels | None = None
    # Applied to the examples ``load`` returns (a code-switched source); None for the data as it is.
    transform: ExampleTransform | None = None

    @property
    def head_name(self) -> str:
        return self.head or self.name

    @property
    def data_dir(self) -> str:
        return self.data_folder or self.name

    @property
    def main_metric(self) -> str:
        return self.metrics[0]

    def languages(self, split: str) -> tuple[str, ...]:
        if split not in self.splits:
            raise XstiltsError(
                f"task {self.name!r} has no split {split!r}: {did_you_mean(split, list(self.splits))}"
            )
        return self.splits[split]

    def path(self, split: str, language: str, data_root: Path) -> Path:
        langs = self.languages(split)
        if language not in langs:
            raise XstiltsError(
                f"task {self.name!r} has no {language!r} data in split {split!r}: "
                f"{did_you_mean(language, list(langs))}"
            )
        return self.file_for(self, split, language, data_root)

    def ensure_files(self, data_root: Path) -> None:
        if self.prepare is not None:
            self.prepare(self, data_root)

    def existing_path(self, split: str, language: str, data_root: Path) -> Path:
        """``path``, made first when the task generates its files; a missing file is an error that says where
        it should be."""
        path = self.path(split, language, data_root)
        if not path.exists():
            self.ensure_files(data_root)
        if not path.exists():
            raise XstiltsError(
                f"task {self.name!r}: missing data file {path}. Put the {split} file for {language!r} there, "
                f"or set `data_root` in the config (or XSTILTS_DATA) to the folder that holds {self.data_dir}/."
            )
        return path

    def with_data(self, data_root: Path) -> Task:
        """The task as the data under ``data_root`` defines it: itself, or for a task with ``labels_from`` a
        copy whose ``labels`` are derived from the data (memoised on the data's content hash). Everything that
        builds heads, features or keys from a task's labels takes it through here."""
        if self.labels_from is None or self.labels:
            return self
        rule = self.labels_from.describe()
        splits = self.labels_from.splits
        digests = [file_digest(self.existing_path(split, lang, data_root))
                   for split in splits for lang in self.languages(split)]
        memo_key = (self.name, stable_hash(rule), ",".join(digests))
        if memo_key not in _DERIVED_LABELS:
            labels = tuple(self.labels_from.derive(self, data_root))
            if len(labels) < 2:
                raise DataError(self.path(splits[0], self.languages(splits[0])[0], data_root),
                                f"task {self.name!r}: the data gives {len(labels)} label(s) by the rule {rule}; "
                                "is this the full training data?")
            _DERIVED_LABELS[memo_key] = labels
        return replace(self, labels=_DERIVED_LABELS[memo_key])

    def load(self, split: str, language: str, data_root: Path, limit: int | None = None) -> list[dict[str, Any]]:
        """Read and validate the examples of one split and language (every example, or the first ``limit``)."""
        from xstilts.families import get_family

        if self.labels_from is not None and not self.labels:
            return self.with_data(data_root).load(split, language, data_root, limit)
        path = self.existing_path(split, language, data_root)
        family = get_family(self.family)
        examples = []
        for line, example in self.reader(path, split, language):
            if self.labels_from is not None:
                example = self.labels_from.adapt(example, self.labels)
            problem = family.validate_example(self, example)
            if problem:
                raise DataError(path, problem, line)
            examples.append(example)
            if limit is not None and len(examples) >= limit:
                break
        if not examples:
            raise DataError(path, "the file holds no examples")
        return examples if self.transform is None else self.transform.apply(self, examples)

    def fingerprint(self, split: str, language: str, data_root: Path) -> str:
        """A content hash of one data file (enters lineage and cache keys)."""
        return file_digest(self.existing_path(split, language, data_root))

    def describe(self) -> dict[str, Any]:
        """The parts of the declaration that determine featurized data (for cache keys)."""
        described = {
            "name": self.name,
            "family": self.family,
            "version": self.version,
            "labels": list(self.labels),
            "settings": dict(self.settings),
        }
        if self.labels_from is not None:
            described["labels_from"] = self.labels_from.describe()
        if self.transform is not None:  # only then: the keys of untransformed data stay as they were
            described["transform"] = self.transform.describe()
        return described


_DIGESTS: dict[tuple[str, float, int], str] = {}
# (task, rule hash, data hashes) -> derived labels
_DERIVED_LABELS: dict[tuple[str, str, str], tuple[str, ...]] = {}


def file_digest(path: Path) -> str:
    """Content hash of a file, or of every file below a folder (names and contents, in sorted order): some
    official data is a folder of files (the Universal Dependencies release, a BUCC language pair)."""
    if path.is_dir():
        digest = hashlib.sha256()
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(member.relative_to(path).as_posix().encode() + b"\0" + file_digest(member).encode())
        return digest.hexdigest()[:16]
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_mtime, stat.st_size)
    if memo_key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _DIGESTS[memo_key] = digest.hexdigest()[:16]
    return _DIGESTS[memo_key]


def stable_hash(value: Any, length: int = 16) -> str:
    """Hash of a JSON-able value, independent of dict order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
