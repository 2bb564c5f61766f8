"""Evaluation passes on a GPU: the budget measured from free memory, bf16 autocast, outputs back in order and
close to fp32 on the CPU. Skipped without CUDA (benchmarks/gpu_check.sh runs `pytest -m gpu`)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from xstilts.evaluation import batches
from xstilts.evaluation.predict import predict_raw
from xstilts.families import get_family
from xstilts.models.encoder import build_encoder

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

SPEC = {"architecture": "xlm-roberta", "hidden_size": 128, "num_layers": 2, "num_heads": 4,
        "intermediate_size": 256, "max_length": 128, "dropout": 0.0}


def retrieval_features(count: int = 300) -> list[dict]:
    rng = random.Random(0)
    rows = [[0, *(rng.randrange(5, 500) for _ in range(rng.randint(1, 100))), 2] for _ in range(count)]
    return [{"input_ids": ids, "length": len(ids), "example_index": i, "side": 0, "layer": -1, "layer_of": 0,
             "pooling": 0} for i, ids in enumerate(rows)]


def test_gpu_embeddings_in_bf16_match_fp32_on_the_cpu():
    torch.manual_seed(0)
    encoder = build_encoder(SPEC, vocab_size=500, pad_token_id=1).eval()
    family, features = get_family("retrieval"), retrieval_features()
    reference = predict_raw(encoder, None, family, features, pad_token_id=1, batch_tokens=4096)
    budget = batches.tokens_per_batch(None, torch.device("cuda"), encoder.config, 102)
    assert budget > 4096  # a GPU with free memory takes far more than the CPU default
    on_gpu = predict_raw(encoder.cuda(), None, family, features, pad_token_id=1, device=torch.device("cuda"),
                         autocast=lambda: torch.autocast("cuda", dtype=torch.bfloat16))
    for got, want in zip(on_gpu, reference, strict=True):
        assert got.dtype == np.float32  # pooled and returned in fp32 whatever the autocast
        cosine = float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want)))
        assert cosine > 0.99
