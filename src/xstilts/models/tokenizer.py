"""Tokenizers trained in code: the offline stand-in for a pretrained multilingual tokenizer.

The shape follows XLM-R: a sentencepiece-style subword model over Metaspace pre-tokenization, with the
special tokens ``<s> <pad> </s> <unk> <mask>`` and the pair template ``<s> A </s></s> B </s>``, wrapped as a
``PreTrainedTokenizerFast`` so that families use one API (offsets, word ids, overflow) for every tokenizer.

For an encoder-decoder pretrained by span corruption (``families.denoising``), ``sentinels=N`` adds T5's sentinel
tokens ``<extra_id_0>`` ... ``<extra_id_{N-1}>`` as special tokens after the learnt vocabulary, in T5's layout:
``<extra_id_0>`` is the last id, the others go down from it. Added tokens are never split and are dropped when
decoding, and they do not take part in training the subword model, so the learnt pieces are those of the same
tokenizer without sentinels. Without them (the default) the tokenizer is exactly what it was before.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2000, lowercase: bool = False, algorithm: str = "bpe",
                    sentinels: int = 0):
    """Train a tokenizer on ``texts`` and return it as a ``PreTrainedTokenizerFast``.

    ``algorithm`` is "bpe" (default) or "unigram". BPE fills the requested vocabulary on small corpora; the
    Unigram trainer (XLM-R's algorithm) prunes to a near-character vocabulary when the corpus has few
    distinct words, which makes sequences several times longer. Both are deterministic for the same texts
    and settings, so the result can be cached by a hash of its corpus and settings. ``sentinels``: how many
    of T5's ``<extra_id_i>`` to add (T5 and mT5 have 100).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if algorithm not in ("bpe", "unigram"):
        raise ValueError(f"unknown tokenizer algorithm {algorithm!r}: choose 'bpe' or 'unigram'")
    if sentinels < 0:
        raise ValueError(f"sentinels must be 0 or more, got {sentinels}")
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>") if algorithm == "bpe" else models.Unigram())
    steps = [normalizers.NFKC()]
    if lowercase:
        steps.append(normalizers.Lowercase())
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(), pre_tokenizers.Metaspace()]
    )
    tokenizer.decoder = decoders.Metaspace()
    if algorithm == "bpe":
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    else:
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token="<unk>", show_progress=False
        )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )
    if sentinels:
        # Highest first, so that <extra_id_0> lands on the last id, as in T5's vocabulary.
        fast.add_special_tokens({"additional_special_tokens": [f"<extra_id_{i}>" for i in reversed(range(sentinels))]})
    return fast


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash of everything that determines token ids (enters feature-cache keys)."""
    import hashlib

    backend = tokenizer.backend_tokenizer.to_str()
    return hashlib.sha256(backend.encode()).hexdigest()[:16]


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))
