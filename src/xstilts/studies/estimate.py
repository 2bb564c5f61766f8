"""Compute estimates of a plan, without torch: parameters from the model config, tokens from the stage config.

Parameters of a BERT-style encoder (BERT, RoBERTa, XLM-R; no pooler, no heads), with vocabulary V, hidden
size H, L layers, feed-forward size I, P position rows and T token types:

- embeddings: (V + P + T) x H word, position and type vectors + 2H (LayerNorm);
- each layer: 4 (H x H + H) attention projections + 2H LayerNorm + (H x I + I) + (I x H + H) feed-forward
  + 2H LayerNorm = 4H^2 + 2HI + 9H + I.

A built encoder has P = max_length + pad id + 1 for XLM-R (its positions start after the pad id) and T = 1,
P = max_length and T = 2 for BERT; V is the tokenizer's vocabulary: for a tokenizer trained in code, its
``vocab_size`` (an upper bound: a small corpus may give a few tokens fewer). A pretrained folder's numbers come
from its ``config.json``. Any other model (a hub name, another architecture) is "unknown": no guess.

FLOPs: 6 x N x tokens to train (forward 2, backward 4 per parameter and token) and 2 x N x tokens to
evaluate, with N the parameters that multiply: the layers' (embedding lookups are gathers, not matmuls),
plus V x H for a stage with an mlm source (the output projection over the vocabulary is a matmul). Attention
scores (~ seq^2) and the small task heads are left out.

Tokens are upper bounds: every example counts its source's ``max_length`` tokens (batches are padded to their
longest example only, and most are shorter). A stage with ``steps`` trains steps x batch_size x grad_accumulation
examples; one with ``epochs`` covers its sources' examples (after ``max_examples`` / ``fraction``; counted by
reading the data files) as the training loop does. When a stage's sources have different lengths, each step's
batch comes from one source drawn with the stage sampler's probabilities (``training.batching.mixture_weights``
of the example counts), so a step counts the expected length: sum over sources of probability x length.
Evaluations count the test examples (after ``evaluate.max_examples``); dev evaluations for model selection and
retrieval's reference splits are not counted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.config.schema import ModelConfig, SourceConfig, StageConfig, StudyConfig
from xstilts.tasks import get_task

# Default throughput for time estimates, from the project's CPU measurements (shared docs/environment.md): 2 threads
# peak at ~175 GFLOP/s on an fp32 matmul; training a 2-layer, hidden-128 encoder runs ~460 examples of 64 tokens
# per second, which is 6 x 0.4M layer parameters x 29k tokens/s ~= 70 GFLOP/s (40%); a 6-layer, hidden-384 one
# reaches ~110 GFLOP/s. Set your own with `xstilts plan --flops-per-second` (a GPU in bf16: ~1e14).
DEFAULT_FLOPS_PER_SECOND = 70e9

# Architectures whose parameters follow the formula above (model_type in a config.json).
_BERT_LIKE = {"bert", "roberta", "xlm-roberta", "camembert"}
_TRAINED_TOKENIZER_PAD_ID = 1  # models/tokenizer.py: special tokens <s> <pad> </s> <unk> <mask>


@dataclass(frozen=True)
class ModelSize:
    """Parameter counts of an encoder (None when unknown) and how they were found."""

    parameters: int | None  # embeddings + layers: what a built or loaded encoder holds
    layer_parameters: int | None  # the layers alone: what multiplies every token
    vocab_hidden: int | None  # V x H: the MLM output projection
    how: str

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


# The dimensions in the config.json of hub encoders the presets use, so that a plan made before the download
# still estimates them (the published values; a local folder's own config.json wins).
KNOWN_HUB_CONFIGS: dict[str, dict[str, int]] = {
    "xlm-roberta-base": {"vocab_size": 250002, "hidden_size": 768, "num_hidden_layers": 12,
                         "intermediate_size": 3072, "max_position_embeddings": 514, "type_vocab_size": 1},
    "xlm-roberta-large": {"vocab_size": 250002, "hidden_size": 1024, "num_hidden_layers": 24,
                          "intermediate_size": 4096, "max_position_embeddings": 514, "type_vocab_size": 1},
    "bert-base-multilingual-cased": {"vocab_size": 119547, "hidden_size": 768, "num_hidden_layers": 12,
                                     "intermediate_size": 3072, "max_position_embeddings": 512,
                                     "type_vocab_size": 2},
}


def model_size(model: ModelConfig) -> ModelSize:
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
    hub_name = (model.name_or_path or "").removeprefix("FacebookAI/").removeprefix("google-bert/")
    if not config_file.is_file() and hub_name in KNOWN_HUB_CONFIGS:
        config = KNOWN_HUB_CONFIGS[hub_name]
        embeddings, layers = encoder_parameters(
            config["vocab_size"], config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"],
            config["max_position_embeddings"], config["type_vocab_size"])
        return ModelSize(embeddings + layers, layers, config["vocab_size"] * config["hidden_size"],
                         f"{model.name_or_path}: its published config.json")
    if not config_file.is_file():
        return ModelSize(None, None, None, f"unknown: {model.name_or_path!r} is not a local folder with config.json")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if config.get("model_type") not in _BERT_LIKE:
            return ModelSize(None, None, None, f"unknown: model_type {config.get('model_type')!r} is not BERT-like")
        h = int(config["hidden_size"])
        vocab = int(config["vocab_size"])
        embeddings, layers = encoder_parameters(
            vocab, h, int(config["num_hidden_layers"]), int(config["intermediate_size"]),
            int(config["max_position_embeddings"]), int(config.get("type_vocab_size", 2)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        return ModelSize(None, None, None, f"unknown: {config_file}: {error}")
    return ModelSize(embeddings + layers, layers, vocab * h, f"{config_file} ({config['model_type']})")


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
    hub_name = (model.name_or_path or "").removeprefix("FacebookAI/").removeprefix("google-bert/")
    return KNOWN_HUB_CONFIGS.get(hub_name, {}).get("num_hidden_layers")


def _tokenizer_vocab(model: ModelConfig) -> tuple[int | None, int]:
    """(vocabulary size, pad id) of a built encoder's tokenizer, without loading it."""
    spec = model.tokenizer
    if spec is not None and spec.train is not None:
        return spec.train.vocab_size, _TRAINED_TOKENIZER_PAD_ID
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


