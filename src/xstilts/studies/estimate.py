"""Compute estimates of a plan, without torch: parameters from the model config, tokens from the stage config.

Parameters of a BERT-style encoder (BERT, RoBERTa, XLM-R; no pooler, no heads), with vocabulary V, hidden
size H, L layers, feed-forward size I, P position rows and T token types:

- embeddings: (V + P + T) x H word, position and type vectors + 2H (LayerNorm);
- each layer: 4 (H x H + H) attention projections + 2H LayerNorm + (H x I + I) + (I x H + H) feed-forward
  + 2H LayerNorm = 4H^2 + 2HI + 9H + I.

A built encoder has P = max_length + pad id + 1 for XLM-R (its positions start after the pad id) and T = 1,
P = max_length and T = 2 for BERT; V is the tokenizer's vocabulary: for a tokenizer trained in code, its
``vocab_size`` (an upper bound: a small corpus may give a few tokens fewer). A pretrained folder's numbers come
from its ``config.json``, counted per architecture under its own key names (XLM-R XL, DeBERTa-v2, RemBERT,
ModernBERT, the encoder of T5/mT5/UMT5: see ``_CONFIG_COUNTERS``); a common hub name's from its published
values (``KNOWN_HUB_CONFIGS``). Any other model (another hub name, another architecture, a config.json without
its dimensions) is "unknown": no guess.

FLOPs: 6 x N x tokens to train (forward 2, backward 4 per parameter and token) and 2 x N x tokens to
evaluate, with N the parameters that multiply: the layers' (embedding lookups are gathers, not matmuls),
plus V x H for a stage with an mlm source (the output projection over the vocabulary is a matmul). Attention
scores (~ seq^2) and the small task heads are left out.

An encoder-decoder run whole (T5, mT5, UMT5, mBART; ``_SEQ2SEQ_COUNTERS``) counts its encoder layers per source
token and its decoder layers plus the LM head (V x H, a matmul) per target token: a generation stage trains on
``target_max_length`` target tokens per example, a generation evaluation decodes ``max_new_tokens`` steps of
``num_beams`` beams per example (upper bounds; generation stops at the end token). Each family's decoder tokens
per example are in ``decoder_tokens``: text-to-text QA as generation; text-to-text classification trains on the
gold label word and scores every label's (``LABEL_WORD_TOKENS`` each, an assumed upper bound: label strings are
one to three words); text-to-text multiple choice trains on the right choice and scores every choice
(``CHOICE_TOKENS`` each, assumed); span corruption writes the corrupted tokens, a sentinel per span and the end
token. Retrieval on an encoder-decoder runs its encoder alone.

Tokens are upper bounds: every example counts its source's ``max_length`` tokens (batches are padded to their
longest example only, and most are shorter). A stage with ``steps`` trains steps x batch_size x grad_accumulation
examples; one with ``epochs`` covers its sources' examples (after ``max_examples`` / ``fraction``; counted by
reading the data files) as the training loop does. When a stage's sources have different lengths, each step's
batch comes from one source drawn with the stage sampler's probabilities (``training.batching.mixture_weights``
of the example counts), so a step counts the expected length: sum over sources of probability x length.
Evaluations count the encoder sequences of the test examples (after ``evaluate.max_examples``; a retrieval
example's two sentences, a multiple-choice example's choices) and those of the splits their scoring also runs
the model on (a mining task's threshold split, BUCC's dev: the study's evaluations embed it once per stage
and language); dev evaluations for model selection are part of no evaluation and not counted. Evaluation passes
skip most padding (examples sorted by length) and reuse repeated sentences, so their tokens are upper bounds
too.

Before the download, a split whose file is missing is counted from its published size
(``tasks.published_sizes``: examples per task, split and language, each with its source); a file that is there
always wins. ``published_sizes_used`` tells which counts came from that table, so the plan can mark them; a
split with neither file nor published size stays unknown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.config.schema import ModelConfig, SourceConfig, StageConfig, StudyConfig
from xstilts.tasks import get_task
from xstilts.tasks.published_sizes import PublishedSize, published_size

# Default throughput for time estimates, from the project's CPU measurements (shared docs/environment.md): 2 threads
# peak at ~175 GFLOP/s on an fp32 matmul; training a 2-layer, hidden-128 encoder runs ~460 examples of 64 tokens
# per second, which is 6 x 0.4M layer parameters x 29k tokens/s ~= 70 GFLOP/s (40%); a 6-layer, hidden-384 one
# reaches ~110 GFLOP/s. Set your own with `xstilts plan --flops-per-second` (a GPU in bf16: ~1e14).
DEFAULT_FLOPS_PER_SECOND = 70e9

# Dense bf16 tensor-core peaks of common GPUs (the vendors' data sheets, without structured sparsity), for
# `xstilts plan --gpu`. A run reaches a share of the peak: GPU_UTILIZATION is an assumption, not a measurement
# (no GPU was at hand): encoders in bf16 with large, length-sorted batches typically reach 30-50% of it; give
# your own with --flops-per-second.
GPU_BF16_PEAK = {"a10": 125e12, "l4": 121e12, "a100": 312e12, "h100": 989e12, "h200": 989e12}
GPU_UTILIZATION = 0.4


def gpu_flops_per_second(name: str) -> float:
    """The assumed throughput of one GPU of this kind (:data:`GPU_UTILIZATION` of its dense bf16 peak)."""
    key = name.strip().lower()
    if key not in GPU_BF16_PEAK:
        from xstilts.errors import XstiltsError

        raise XstiltsError(f"--gpu {name!r} is not one of {', '.join(sorted(GPU_BF16_PEAK))}: give the throughput "
                           "itself with --flops-per-second (e.g. 4e14)")
    return GPU_BF16_PEAK[key] * GPU_UTILIZATION

_TRAINED_TOKENIZER_PAD_ID = 1  # models/tokenizer.py: special tokens <s> <pad> </s> <unk> <mask>


@dataclass(frozen=True)
class ModelSize:
    """Parameter counts of an encoder or an encoder-decoder (None when unknown) and how they were found."""

    parameters: int | None  # embeddings + layers: what a built or loaded model holds
    layer_parameters: int | None  # the (encoder's) layers alone: what multiplies every (source) token
    vocab_hidden: int | None  # V x H: the MLM output projection (an encoder-decoder's LM head)
    how: str
    # An encoder-decoder: its decoder layers plus the LM head, what multiplies every target token (None: an encoder)
    decoder_parameters: int | None = None

    @property
    def known(self) -> bool:
        return self.parameters is not None


def encoder_parameters(vocab_size: int, hidden_size: int, num_layers: int, intermediate_size: int,
                       max_positions: int, type_vocab_size: int) -> tuple[int, int]:
    """(embedding parameters, layer parameters) of a BERT-style encoder; see the module docstring."""
    h, i = hidden_size, intermediate_size
    embeddings = (vocab_size + max_positions + type_vocab_size) * h + 2 * h
    per_layer = 4 * h * h + 2 * h * i + 9 * h + i
    return embeddings, num_layers * per_layer


# The dimensions in the config.json of common hub encoders, so that a plan made before the download still
# estimates them (the published values; a local folder's own config.json wins). Keys are the hub names
# without their organisation.
_XLMR_BASE = {"model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 768, "num_hidden_layers": 12,
              "intermediate_size": 3072, "max_position_embeddings": 514, "type_vocab_size": 1,
              "num_attention_heads": 12}
_XLMR_LARGE = {**_XLMR_BASE, "hidden_size": 1024, "num_hidden_layers": 24, "intermediate_size": 4096,
               "num_attention_heads": 16}
_MT5 = {"model_type": "mt5", "vocab_size": 250112, "d_kv": 64, "feed_forward_proj": "gated-gelu"}
KNOWN_HUB_CONFIGS: dict[str, dict[str, Any]] = {
    "xlm-roberta-base": _XLMR_BASE,
    "xlm-roberta-large": _XLMR_LARGE,
    "xlm-roberta-xl": {**_XLMR_BASE, "model_type": "xlm-roberta-xl", "vocab_size": 250880, "hidden_size": 2560,
                       "num_hidden_layers": 36, "intermediate_size": 10240, "num_attention_heads": 32},
    "xlm-roberta-xxl": {**_XLMR_BASE, "model_type": "xlm-roberta-xl", "vocab_size": 250880, "hidden_size": 4096,
                        "num_hidden_layers": 48, "intermediate_size": 16384, "num_attention_heads": 32},
    "bert-base-multilingual-cased": {"model_type": "bert", "vocab_size": 119547, "hidden_size": 768,
                                     "num_hidden_layers": 12, "intermediate_size": 3072,
                                     "max_position_embeddings": 512, "type_vocab_size": 2,
                                     "num_attention_heads": 12},
    "mdeberta-v3-base": {"model_type": "deberta-v2", "vocab_size": 251000, "hidden_size": 768,
                         "num_hidden_layers": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
                         "type_vocab_size": 0, "relative_attention": True, "position_buckets": 256,
                         "norm_rel_ebd": "layer_norm", "share_att_key": True, "pos_att_type": "p2c|c2p",
                         "position_biased_input": False, "max_relative_positions": -1,
                         "num_attention_heads": 12},
    "rembert": {"model_type": "rembert", "vocab_size": 250300, "hidden_size": 1152, "num_hidden_layers": 32,
                "intermediate_size": 4608, "input_embedding_size": 256, "max_position_embeddings": 512,
                "type_vocab_size": 2, "num_attention_heads": 18},
    "mt5-small": {**_MT5, "d_model": 512, "d_ff": 1024, "num_layers": 8, "num_heads": 6},
    "mt5-base": {**_MT5, "d_model": 768, "d_ff": 2048, "num_layers": 12, "num_heads": 12},
    "mt5-large": {**_MT5, "d_model": 1024, "d_ff": 2816, "num_layers": 24, "num_heads": 16},
    "glot500-base": {**_XLMR_BASE, "vocab_size": 401145},
    "multilingual-e5-base": _XLMR_BASE,
    "multilingual-e5-large": _XLMR_LARGE,
}


def _hub_config(name_or_path: str | None) -> dict[str, Any] | None:
    name = name_or_path or ""
    if name.count("/") > 1 or name.startswith((".", "/", "~")):
        return None  # a path, not a hub name
    return KNOWN_HUB_CONFIGS.get(name.rsplit("/", 1)[-1])


def model_size(model: ModelConfig) -> ModelSize:
    from xstilts.config.model_kinds import ENCODER_DECODER, model_kind

    kind = model_kind(model)
    published = _hub_config(model.name_or_path) if model.build is None else None
    if kind == ENCODER_DECODER or (kind is None and published is not None
                                   and published["model_type"] in _SEQ2SEQ_COUNTERS):
        return seq2seq_size(model)  # a known hub mT5 before the download runs whole too
    if model.build is not None:
        vocab, pad_id = _tokenizer_vocab(model)
        if vocab is None:
            return ModelSize(None, None, None, "unknown: cannot read the tokenizer's vocabulary size")
        b = model.build
        positions, types = ((b.max_length + pad_id + 1, 1) if b.architecture == "xlm-roberta"
                            else (b.max_length, 2))
        embeddings, layers = encoder_parameters(vocab, b.hidden_size, b.num_layers, b.intermediate_size,
                                                positions, types)
        return ModelSize(embeddings + layers, layers, vocab * b.hidden_size,
                         f"built {b.architecture}, vocabulary {vocab}")
    folder = Path(model.name_or_path or "")
    config_file = folder / "config.json"
    published = _hub_config(model.name_or_path)
    if not config_file.is_file() and published is not None:
        embeddings, layers, vocab_hidden = _CONFIG_COUNTERS[published["model_type"]](
            _Keys(published, published["model_type"]))
        return ModelSize(embeddings + layers, layers, vocab_hidden, f"{model.name_or_path}: its published config.json")
    if not config_file.is_file():
        return ModelSize(None, None, None, f"unknown: {model.name_or_path!r} is not a local folder with config.json")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
        model_type = config.get("model_type")
        counter = _CONFIG_COUNTERS.get(model_type)
        if counter is None:
            known = ", ".join(sorted(_CONFIG_COUNTERS))
            return ModelSize(None, None, None, f"unknown: model_type {model_type!r} is none of {known}")
        embeddings, layers, vocab_hidden = counter(_Keys(config, model_type))
    except _MissingKey as error:
        return ModelSize(None, None, None, f"unknown: {config_file} has no {error.args[0]!r}")
    except (OSError, ValueError, TypeError) as error:
        return ModelSize(None, None, None, f"unknown: {config_file}: {error}")
    return ModelSize(embeddings + layers, layers, vocab_hidden, f"{config_file} ({model_type})")


# ---------------------------------------------------------------------------------------------------------
# parameters from a config.json, per architecture
# ---------------------------------------------------------------------------------------------------------
# Each counter returns (lookup parameters, parameters that multiply every token, the MLM output projection's
# V x E) of the base encoder that `load_encoder` builds (no pooler, no heads), reading the config under its own
# key names. The dimensions (vocabulary, width, depth, feed-forward size) must be in the file; secondary keys
# default to their transformers config class's defaults. tests/test_architecture_loading.py holds each to the
# parameter count of the model transformers builds.


class _MissingKey(KeyError):
    pass


class _Keys:
    """A config.json: ``need`` a dimension (else the size is unknown), ``get`` a key with its default."""

    def __init__(self, config: dict[str, Any], model_type: str):
        self.config, self.model_type = config, model_type

    def need(self, *names: str) -> int:
        for name in names:
            value = self.config.get(name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{name} must be an integer, got {value!r}")
                return value
        raise _MissingKey(names[0])

    def get(self, name: str, default: Any) -> Any:
        value = self.config.get(name)
        return default if value is None else value


def _bert_layers(h: int, i: int, layers: int) -> int:
    return layers * (4 * h * h + 2 * h * i + 9 * h + i)


def _bert_like(c: _Keys) -> tuple[int, int, int]:
    """BERT, RoBERTa, XLM-R (Glot500, multilingual-e5), CamemBERT: the module docstring's formula."""
    vocab, h = c.need("vocab_size"), c.need("hidden_size")
    embeddings, layers = encoder_parameters(vocab, h, c.need("num_hidden_layers"), c.need("intermediate_size"),
                                            c.get("max_position_embeddings", 512), c.get("type_vocab_size", 2))
    return embeddings, layers, vocab * h


