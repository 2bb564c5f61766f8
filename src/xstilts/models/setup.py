"""The starting point of a study: its tokenizer and initial encoder (pretrained, or built from a config)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from xstilts.config.schema import ModelConfig
from xstilts.data.texts import example_texts
from xstilts.studies.store import file_lock
from xstilts.tasks import get_task
from xstilts.tasks.base import stable_hash


def prepare_tokenizer(model: ModelConfig, data_root: Path, cache_root: Path, model_key: str):
    """Returns (tokenizer, tokenizer_id). A trained tokenizer is trained once and cached by its key."""
    from xstilts.models.tokenizer import load_tokenizer, tokenizer_fingerprint

    spec = model.tokenizer
    if spec is None:
        from xstilts.models.encoder import load_encoder_tokenizer

        tokenizer = load_encoder_tokenizer(model.name_or_path, model.revision)
    elif spec.path:
        tokenizer = load_tokenizer(spec.path)
    else:
        folder = cache_root / stable_hash({"tokenizer_for": model_key})
        # Parallel workers start at once: one trains, the others wait for it instead of training it again.
        with file_lock(folder.with_name(f"{folder.name}.lock")):
            _train_if_missing(spec, data_root, folder)
        tokenizer = load_tokenizer(folder)
    return tokenizer, tokenizer_fingerprint(tokenizer)


def _train_if_missing(spec, data_root: Path, folder: Path) -> None:
    from xstilts.models.tokenizer import train_tokenizer

    if (folder / "tokenizer_config.json").exists():
        return
    texts = list(_corpus(spec.train.corpus, data_root))
    tokenizer = train_tokenizer(texts, vocab_size=spec.train.vocab_size, lowercase=spec.train.lowercase,
                                algorithm=spec.train.algorithm)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer.save_pretrained(str(tmp))
    try:
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process saved the same tokenizer first


def _corpus(task_names: list[str], data_root: Path):
    for name in task_names:
        task = get_task(name)
        for split, languages in task.splits.items():
            for language in languages:
                for example in task.load(split, language, data_root):
                    yield from example_texts(task.family, example)


def initial_encoder(model: ModelConfig, tokenizer):
    """A pretrained encoder, or a randomly initialised one (the caller seeds torch first)."""
    from xstilts.models.encoder import build_encoder, load_encoder

    if model.build is not None:
        return build_encoder(model.build.model_dump(), vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    return load_encoder(model.name_or_path, model.revision)
