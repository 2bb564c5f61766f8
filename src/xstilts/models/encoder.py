"""Encoders: built fresh from a small spec, or loaded (strictly) from a folder or the model hub.

Two rules shape this module:

- **Strict loading.** A checkpoint that lacks an encoder weight, or carries a weight the encoder does not know,
  is an error that names the keys. ``transformers`` only warns and initialises the missing weights at
  random, which silently turns "fine-tune XLM-R" into "train a random transformer" (the original toolkit
  did exactly that for some XLM-R checkpoints). The only tolerated extras are the checkpoint's heads, the
  base encoder leaves them out on purpose: exactly the weights that its architecture's head classes (MLM,
  pre-training, task heads; for mT5 the decoder and LM head, since the method fine-tunes the encoder alone)
  hold outside the base model, learnt from those classes, plus a pooler that families do not use.
- **Offline first.** Our machines cannot reach the hub. When offline mode is on, a name that is neither a
  local folder nor in the local hub cache fails at once with a message that says how to fix it, instead of
  the hub client's retries. Weights load from safetensors only (no pickle).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

from xstilts.errors import ConfigError, XstiltsError

# ---------------------------------------------------------------------------------------------------------
# building a fresh encoder
# ---------------------------------------------------------------------------------------------------------

ARCHITECTURES = ("xlm-roberta", "bert")
SPEC_KEYS = (
    "architecture",
    "hidden_size",
    "num_layers",
    "num_heads",
    "intermediate_size",
    "max_length",
    "dropout",
)
_REQUIRED_SPEC_KEYS = ("hidden_size", "num_layers", "num_heads")


def build_encoder(spec: dict[str, Any], vocab_size: int, pad_token_id: int) -> torch.nn.Module:
    """A randomly initialised encoder (``XLMRobertaModel`` or ``BertModel``, without pooler) from a spec.

    ``spec`` keys: ``architecture`` ("xlm-roberta" or "bert", default "xlm-roberta"), ``hidden_size``,
    ``num_layers``, ``num_heads`` (required), ``intermediate_size`` (default 4 x hidden), ``max_length``
    (longest input in tokens, default 512), ``dropout`` (default 0.1). The caller seeds torch first: the
    initial weights come from torch's global RNG.
    """
    problems = _spec_problems(spec, vocab_size, pad_token_id)
    if problems:
        raise ConfigError(problems, source="encoder spec")
    architecture = spec.get("architecture", "xlm-roberta")
    hidden = spec["hidden_size"]
    max_length = spec.get("max_length", 512)
    dropout = float(spec.get("dropout", 0.1))
    common = dict(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=spec["num_layers"],
        num_attention_heads=spec["num_heads"],
        intermediate_size=spec.get("intermediate_size", 4 * hidden),
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        pad_token_id=pad_token_id,
    )
    if architecture == "xlm-roberta":
        from transformers import XLMRobertaConfig, XLMRobertaModel

        # RoBERTa-style position ids count from pad_token_id + 1, so a sequence of max_length tokens uses
        # positions up to pad_token_id + max_length: the table needs pad_token_id + 1 + max_length rows.
        config = XLMRobertaConfig(
            **common, max_position_embeddings=max_length + pad_token_id + 1, type_vocab_size=1
        )
        return XLMRobertaModel(config, add_pooling_layer=False)
    from transformers import BertConfig, BertModel

    config = BertConfig(**common, max_position_embeddings=max_length, type_vocab_size=2)
    return BertModel(config, add_pooling_layer=False)


def _spec_problems(spec: dict[str, Any], vocab_size: int, pad_token_id: int) -> list[str]:
    if not isinstance(spec, dict):
        return [
            f"the encoder spec must be a mapping with keys {', '.join(SPEC_KEYS)}, got {type(spec).__name__}"
        ]
    problems = []
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(SPEC_KEYS)}")
    missing = [k for k in _REQUIRED_SPEC_KEYS if k not in spec]
    if missing:
        problems.append(f"missing required key(s): {', '.join(missing)}")
    architecture = spec.get("architecture", "xlm-roberta")
    if architecture not in ARCHITECTURES:
        problems.append(
            f"architecture {architecture!r} is not supported; allowed: {', '.join(ARCHITECTURES)}"
        )
    for key in ("hidden_size", "num_layers", "num_heads", "intermediate_size", "max_length"):
        value = spec.get(key)
        if key in spec and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            problems.append(f"{key} must be a positive integer, got {value!r}")
    hidden, heads = spec.get("hidden_size"), spec.get("num_heads")
    if _positive_int(hidden) and _positive_int(heads) and hidden % heads:
        problems.append(f"hidden_size ({hidden}) must be a multiple of num_heads ({heads})")
    dropout = spec.get("dropout", 0.1)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        problems.append(f"dropout must be a number in [0, 1), got {dropout!r}")
    if not _positive_int(vocab_size):
        problems.append(f"vocab_size must be a positive integer, got {vocab_size!r}")
    elif not isinstance(pad_token_id, int) or not 0 <= pad_token_id < vocab_size:
        problems.append(f"pad_token_id must be a token id in [0, {vocab_size}), got {pad_token_id!r}")
    return problems


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def encoder_hidden_size(encoder: torch.nn.Module) -> int:
    """Width of the encoder's hidden states."""
    return int(_config_value(encoder, ("hidden_size", "d_model", "dim")))


