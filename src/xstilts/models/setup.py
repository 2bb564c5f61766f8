"""The starting point of a study: its tokenizer and initial model (pretrained, or built from a config): an encoder,
or a whole encoder-decoder."""

from __future__ import annotations

from pathlib import Path

from xstilts.atomic import file_lock, publish_folder
from xstilts.config.schema import ModelConfig
from xstilts.families import example_texts
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
                                algorithm=spec.train.algorithm, sentinels=spec.train.sentinels)
    # Keyed by the model's key, so any other version of it is the same tokenizer: the first one stays.
    with publish_folder(folder, replace=False) as staging:
        tokenizer.save_pretrained(str(staging))


def _corpus(task_names: list[str], data_root: Path):
    for name in task_names:
        task = get_task(name)
        for split, languages in task.splits.items():
            for language in languages:
                for example in task.load(split, language, data_root):
                    yield from example_texts(task.family, example)


def initial_encoder(model: ModelConfig, tokenizer, kind: str = "encoder"):
    """The model a study starts from (the caller seeds torch first): a pretrained encoder or a randomly
    initialised one; for ``kind`` "encoder-decoder" the whole sequence-to-sequence model, carrying the
    tokenizer that decodes its outputs."""
    from xstilts.models.encoder import build_encoder, load_encoder

    if kind == "encoder-decoder":
        from xstilts.models.seq2seq import build_seq2seq, load_seq2seq, with_tokenizer

        built = (build_seq2seq(model.build.model_dump(), tokenizer) if model.build is not None
                 else load_seq2seq(model.name_or_path, model.revision))
        return with_tokenizer(built, tokenizer)
    if model.build is not None:
        return build_encoder(model.build.model_dump(exclude={"num_decoder_layers"}), vocab_size=len(tokenizer),
                             pad_token_id=tokenizer.pad_token_id)
    return load_encoder(model.name_or_path, model.revision)
