"""Checkpoint I/O: model checkpoints (encoder + named heads) and the full training state for exact resume.

Everything is safetensors + JSON: no pickle is written or read anywhere (``torch.save``/``torch.load`` can
run arbitrary code on load, and checkpoints travel between machines and people).

Both kinds of checkpoint are folders written as a whole by :func:`xstilts.atomic.publish_folder` and read
through :func:`xstilts.atomic.published_folder`: a crash at any moment leaves a complete old or new version
(after a crash between its two renames, the old one is ``<dir>.old``, which readers use).

Layout of a model checkpoint (``save_model``)::

    <dir>/encoder/            config.json + model.safetensors (+ the tokenizer, if given): load_encoder() reads it;
                              for an encoder-decoder the whole model, decoder and LM head included
                              (load_model_from_checkpoint with kind "encoder-decoder" reads it back whole)
    <dir>/heads.safetensors   "<head name>.<parameter>" -> tensor
    <dir>/heads.json          {"format_version": 1, "heads": {"<head name>": {free-form meta}}}
    <dir>/adapter/            a PEFT stage's adapter (peft's adapter_config.json + adapter_model.safetensors):
                              alone while the stage trains, beside encoder/ once it ends with `merge: false`

A PEFT stage (``models/adapters.py``) saves only its adapter and heads while it trains (``encoder/`` is the
frozen encoder it started from, the same at every step); :func:`finish_adapter_checkpoint` writes
``encoder/`` when the stage ends: the adapter merged into it, or the unchanged encoder with ``adapter/`` kept.

Layout of a training state (``save_training_state``)::

    <dir>/model.safetensors   the model's parameters and buffers; with frozen parameters (a PEFT stage), only the
                              trainable ones and the buffers: the frozen ones come back from where the stage began
    <dir>/state.safetensors   every tensor of the state below, under its path ("optimizer.state.0.exp_avg")
    <dir>/state.json          optimizer, scheduler, RNG states and the caller's ``extra``, as tagged JSON
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, load_model, save_file
from safetensors.torch import save_model as save_model_weights

from xstilts.atomic import publish_folder, published_folder
from xstilts.errors import XstiltsError
from xstilts.models.encoder import load_encoder, name_keys

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
ENCODER_DIR = "encoder"
ADAPTER_DIR = "adapter"
HEADS_WEIGHTS = "heads.safetensors"
HEADS_INDEX = "heads.json"
STATE_MODEL = "model.safetensors"
STATE_TENSORS = "state.safetensors"
STATE_JSON = "state.json"
_MODEL_ENTRIES = {ENCODER_DIR, ADAPTER_DIR, HEADS_WEIGHTS, HEADS_INDEX}

# ---------------------------------------------------------------------------------------------------------
# model checkpoints
# ---------------------------------------------------------------------------------------------------------


def save_model(
    directory: str | Path,
    encoder: torch.nn.Module,
    heads: dict[str, torch.nn.Module],
    head_meta: dict[str, dict[str, Any]] | None = None,
    tokenizer: Any = None,
) -> None:
    """Write the encoder and the named heads as one checkpoint folder (replaced atomically as a whole).

    ``head_meta``: per head, a JSON-able dict stored in heads.json (task, family, labels...).
    ``tokenizer``: saved into ``encoder/`` too, so that ``load_encoder_tokenizer(<dir>/encoder)`` works.
    Other files the caller keeps in ``directory`` are carried over into the new version. An encoder wrapped
    by peft saves its adapter alone (``adapter/``): its frozen weights never change during the stage.
    """
    from xstilts.models.adapters import is_adapted, save_adapter

    head_meta = dict(head_meta or {})
    stray = sorted(set(head_meta) - set(heads))
    if stray:
        raise ValueError(f"head_meta names heads that are not saved: {', '.join(stray)}")
    index = {"format_version": FORMAT_VERSION, "heads": {name: head_meta.get(name, {}) for name in heads}}
    try:
        index_text = json.dumps(index, indent=2, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"head_meta must be JSON-able: {error}") from error
    tensors = {
        f"{name}.{key}": value for name, head in heads.items() for key, value in head.state_dict().items()
    }

    directory = Path(directory)
    current = published_folder(directory)
    with publish_folder(directory) as staging:
        if current is not None:
            # The swap replaces the whole folder: keep what the caller put next to the checkpoint.
            for entry in current.iterdir():
                if entry.name not in _MODEL_ENTRIES:
                    _copy_entry(entry, staging / entry.name)
        if is_adapted(encoder):
            save_adapter(encoder, staging / ADAPTER_DIR)
        else:
            _save_encoder(encoder, staging / ENCODER_DIR)
            if tokenizer is not None:
                tokenizer.save_pretrained(staging / ENCODER_DIR)
        save_file(_cpu_unshared(tensors), staging / HEADS_WEIGHTS, metadata={"format": "pt"})
        (staging / HEADS_INDEX).write_text(index_text + "\n", encoding="utf-8")


def _save_encoder(encoder: torch.nn.Module, folder: Path) -> None:
    encoder.save_pretrained(folder)
    if not (folder / "model.safetensors").is_file() and not (folder / "model.safetensors.index.json").is_file():
        raise RuntimeError(f"{type(encoder).__name__}.save_pretrained wrote no safetensors weights")


def finish_adapter_checkpoint(directory: str | Path, encoder: torch.nn.Module, merge: bool) -> None:
    """End a PEFT stage's checkpoint: load its best adapter (``adapter/``) into ``encoder`` (the stage's
    wrapped encoder), then write ``encoder/`` as the adapter merged into the base weights (``merge``; the
    adapter folder goes) or as the unchanged base beside the kept ``adapter/``. A checkpoint that has
    ``encoder/`` already is finished (a rerun after a crash between this and DONE) and stays as it is.
    ``encoder`` is unwrapped in place: the stage is over."""
    from xstilts.models.adapters import base_without_adapter, merged, set_adapter_tensors

    folder = _checkpoint_dir(directory)
    if (folder / ENCODER_DIR).is_dir():
        return
    adapter = folder / ADAPTER_DIR
    if not adapter.is_dir():
        raise XstiltsError(f"{folder} has no {ADAPTER_DIR}/ folder: the PEFT stage saved no adapter")
    from xstilts.models.adapters import ADAPTER_WEIGHTS

    set_adapter_tensors(encoder, _load_tensors(adapter / ADAPTER_WEIGHTS), adapter)
    plain = merged(encoder) if merge else base_without_adapter(encoder)
    with publish_folder(Path(directory)) as staging:
        for entry in folder.iterdir():
            if entry.name != ENCODER_DIR and not (merge and entry.name == ADAPTER_DIR):
                _copy_entry(entry, staging / entry.name)
        _save_encoder(plain, staging / ENCODER_DIR)


def load_encoder_from_checkpoint(directory: str | Path, merge_adapter: bool = True) -> torch.nn.Module:
    """The encoder of a ``save_model`` checkpoint, loaded as strictly as ``load_encoder``.

    ``directory`` is the checkpoint folder; its ``encoder/`` subfolder is accepted too (and still recovers
    from a crash that left only ``<checkpoint>.old``). A kept adapter (``adapter/`` beside ``encoder/``) is
    applied: merged into the weights (``merge_adapter``, a plain encoder computing the same function, what
    evaluations and later stages use), or left as a peft wrapper.
    """
    directory = Path(directory)
    if directory.name == ENCODER_DIR and not _is_model_checkpoint(directory):
        directory = directory.parent
    folder = _checkpoint_dir(directory)
    encoder_dir = folder / ENCODER_DIR
    if not encoder_dir.is_dir():
        if (folder / ADAPTER_DIR).is_dir():
            raise XstiltsError(f"{folder} holds only a PEFT stage's adapter: the stage did not finish (its "
                               "encoder is written at the end); run the study again to finish it")
        raise XstiltsError(f"{folder} is not a model checkpoint: it has no {ENCODER_DIR}/ folder")
    encoder = load_encoder(str(encoder_dir))
    if not (folder / ADAPTER_DIR).is_dir():
        return encoder
    from xstilts.models.adapters import load_adapter, merged

    wrapped = load_adapter(encoder, folder / ADAPTER_DIR)
    return merged(wrapped) if merge_adapter else wrapped


def load_model_from_checkpoint(directory: str | Path, kind: str, tokenizer: Any = None) -> torch.nn.Module:
    """The model of a ``save_model`` checkpoint as a stage of ``kind`` holds it: the encoder
    (:func:`load_encoder_from_checkpoint`), or the whole encoder-decoder, strictly, carrying ``tokenizer`` to
    decode its outputs."""
    if kind != "encoder-decoder":
        return load_encoder_from_checkpoint(directory)
    from xstilts.models.seq2seq import load_seq2seq, with_tokenizer

    directory = Path(directory)
    if directory.name == ENCODER_DIR and not _is_model_checkpoint(directory):
        directory = directory.parent
    folder = _checkpoint_dir(directory)
    if not (folder / ENCODER_DIR).is_dir():
        raise XstiltsError(f"{folder} is not a model checkpoint: it has no {ENCODER_DIR}/ folder")
    return with_tokenizer(load_seq2seq(str(folder / ENCODER_DIR)), tokenizer)


def read_heads_meta(directory: str | Path) -> dict[str, dict[str, Any]]:
    """Head name -> the meta dict saved with it (to build fresh heads before ``load_heads``)."""
    return _read_heads_index(_checkpoint_dir(directory))


def load_heads(
    directory: str | Path, heads: dict[str, torch.nn.Module], names: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Load saved weights into the fresh ``heads`` (all of them, or only ``names``); returns their meta.

    Strict: a head absent from the checkpoint, or a head whose saved parameters differ from the module's
    (missing, unexpected, or of another shape), is an error naming them; nothing is loaded then.
    """
    names = list(heads) if names is None else list(names)
    unknown = [n for n in names if n not in heads]
    if unknown:
        raise ValueError(f"names {unknown} are not among the given heads {sorted(heads)}")
    folder = _checkpoint_dir(directory)
    index = _read_heads_index(folder)
    absent = [n for n in names if n not in index]
    if absent:
        raise XstiltsError(
            f"head(s) {', '.join(map(repr, absent))} not in the checkpoint {folder}; "
            f"it has: {', '.join(map(repr, index)) or 'none'}"
        )
    saved = _load_tensors(folder / HEADS_WEIGHTS)
    per_head: dict[str, dict[str, torch.Tensor]] = {name: {} for name in index}
    for key, value in saved.items():
        # The longest head name that prefixes the key owns it (head names may contain dots).
        owners = [n for n in index if key.startswith(f"{n}.")]
        if not owners:
            raise XstiltsError(
                f"{folder / HEADS_WEIGHTS} holds {key!r}, which belongs to no head in heads.json"
            )
        owner = max(owners, key=len)
        per_head[owner][key[len(owner) + 1 :]] = value

    problems = []
    for name in names:
        expected = heads[name].state_dict()
        got = per_head[name]
        missing = sorted(set(expected) - set(got))
        unexpected = sorted(set(got) - set(expected))
        wrong = sorted(
            f"{k} (saved {tuple(got[k].shape)}, head {tuple(expected[k].shape)})"
            for k in set(got) & set(expected)
            if got[k].shape != expected[k].shape
        )
        if missing:
            problems.append(f"head {name!r}: parameter(s) missing from the checkpoint: {name_keys(missing)}")
        if unexpected:
            problems.append(f"head {name!r}: parameter(s) the head does not have: {name_keys(unexpected)}")
        if wrong:
            problems.append(f"head {name!r}: parameter(s) of another shape: {name_keys(wrong)}")
    if problems:
        raise XstiltsError(
            f"the heads in {folder} do not fit the heads built for them:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nThe head was saved for another task, label set or encoder size."
        )
    for name in names:
        heads[name].load_state_dict(per_head[name], strict=True)
    return {name: index[name] for name in names}