def encoder_num_layers(encoder: torch.nn.Module) -> int:
    """Number of transformer layers (hidden states has this many + 1 entries, the embeddings first)."""
    return int(_config_value(encoder, ("num_hidden_layers", "num_layers", "n_layers")))


def _config_value(encoder: torch.nn.Module, names: tuple[str, ...]) -> Any:
    config = getattr(encoder, "config", None)
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    raise TypeError(f"{type(encoder).__name__} has no config with any of {', '.join(names)}")


# ---------------------------------------------------------------------------------------------------------
# loading a pretrained encoder
# ---------------------------------------------------------------------------------------------------------

# Where an architecture's head models put their weights: the checkpoint's heads are known from these classes
# (instantiated on the meta device, so without memory or time), not from one global list of prefixes.
_HEAD_MAPPINGS = (
    "MODEL_FOR_MASKED_LM_MAPPING",
    "MODEL_FOR_PRETRAINING_MAPPING",
    "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING",
    "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING",
    "MODEL_FOR_QUESTION_ANSWERING_MAPPING",
    "MODEL_FOR_MULTIPLE_CHOICE_MAPPING",
    "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING",  # mT5: the decoder and its LM head (the encoder is loaded alone)
)
# Head weights of published checkpoints that today's transformers classes name differently: mDeBERTa-v3 was
# saved by Microsoft's training code with `lm_predictions.lm_head.*` (DebertaV2ForMaskedLM holds `cls.*`
# unless config.legacy is false) and the RTD discriminator's `mask_predictions.*`.
_PUBLISHED_HEAD_PREFIXES: dict[str, tuple[str, ...]] = {
    "deberta-v2": ("lm_predictions.", "mask_predictions."),
    "deberta": ("lm_predictions.", "mask_predictions."),
    "electra": ("discriminator_predictions.", "generator_predictions.", "generator_lm_head."),
}
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
_TRUE = {"1", "true", "yes", "on"}


