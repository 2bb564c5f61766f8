"""What kind of model a study's model is, without loading it: an encoder, or an encoder-decoder.

The kind decides which families can run on the model (a family's spec names the kind it needs,
``families/spec.py``), what the runner builds or loads (an encoder alone, or the whole sequence-to-sequence
model with its decoder and LM head) and, for an encoder-decoder, enters the model's lineage key. In order:

- ``kind:`` in the model config, when given (``kind: encoder`` on an mT5 checkpoint: its encoder alone, under
  task heads, as the encoder-only variant of the method fine-tunes it);
- a built model: its architecture (t5, mt5, mbart are encoder-decoders);
- a pretrained one: ``is_encoder_decoder`` in its ``config.json``, read from the local folder, the local hub
  cache, or (online only) downloaded alone.

When none of these can be read (a hub name offline and not in the cache) the kind is unknown (None): `xstilts
validate` cannot check the families against it then, and the model cannot be loaded either.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from xstilts.config.schema import ModelConfig

ENCODER, ENCODER_DECODER = "encoder", "encoder-decoder"
_TRUE = {"1", "true", "yes", "on"}


def model_kind(model: ModelConfig) -> str | None:
    """``encoder`` or ``encoder-decoder`` (see the module docstring); None when it cannot be known here."""
    if model.kind is not None:
        return model.kind
    if model.build is not None:
        return model.build.kind
    config = checkpoint_config(model.name_or_path or "", model.revision)
    if config is None:
        return None
    return ENCODER_DECODER if config.get("is_encoder_decoder") is True else ENCODER


def checkpoint_config(name_or_path: str, revision: str | None = None) -> dict[str, Any] | None:
    """The ``config.json`` of a local folder or a hub model as a dict (None when it cannot be read)."""
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        return _read_json(folder / "config.json")
    if not name_or_path or name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        return None
    try:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache

        cached = try_to_load_from_cache(name_or_path, "config.json", revision=revision)
        if isinstance(cached, str):
            return _read_json(Path(cached))
        if _offline():
            return None
        return _read_json(Path(hf_hub_download(name_or_path, "config.json", revision=revision)))
    except Exception:  # noqa: BLE001 - any hub failure means "cannot tell here"; loading says why later
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().lower() in _TRUE
