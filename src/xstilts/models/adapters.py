"""Parameter-efficient stages: a LoRA adapter on a frozen encoder, through the ``peft`` library.

A stage with ``peft`` wraps its encoder in a ``PeftModel`` (:func:`add_adapter`): the encoder's own weights are
frozen, the adapter's train, and the task heads stay outside the wrapper, fully trainable. The checkpoint
format follows from that (``models/checkpoint.py``):

- during training, the model checkpoint holds ``adapter/`` (peft's adapter_config.json + safetensors) and the
  heads, never the frozen encoder, and the training state holds only the trainable tensors;
- at the stage's end (:func:`xstilts.models.checkpoint.finish_adapter_checkpoint`) the best adapter is merged
  into the encoder's weights (``merge: true``: ``encoder/`` is a plain encoder) or kept beside the unchanged
  encoder (``merge: false``: ``encoder/`` + ``adapter/``).

What a later stage sees: the parent's encoder with the kept adapter merged into it, the same function as base +
adapter. A full fine-tuning stage trains that plain encoder; a LoRA stage adds a fresh adapter of its own on
top (the parent's adapter is not trained further). ``merge`` decides only what the checkpoint keeps: with
``false`` the adapter stays separable (to share, inspect or compose), at the price of an unmerged forward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from xstilts.config.schema import PeftConfig
from xstilts.errors import ConfigError, XstiltsError

# Module types LoRA can adapt (peft refuses LayerNorm and the rest).
_ADAPTABLE = (torch.nn.Linear, torch.nn.Embedding)
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


def require_peft() -> Any:
    """The ``peft`` module, or an error that says how to install it."""
    try:
        import peft
    except ImportError:
        raise XstiltsError("a stage with `peft` needs the peft library: pip install 'xstilts[peft]' "
                           "(or pip install peft)") from None
    return peft


def is_adapted(encoder: torch.nn.Module) -> bool:
    """Whether ``encoder`` is wrapped by peft (checked without importing peft when nothing imported it)."""
    import sys

    if "peft" not in sys.modules:
        return False
    from peft import PeftModel

    return isinstance(encoder, PeftModel)


def adaptable_modules(encoder: torch.nn.Module) -> list[str]:
    """The full names of the encoder's modules an adapter may target (Linear and Embedding layers)."""
    return [name for name, module in encoder.named_modules() if name and isinstance(module, _ADAPTABLE)]


def unknown_targets(targets: list[str], modules: list[str]) -> list[str]:
    """Targets that name no module: peft matches a target to a module whose name is it or ends with '.' + it."""
    return [t for t in targets if not any(name == t or name.endswith("." + t) for name in modules)]


def target_suffixes(modules: list[str]) -> list[str]:
    """The short names a user would write (the last part of each module name, and the last two), for messages."""
    short = {name.rsplit(".", 1)[-1] for name in modules}
    short |= {".".join(name.split(".")[-2:]) for name in modules if "." in name}
    return sorted(short, key=lambda n: (n.count("."), n))


def add_adapter(encoder: torch.nn.Module, config: PeftConfig, where: str = "peft") -> torch.nn.Module:
    """Wrap ``encoder`` with a fresh adapter (its own weights frozen). ``where`` names the config key in
    messages (``stages.<name>.peft``). The adapter's initial weights come from torch's global RNG: the caller
    seeds it, so a resumed stage builds the same adapter before its saved weights replace it."""
    peft = require_peft()
    modules = adaptable_modules(encoder)
    unknown = unknown_targets(config.target_modules, modules)
    if unknown:
        raise ConfigError([f"{where}.target_modules: {', '.join(map(repr, unknown))} name(s) no Linear or "
                           f"Embedding module of this {type(encoder).__name__}; it has: "
                           f"{', '.join(target_suffixes(modules))}"])
    lora = peft.LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                           target_modules=list(config.target_modules), bias="none")
    return _wrap(peft, encoder, lora)


def _wrap(peft: Any, encoder: torch.nn.Module, config: Any) -> torch.nn.Module:
    import warnings

    with warnings.catch_warnings():
        # peft asks transformers a question it has renamed (5.x): a warning per stage that no user can act on
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return peft.get_peft_model(encoder, config)


def merged(encoder: torch.nn.Module) -> torch.nn.Module:
    """A plain encoder computing what ``encoder`` (base + adapter) computes: the adapter merged into the base
    weights. A plain encoder is returned as it is. The wrapped model is changed in place."""
    if not is_adapted(encoder):
        return encoder
    return encoder.merge_and_unload()


def base_without_adapter(encoder: torch.nn.Module) -> torch.nn.Module:
    """The frozen base encoder under the adapter, unchanged (the adapter layers removed, nothing merged)."""
    return encoder.unload()


def adapter_tensors(encoder: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The adapter's weights as peft saves them (names without the adapter's name)."""
    from peft.utils import get_peft_model_state_dict

    return get_peft_model_state_dict(encoder)


def set_adapter_tensors(encoder: torch.nn.Module, tensors: dict[str, torch.Tensor], source: Path) -> None:
    """Load saved adapter weights into a wrapped encoder; strict: every adapter weight must be there, and
    nothing else."""
    from peft.utils import set_peft_model_state_dict

    expected = set(adapter_tensors(encoder))
    missing, unexpected = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
    if missing or unexpected:
        raise XstiltsError(f"the adapter in {source} does not fit the encoder's adapter: missing "
                           f"{missing[:5] or 'none'}, unexpected {unexpected[:5] or 'none'}")
    set_peft_model_state_dict(encoder, tensors)


def save_adapter(encoder: torch.nn.Module, folder: Path) -> None:
    """peft's adapter folder: adapter_config.json and adapter_model.safetensors (no base weights)."""
    encoder.save_pretrained(str(folder), safe_serialization=True)
    if not (folder / ADAPTER_WEIGHTS).is_file():
        raise RuntimeError(f"peft wrote no {ADAPTER_WEIGHTS} in {folder}")


def load_adapter(base: torch.nn.Module, folder: Path) -> torch.nn.Module:
    """``base`` wrapped with the adapter saved in ``folder``, strictly (a weight that does not fit is an error)."""
    peft = require_peft()
    from safetensors.torch import load_file

    config_path, weights = folder / ADAPTER_CONFIG, folder / ADAPTER_WEIGHTS
    if not config_path.is_file() or not weights.is_file():
        raise XstiltsError(f"{folder} is not an adapter folder: it needs {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS}")
    config = peft.PeftConfig.from_pretrained(str(folder))
    config.inference_mode = False
    wrapped = _wrap(peft, base, config)
    set_adapter_tensors(wrapped, load_file(weights), folder)
    return wrapped


def adapter_summary(encoder: torch.nn.Module) -> dict[str, int]:
    """Trainable and total parameter counts of a wrapped encoder (for logs and tests)."""
    trainable = sum(p.numel() for p in encoder.parameters() if p.requires_grad)
    total = sum(p.numel() for p in encoder.parameters())
    return {"trainable": trainable, "total": total}