def load_encoder(name_or_path: str, revision: str | None = None) -> torch.nn.Module:
    """The base encoder (no task heads, no pooler) of a local folder or a hub model, in float32.

    A folder is in Hugging Face format (``config.json`` + ``model.safetensors``). Every encoder weight must
    come from the checkpoint (see the module docstring). Like any ``from_pretrained`` model, it is returned
    in eval mode: call ``.train()`` before training.
    """
    location, hub_kwargs = _resolve(str(name_or_path), revision, _WEIGHT_FILES)
    from transformers import MODEL_MAPPING, AutoConfig

    try:
        config = AutoConfig.from_pretrained(location, **hub_kwargs)
    except (OSError, ValueError) as error:
        raise XstiltsError(f"cannot read the model config of {name_or_path!r}: {error}") from error
    try:
        model_class = MODEL_MAPPING[type(config)]
    except KeyError:
        raise XstiltsError(
            f"{name_or_path!r} is a {config.model_type!r} model, which has no base encoder class in transformers"
        ) from None
    # mT5 and kin: their encoder alone (a full checkpoint, or the encoder-only one a stage writes).
    encoder_class = _encoder_only_class(model_class)
    if encoder_class is not None:
        model_class = encoder_class
    elif getattr(config, "is_encoder_decoder", False):
        raise XstiltsError(
            f"{name_or_path!r} is an encoder-decoder ({model_class.__name__}) with no encoder-only class in "
            "transformers; xstilts fine-tunes encoders (mT5, T5 and UMT5 have one)")
    # The pooler is unused (families pool themselves) and is often absent from MLM checkpoints.
    drop_pooler = "add_pooling_layer" in inspect.signature(model_class.__init__).parameters
    extra = {"add_pooling_layer": False} if drop_pooler else {}
    try:
        with _quiet_transformers():
            model, info = model_class.from_pretrained(
                location,
                config=config,
                output_loading_info=True,
                use_safetensors=True,
                # Shape mismatches come back in the loading info, so that our error can name them all.
                ignore_mismatched_sizes=True,
                dtype=torch.float32,
                **hub_kwargs,
                **extra,
            )
    except (OSError, ValueError, RuntimeError) as error:
        hint = ""
        if "safetensors" in str(error):
            hint = f" xstilts loads weights from safetensors only: {_CONVERT_HINT}"
        raise XstiltsError(f"cannot load the encoder {name_or_path!r}: {error}{hint}") from error
    _check_loading_info(model, info, str(name_or_path), tolerate_missing_pooler=not drop_pooler,
                        pooler_dropped=drop_pooler)
    return model


def _encoder_only_class(model_class: type) -> type | None:
    """The encoder half of an encoder-decoder family (``MT5Model`` -> ``MT5EncoderModel``), if transformers
    has one: the method fine-tunes encoders, and a stage's checkpoint holds the encoder alone."""
    import transformers

    return getattr(transformers, model_class.__name__.removesuffix("Model") + "EncoderModel", None)


def load_encoder_tokenizer(name_or_path: str, revision: str | None = None):
    """The (fast) tokenizer of a local folder or a hub model.

    Families need offsets and word ids, which only fast (``tokenizers``-backed) tokenizers give.
    """
    location, hub_kwargs = _resolve(
        str(name_or_path), revision, ("tokenizer.json", "tokenizer_config.json", "config.json")
    )
    from transformers import AutoTokenizer

    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(location, **hub_kwargs)
    except (OSError, ValueError) as error:
        raise XstiltsError(
            f"cannot load a fast tokenizer for {name_or_path!r}: {error}\n"
            "xstilts needs a fast tokenizer (a tokenizer.json file). If the model ships only a slow "
            "(sentencepiece) tokenizer, convert it once where `sentencepiece` is installed: "
            "load it with AutoTokenizer.from_pretrained and call save_pretrained on a folder, which writes "
            "tokenizer.json; then pass that folder."
        ) from error
    if not getattr(tokenizer, "is_fast", False):
        raise XstiltsError(
            f"{name_or_path!r} has only a slow tokenizer ({type(tokenizer).__name__}); xstilts needs a fast "
            "one (tokenizer.json) for offsets and word ids. Convert it once with AutoTokenizer and "
            "save_pretrained, then pass the saved folder."
        )
    # transformers builds an empty tokenizer (special tokens only) when a folder has no vocabulary file at
    # all; every word would then map to <unk> without a word of warning.
    if len(tokenizer) <= len(set(tokenizer.all_special_ids)):
        raise XstiltsError(
            f"the tokenizer of {name_or_path!r} has no vocabulary (only its {len(tokenizer)} special tokens): "
            "the folder lacks its vocabulary files. xstilts needs a fast tokenizer: pass a folder with a "
            "tokenizer.json (written by save_pretrained of a fast tokenizer)."
        )
    return tokenizer


_CONVERT_HINT = (
    "convert the checkpoint to safetensors once, in an environment you trust (load it with transformers' "
    "from_pretrained and call save_pretrained, which writes model.safetensors), then pass the new folder."
)