def _is_model_checkpoint(directory: Path) -> bool:
    folder = published_folder(directory)
    return folder is not None and (folder / ENCODER_DIR).is_dir()


def _checkpoint_dir(directory: str | Path) -> Path:
    folder = published_folder(Path(directory))
    if folder is None:
        raise XstiltsError(f"no model checkpoint at {directory}")
    return folder


def _read_heads_index(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / HEADS_INDEX
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XstiltsError(f"{folder} is not a model checkpoint: it has no {HEADS_INDEX}") from None
    except json.JSONDecodeError as error:
        raise XstiltsError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(index, dict) or not isinstance(index.get("heads"), dict):
        raise XstiltsError(f"{path} has no 'heads' mapping; it was not written by xstilts")
    return index["heads"]


# ---------------------------------------------------------------------------------------------------------
# training state
# ---------------------------------------------------------------------------------------------------------


def save_training_state(
    directory: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: Any,
    extra: dict[str, Any],
) -> None:
    """Write everything an exact resume needs (replaced atomically as a whole).

    ``extra``: the caller's own state (step, sampler position, best score, generator states...): JSON-able
    values, tuples, numpy arrays and tensors.
    """
    state = {
        "format_version": FORMAT_VERSION,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": _scheduler_state(scheduler) if scheduler is not None else None,
        "rng": _rng_state(),
        "extra": extra,
    }
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _encode(state, "", tensors)
    text = json.dumps(skeleton)  # NaN/inf (a "best score" not yet set) are kept: Python's json reads them
    frozen = _frozen_names(model)
    with publish_folder(Path(directory)) as staging:
        if frozen:  # a PEFT stage: the frozen encoder is not state, it is where the stage began
            kept = {key: value for key, value in model.state_dict().items() if key not in frozen}
            save_file(_cpu_unshared(kept), staging / STATE_MODEL, metadata={"format": "pt", "frozen": "left out"})
        else:
            save_model_weights(model, str(staging / STATE_MODEL), metadata={"format": "pt"})
        save_file(_cpu_unshared(tensors), staging / STATE_TENSORS, metadata={"format": "pt"})
        (staging / STATE_JSON).write_text(text, encoding="utf-8")


def saved_step(directory: str | Path) -> int | None:
    """The step a saved training state resumes at, read without loading it (None: no state, or unreadable)."""
    folder = published_folder(Path(directory))
    if folder is None:
        return None
    try:
        skeleton = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    extra = skeleton.get("extra") if isinstance(skeleton, dict) else None
    step = extra.get("step") if isinstance(extra, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def load_training_state(
    directory: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: Any,
) -> dict[str, Any] | None:
    """Restore model, optimizer, scheduler and RNG states in place; returns ``extra``, or None if there is no
    saved state (a fresh start)."""
    folder = published_folder(Path(directory))
    if folder is None:
        return None
    for name in (STATE_MODEL, STATE_TENSORS, STATE_JSON):
        if not (folder / name).is_file():
            raise XstiltsError(
                f"the training state in {folder} is incomplete (no {name}); delete the folder to start over"
            )
    try:
        skeleton = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise XstiltsError(
            f"{folder / STATE_JSON} is not valid JSON ({error}); delete the folder to start over"
        ) from None
    state = _decode(skeleton, _load_tensors(folder / STATE_TENSORS))
    if state.get("format_version") != FORMAT_VERSION:
        raise XstiltsError(
            f"{folder} has training-state format {state.get('format_version')!r}, expected {FORMAT_VERSION}"
        )

    _load_state_model(model, folder)
    if optimizer is not None and state["optimizer"] is not None:
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as error:
            raise XstiltsError(
                f"the optimizer state saved in {folder} does not fit this optimizer: {error}"
            ) from None
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(state["rng"])
    return state["extra"]


def _frozen_names(model: torch.nn.Module) -> set[str]:
    """State-dict names of the parameters that do not train (every alias of a shared one)."""
    return {name for name, p in model.named_parameters(remove_duplicate=False) if not p.requires_grad}


def _load_state_model(model: torch.nn.Module, folder: Path) -> None:
    """The saved model tensors into ``model``, strictly: all of them, or (frozen parameters) exactly the
    trainable ones and the buffers."""
    frozen = _frozen_names(model)
    if not frozen:
        try:
            load_model(model, folder / STATE_MODEL, strict=True)
        except RuntimeError as error:
            raise XstiltsError(f"the model saved in {folder} does not fit this model: {error}") from None
        return
    saved = _load_tensors(folder / STATE_MODEL)
    expected = {key: value for key, value in model.state_dict().items() if key not in frozen}
    missing, unexpected = sorted(set(expected) - set(saved)), sorted(set(saved) - set(expected))
    wrong = sorted(k for k in set(saved) & set(expected) if saved[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        raise XstiltsError(f"the model saved in {folder} does not fit this model's trainable part: missing "
                           f"{name_keys(missing) or 'none'}; unexpected {name_keys(unexpected) or 'none'}; of another "
                           f"shape {name_keys(wrong) or 'none'}")
    model.load_state_dict(saved, strict=False)


def _scheduler_state(scheduler: Any) -> dict[str, Any]:
    """The scheduler's state dict, minus what cannot be stored without pickle.

    LambdaLR-style schedulers keep one entry per lr_lambda: None for a plain function (it comes back from
    the code), the object's ``__dict__`` for a callable object. An entry that is not storable is replaced by
    None, which ``load_state_dict`` skips, leaving that callable as the code built it.
    """

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: [_storable_or_none(e) for e in v]
                if k == "lr_lambdas" and isinstance(v, list)
                else clean(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(scheduler.state_dict())


def _storable_or_none(value: Any) -> Any:
    try:
        _encode(value, "", {})
    except TypeError:
        return None
    return value


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "cuda": None,
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    cuda = state.get("cuda")
    if cuda:
        if not torch.cuda.is_available():
            logger.warning(
                "the training state has CUDA RNG states but CUDA is not available: they are not restored"
            )
        else:
            count = torch.cuda.device_count()
            if count != len(cuda):
                logger.warning("CUDA RNG states saved for %d device(s), restoring on %d", len(cuda), count)
            for index, device_state in enumerate(cuda[:count]):
                torch.cuda.set_rng_state(device_state, index)


# ----- tagged JSON: nested state -> JSON skeleton + flat tensors ------------------------------------------
#
# JSON has no tuples, int dict keys, tensors or arrays, and the states here need all four (optimizer state is
# keyed by int; Python's and numpy's RNG states are tuples holding an array). Such values become one-key
# tagged objects; a plain dict that happens to use a tag as a key is stored in the pairs form.

_TAGS = ("__tensor__", "__tuple__", "__dict__", "__ndarray__")


def _encode(value: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        key = path.lstrip(".") or "tensor"
        while key in tensors:  # {0: a, "0": b} would give both the same path
            key += "_"
        tensors[key] = value
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"{path.lstrip('.')}: numpy arrays of objects cannot be stored")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return _encode(value.item(), path, tensors)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{path}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{path}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: _encode(v, f"{path}.{k}", tensors) for k, v in value.items()}
        return {
            "__dict__": [
                [_encode(k, f"{path}.key{i}", tensors), _encode(v, f"{path}.{k}", tensors)]
                for i, (k, v) in enumerate(value.items())
            ]
        }
    raise TypeError(
        f"{path.lstrip('.') or 'value'}: a {type(value).__name__} cannot be stored in a training state "
        "(JSON-able values, tuples, numpy arrays and tensors only; no pickle)"
    )


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["__dict__"]}
    if "__ndarray__" in value:
        return np.array(value["__ndarray__"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
    return {k: _decode(v, tensors) for k, v in value.items()}


def _cpu_unshared(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Contiguous CPU tensors, no two on one storage: safetensors refuses shared memory (tied weights), so
    a tensor whose storage was already seen is copied."""
    out, seen = {}, set()
    for key, tensor in tensors.items():
        tensor = tensor.detach().to("cpu").contiguous()
        pointer = tensor.untyped_storage().data_ptr()
        if tensor.numel() and pointer in seen:
            tensor = tensor.clone()
        elif tensor.numel():
            seen.add(pointer)
        out[key] = tensor
    return out


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise XstiltsError(f"{path} is missing; the checkpoint is incomplete")
    # Copies, not views of the memory-mapped file: optimizers update their state in place.
    return {key: value.clone() for key, value in load_file(path).items()}


def _copy_entry(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


