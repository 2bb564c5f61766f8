"""Encoder-decoders (T5, mT5, mBART): built fresh from a small spec, or loaded strictly, whole.

The model a generation family runs on is the whole ``AutoModelForSeq2SeqLM`` (encoder, decoder and LM head);
a stage's checkpoint keeps all of it (``models/checkpoint.py`` saves it where it saves an encoder). Loading is
as strict as ``models/encoder.py``'s: a weight the checkpoint lacks or a weight the model does not know is an
error naming the keys. Tied weights are no exception to it: transformers ties the shared embedding to the
encoder's and decoder's input embeddings (and to the LM head when ``tie_word_embeddings``) after loading, so a
tied weight that the file holds once is not missing.

Decoding needs the tokenizer: :func:`with_tokenizer` hands it to the model where the runner builds or loads
it, and the generation family reads it back from the attribute ``families.generation_settings.
TOKENIZER_ATTRIBUTE`` (families sit below models and never import them; the attribute is the one meeting
point).
"""

from __future__ import annotations

from typing import Any

import torch

from xstilts.config.schema import SEQ2SEQ_ARCHITECTURES
from xstilts.errors import ConfigError, XstiltsError
from xstilts.families.generation_settings import TOKENIZER_ATTRIBUTE
from xstilts.models.encoder import _WEIGHT_FILES, _quiet_transformers, _resolve, name_keys


def build_seq2seq(spec: dict[str, Any], tokenizer: Any) -> torch.nn.Module:
    """A randomly initialised encoder-decoder from a build spec (``config.schema.BuildConfig``).

    The special ids come from the tokenizer: padding, end of sequence and the decoder's start token, which is
    T5's padding id (T5 and mT5) or mBART's end-of-sequence id. The caller seeds torch first.
    """
    from transformers import (
        MBartConfig,
        MBartForConditionalGeneration,
        MT5Config,
        MT5ForConditionalGeneration,
        T5Config,
        T5ForConditionalGeneration,
    )

    architecture = spec.get("architecture")
    if architecture not in SEQ2SEQ_ARCHITECTURES:
        raise ConfigError([f"architecture {architecture!r} is no encoder-decoder; allowed: "
                           f"{', '.join(SEQ2SEQ_ARCHITECTURES)}"], source="model build")
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    if pad is None or eos is None:
        raise XstiltsError(f"an encoder-decoder needs a tokenizer with a pad and an end-of-sequence token; "
                           f"{type(tokenizer).__name__} has pad {pad!r}, eos {eos!r}")
    hidden, heads, layers = spec["hidden_size"], spec["num_heads"], spec["num_layers"]
    decoder_layers = spec.get("num_decoder_layers") or layers
    dropout = float(spec.get("dropout", 0.1))
    vocab = len(tokenizer)
    if architecture in ("t5", "mt5"):
        config_class, model_class = ((T5Config, T5ForConditionalGeneration) if architecture == "t5"
                                     else (MT5Config, MT5ForConditionalGeneration))
        config = config_class(
            vocab_size=vocab, d_model=hidden, d_kv=hidden // heads, d_ff=spec.get("intermediate_size", 4 * hidden),
            num_layers=layers, num_decoder_layers=decoder_layers, num_heads=heads, dropout_rate=dropout,
            # T5 is relu, mT5 (T5 1.1) gated GELU; transformers ties the LM head to the shared embedding in both
            feed_forward_proj="relu" if architecture == "t5" else "gated-gelu",
            pad_token_id=pad, eos_token_id=eos, decoder_start_token_id=pad)
        return model_class(config)
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
    feed_forward = spec.get("intermediate_size", 4 * hidden)
    config = MBartConfig(
        vocab_size=vocab, d_model=hidden, encoder_layers=layers, decoder_layers=decoder_layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads,
        encoder_ffn_dim=feed_forward, decoder_ffn_dim=feed_forward,
        max_position_embeddings=spec.get("max_length", 512), dropout=dropout, attention_dropout=dropout,
        pad_token_id=pad, eos_token_id=eos, bos_token_id=bos, decoder_start_token_id=eos,
        forced_eos_token_id=eos)
    return MBartForConditionalGeneration(config)


def load_seq2seq(name_or_path: str, revision: str | None = None) -> torch.nn.Module:
    """The whole encoder-decoder of a local folder or a hub model, in float32 and eval mode, loaded strictly."""
    location, hub_kwargs = _resolve(str(name_or_path), revision, _WEIGHT_FILES)
    from transformers import MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING, AutoConfig

    try:
        config = AutoConfig.from_pretrained(location, **hub_kwargs)
    except (OSError, ValueError) as error:
        raise XstiltsError(f"cannot read the model config of {name_or_path!r}: {error}") from error
    if not getattr(config, "is_encoder_decoder", False):
        raise XstiltsError(f"{name_or_path!r} is a {config.model_type!r} model, not an encoder-decoder "
                           "(config.json has no is_encoder_decoder: true); generation tasks need one, e.g. mT5")
    try:
        model_class = MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING[type(config)]
    except KeyError:
        raise XstiltsError(f"{name_or_path!r} is a {config.model_type!r} model, which has no sequence-to-"
                           "sequence LM class in transformers") from None
    try:
        with _quiet_transformers():
            model, info = model_class.from_pretrained(
                location, config=config, output_loading_info=True, use_safetensors=True,
                ignore_mismatched_sizes=True, dtype=torch.float32, **hub_kwargs)
    except (OSError, ValueError, RuntimeError) as error:
        raise XstiltsError(f"cannot load the encoder-decoder {name_or_path!r}: {error}") from error
    problems = loading_problems(info)
    if problems:
        raise XstiltsError(f"the checkpoint {name_or_path!r} does not match its encoder-decoder architecture "
                           f"({model_class.__name__}):\n" + "\n".join(f"  - {p}" for p in problems)
                           + "\nCheck that the folder holds a complete model of the architecture in its config.json.")
    return model


def loading_problems(info: dict[str, Any]) -> list[str]:
    """Every missing, unexpected or misshapen weight of a ``from_pretrained`` loading report (none tolerated)."""
    problems = []
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        problems.append(f"{len(missing)} weight(s) missing from the checkpoint (they would be left randomly "
                        f"initialised): {name_keys(missing)}")
    unexpected = sorted(info.get("unexpected_keys") or ())
    if unexpected:
        problems.append(f"{len(unexpected)} weight(s) in the checkpoint that the model does not have: "
                        f"{name_keys(unexpected)}")
    mismatched = sorted(info.get("mismatched_keys") or ())
    if mismatched:
        shown = [f"{k} (checkpoint {tuple(a)}, model {tuple(b)})" for k, a, b in mismatched]
        problems.append(f"{len(mismatched)} weight(s) with the wrong shape: {name_keys(shown)}")
    return problems + [str(m) for m in info.get("error_msgs") or ()]


def with_tokenizer(model: torch.nn.Module, tokenizer: Any) -> torch.nn.Module:
    """``model`` carrying the tokenizer that decodes its generated ids (see the module docstring)."""
    # object.__setattr__: a plain attribute, not a submodule, never in the state dict
    object.__setattr__(model, TOKENIZER_ATTRIBUTE, tokenizer)
    return model