def _resolve(name: str, revision: str | None, wanted: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Where to load from, plus the hub keyword arguments; fails early on what can be known up front.

    ``wanted``: files of which at least one must be present (weights for a model, tokenizer or config files
    for a tokenizer). Returns (a folder path, {}) for a local folder, (the hub name, kwargs) otherwise.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        _check_local_folder(path, wanted)
        return str(path), {}
    if path.exists():
        raise XstiltsError(
            f"{name!r} is a file; pass the folder that holds config.json and model.safetensors"
        )
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name:
        raise XstiltsError(
            f"the model folder {name!r} does not exist (pass a folder with config.json and model.safetensors, "
            "or a hub name like 'xlm-roberta-base')"
        )
    cache_dir = _hub_cache_dir()
    kwargs: dict[str, Any] = {"revision": revision or "main", "cache_dir": cache_dir}
    if _offline():
        _check_cached(name, revision, cache_dir, wanted)
        # local_files_only keeps the hub client from trying (and retrying) the network at all.
        kwargs["local_files_only"] = True
    return name, kwargs


def _check_local_folder(path: Path, wanted: tuple[str, ...]) -> None:
    if wanted == _WEIGHT_FILES:
        if not (path / "config.json").is_file():
            raise XstiltsError(f"{path} has no config.json; pass a folder saved with save_pretrained")
        if any((path / f).is_file() for f in _WEIGHT_FILES):
            return
        if any((path / f).is_file() for f in _PICKLE_FILES):
            raise XstiltsError(
                f"{path} has only PyTorch pickle weights (pytorch_model.bin), which xstilts does not load "
                f"(unpickling can run arbitrary code): {_CONVERT_HINT}"
            )
        raise XstiltsError(f"{path} has no model weights (model.safetensors)")


def _check_cached(name: str, revision: str | None, cache_dir: str, wanted: tuple[str, ...]) -> None:
    from huggingface_hub import try_to_load_from_cache

    def cached(filename: str) -> bool:
        try:
            found = try_to_load_from_cache(name, filename, cache_dir=cache_dir, revision=revision)
        except ValueError as error:  # HFValidationError: not even a well-formed hub name
            raise XstiltsError(
                f"{name!r} is neither a local folder nor a valid hub model name ({error})"
            ) from None
        return isinstance(found, str)

    if not cached("config.json") and not any(cached(f) for f in wanted):
        raise XstiltsError(
            f"offline mode (HF_HUB_OFFLINE is set) and {name!r} is neither a local folder nor in the local "
            f"hub cache ({cache_dir}). Fix: pass a local folder with config.json and model.safetensors, or "
            f"unset HF_HUB_OFFLINE and run once online so that {name!r} is downloaded into the cache."
        )
    if wanted == _WEIGHT_FILES and not any(cached(f) for f in _WEIGHT_FILES):
        if any(cached(f) for f in _PICKLE_FILES):
            raise XstiltsError(
                f"the cached {name!r} has only pickle weights (pytorch_model.bin): {_CONVERT_HINT}"
            )
        raise XstiltsError(
            f"offline mode (HF_HUB_OFFLINE is set) and the weights of {name!r} (model.safetensors) are not in "
            f"the local hub cache ({cache_dir}). Fix: pass a local folder, or unset HF_HUB_OFFLINE and run "
            "once online."
        )


def _offline() -> bool:
    # The hub client reads HF_HUB_OFFLINE once, at import; read the environment too so that setting it
    # later (tests, notebooks) still counts.
    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    from huggingface_hub import constants

    return env.strip().lower() in _TRUE or bool(constants.HF_HUB_OFFLINE)


def _hub_cache_dir() -> str:
    # Same precedence as huggingface_hub, but read now rather than at import time.
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report while loading: every problem in it becomes our own error, and the
    rest (the head weights a base model leaves out) is expected."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)


def _check_loading_info(
    model: torch.nn.Module, info: dict[str, Any], name: str, tolerate_missing_pooler: bool,
    pooler_dropped: bool = False,
) -> None:
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    problems = []
    missing = sorted(info.get("missing_keys") or ())
    if tolerate_missing_pooler:
        missing = [k for k in missing if not k.removeprefix(prefix).startswith("pooler.")]
    if missing:
        problems.append(
            f"{len(missing)} encoder weight(s) missing from the checkpoint (they would be left randomly "
            f"initialised): {name_keys(missing)}"
        )
    unexpected = sorted(info.get("unexpected_keys") or ())
    if pooler_dropped:  # loaded without its pooler on purpose: families pool themselves
        unexpected = [k for k in unexpected if not k.removeprefix(prefix).startswith("pooler.")]
    unexpected = unexpected_beyond_heads(model.config, unexpected)
    if unexpected:
        problems.append(
            f"{len(unexpected)} weight(s) in the checkpoint that the encoder does not have: {name_keys(unexpected)}"
        )
    mismatched = sorted(info.get("mismatched_keys") or ())
    if mismatched:
        shown = [f"{k} (checkpoint {tuple(a)}, model {tuple(b)})" for k, a, b in mismatched]
        problems.append(f"{len(mismatched)} weight(s) with the wrong shape: {name_keys(shown)}")
    problems += [str(m) for m in info.get("error_msgs") or ()]
    if problems:
        raise XstiltsError(
            f"the checkpoint {name!r} does not match its encoder architecture:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nCheck that the folder holds a complete encoder of the architecture in its config.json."
        )


def unexpected_beyond_heads(config: Any, keys: Iterable[str]) -> list[str]:
    """The ``keys`` (weights a checkpoint has and its base encoder lacks) that are no head weight of the
    config's architecture: the weights its head classes (MLM, pre-training, classification, QA, multiple
    choice; the decoder of a sequence-to-sequence model) hold outside the base model, exactly, and the
    published extras of ``_PUBLISHED_HEAD_PREFIXES``. Head classes are instantiated only until every key is
    explained, the checkpoint's own ``architectures`` first."""
    left = [k for k in keys if not k.startswith(_PUBLISHED_HEAD_PREFIXES.get(config.model_type, ()))]
    for head_class in _head_classes(config):
        if not left:
            break
        names, patterns = _head_weights(head_class, config)
        left = [k for k in left if k not in names and not any(p.search(k) for p in patterns)]
    return left


def _head_classes(config: Any) -> Iterator[type]:
    import transformers
    from transformers.models.auto import modeling_auto

    seen: set[type] = set()
    named = [getattr(transformers, n, None) for n in getattr(config, "architectures", None) or ()]
    mapped = [getattr(modeling_auto, m).get(type(config), None) for m in _HEAD_MAPPINGS]
    for head_class in (*named, *mapped):
        if isinstance(head_class, type) and head_class not in seen:
            seen.add(head_class)
            yield head_class


_HEAD_WEIGHTS: dict[tuple[type, str], tuple[frozenset[str], tuple[re.Pattern[str], ...]]] = {}


def _head_weights(head_class: type, config: Any) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """(names of the weights ``head_class`` holds outside its base model, its ignore-on-load patterns)."""
    memo = (head_class, config.to_json_string())
    if memo not in _HEAD_WEIGHTS:
        prefix = f"{head_class.base_model_prefix}."
        try:
            # The meta device allocates nothing: an XLM-R XXL head model costs its module objects only.
            with torch.device("meta"), _quiet_transformers():
                state = head_class(copy.deepcopy(config)).state_dict()
        except (TypeError, ValueError, AttributeError, RuntimeError, NotImplementedError):
            state = {}  # a head class this config cannot build: it explains nothing (stricter, never laxer)
        patterns = getattr(head_class, "_keys_to_ignore_on_load_unexpected", None) or ()
        _HEAD_WEIGHTS[memo] = (frozenset(k for k in state if not k.startswith(prefix)),
                               tuple(re.compile(p) for p in patterns))
    return _HEAD_WEIGHTS[memo]


def name_keys(keys: Iterable[str], limit: int = 10) -> str:
    """'a, b, c' for a few keys, '... and N more' past ``limit``."""
    keys = list(keys)
    shown = ", ".join(keys[:limit])
    return shown if len(keys) <= limit else f"{shown} and {len(keys) - limit} more"
