"""Sentence embeddings from any encoder, for retrieval evaluation outside a study (BUCC, Tatoeba, ...).

The same layer choice and pooling as the retrieval family (:mod:`xstilts.scoring.retrieval`), and the same
batching as a study's evaluation (:mod:`xstilts.evaluation.batches`): sentences longest first in batches of
about ``batch_tokens`` padded tokens, each distinct token sequence encoded once, under ``torch.inference_mode``
(and bf16 autocast with ``bf16``; the pooled vectors are float32 either way); rows come back in the input order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xstilts.evaluation.batches import next_batch, tokens_per_batch
from xstilts.scoring.retrieval import pool, select_layer


def embed_sentences(
    encoder: object,
    tokenizer: object,
    sentences: Sequence[str],
    layer: int = -1,
    pooling: str = "mean",
    prefix: str = "",
    batch_size: int | None = None,
    max_length: int = 512,
    device: str | None = None,
    batch_tokens: int | None = None,
    bf16: bool = False,
) -> np.ndarray:
    """``(len(sentences), hidden)`` float32 embeddings: ``hidden_states[layer]`` pooled per sentence.

    ``prefix`` is prepended to every sentence (e5 models expect ``"query: "``); ``layer`` counts as in
    Hugging Face's ``hidden_states`` (0 = embeddings, -1 = last layer). ``batch_tokens``: padded tokens per
    batch (default: from free CUDA memory, else the CPU budget); ``batch_size``: at most this many sentences a
    batch (default: no cap).
    """
    import torch

    encoder.eval()
    if device is not None:
        encoder.to(device)
    target = next(encoder.parameters()).device
    ids = tokenizer([prefix + sentence for sentence in sentences], truncation=True, max_length=max_length)["input_ids"]
    # A sentence that repeats (a shared English side, a duplicate in the corpus) is encoded once.
    distinct = list(dict.fromkeys(map(tuple, ids)))
    row_of = {sequence: row for row, sequence in enumerate(distinct)}
    features = [{"input_ids": list(sequence), "length": len(sequence)} for sequence in distinct]
    vectors = np.empty((len(distinct), 0), dtype=np.float32)
    order = sorted(range(len(features)), key=lambda row: -features[row]["length"])
    budget = tokens_per_batch(batch_tokens, target, getattr(encoder, "config", None),
                              features[order[0]]["length"] if features else 1)
    pad = tokenizer.pad_token_id
    autocast = torch.autocast(target.type, dtype=torch.bfloat16) if bf16 else torch.autocast(target.type, enabled=False)
    start = 0
    with torch.inference_mode(), autocast:
        while start < len(order):
            rows = next_batch(features, order, start, budget, batch_size)
            start += len(rows)
            width = features[rows[0]]["length"]
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for slot, row in enumerate(rows):
                input_ids[slot, : features[row]["length"]] = torch.tensor(features[row]["input_ids"])
                mask[slot, : features[row]["length"]] = 1
            outputs = encoder(input_ids=input_ids.to(target), attention_mask=mask.to(target),
                              output_hidden_states=True)
            pooled = pool(select_layer(outputs.hidden_states, layer), mask.to(target), pooling).float().cpu().numpy()
            if vectors.shape[1] == 0:
                vectors = np.empty((len(distinct), pooled.shape[1]), dtype=np.float32)
            vectors[rows] = pooled
    return vectors[[row_of[tuple(sequence)] for sequence in ids]] if len(ids) else vectors