def _xlm_roberta_xl(c: _Keys) -> tuple[int, int, int]:
    """XLM-R XL/XXL: pre-LayerNorm layers (the same count), no embedding LayerNorm, one after the last layer."""
    vocab, h = c.need("vocab_size"), c.need("hidden_size")
    embeddings = (vocab + c.get("max_position_embeddings", 514) + c.get("type_vocab_size", 1)) * h
    layers = _bert_layers(h, c.need("intermediate_size"), c.need("num_hidden_layers")) + 2 * h
    return embeddings, layers, vocab * h


def _deberta_v2(c: _Keys) -> tuple[int, int, int]:
    """DeBERTa-v2/v3 (mDeBERTa): embeddings of width E (``embedding_size``, projected to H when it differs),
    absolute positions only with ``position_biased_input``, relative position embeddings shared by the layers
    (+ LayerNorm with norm_rel_ebd "layer_norm"), separate position projections unless ``share_att_key``,
    an optional convolution after the first layer."""
    vocab, h = c.need("vocab_size"), c.need("hidden_size")
    e = c.get("embedding_size", h)
    positions, types = c.get("max_position_embeddings", 512), c.get("type_vocab_size", 0)
    embeddings = vocab * e + (positions * e if c.get("position_biased_input", True) else 0) + types * e + 2 * h
    projection = e * h if e != h else 0  # embed_proj, no bias
    layers = _bert_layers(h, c.need("intermediate_size"), c.need("num_hidden_layers")) + projection
    if c.get("relative_attention", False):
        buckets = c.get("position_buckets", -1)
        span = buckets if buckets > 0 else c.get("max_relative_positions", -1)
        span = span if span >= 1 else positions
        embeddings += 2 * span * h
        if "layer_norm" in [x.strip() for x in str(c.get("norm_rel_ebd", "none")).lower().split("|")]:
            embeddings += 2 * h
        kinds = c.get("pos_att_type", None) or []
        kinds = [x.strip() for x in kinds.lower().split("|")] if isinstance(kinds, str) else list(kinds)
        if not c.get("share_att_key", True):
            layers += c.need("num_hidden_layers") * (h * h + h) * (("c2p" in kinds) + ("p2c" in kinds))
    kernel = c.get("conv_kernel_size", 0)
    if kernel > 0:
        layers += h * (h // c.get("conv_groups", 1)) * kernel + h + 2 * h
    return embeddings, layers, vocab * e


def _rembert(c: _Keys) -> tuple[int, int, int]:
    """RemBERT: narrow input embeddings (``input_embedding_size``) mapped up to H before the layers."""
    vocab, h = c.need("vocab_size"), c.need("hidden_size")
    e = c.need("input_embedding_size")
    embeddings = (vocab + c.get("max_position_embeddings", 512) + c.get("type_vocab_size", 2)) * e + 2 * e
    layers = e * h + h + _bert_layers(h, c.need("intermediate_size"), c.need("num_hidden_layers"))
    return embeddings, layers, vocab * e


def _modernbert(c: _Keys) -> tuple[int, int, int]:
    """ModernBERT (mmBERT): rotary positions (no table), fused QKV, GLU feed-forward (Wi is H x 2I),
    LayerNorms without bias by default, none before the first layer's attention."""
    vocab, h, i = c.need("vocab_size"), c.need("hidden_size"), c.need("intermediate_size")
    depth = c.need("num_hidden_layers")
    norm = h * (2 if c.get("norm_bias", False) else 1)
    attention_bias, mlp_bias = c.get("attention_bias", False), c.get("mlp_bias", False)
    per_layer = (h * 3 * h + (3 * h if attention_bias else 0) + h * h + (h if attention_bias else 0)
                 + h * 2 * i + (2 * i if mlp_bias else 0) + i * h + (h if mlp_bias else 0) + 2 * norm)
    # The first layer has no attention norm; the norm after the last layer makes up for it.
    layers = depth * per_layer
    return vocab * h + norm, layers, vocab * h


def _t5_encoder(c: _Keys) -> tuple[int, int, int]:
    """The encoder of T5, mT5 (gated-GELU feed-forward: two input matrices), UMT5 (relative attention
    biases in every layer, not the first only): ``d_model``, ``num_layers``, ``d_ff``, ``num_heads`` x ``d_kv``."""
    vocab, d, ff = c.need("vocab_size"), c.need("d_model"), c.need("d_ff")
    depth, inner = c.need("num_layers"), c.get("num_heads", 8) * c.get("d_kv", 64)
    gated = str(c.get("feed_forward_proj", "gated-gelu" if c.model_type in ("mt5", "umt5") else "relu"))
    ff_inputs = 2 if gated.startswith("gated-") else 1
    per_layer = 4 * d * inner + ff_inputs * d * ff + ff * d + 2 * d
    biases = c.get("relative_attention_num_buckets", 32) * c.get("num_heads", 8)
    embeddings = vocab * d + biases * (depth if c.model_type == "umt5" else 1)
    return embeddings, depth * per_layer + d, vocab * d


def _t5_seq2seq(c: _Keys) -> tuple[int, int, int, int, bool]:
    """T5, mT5, UMT5 whole: the encoder as ``_t5_encoder``; each decoder layer adds cross-attention and a third
    RMSNorm; the LM head is V x d, tied to the shared embedding unless config.json says otherwise (published mT5
    and UMT5 configs do; transformers 5 ties mT5's anyway, so those totals may count V x d more than it holds)."""
    embeddings, encoder_layers, vocab_hidden = _t5_encoder(c)
    d, ff = c.need("d_model"), c.need("d_ff")
    inner, heads = c.get("num_heads", 8) * c.get("d_kv", 64), c.get("num_heads", 8)
    depth = c.get("num_decoder_layers", None) or c.need("num_layers")
    gated = str(c.get("feed_forward_proj", "gated-gelu" if c.model_type in ("mt5", "umt5") else "relu"))
    ff_inputs = 2 if gated.startswith("gated-") else 1
    per_layer = 8 * d * inner + ff_inputs * d * ff + ff * d + 3 * d
    biases = c.get("relative_attention_num_buckets", 32) * heads * (depth if c.model_type == "umt5" else 1)
    tied = bool(c.get("tie_word_embeddings", c.model_type == "t5"))
    return embeddings + biases, encoder_layers, depth * per_layer + d, vocab_hidden, tied


def _mbart(c: _Keys) -> tuple[int, int, int, int, bool]:
    """mBART: learned positions (2 offset rows) and a LayerNorm on the embeddings of each side, post-attention
    LayerNorms with bias, a LayerNorm after each stack; LM head tied to the shared embedding."""
    vocab, d = c.need("vocab_size"), c.need("d_model")
    positions = c.get("max_position_embeddings", 1024) + 2
    embeddings = vocab * d + 2 * (positions * d + 2 * d)
    attention = 4 * (d * d + d) + 2 * d  # Q, K, V, output with biases; the LayerNorm after it

    def feed_forward(width: int) -> int:  # two Linear layers with biases and their LayerNorm
        return d * width + width + width * d + d + 2 * d

    encoder_layer = attention + feed_forward(c.need("encoder_ffn_dim"))
    decoder_layer = 2 * attention + feed_forward(c.need("decoder_ffn_dim"))
    return (embeddings, c.need("encoder_layers") * encoder_layer + 2 * d,
            c.need("decoder_layers") * decoder_layer + 2 * d, vocab * d, True)


# model_type -> (lookups, encoder layers, decoder layers, V x H of the LM head, whether the head is tied)
_SEQ2SEQ_COUNTERS = {**dict.fromkeys(("t5", "mt5", "umt5"), _t5_seq2seq), "mbart": _mbart}


def seq2seq_size(model: ModelConfig) -> ModelSize:
    """The size of an encoder-decoder run whole: a built one's from its build spec, a pretrained one's from its
    config.json (the local folder's, the hub cache's, or a common hub model's published one)."""
    from xstilts.config.model_kinds import checkpoint_config

    if model.build is not None:
        vocab, _ = _tokenizer_vocab(model)
        if vocab is None:
            return ModelSize(None, None, None, "unknown: cannot read the tokenizer's vocabulary size")
        config, how = _built_seq2seq_config(model.build, vocab), f"built {model.build.architecture}, vocabulary {vocab}"
    else:
        config = checkpoint_config(model.name_or_path or "", model.revision)
        how = f"{model.name_or_path}: its config.json"
        if config is None and _hub_config(model.name_or_path) is not None:
            config, how = _hub_config(model.name_or_path), f"{model.name_or_path}: its published config.json"
    if config is None:
        return ModelSize(None, None, None, f"unknown: the config.json of {model.name_or_path!r} is not readable here")
    model_type = config.get("model_type")
    counter = _SEQ2SEQ_COUNTERS.get(model_type)
    if counter is None:
        return ModelSize(None, None, None, f"unknown: encoder-decoder model_type {model_type!r} is none of "
                         f"{', '.join(sorted(_SEQ2SEQ_COUNTERS))}")
    try:
        lookups, encoder, decoder, vocab_hidden, tied = counter(_Keys(config, model_type))
    except _MissingKey as error:
        return ModelSize(None, None, None, f"unknown: {model.name_or_path}'s config has no {error.args[0]!r}")
    except (ValueError, TypeError) as error:
        return ModelSize(None, None, None, f"unknown: {error}")
    total = lookups + encoder + decoder + (0 if tied else vocab_hidden)
    return ModelSize(total, encoder, vocab_hidden, f"{how}; encoder-decoder", decoder + vocab_hidden)


def _built_seq2seq_config(build: Any, vocab: int) -> dict[str, Any]:
    """The config.json of a built encoder-decoder (``models/seq2seq.build_seq2seq`` makes the same)."""
    decoder_layers = build.num_decoder_layers or build.num_layers
    if build.architecture == "mbart":
        return {"model_type": "mbart", "vocab_size": vocab, "d_model": build.hidden_size,
                "encoder_layers": build.num_layers, "decoder_layers": decoder_layers,
                "encoder_ffn_dim": build.intermediate_size, "decoder_ffn_dim": build.intermediate_size,
                "max_position_embeddings": build.max_length}
    return {"model_type": build.architecture, "vocab_size": vocab, "d_model": build.hidden_size,
            "d_kv": build.hidden_size // build.num_heads, "d_ff": build.intermediate_size,
            "num_layers": build.num_layers, "num_decoder_layers": decoder_layers, "num_heads": build.num_heads,
            "feed_forward_proj": "relu" if build.architecture == "t5" else "gated-gelu",
            "tie_word_embeddings": True}  # transformers ties mT5's LM head too (MT5Config forces it)


_CONFIG_COUNTERS = {
    **dict.fromkeys(("bert", "roberta", "xlm-roberta", "camembert"), _bert_like),
    "xlm-roberta-xl": _xlm_roberta_xl,
    "deberta-v2": _deberta_v2,
    "rembert": _rembert,
    "modernbert": _modernbert,
    **dict.fromkeys(("t5", "mt5", "umt5"), _t5_encoder),
}


def model_depth(model: ModelConfig) -> int | None:
    """The encoder's number of layers, without loading it: a built one's, a local folder's config.json
    (``num_hidden_layers``, or T5's ``num_layers``), a known hub encoder's; None otherwise."""
    if model.build is not None:
        return model.build.num_layers
    config_file = Path(model.name_or_path or "") / "config.json"
    if config_file.is_file():
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        depth = config.get("num_hidden_layers", config.get("num_layers")) if isinstance(config, dict) else None
        return depth if isinstance(depth, int) and not isinstance(depth, bool) else None
    published = _hub_config(model.name_or_path) or {}
    return published.get("num_hidden_layers", published.get("num_layers"))


def _tokenizer_vocab(model: ModelConfig) -> tuple[int | None, int]:
    """(vocabulary size, pad id) of a built encoder's tokenizer, without loading it."""
    spec = model.tokenizer
    if spec is not None and spec.train is not None:
        return spec.train.vocab_size + spec.train.sentinels, _TRAINED_TOKENIZER_PAD_ID
    path = Path(spec.path) / "tokenizer.json" if spec is not None and spec.path else None
    if path is None or not path.is_file():
        return None, 0
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vocab = data["model"]["vocab"]
        tokens = {entry[0] if isinstance(entry, list) else entry: i for i, entry in enumerate(vocab)} \
            if isinstance(vocab, list) else dict(vocab)
        for added in data.get("added_tokens", []):
            tokens.setdefault(added["content"], added["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, 0
    pad_id = next((tokens[t] for t in ("<pad>", "[PAD]") if t in tokens), 0)
    return max(tokens.values()) + 1, pad_id


# The (task, split, language) whose counts came from published sizes during a `published_sizes_used` block.
_PUBLISHED_USED: ContextVar[set[tuple[str, str, str]] | None] = ContextVar("published_used", default=None)


@contextmanager
def published_sizes_used() -> Iterator[set[tuple[str, str, str]]]:
    """Collects the (task, split, language) that the counts made inside the block took from published sizes."""
    used: set[tuple[str, str, str]] = set()
    token = _PUBLISHED_USED.set(used)
    try:
        yield used
    finally:
        _PUBLISHED_USED.reset(token)


def _published_if_missing(task_name: str, split: str, language: str, data_root: Path) -> PublishedSize | None:
    """The published size of a split whose data file is not there (None when the file is there: a real file
    always wins, or when no size is published: then counting fails as before, naming the missing file)."""
    task = get_task(task_name)
    if task.prepare is not None or task.path(split, language, data_root).exists():
        return None  # generated tasks make their files; real files are counted
    size = published_size(task.name, split, language)
    used = _PUBLISHED_USED.get()
    if size is not None and used is not None:
        used.add((task.name, split, language))
    return size


_COUNTS: dict[tuple[str, str, str, str], int] = {}


def example_count(task_name: str, split: str, language: str, data_root: Path) -> int:
    """Examples in one data file (read once per file content; no validation, no tokenization), or the split's
    published size while its file is not downloaded (``tasks.published_sizes``)."""
    published = _published_if_missing(task_name, split, language, data_root)
    if published is not None:
        return published.examples
    task = get_task(task_name).with_data(data_root)
    memo = (task.name, split, language, task.fingerprint(split, language, data_root))
    if memo not in _COUNTS:
        path = task.existing_path(split, language, data_root)
        _COUNTS[memo] = sum(1 for _ in task.reader(path, split, language))
    return _COUNTS[memo]


_SEQUENCES: dict[tuple[str, str, str, str], list[int]] = {}


def example_sequences(task_name: str, split: str, language: str, data_root: Path) -> list[int]:
    """Encoder sequences of each example, in file order: a retrieval example's sentences (source and target,
    each one input), a multiple-choice example's choices, one for any other example (a QA context longer than
    the limit adds windows, which only tokenizing could count). Without the file, from the published size: its
    ``inputs`` per example, or the task's ``num_choices`` for a multiple-choice task."""
    published = _published_if_missing(task_name, split, language, data_root)
    if published is not None:
        task = get_task(task_name)
        choices = task.settings.get("num_choices", 1) if task.family == "multiple_choice" else 1
        return [published.inputs or choices] * published.examples
    task = get_task(task_name).with_data(data_root)
    memo = (task.name, split, language, task.fingerprint(split, language, data_root))
    if memo not in _SEQUENCES:
        path = task.existing_path(split, language, data_root)
        per_example = []
        for _line, example in task.reader(path, split, language):
            if task.family == "retrieval":
                per_example.append(sum(example.get(side) is not None for side in ("source", "target")))
            elif task.family == "multiple_choice":
                per_example.append(len(example.get("choices") or ()) or 1)
            else:
                per_example.append(1)
        _SEQUENCES[memo] = per_example
    return _SEQUENCES[memo]


def source_examples(source: SourceConfig, data_root: Path) -> int:
    """Examples a source trains on: every language's, after ``max_examples`` / ``fraction``."""
    size = 0
    for language in source.languages:
        n = example_count(source.task, source.split, language, data_root)
        if source.max_examples is not None:
            n = min(n, source.max_examples)
        if source.fraction is not None:
            n = max(1, math.ceil(n * source.fraction))
        size += n
    return size


def stage_tokens(stage: StageConfig, data_root: Path) -> int:
    """Training tokens of a stage (an upper bound; see the module docstring)."""
    return _stage_tokens(stage, data_root, [stage.source_max_length(source) for source in stage.sources])


def stage_target_tokens(stage: StageConfig, data_root: Path, model_kind: str | None = None) -> int:
    """Target tokens an encoder-decoder's decoder reads in a stage (upper bounds): per example of each source as
    it runs on a model of ``model_kind`` (``decoder_tokens``); none for an encoder's."""
    from xstilts.families.text_to_text import run_as

    return _stage_tokens(stage, data_root, [
        decoder_tokens(run_as(get_task(source.task), model_kind), stage.source_max_length(source), training=True)
        for source in stage.sources])


# Assumed upper bounds of what a text-to-text decoder scores per candidate (with its end token): a label string
# (``entailment``, ``not_paraphrase``) and a multiple-choice choice (a short sentence).
LABEL_WORD_TOKENS = 8
CHOICE_TOKENS = 32


def decoder_tokens(task: Any, source_length: int, training: bool, candidates: int | None = None) -> int:
    """Tokens the decoder reads for one example of ``task`` (as it runs: after ``run_as``) whose source is
    ``source_length`` tokens: to train on it, or to evaluate it (``candidates``: the labels or choices scored,
    when known; else the task's declared labels). 0 for an encoder family."""
    family = task.family
    if family in ("generation", "t2t_span_qa"):
        from xstilts.families import family_spec

        settings = family_spec(family).settings.of(task)
        return settings.target_max_length if training else settings.max_new_tokens * settings.num_beams
    if family == "denoising":
        from xstilts.families.denoising_settings import DenoisingSettings, noise_counts

        settings = DenoisingSettings.of(task)
        noise, spans = noise_counts(source_length, settings.noise_density, settings.mean_noise_span_length)
        return noise + spans + 1  # the corrupted tokens, a sentinel before each span, the end token
    if family == "t2t_classification":
        scored = 1 if training else (candidates or len(task.labels) or 1)
        return scored * LABEL_WORD_TOKENS
    if family == "t2t_multiple_choice":
        return (1 if training else (candidates or 1)) * CHOICE_TOKENS
    return 0


def evaluation_decoder_tokens(study: StudyConfig, task: Any, split: str, language: str, max_length: int,
                              data_root: Path) -> int:
    """Decoder tokens of one evaluation of ``task`` as it runs (after ``run_as``; 0 for an encoder family): per
    example, or per scored choice of a multiple-choice example (its choices are counted in the data)."""
    per = decoder_tokens(task, max_length, training=False,
                         candidates=1 if task.family == "t2t_multiple_choice" else None)
    return evaluation_tokens(study, task.name, split, language, per, data_root) if per else 0


def _stage_tokens(stage: StageConfig, data_root: Path, lengths: list[int]) -> int:
    # Here, not at the top: batching imports numpy, and `xstilts score` (which loads this module through the
    # CLI) stays free of it.
    from xstilts.training.batching import mixture_weights, steps_for_epochs

    per_step = stage.batch_size * stage.grad_accumulation
    if stage.steps is not None and len(set(lengths)) == 1:
        return stage.steps * per_step * lengths[0]  # nothing to count in the data
    sizes = [source_examples(source, data_root) for source in stage.sources]
    steps = stage.steps if stage.steps is not None else steps_for_epochs(sizes, per_step, stage.epochs)
    if len(set(lengths)) == 1:
        return steps * per_step * lengths[0]
    sampler = stage.sampler
    weights = mixture_weights(sizes, sampler.kind, sampler.temperature, sampler.cap)
    return round(steps * per_step * sum(w * length for w, length in zip(weights, lengths, strict=True)))


def evaluation_tokens(study: StudyConfig, task: str, split: str, language: str, max_length: int,
                      data_root: Path) -> int:
    """Tokens of one evaluation: the sequences of its examples (a retrieval example's two sentences, a multiple
    choice example's choices) and of the splits its scoring also embeds (BUCC's mining threshold split), each at
    ``max_length``."""
    total = 0
    for name in (split, *reference_splits(study, task, split)):
        sequences = example_sequences(task, name, language, data_root)[:study.evaluate.max_examples]
        total += sum(sequences) * max_length
    return total


def reference_splits(study: StudyConfig, task_name: str, split: str) -> tuple[str, ...]:
    """The other splits an evaluation runs the model on (``Family.reference_splits``, without torch): a mining
    retrieval task's threshold split when another split is evaluated; none for every other task."""
    from xstilts.config.evaluations import evaluated_task

    task = get_task(task_name)
    if task.family != "retrieval":
        return ()
    from xstilts.families.retrieval_settings import RetrievalSettings

    settings = RetrievalSettings.of(evaluated_task(study, task))
    if settings.protocol == "mining" and split != settings.threshold_split:
        return (settings.threshold_split,)
    return ()


def compute_parameters(size: ModelSize, mlm: bool) -> int | None:
    """Parameters that multiply each token: the layers, and the vocabulary projection when ``mlm``."""
    if not size.known:
        return None
    return size.layer_parameters + (size.vocab_hidden if mlm else 0)


def has_mlm(stage: StageConfig) -> bool:
    return any(get_task(s.task).family == "mlm" for s in stage.sources)


def seq2seq_flops(size: ModelSize, encoder_tokens: int | None, decoder_tokens: int | None,
                  training: bool) -> float | None:
    """An encoder-decoder's FLOPs: encoder tokens x encoder layer parameters + decoder tokens x (decoder layer
    parameters + LM head), 6 per parameter and token to train, 2 to evaluate (PEFT does not train
    encoder-decoders)."""
    if not size.known or size.decoder_parameters is None or encoder_tokens is None or decoder_tokens is None:
        return None
    return float((6 if training else 2) * (size.layer_parameters * encoder_tokens
                                           + size.decoder_parameters * decoder_tokens))


def flops(parameters: int | None, tokens: int | None, training: bool, frozen: bool = False) -> float | None:
    """Forward 2 FLOPs per parameter and token; training adds the backward pass: 2 for the gradient of the
    activations, 2 for that of the weights, which ``frozen`` weights (a PEFT stage: LoRA trains small matrices
    beside them) skip. LoRA's own matrices (r x (d_in + d_out) per adapted module, ~2% of the layer at r = 8
    and hidden 768) are left out."""
    if parameters is None or tokens is None:
        return None
    factor = (4 if frozen else 6) if training else 2
    return float(factor * parameters * tokens)


def describe_size(size: ModelSize) -> dict[str, Any]:
    return {"parameters": size.parameters, "layer_parameters": size.layer_parameters,
            "vocab_hidden": size.vocab_hidden, "how": size.how, "decoder_parameters": size.decoder_parameters}
