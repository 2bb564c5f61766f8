"""Tokenize once: featurized data cached as Arrow, keyed by everything that determines it.

The key covers the tokenizer (a hash of its full definition), the task declaration (version, labels, family
settings), the split, language, data file content, max length and the example cap. A second run with the
same key loads the Arrow files and never calls the tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.atomic import publish_folder
from xstilts.tasks.base import Task, stable_hash

# Bump when featurization code changes in a way that changes features.
FEATURE_FORMAT = 2  # 2: byte-level BPE tokenizers: QA offsets without the leading space, tagging words spaced


@dataclass
class FeaturizedSplit:
    task: Task
    split: str
    language: str
    features: list[dict[str, Any]]
    cache_key: str
    from_cache: bool
    data_root: Path
    limit: int | None
    _examples: list[dict[str, Any]] | None = None

    @property
    def examples(self) -> list[dict[str, Any]]:
        """Read (and validated) on first use: training from cached features never needs them, evaluation does."""
        if self._examples is None:
            self._examples = self.task.load(self.split, self.language, self.data_root, limit=self.limit)
        return self._examples


def feature_key(task: Task, split: str, language: str, data_root: Path, tokenizer_id: str,
                max_length: int, limit: int | None) -> str:
    return stable_hash({
        "format": FEATURE_FORMAT,
        "task": task.describe(),
        "split": split,
        "language": language,
        "data": task.fingerprint(split, language, data_root),
        "tokenizer": tokenizer_id,
        "max_length": max_length,
        "limit": limit,
    })


def featurize_cached(task: Task, split: str, language: str, *, data_root: Path, cache_root: Path, tokenizer,
                     tokenizer_id: str, max_length: int, limit: int | None = None) -> FeaturizedSplit:
    """Examples and features of one split and language, featurized at most once per key."""
    from xstilts.families import family_spec, get_family
    from xstilts.families.language_codes import source_language

    key = feature_key(task, split, language, data_root, tokenizer_id, max_length, limit)
    folder = cache_root / key
    if (folder / "dataset_info.json").exists():
        import datasets

        dataset = datasets.load_from_disk(str(folder))
        return FeaturizedSplit(task, split, language, dataset.to_list(), key, True, data_root, limit)
    examples = task.load(split, language, data_root, limit=limit)
    family = get_family(task.family)
    if family_spec(task.family).model_kind == "encoder-decoder":
        with source_language(tokenizer, language):  # mBART-50: the language's code opens source and target
            features = family.featurize(task, examples, tokenizer, max_length)
    else:
        features = family.featurize(task, examples, tokenizer, max_length)
    _save(features, folder)
    return FeaturizedSplit(task, split, language, features, key, False, data_root, limit, examples)


def _save(features: list[dict[str, Any]], folder: Path) -> None:
    import datasets

    datasets.disable_progress_bars()
    # The key fixes the content: when another process saves the same key first, theirs is identical and stays.
    with publish_folder(folder, replace=False) as staging:
        datasets.Dataset.from_list(features).save_to_disk(str(staging))
