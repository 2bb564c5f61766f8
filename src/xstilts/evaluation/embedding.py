"""Sentence embeddings from any encoder, for retrieval evaluation outside a study (BUCC, Tatoeba, ...).

The same layer choice and pooling as the retrieval family (:mod:`xstilts.scoring.retrieval`), over
length-sorted batches so that padding costs little; rows come back in the input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xstilts.scoring.retrieval import pool, select_layer


def embed_sentences(
    encoder: Any,
    tokenizer: Any,
    sentences: Sequence[str],
    layer: int = -1,
    pooling: str = "mean",
    prefix: str = "",
    batch_size: int = 64,
    max_length: int = 512,
    device: str | None = None,
) -> np.ndarray:
    """``(len(sentences), hidden)`` float32 embeddings: ``hidden_states[layer]`` pooled per sentence.

    ``prefix`` is prepended to every sentence (e5 models expect ``"query: "``); ``layer`` counts as in
    Hugging Face's ``hidden_states`` (0 = embeddings, -1 = last layer).
    """
    import torch

    encoder.eval()
    if device is not None:
        encoder.to(device)
    target = next(encoder.parameters()).device
    texts = [prefix + sentence for sentence in sentences]
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda row: len(ids[row]))
    out = np.empty((len(ids), 0), dtype=np.float32)
    pad = tokenizer.pad_token_id
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(ids[row]) for row in rows)
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for slot, row in enumerate(rows):
                input_ids[slot, : len(ids[row])] = torch.tensor(ids[row])
                mask[slot, : len(ids[row])] = 1
            outputs = encoder(input_ids=input_ids.to(target), attention_mask=mask.to(target),
                              output_hidden_states=True)
            vectors = pool(select_layer(outputs.hidden_states, layer), mask.to(target), pooling).cpu().numpy()
            if out.shape[1] == 0:
                out = np.empty((len(ids), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
    return out