_COUNTS: dict[tuple[str, str, str, str], int] = {}


def example_count(task_name: str, split: str, language: str, data_root: Path) -> int:
    """Examples in one data file (read once per file content; no validation, no tokenization)."""
    task = get_task(task_name).with_data(data_root)
    memo = (task.name, split, language, task.fingerprint(split, language, data_root))
    if memo not in _COUNTS:
        path = task.existing_path(split, language, data_root)
        _COUNTS[memo] = sum(1 for _ in task.reader(path, split, language))
    return _COUNTS[memo]


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
    # Here, not at the top: batching imports numpy, and `xstilts score` (which loads this module through the
    # CLI) stays free of it.
    from xstilts.training.batching import mixture_weights, steps_for_epochs

    per_step = stage.batch_size * stage.grad_accumulation
    lengths = [stage.source_max_length(source) for source in stage.sources]
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
    n = example_count(task, split, language, data_root)
    if study.evaluate.max_examples is not None:
        n = min(n, study.evaluate.max_examples)
    return n * max_length


def compute_parameters(size: ModelSize, mlm: bool) -> int | None:
    """Parameters that multiply each token: the layers, and the vocabulary projection when ``mlm``."""
    if not size.known:
        return None
    return size.layer_parameters + (size.vocab_hidden if mlm else 0)


def has_mlm(stage: StageConfig) -> bool:
    return any(get_task(s.task).family == "mlm" for s in stage.sources)


def flops(parameters: int | None, tokens: int | None, training: bool) -> float | None:
    if parameters is None or tokens is None:
        return None
    return float((6 if training else 2) * parameters * tokens)


def describe_size(size: ModelSize) -> dict[str, Any]:
    return {"parameters": size.parameters, "layer_parameters": size.layer_parameters,
            "vocab_hidden": size.vocab_hidden, "how": size.how}
