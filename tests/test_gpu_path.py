"""The pieces of the GPU path, one at a time: bf16 autocast, SDPA attention, fused AdamW. Skipped without CUDA
(benchmarks/gpu_check.sh runs them on a GPU machine)."""

from __future__ import annotations

import copy

import pytest
import torch

from xstilts.config.schema import OptimizerConfig, RuntimeConfig
from xstilts.models.encoder import build_encoder
from xstilts.training.loop import make_accelerator
from xstilts.training.optim import build_optimizer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

SPEC = {"architecture": "xlm-roberta", "hidden_size": 128, "num_layers": 2, "num_heads": 4,
        "intermediate_size": 256, "max_length": 64, "dropout": 0.0}


def encoder_on_gpu(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_encoder(SPEC, vocab_size=500, pad_token_id=1).cuda()


def batch(rows: int = 4, width: int = 32) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 500, (rows, width), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, width // 2:] = 0  # one padded row: the mask must reach the attention kernel
    ids[1, width // 2:] = 1
    return {"input_ids": ids.cuda(), "attention_mask": mask.cuda()}


def test_auto_precision_is_bf16_autocast_on_a_gpu():
    accelerator = make_accelerator(RuntimeConfig(device="cuda", precision="auto", trackers=[]))
    assert accelerator.device.type == "cuda"
    assert accelerator.mixed_precision == "bf16"
    encoder = encoder_on_gpu()
    with accelerator.autocast():
        hidden = encoder(**batch()).last_hidden_state
    # Under autocast the matmuls run in bf16; LayerNorm brings the output back to fp32.
    seen = []
    hook = encoder.encoder.layer[0].attention.self.query.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    with accelerator.autocast():
        encoder(**batch())
    hook.remove()
    assert seen == [torch.bfloat16]
    assert torch.isfinite(hidden).all()


def test_sdpa_attention_agrees_with_eager_in_fp32_and_stays_close_in_bf16():
    encoder = encoder_on_gpu().eval()
    assert encoder.config._attn_implementation == "sdpa"
    eager = copy.deepcopy(encoder)
    if hasattr(eager, "set_attn_implementation"):
        eager.set_attn_implementation("eager")
    else:  # older transformers 5 read it from the config at each forward
        eager.config._attn_implementation = "eager"
    inputs = batch()
    real = inputs["attention_mask"].bool()
    with torch.no_grad():
        reference = eager(**inputs).last_hidden_state[real]
        sdpa = encoder(**inputs).last_hidden_state[real]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            low = encoder(**inputs).last_hidden_state[real].float()
    assert (sdpa - reference).abs().max().item() < 1e-4
    # bf16 keeps 8 bits of mantissa: per-token directions agree, values to about 1e-2
    cosine = torch.nn.functional.cosine_similarity(low, reference, dim=-1)
    assert cosine.min().item() > 0.99


def test_fused_adamw_gives_the_updates_of_the_toolkit_optimizer():
    """Fused AdamW on the toolkit's parameter groups (decay on matrices only) takes the same steps as the
    optimizer the loop builds: swapping it in on a GPU changes speed, not results."""
    model = encoder_on_gpu()
    twin = copy.deepcopy(model)
    config = OptimizerConfig(lr=1e-3)
    ours = build_optimizer(model, config)
    groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in build_optimizer(twin, config).param_groups]
    fused = torch.optim.AdamW(groups, lr=config.lr, betas=tuple(config.betas), eps=config.eps, fused=True)
    for _ in range(3):
        for network, optimizer in ((model, ours), (twin, fused)):
            inputs = batch()
            loss = network(**inputs).last_hidden_state.pow(2).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    for (name, a), (_, b) in zip(model.named_parameters(), twin.named_parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), name
